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

  .count.time .value {
    font-size: 1.1rem;
    font-weight: 650;
    line-height: 1.75;
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

  .block-form h3 {
    grid-column: 1 / -1;
    font-size: 0.95rem;
  }

  .block-form button {
    grid-column: 1 / -1;
    justify-self: start;
  }

  .request .mono {
    overflow-wrap: anywhere;
  }

  td.time {
    white-space: nowrap;
    font-size: 0.9rem;
  }

  @media (max-width: 960px) and (min-width: 641px) {
    .counts {
      grid-template-columns: repeat(3, minmax(0, 1fr));
    }
  }

  @media (max-width: 960px) {

    .columns {
      grid-template-columns: minmax(0, 1fr);
    }
  }

  @media (max-width: 640px) {
    /* Three counts on one row, the two times on the next. */
    .counts {
      grid-template-columns: repeat(6, minmax(0, 1fr));
      gap: 10px;
    }

    .count {
      grid-column: span 2;
    }

    .count.time {
      grid-column: span 3;
    }

    .count .value {
      font-size: 1.2rem;
    }

    .count.time .value {
      font-size: 1rem;
      line-height: 1.45;
    }

    .card {
      padding: 12px;
    }

    .count .label {
      font-size: 0.8rem;
      white-space: nowrap;
    }

    .block-form {
      grid-template-columns: minmax(0, 1fr);
    }

    /* One compact card per request: time and status, the request, decision and duration. */
    .recent-table thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }

    .recent-table,
    .recent-table tbody {
      display: block;
    }

    .recent-table tr {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      grid-template-areas:
        "time status"
        "request request"
        "decision duration";
      gap: 3px 12px;
      padding: 8px 12px;
      border-bottom: 1px solid var(--border);
    }

    .recent-table tbody tr:last-child {
      border-bottom: none;
    }

    .recent-table td {
      display: block;
      padding: 0;
      border: none;
      min-width: 0;
    }

    .recent-table .time {
      grid-area: time;
      color: var(--muted);
      font-size: 0.85rem;
    }

    .recent-table .status {
      grid-area: status;
    }

    .recent-table .request {
      grid-area: request;
    }

    .recent-table .decision {
      grid-area: decision;
    }

    .recent-table .duration {
      grid-area: duration;
      color: var(--muted);
      font-size: 0.85rem;
    }

    .block-form h3 {
    grid-column: 1 / -1;
    font-size: 0.95rem;
  }

  .block-form button {
      width: 100%;
    }

    h1.mono {
      font-size: 1.25rem;
    }
  }
`;
