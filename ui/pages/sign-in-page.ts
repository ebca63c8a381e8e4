import { ContextConsumer } from "@lit/context";
import { Task, TaskStatus } from "@lit/task";
import { html, LitElement } from "lit";
import { ApiError } from "../api/client.ts";
import type { Session } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { errorMessage } from "../task-view.ts";
import { signInStyles } from "./sign-in-page.styles.ts";

/** The sign-in form. Fires `signed-in` (detail: the session) once the API accepts the credentials. */
export class SignInPage extends LitElement {
  static override styles = [sharedStyles, signInStyles];
  static override properties = { sessionEnded: { type: Boolean }, missing: { state: true } };

  declare sessionEnded: boolean;
  /** Set when the form was sent with a field left empty. */
  declare missing: boolean;

  private readonly api = new ContextConsumer(this, { context: apiContext });

  private readonly signInTask = new Task(this, {
    autoRun: false,
    task: async ([username, password]: [string, string]) => this.api.value!.signIn(username, password),
    onComplete: (session: Session) => {
      this.dispatchEvent(new CustomEvent<Session>("signed-in", { detail: session, bubbles: true, composed: true }));
    },
    onError: () => {
      this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>("#password")?.select());
    },
  });

  constructor() {
    super();
    this.sessionEnded = false;
    this.missing = false;
  }

  override render() {
    const pending = this.signInTask.status === TaskStatus.PENDING;
    return html`
      <main>
        <form class="card" @submit=${this.onSubmit} novalidate>
          <h1>
            <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
              <path class="shield" d="M16 2 4 6.5v8.2c0 7.3 5.1 13.6 12 15.3 6.9-1.7 12-8 12-15.3V6.5z" />
              <circle cx="16" cy="15" r="6.5" />
              <path d="M9.5 15h13M16 8.5c-2.6 3.7-2.6 9.3 0 13M16 8.5c2.6 3.7 2.6 9.3 0 13" />
            </svg>
            Sign in to ipward
          </h1>
          ${this.sessionEnded && this.signInTask.status === TaskStatus.INITIAL
            ? html`<p class="notice" role="status">Your session has ended. Sign in again to continue.</p>`
            : null}
          ${this.missing
            ? html`<p class="error" role="alert">Enter your username and password.</p>`
            : this.signInTask.render({
                error: (error) => html`<p class="error" role="alert">${this.describe(error)}</p>`,
              })}
          <div class="field">
            <label for="username">Username</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <button class="primary" type="submit" ?disabled=${pending}>${pending ? "Signing in…" : "Sign in"}</button>
          <p class="first-time">
            No account yet? Open the one-time setup link ipward printed when it started, or run
            <code>ipward admin create &lt;user&gt;</code> on the server.
          </p>
        </form>
      </main>
    `;
  }

  private describe(error: unknown): string {
    if (error instanceof ApiError && error.status === 401) return "Wrong username or password.";
    if (error instanceof ApiError && error.status === 429) return `Too many attempts. ${error.detail || "Wait a moment and try again."}`;
    return `Signing in failed. ${errorMessage(error)}`;
  }

  private readonly onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get("username") ?? "").trim();
    const password = String(data.get("password") ?? "");
    this.missing = !username || !password;
    if (this.missing) {
      form.querySelector<HTMLInputElement>(username ? "#password" : "#username")?.focus();
      return;
    }
    void this.signInTask.run([username, password]);
  };
}

customElements.define("ipward-sign-in-page", SignInPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-sign-in-page": SignInPage;
  }
}
