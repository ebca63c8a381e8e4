import { css } from "lit";

export const blockedStyles = css`
  #import-file:focus-visible + label {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }

  .add {
    margin-bottom: var(--space);
  }

  .fields {
    display: grid;
    grid-template-columns: minmax(200px, 1.3fr) minmax(200px, 1.5fr) minmax(160px, 1fr) auto;
    gap: 12px;
    align-items: start;
  }

  .submit {
    padding-top: 25px;
  }

  .submit button {
    min-width: 100px;
  }

  .list-header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 8px;
    margin-bottom: 12px;
  }

  .list {
    padding: var(--space);
  }

  .refreshing {
    opacity: 0.7;
  }

  td.target {
    white-space: nowrap;
  }

  td.target .badge {
    margin-left: 6px;
  }

  td.actions {
    text-align: right;
    width: 1%;
  }

  @media (max-width: 900px) {
    .fields {
      grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    }

    .submit {
      padding-top: 0;
      align-self: end;
    }
  }

  @media (max-width: 640px) {
    .fields {
      grid-template-columns: minmax(0, 1fr);
    }

    .submit button {
      width: 100%;
    }

    .card {
      padding: 12px;
    }

    td.target {
      white-space: normal;
    }

    .page-header .toolbar .button {
      min-height: 32px;
      padding: 4px 10px;
      font-size: 0.9rem;
    }
  }
`;
