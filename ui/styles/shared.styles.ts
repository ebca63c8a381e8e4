import { css } from "lit";

/** What every element's shadow root shares: controls, tables, cards, badges, focus rings. */
export const sharedStyles = css`
  :host {
    display: block;
  }

  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }

  h1,
  h2,
  h3 {
    margin: 0;
    line-height: 1.25;
  }

  h1 {
    font-size: 1.45rem;
  }

  h2 {
    font-size: 1.05rem;
  }

  a {
    color: var(--accent);
    text-underline-offset: 2px;
  }

  :focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
    border-radius: 3px;
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }

  .mono {
    font-family: var(--mono);
    font-size: 0.92em;
    overflow-wrap: break-word;
  }

  .nowrap {
    white-space: nowrap;
  }

  .muted {
    color: var(--muted);
  }

  /* Controls */
  button,
  .button {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 6px;
    min-height: 36px;
    padding: 6px 14px;
    border: 1px solid var(--border);
    border-radius: 6px;
    background: var(--surface);
    color: var(--text);
    font: inherit;
    font-weight: 550;
    text-decoration: none;
    cursor: pointer;
    white-space: nowrap;
  }

  button:hover,
  .button:hover {
    background: var(--surface-2);
  }

  button.primary,
  .button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--accent-text);
  }

  button.primary:hover {
    filter: brightness(1.08);
  }

  button.danger {
    color: var(--block);
    border-color: color-mix(in srgb, var(--block) 45%, var(--border));
  }

  button.danger:hover {
    background: var(--block-soft);
  }

  button.small,
  .button.small {
    min-height: 30px;
    padding: 3px 10px;
    font-size: 0.9rem;
  }

  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
    filter: none;
  }

  label {
    display: block;
    font-weight: 600;
    font-size: 0.9rem;
    margin-bottom: 4px;
  }

  label.button {
    display: inline-flex;
    margin: 0;
    font-size: inherit;
  }

  input,
  select {
    width: 100%;
    min-height: 36px;
    padding: 6px 10px;
    border: 1px solid var(--border);
    border-radius: 6px;
    background: var(--surface);
    color: var(--text);
    font: inherit;
  }

  input[type="checkbox"] {
    width: 18px;
    height: 18px;
    min-height: 0;
    margin: 0;
    accent-color: var(--accent);
    vertical-align: middle;
  }

  input::placeholder {
    color: var(--muted);
    opacity: 0.8;
  }

  .field {
    display: flex;
    flex-direction: column;
    min-width: 0;
  }

  .hint {
    font-size: 0.82rem;
    color: var(--muted);
    margin-top: 3px;
  }

  /* Surfaces */
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    box-shadow: var(--shadow);
    padding: var(--space);
    min-width: 0;
  }

  .card > h2 {
    margin-bottom: 12px;
  }

  .page-header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: space-between;
    gap: 8px 16px;
    margin-bottom: var(--space);
  }

  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
  }

  .notice {
    margin: 0 0 var(--space);
    padding: 10px 14px;
    border-radius: 6px;
    background: var(--accent-soft);
    border: 1px solid color-mix(in srgb, var(--accent) 35%, transparent);
  }

  .error {
    margin: 0 0 var(--space);
    padding: 10px 14px;
    border-radius: 6px;
    background: var(--block-soft);
    border: 1px solid color-mix(in srgb, var(--block) 40%, transparent);
    color: var(--text);
  }

  .empty {
    padding: 24px 8px;
    text-align: center;
    color: var(--muted);
  }

  /* Badges */
  .badge {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 999px;
    font-size: 0.82rem;
    font-weight: 600;
    background: var(--surface-2);
    color: var(--muted);
    white-space: nowrap;
  }

  .badge.allow {
    background: var(--allow-soft);
    color: var(--allow);
  }

  .badge.block {
    background: var(--block-soft);
    color: var(--block);
  }

  .badge.limit {
    background: var(--limit-soft);
    color: var(--limit);
  }

  /* Tables: scroll sideways on wide content; on a phone, .stacked tables become one card per row. */
  .table-wrap {
    overflow-x: auto;
    border: 1px solid var(--border);
    border-radius: var(--radius);
    background: var(--surface);
  }

  table {
    width: 100%;
    border-collapse: collapse;
    font-variant-numeric: tabular-nums;
  }

  th,
  td {
    padding: 8px 12px;
    text-align: left;
    vertical-align: middle;
    border-bottom: 1px solid var(--border);
  }

  th {
    font-size: 0.8rem;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: var(--muted);
    background: var(--surface-2);
    white-space: nowrap;
  }

  tbody tr:last-child td {
    border-bottom: none;
  }

  tbody tr:hover {
    background: color-mix(in srgb, var(--surface-2) 60%, transparent);
  }

  td.number,
  th.number {
    text-align: right;
  }

  td.select,
  th.select {
    width: 40px;
    text-align: center;
  }

  tr.selected {
    background: var(--accent-soft);
  }

  @media (max-width: 640px) {
    table.stacked thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }

    table.stacked,
    table.stacked tbody,
    table.stacked tr,
    table.stacked td {
      display: block;
      width: 100%;
    }

    table.stacked tr {
      padding: 8px 4px;
      border-bottom: 1px solid var(--border);
    }

    table.stacked tbody tr:last-child {
      border-bottom: none;
    }

    table.stacked td {
      display: flex;
      gap: 12px;
      justify-content: space-between;
      align-items: baseline;
      padding: 3px 10px;
      border: none;
      text-align: right;
      min-width: 0;
    }

    table.stacked td > * {
      min-width: 0;
    }

    table.stacked td[data-label]::before {
      content: attr(data-label);
      flex: none;
      color: var(--muted);
      font-size: 0.82rem;
      font-weight: 600;
      text-align: left;
    }

    table.stacked td.select {
      width: 100%;
      justify-content: flex-start;
      text-align: left;
    }

    /*
     * .cards tables (selectable lists): the checkbox in the margin; the row's subject and its
     * actions on the first line; the other cells below, small ones (.meta) side by side.
     */
    table.cards thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }

    table.cards,
    table.cards tbody {
      display: block;
    }

    table.cards tr {
      position: relative;
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 4px 12px;
      padding: 10px 12px 10px 44px;
      border-bottom: 1px solid var(--border);
    }

    table.cards tbody tr:last-child {
      border-bottom: none;
    }

    table.cards td {
      display: block;
      flex: 1 1 100%;
      order: 1;
      padding: 0;
      border: none;
      min-width: 0;
      text-align: left;
      font-size: 0.92rem;
    }

    table.cards td.select {
      position: absolute;
      left: 12px;
      top: 14px;
      width: auto;
    }

    table.cards td.subject {
      flex: 1 1 0;
      order: 0;
      font-size: 1rem;
      font-weight: 600;
    }

    table.cards td.actions {
      flex: none;
      order: 0;
      width: auto;
      display: flex;
      gap: 6px;
    }

    table.cards td.meta {
      flex: 0 0 auto;
      order: 2;
      color: var(--muted);
      font-size: 0.85rem;
    }

    table.cards td[data-label]::before {
      content: attr(data-label) ": ";
      color: var(--muted);
      font-size: 0.85rem;
    }
  }
`;
