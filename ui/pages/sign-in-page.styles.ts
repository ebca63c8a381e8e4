import { css } from "lit";

export const signInStyles = css`
  main {
    display: grid;
    place-items: center;
    min-height: 100vh;
    padding: 24px 16px;
  }

  form {
    display: grid;
    gap: 16px;
    width: min(380px, 100%);
    padding: 28px 24px;
  }

  h1 {
    display: flex;
    align-items: center;
    gap: 10px;
    font-size: 1.3rem;
    margin-bottom: 4px;
  }

  .logo {
    width: 32px;
    height: 32px;
    flex: none;
  }

  .logo .shield {
    fill: var(--accent);
  }

  .logo circle,
  .logo path:not(.shield) {
    fill: none;
    stroke: var(--surface);
    stroke-width: 2.2;
  }

  .notice,
  .error {
    margin: 0;
  }

  .first-time {
    margin: 0;
    font-size: 0.85rem;
    color: var(--muted);
  }

  .first-time code {
    font-family: var(--mono);
    font-size: 0.95em;
    color: var(--text);
  }

  button[type="submit"] {
    min-height: 42px;
    margin-top: 4px;
  }
`;
