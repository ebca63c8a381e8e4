import { ContextConsumer } from "@lit/context";
import { Task } from "@lit/task";
import { html, LitElement } from "lit";
import type { ApiToken, NewApiToken } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { formatRelative, formatTime } from "../format.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { actThenReload, renderTask } from "../task-view.ts";
import { tokensStyles } from "./tokens-page.styles.ts";

/** API tokens for scripts (`Authorization: Bearer …`): create (the secret is shown once), list, revoke. */
export class TokensPage extends LitElement {
  static override styles = [sharedStyles, tokensStyles];
  static override properties = {
    created: { state: true },
    copied: { state: true },
    notice: { state: true },
    failure: { state: true },
    busy: { state: true },
  };

  /** The token just created, whose secret will not be shown again. */
  declare created: NewApiToken | null;
  declare copied: boolean;
  declare notice: string;
  declare failure: string;
  declare busy: boolean;

  private readonly api = new ContextConsumer(this, { context: apiContext });

  private readonly tokensTask = new Task(this, {
    task: () => this.api.value!.tokens(),
    args: () => [],
  });

  constructor() {
    super();
    this.created = null;
    this.copied = false;
    this.notice = "";
    this.failure = "";
    this.busy = false;
  }

  override render() {
    return html`
      <div class="page-header">
        <h1>API tokens</h1>
      </div>
      <p class="intro muted">
        Scripts call the admin API with a token instead of a session:
        <code class="nowrap">Authorization: Bearer &lt;token&gt;</code>. A token can do everything an admin can.
      </p>

      <form class="card create" @submit=${this.onCreate} aria-labelledby="create-title">
        <h2 id="create-title">Create a token</h2>
        <div class="fields">
          <div class="field">
            <label for="token-name">Name</label>
            <input id="token-name" name="name" required maxlength="100" autocomplete="off" placeholder="e.g. backup script" />
          </div>
          <button class="primary" type="submit" ?disabled=${this.busy}>Create token</button>
        </div>
      </form>

      ${this.created ? this.renderSecret(this.created) : null}
      ${this.failure ? html`<p class="error" role="alert">${this.failure}</p>` : null}
      <p class="notice ${this.notice ? "" : "visually-hidden"}" role="status">${this.notice}</p>

      ${renderTask(this.tokensTask, (tokens) => this.renderTokens(tokens), { what: "the API tokens", keepPrevious: true })}
    `;
  }

  private renderSecret(token: NewApiToken) {
    const example = `curl -H "Authorization: Bearer ${token.token}" ${location.origin}${this.api.value!.base}/stats`;
    return html`<section class="card secret" aria-labelledby="secret-title">
      <h2 id="secret-title">Token “${token.name}” created</h2>
      <p>Copy it now: it is shown this once, and ipward keeps only its hash.</p>
      <div class="secret-row">
        <code class="mono" data-testid="new-token">${token.token}</code>
        <button type="button" @click=${() => this.copy(token.token)}>${this.copied ? "Copied" : "Copy"}</button>
      </div>
      <p class="muted example">For example: <code class="mono">${example}</code></p>
      <button type="button" class="small" @click=${() => (this.created = null)}>Done</button>
    </section>`;
  }

  private renderTokens(tokens: ApiToken[]) {
    return html`<section class="card list" aria-labelledby="list-title">
      <h2 id="list-title">Tokens <span class="muted">(${tokens.length})</span></h2>
      ${tokens.length === 0
        ? html`<p class="empty">No API tokens yet.</p>`
        : html`<div class="table-wrap">
            <table class="cards" data-testid="tokens">
              <thead>
                <tr><th>Name</th><th>Created</th><th>Last used</th><th><span class="visually-hidden">Actions</span></th></tr>
              </thead>
              <tbody>
                ${tokens.map(
                  (token) => html`<tr>
                    <td class="subject">${token.name}</td>
                    <td data-label="Created" class="meta nowrap"><span title=${formatTime(token.created_at)}>${formatRelative(token.created_at)}</span></td>
                    <td data-label="Last used" class="meta nowrap">
                      <span title=${formatTime(token.last_used_at)}>${formatRelative(token.last_used_at)}</span>
                    </td>
                    <td class="actions">
                      <button type="button" class="small danger" ?disabled=${this.busy} aria-label="Revoke ${token.name}" @click=${() => this.revoke(token)}>
                        Revoke
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`}
    </section>`;
  }

  private readonly onCreate = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const name = String(new FormData(form).get("name") ?? "").trim();
    if (!name) {
      this.failure = "Give the token a name, so that you know later which script uses it.";
      form.querySelector<HTMLInputElement>("#token-name")?.focus();
      return;
    }
    await this.act(async () => {
      this.created = await this.api.value!.createToken(name);
      this.copied = false;
      form.reset();
      return "";
    });
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(".secret h2")?.setAttribute("tabindex", "-1");
    this.renderRoot.querySelector<HTMLElement>(".secret h2")?.focus();
  };

  private async revoke(token: ApiToken): Promise<void> {
    await this.act(async () => {
      await this.api.value!.revokeToken(token.id);
      if (this.created?.id === token.id) this.created = null;
      return `Revoked “${token.name}”: scripts using it are refused from now on.`;
    });
  }

  private async copy(secret: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(secret);
      this.copied = true;
    } catch {
      // No clipboard access (an insecure origin, or permission refused): select it for Ctrl+C instead.
      const code = this.renderRoot.querySelector("[data-testid=new-token]");
      if (code) getSelection()?.selectAllChildren(code);
    }
  }

  /** Runs one change, reloads, then reports the outcome (so what is announced is what is shown). */
  private async act(change: () => Promise<string>): Promise<void> {
    this.busy = true;
    ({ notice: this.notice, failure: this.failure } = await actThenReload(change, () => this.tokensTask.run()));
    this.busy = false;
  }
}

customElements.define("ipward-tokens-page", TokensPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-tokens-page": TokensPage;
  }
}
