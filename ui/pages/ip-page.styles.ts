import { css } from "lit";

export const ipStyles = css`
  .crumb {
    margin: 0 0 2px;
    font-size: 0.88rem;
    color: var(--muted);
  }

  h1.mono {
    font-size: 1.6rem;
    overflow-wrap: anywhere;
  }

  .title {
    min-width: 0;
  }

  .summary {
    display: flex;
    flex-wrap: wrap;
    gap: 12px 40px;
    margin-bottom: var(--space);
  }

  .summary > div {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    gap: 4px 10px;
  }

  .label {
    color: var(--muted);
    font-weight: 600;
    font-size: 0.9rem;
  }

  .summary .value {
    font-weight: 600;
  }

  .coords {
    font-size: 0.85rem;
    font-variant-numeric: tabular-nums;
  }

  .counts {
    display: grid;
    grid-template-columns: repeat(5, minmax(0, 1fr));
    gap: var(--space);
    margin-bottom: var(--space);
  }

  .count {
    display: flex;
    flex-direction: column;
    gap: 2px;
  }

  .count .value {
    font-size: 1.4rem;
    font-weight: 700;
    font-variant-numeric: tabular-nums;
  }

  .columns {
    display: grid;
    grid-template-columns: repeat(2, minmax(0, 1fr));
    gap: var(--space);
    margin-bottom: var(--space);
  }

  .rules,
  .detections {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 8px;
  }

  .rules li,
  .detections li {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px 10px;
    padding-bottom: 8px;
    border-bottom: 1px solid var(--border);
  }

  .rules li:last-child,
  .detections li:last-child {
    border-bottom: none;
    padding-bottom: 0;
  }

  .rules button {
    margin-left: auto;
  }

  .block-form {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
    gap: 12px;
    align-items: end;
    margin-top: 16px;
    padding-top: 16px;
    border-top: 1px solid var(--border);
  }

  .block-form button {
    grid-column: 1 / -1;
    justify-self: start;
  }

  .request {
    overflow-wrap: anywhere;
  }

  td.time {
    white-space: nowrap;
    font-size: 0.9rem;
  }

  @media (max-width: 960px) {
    .counts {
      grid-template-columns: repeat(3, minmax(0, 1fr));
    }

    .columns {
      grid-template-columns: minmax(0, 1fr);
    }
  }

  @media (max-width: 640px) {
    .counts {
      grid-template-columns: repeat(2, minmax(0, 1fr));
      gap: 10px;
    }

    .card {
      padding: 12px;
    }

    .block-form {
      grid-template-columns: minmax(0, 1fr);
    }

    .block-form button {
      width: 100%;
    }

    h1.mono {
      font-size: 1.25rem;
    }
  }
`;
