import { css } from "lit";

export const tokensStyles = css`
  .intro {
    margin: -4px 0 var(--space);
    max-width: 70ch;
  }

  code {
    font-family: var(--mono);
    font-size: 0.92em;
  }

  .create,
  .secret {
    margin-bottom: var(--space);
  }

  .fields {
    display: flex;
    flex-wrap: wrap;
    align-items: flex-end;
    gap: 12px;
  }

  .fields .field {
    flex: 1 1 280px;
    max-width: 480px;
  }

  .secret {
    border-color: color-mix(in srgb, var(--allow) 55%, var(--border));
    background: color-mix(in srgb, var(--allow-soft) 60%, var(--surface));
  }

  .secret h2:focus {
    outline: none;
  }

  .secret p {
    margin: 0 0 10px;
  }

  .secret-row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
    margin-bottom: 10px;
  }

  .secret-row code {
    flex: 1 1 320px;
    min-width: 0;
    padding: 8px 10px;
    border: 1px solid var(--border);
    border-radius: 6px;
    background: var(--surface);
    overflow-wrap: anywhere;
    user-select: all;
  }

  .example {
    font-size: 0.85rem;
  }

  .example code {
    overflow-wrap: anywhere;
  }

  td.actions {
    text-align: right;
    width: 1%;
  }

  @media (max-width: 640px) {
    .card {
      padding: 12px;
    }

    .fields button {
      width: 100%;
    }
  }
`;
