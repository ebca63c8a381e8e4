import { css } from "lit";

export const dashboardStyles = css`
  label.inline {
    margin: 0;
  }

  select {
    width: auto;
  }

  .live {
    min-width: 90px;
  }

  .dot {
    width: 9px;
    height: 9px;
    border-radius: 50%;
    background: var(--muted);
  }

  .dot.on {
    background: var(--allow);
    box-shadow: 0 0 0 3px color-mix(in srgb, var(--allow) 25%, transparent);
  }

  .updated {
    font-size: 0.88rem;
    min-width: 11ch;
    font-variant-numeric: tabular-nums;
  }

  .totals {
    display: grid;
    grid-template-columns: repeat(4, minmax(0, 1fr));
    gap: var(--space);
    margin-bottom: var(--space);
  }

  .total {
    display: flex;
    flex-direction: column;
    gap: 2px;
  }

  .total-label {
    color: var(--muted);
    font-weight: 600;
    font-size: 0.9rem;
  }

  .total-value {
    font-size: 1.9rem;
    font-weight: 700;
    font-variant-numeric: tabular-nums;
    letter-spacing: -0.02em;
  }

  .total.blocked .total-value {
    color: var(--block);
  }

  .total.limited .total-value {
    color: var(--limit);
  }

  .total-link {
    font-size: 0.85rem;
  }

  .grid {
    display: grid;
    gap: var(--space);
    margin-bottom: var(--space);
  }

  .two-one {
    grid-template-columns: minmax(0, 2fr) minmax(0, 1fr);
  }

  .halves {
    grid-template-columns: repeat(2, minmax(0, 1fr));
  }

  .countries {
    margin-bottom: var(--space);
  }

  .map-list {
    grid-template-columns: minmax(0, 3fr) minmax(0, 2fr);
    align-items: start;
    margin-bottom: 0;
  }

  h2.sub {
    margin: 20px 0 10px;
  }

  .stack {
    display: block;
    width: 100%;
    height: 14px;
    border-radius: 4px;
    overflow: hidden;
  }

  .track {
    fill: var(--surface-2);
  }

  rect.allow,
  .swatch.allow {
    fill: var(--allow);
    background: var(--allow);
  }

  rect.block,
  .swatch.block {
    fill: var(--block);
    background: var(--block);
  }

  rect.limit,
  .swatch.limit {
    fill: var(--limit);
    background: var(--limit);
  }

  .legend,
  .bars {
    list-style: none;
    margin: 12px 0 0;
    padding: 0;
    display: grid;
    gap: 6px;
  }

  .legend li {
    display: grid;
    grid-template-columns: 12px 1fr auto 5.5ch;
    align-items: center;
    gap: 8px;
  }

  .swatch {
    width: 12px;
    height: 12px;
    border-radius: 3px;
  }

  .count {
    font-weight: 650;
    font-variant-numeric: tabular-nums;
    text-align: right;
  }

  .share {
    font-size: 0.85rem;
    text-align: right;
    font-variant-numeric: tabular-nums;
  }

  .bars li {
    display: grid;
    grid-template-columns: 4ch 1fr auto 5.5ch;
    align-items: center;
    gap: 8px;
  }

  .bar-label {
    font-family: var(--mono);
    font-size: 0.9rem;
  }

  .bar {
    width: 100%;
    height: 10px;
    border-radius: 3px;
    overflow: hidden;
  }

  .fill {
    fill: var(--muted);
  }

  .fill.s2 {
    fill: var(--allow);
  }

  .fill.s3 {
    fill: var(--accent);
  }

  .fill.s4 {
    fill: var(--limit);
  }

  .fill.s5 {
    fill: var(--block);
  }

  table {
    font-size: 0.95rem;
  }

  td.path {
    max-width: 0;
    width: 100%;
  }

  td.path a {
    display: block;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }

  .code {
    font-size: 0.82rem;
    margin-left: 4px;
  }

  @media (max-width: 960px) {
    .two-one,
    .map-list {
      grid-template-columns: minmax(0, 1fr);
    }
  }

  @media (max-width: 640px) {
    .totals {
      grid-template-columns: repeat(2, minmax(0, 1fr));
      gap: 10px;
    }

    .total-value {
      font-size: 1.5rem;
    }

    .halves {
      grid-template-columns: minmax(0, 1fr);
    }

    .card {
      padding: 12px;
    }

    th,
    td {
      padding: 6px 8px;
    }
  }
`;
