import { css } from "lit";

export const suspiciousStyles = css`
  .segmented {
    display: inline-flex;
    border: 1px solid var(--border);
    border-radius: 8px;
    padding: 2px;
    background: var(--surface);
  }

  .segmented button {
    border: none;
    background: transparent;
    min-height: 32px;
    color: var(--muted);
  }

  .segmented button[aria-pressed="true"] {
    background: var(--accent-soft);
    color: var(--accent);
  }

  .list-header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 8px;
    margin-bottom: 12px;
  }

  .refreshing {
    opacity: 0.7;
  }

  td.reason {
    max-width: 360px;
  }

  td.actions {
    white-space: nowrap;
    text-align: right;
    width: 1%;
  }

  td.actions button + button {
    margin-left: 6px;
  }

  @media (max-width: 640px) {
    .card {
      padding: 12px;
    }

    .list-header .toolbar {
      width: 100%;
    }

    .list-header .toolbar button {
      flex: 1;
    }

    td.reason {
      max-width: none;
    }

    td.actions button + button {
      margin-left: 0;
    }
  }
`;
