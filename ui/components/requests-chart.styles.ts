import { css } from "lit";

export const requestsChartStyles = css`
  :host {
    display: block;
    min-width: 0;
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }

  .readout {
    margin: 0 0 4px;
    min-height: 1.4em;
    font-size: 0.85rem;
    color: var(--muted);
    font-variant-numeric: tabular-nums;
  }

  .plot {
    width: 100%;
    min-height: 200px;
    color: var(--text);
  }

  .u-legend {
    font-size: 0.85rem;
    color: var(--text);
    text-align: left;
  }

  .u-legend th {
    font-weight: 600;
  }

  .u-legend .u-marker {
    border-radius: 2px;
  }

  .u-legend .u-value {
    font-variant-numeric: tabular-nums;
  }

  .u-select {
    background: color-mix(in srgb, var(--accent) 15%, transparent);
  }
`;
