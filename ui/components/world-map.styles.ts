import { css } from "lit";

export const worldMapStyles = css`
  figure {
    margin: 0;
  }

  svg {
    display: block;
    width: 100%;
    height: auto;
  }

  .country {
    fill: var(--map-empty);
    stroke: var(--map-stroke);
    stroke-width: 0.6;
  }

  a:focus-visible {
    outline: none;
  }

  a:focus-visible .country,
  a:hover .country {
    stroke: var(--text);
    stroke-width: 1.6;
  }

  .l1 {
    fill: color-mix(in srgb, var(--accent) 25%, var(--map-empty));
    background: color-mix(in srgb, var(--accent) 25%, var(--map-empty));
  }

  .l2 {
    fill: color-mix(in srgb, var(--accent) 42%, var(--map-empty));
    background: color-mix(in srgb, var(--accent) 42%, var(--map-empty));
  }

  .l3 {
    fill: color-mix(in srgb, var(--accent) 60%, var(--map-empty));
    background: color-mix(in srgb, var(--accent) 60%, var(--map-empty));
  }

  .l4 {
    fill: color-mix(in srgb, var(--accent) 80%, var(--map-empty));
    background: color-mix(in srgb, var(--accent) 80%, var(--map-empty));
  }

  .l5 {
    fill: var(--accent);
    background: var(--accent);
  }

  figcaption {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px;
    margin-top: 8px;
    font-size: 0.85rem;
    color: var(--muted);
  }

  .scale {
    display: inline-flex;
  }

  .swatch {
    width: 22px;
    height: 10px;
  }

  .swatch:first-child {
    border-radius: 3px 0 0 3px;
  }

  .swatch:last-child {
    border-radius: 0 3px 3px 0;
  }
`;
