import { css } from "lit";

export const logsStyles = css`
  /* Twelve columns: IP 3, Country 2, Path 3, Status 2, Decision 2; then From 3, To 3, buttons 6. */
  .filters {
    display: grid;
    grid-template-columns: repeat(12, minmax(0, 1fr));
    gap: 12px;
    align-items: end;
    margin-bottom: var(--space);
  }

  .f-ip,
  .f-path,
  .f-since,
  .f-until {
    grid-column: span 3;
  }

  .f-country,
  .f-status,
  .f-decision {
    grid-column: span 2;
  }

  .actions {
    display: flex;
    gap: 8px;
    grid-column: span 6;
    justify-content: flex-end;
  }

  .count {
    margin: 0 0 8px;
    font-size: 0.9rem;
  }

  td.time {
    white-space: nowrap;
    font-size: 0.9rem;
  }

  td.request {
    max-width: 420px;
  }

  td.request .mono {
    display: block;
    overflow-wrap: anywhere;
  }

  .method {
    font-weight: 700;
  }

  .ua {
    display: block;
    font-size: 0.8rem;
    max-width: 420px;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }

  .city {
    display: block;
    font-size: 0.82rem;
    white-space: nowrap;
  }

  .more-filters {
    display: none;
  }

  .rule {
    display: block;
    font-size: 0.8rem;
  }

  .status {
    font-family: var(--mono);
    font-weight: 650;
  }

  .status.s4 {
    color: var(--limit);
  }

  .status.s5 {
    color: var(--block);
  }

  .more,
  .end {
    margin: var(--space) 0 0;
    text-align: center;
  }

  .end {
    font-size: 0.9rem;
  }

  @media (max-width: 1100px) {
    .filters {
      grid-template-columns: repeat(6, minmax(0, 1fr));
    }

    .f-ip,
    .f-path,
    .f-since,
    .f-until {
      grid-column: span 3;
    }

    .actions {
      grid-column: 1 / -1;
    }
  }

  @media (max-width: 640px) {
    .filters {
      grid-template-columns: repeat(2, minmax(0, 1fr));
      padding: 12px;
    }

    .f-ip,
    .f-path,
    .f-decision,
    .f-since,
    .f-until {
      grid-column: 1 / -1;
    }

    .f-country,
    .f-status {
      grid-column: span 1;
    }

    .f-path {
      order: 1;
    }

    .f-country,
    .f-status {
      order: 2;
    }

    .f-decision,
    .f-since,
    .f-until {
      order: 3;
    }

    .actions {
      order: 4;
      justify-content: stretch;
    }

    .actions > * {
      flex: 1;
    }

    .more-filters {
      display: inline-flex;
    }

    .collapsed .field:not(.f-ip) {
      display: none;
    }

    /* One compact card per request: time and status, the request, IP and decision, place and duration. */
    table.log-table thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }

    table.log-table,
    table.log-table tbody {
      display: block;
    }

    table.log-table tr {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      grid-template-areas:
        "time status"
        "request request"
        "ip decision"
        "country duration";
      gap: 3px 12px;
      padding: 10px 12px;
      border-bottom: 1px solid var(--border);
    }

    table.log-table tbody tr:last-child {
      border-bottom: none;
    }

    table.log-table td {
      display: block;
      padding: 0;
      border: none;
      min-width: 0;
    }

    td.time {
      grid-area: time;
      color: var(--muted);
      font-size: 0.85rem;
    }

    td.status-cell {
      grid-area: status;
    }

    td.request {
      grid-area: request;
      max-width: none;
    }

    .ua {
      max-width: 100%;
    }

    td.ip {
      grid-area: ip;
    }

    td.decision {
      grid-area: decision;
      text-align: right;
    }

    td.decision .rule {
      display: inline;
      margin-left: 4px;
    }

    td.country {
      grid-area: country;
      font-size: 0.9rem;
    }

    td.country .city {
      display: inline;
      margin-left: 6px;
    }

    td.duration {
      grid-area: duration;
      color: var(--muted);
      font-size: 0.85rem;
    }
  }
`;
