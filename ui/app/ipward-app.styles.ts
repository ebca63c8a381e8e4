import { css } from "lit";

export const appStyles = css`
  :host {
    display: block;
    min-height: 100vh;
  }

  .skip {
    position: absolute;
    left: 8px;
    top: -60px;
    z-index: 10;
  }

  .skip:focus-visible {
    top: 8px;
  }

  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px 24px;
    padding: 8px 24px;
    background: var(--surface);
    border-bottom: 1px solid var(--border);
    box-shadow: var(--shadow);
  }

  .brand {
    display: inline-flex;
    align-items: center;
    gap: 8px;
    font-weight: 750;
    font-size: 1.15rem;
    color: var(--text);
    text-decoration: none;
    letter-spacing: -0.01em;
  }

  .logo {
    width: 26px;
    height: 26px;
  }

  .logo .shield {
    fill: var(--accent);
    stroke: none;
  }

  .logo circle,
  .logo path:not(.shield) {
    fill: none;
    stroke: var(--surface);
    stroke-width: 2.2;
  }

  nav ul {
    display: flex;
    gap: 4px;
    margin: 0;
    padding: 0;
    list-style: none;
  }

  nav a {
    display: block;
    padding: 8px 12px;
    border-radius: 6px;
    color: var(--muted);
    font-weight: 600;
    text-decoration: none;
  }

  nav a:hover {
    color: var(--text);
    background: var(--surface-2);
  }

  nav a[aria-current="page"] {
    color: var(--accent);
    background: var(--accent-soft);
  }

  .account {
    display: flex;
    align-items: center;
    gap: 10px;
    margin-left: auto;
    min-width: 0;
  }

  .tokens {
    color: var(--muted);
    font-size: 0.92rem;
    font-weight: 600;
    text-decoration: none;
    padding: 6px 8px;
    border-radius: 6px;
  }

  .tokens:hover {
    color: var(--text);
    background: var(--surface-2);
  }

  .tokens[aria-current="page"] {
    color: var(--accent);
    background: var(--accent-soft);
  }

  .user {
    color: var(--muted);
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    max-width: 16ch;
  }

  main {
    max-width: 1240px;
    margin: 0 auto;
    padding: 24px;
  }

  main:focus {
    outline: none;
  }

  .shell-error {
    max-width: 1192px;
    margin: 16px auto 0;
  }

  .splash {
    max-width: 480px;
    margin: 20vh auto 0;
    padding: 0 16px;
    text-align: center;
  }

  .not-found {
    max-width: 560px;
  }

  @media (max-width: 640px) {
    .bar {
      padding: 8px 12px;
      gap: 4px 12px;
    }

    nav {
      order: 3;
      width: 100%;
      overflow-x: auto;
    }

    nav ul {
      gap: 0;
      justify-content: space-between;
    }

    nav a {
      padding: 8px 7px;
    }

    main {
      padding: 16px 12px;
    }
  }
`;
