import { ContextProvider } from "@lit/context";
import { Task } from "@lit/task";
import { html, LitElement, type PropertyValues } from "lit";
import { ApiClient } from "../api/client.ts";
import type { Session } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { type Route, RouteController } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { errorMessage } from "../task-view.ts";
import { appStyles } from "./ipward-app.styles.ts";
import "../pages/blocked-page.ts";
import "../pages/dashboard-page.ts";
import "../pages/ip-page.ts";
import "../pages/logs-page.ts";
import "../pages/sign-in-page.ts";
import "../pages/suspicious-page.ts";
import "../pages/tokens-page.ts";

const NAVIGATION = [
  { page: "dashboard", label: "Dashboard" },
  { page: "logs", label: "Logs" },
  { page: "blocked", label: "Blocked" },
  { page: "suspicious", label: "Suspicious" },
] as const;

const TITLES: Record<Route["page"], string> = {
  dashboard: "Dashboard",
  logs: "Logs",
  blocked: "Blocked",
  suspicious: "Suspicious",
  tokens: "API tokens",
  ip: "IP",
  "not-found": "Not found",
};

/**
 * The admin application: checks the session, shows sign-in or the signed-in shell (navigation and
 * the page the hash names), and provides the API client to everything below it.
 */
export class IpwardApp extends LitElement {
  static override styles = [sharedStyles, appStyles];
  static override properties = {
    session: { state: true },
    sessionEnded: { state: true },
    signOutError: { state: true },
  };

  declare session: Session | null | undefined;
  declare sessionEnded: boolean;
  declare signOutError: string;

  private readonly client: ApiClient;
  private readonly router = new RouteController(this);
  private lastPage: Route["page"] | undefined;

  private readonly sessionTask = new Task(this, {
    autoRun: false,
    task: () => this.client.session(),
    onComplete: (session) => {
      this.session = session;
    },
  });

  constructor() {
    super();
    this.session = undefined;
    this.sessionEnded = false;
    this.signOutError = "";
    const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
    this.client = new ApiClient(meta("ipward-api") || "/_ipward/api");
    new ContextProvider(this, { context: apiContext, initialValue: this.client });
    this.client.addEventListener("unauthorized", () => {
      this.session = null;
      this.sessionEnded = true;
    });
    // Without a session cookie the answer can only be 401: show the form at once instead of asking.
    if (meta("ipward-session-cookie") === "absent") this.session = null;
    else void this.sessionTask.run();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const route = this.router.route;
    document.title = this.session ? `${route.page === "ip" ? route.ip : TITLES[route.page]} · ipward` : "Sign in · ipward";
    // After navigating, start reading (and tabbing) at the new page, as a full page load would.
    if (this.session && this.lastPage !== undefined && (this.lastPage !== route.page || changed.has("session"))) {
      this.renderRoot.querySelector<HTMLElement>("main")?.focus({ preventScroll: true });
    }
    this.lastPage = this.session ? route.page : undefined;
  }

  override render() {
    if (this.session === undefined) {
      return this.sessionTask.render({
        error: (error) => html`
          <div class="splash">
            <p class="error" role="alert">The admin API did not answer: ${errorMessage(error)}</p>
            <button type="button" @click=${() => this.sessionTask.run()}>Try again</button>
          </div>
        `,
        initial: () => html`<p class="splash muted" role="status">Loading…</p>`,
        pending: () => html`<p class="splash muted" role="status">Loading…</p>`,
      });
    }
    if (this.session === null) {
      return html`<ipward-sign-in-page
        .sessionEnded=${this.sessionEnded}
        @signed-in=${(event: CustomEvent<Session>) => this.onSignedIn(event.detail)}
      ></ipward-sign-in-page>`;
    }
    return this.renderShell(this.session);
  }

  private renderShell(session: Session) {
    const route = this.router.route;
    return html`
      <button class="skip" type="button" @click=${this.skipToContent}>Skip to content</button>
      <header class="bar">
        <a class="brand" href="#/dashboard">
          <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
            <path class="shield" d="M16 2 4 6.5v8.2c0 7.3 5.1 13.6 12 15.3 6.9-1.7 12-8 12-15.3V6.5z" />
            <circle cx="16" cy="15" r="6.5" />
            <path d="M9.5 15h13M16 8.5c-2.6 3.7-2.6 9.3 0 13M16 8.5c2.6 3.7 2.6 9.3 0 13" />
          </svg>
          ipward
        </a>
        <nav aria-label="Main">
          <ul>
            ${NAVIGATION.map(
              (item) => html`<li>
                <a href="#/${item.page}" aria-current=${route.page === item.page ? "page" : "false"}>${item.label}</a>
              </li>`,
            )}
          </ul>
        </nav>
        <div class="account">
          <a class="tokens" href="#/tokens" aria-current=${route.page === "tokens" ? "page" : "false"}>API tokens</a>
          <span class="user" title="Signed in as ${session.user}">${session.user}</span>
          <button type="button" class="small" @click=${this.signOut}>Sign out</button>
        </div>
      </header>
      ${this.signOutError ? html`<p class="error shell-error" role="alert">${this.signOutError}</p>` : null}
      <main id="main" tabindex="-1">${this.renderPage(route)}</main>
    `;
  }

  private renderPage(route: Route) {
    switch (route.page) {
      case "dashboard":
        return html`<ipward-dashboard-page></ipward-dashboard-page>`;
      case "logs":
        return html`<ipward-logs-page .filter=${route.filter}></ipward-logs-page>`;
      case "blocked":
        return html`<ipward-blocked-page></ipward-blocked-page>`;
      case "suspicious":
        return html`<ipward-suspicious-page></ipward-suspicious-page>`;
      case "tokens":
        return html`<ipward-tokens-page></ipward-tokens-page>`;
      case "ip":
        return html`<ipward-ip-page .ip=${route.ip}></ipward-ip-page>`;
      case "not-found":
        return html`<div class="card not-found">
          <h1>Page not found</h1>
          <p>There is no page at <span class="mono">#/${route.path}</span>.</p>
          <p><a href="#/dashboard">Go to the dashboard</a></p>
        </div>`;
    }
  }

  private onSignedIn(session: Session): void {
    this.sessionEnded = false;
    this.session = session;
  }

  private readonly signOut = async (): Promise<void> => {
    try {
      await this.client.signOut();
      this.signOutError = "";
      this.sessionEnded = false;
      this.session = null;
    } catch (error) {
      this.signOutError = `Signing out failed: ${errorMessage(error)}`;
    }
  };

  private readonly skipToContent = (): void => {
    this.renderRoot.querySelector<HTMLElement>("main")?.focus();
  };
}

customElements.define("ipward-app", IpwardApp);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-app": IpwardApp;
  }
}
