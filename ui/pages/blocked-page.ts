import { ContextConsumer } from "@lit/context";
import { Task, TaskStatus } from "@lit/task";
import { html, LitElement } from "lit";
import type { BlockRule } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { SelectionController } from "../controllers/selection.ts";
import { formatCount, formatRelative, formatTime } from "../format.ts";
import { ipHref } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { actThenReload, renderTask } from "../task-view.ts";
import { blockedStyles } from "./blocked-page.styles.ts";

const DURATIONS = ["15m", "1h", "4h", "24h", "7d", "30d"];

/** The block list: add with reason and duration, remove one or many, import a file, export. */
export class BlockedPage extends LitElement {
  static override styles = [sharedStyles, blockedStyles];
  static override properties = { notice: { state: true }, failure: { state: true }, busy: { state: true } };

  /** Outcome of the last action, announced politely. */
  declare notice: string;
  /** Why the last action failed. */
  declare failure: string;
  declare busy: boolean;

  private readonly api = new ContextConsumer(this, { context: apiContext });
  private readonly selection = new SelectionController<number>(this);

  private readonly rulesTask = new Task(this, {
    task: () => this.api.value!.blocks(),
    args: () => [],
    onComplete: (rules) => this.selection.retain(rules.map((rule) => rule.id)),
  });

  constructor() {
    super();
    this.notice = "";
    this.failure = "";
    this.busy = false;
  }

  override render() {
    const api = this.api.value!;
    return html`
      <div class="page-header">
        <h1>Blocked</h1>
        <div class="toolbar">
          <input id="import-file" class="visually-hidden" type="file" accept=".txt,.csv,.json,text/plain,application/json" @change=${this.onImport} />
          <label class="button" for="import-file">Import file</label>
          <a class="button" href=${api.blocksExportUrl("text")} download>Export text</a>
          <a class="button" href=${api.blocksExportUrl("json")} download>Export JSON</a>
        </div>
      </div>

      <form class="card add" @submit=${this.onAdd} aria-labelledby="add-title">
        <h2 id="add-title">Block an address or range</h2>
        <div class="fields">
          <div class="field target">
            <label for="target">IP or CIDR</label>
            <input
              id="target"
              name="target"
              required
              autocomplete="off"
              spellcheck="false"
              placeholder="203.0.113.7 or 198.51.100.0/24"
              aria-describedby="target-hint"
            />
            <span class="hint" id="target-hint">A two-letter country code (e.g. CN) blocks a whole country.</span>
          </div>
          <div class="field reason">
            <label for="reason">Reason</label>
            <input id="reason" name="reason" autocomplete="off" placeholder="e.g. credential stuffing" />
          </div>
          <div class="field duration">
            <label for="duration">Duration</label>
            <input id="duration" name="duration" list="durations" autocomplete="off" placeholder="e.g. 4h, 7d" aria-describedby="duration-hint" />
            <datalist id="durations">${DURATIONS.map((duration) => html`<option value=${duration}></option>`)}</datalist>
            <span class="hint" id="duration-hint">Leave empty to block until removed.</span>
          </div>
          <div class="submit">
            <button class="primary" type="submit" ?disabled=${this.busy}>Block</button>
          </div>
        </div>
      </form>

      ${this.failure ? html`<p class="error" role="alert">${this.failure}</p>` : null}
      <p class="notice ${this.notice ? "" : "visually-hidden"}" role="status">${this.notice}</p>

      ${renderTask(this.rulesTask, (rules) => this.renderRules(rules), { what: "the block list", keepPrevious: true })}
    `;
  }

  private renderRules(rules: BlockRule[]) {
    const ids = rules.map((rule) => rule.id);
    const coverage = this.selection.coverage(ids);
    const refreshing = this.rulesTask.status === TaskStatus.PENDING;
    return html`
      <section class="card list" aria-labelledby="list-title">
        <div class="list-header">
          <h2 id="list-title">Block list <span class="muted">(${formatCount(rules.length)})</span></h2>
          ${rules.length > 0
            ? html`<div class="toolbar">
                <button type="button" class="danger" ?disabled=${this.selection.size === 0 || this.busy} @click=${this.onRemoveSelected}>
                  Remove selected${this.selection.size ? ` (${this.selection.size})` : ""}
                </button>
              </div>`
            : null}
        </div>
        ${rules.length === 0
          ? html`<p class="empty">Nothing is blocked. Add an address above, or import a file.</p>`
          : html`<div class="table-wrap ${refreshing ? "refreshing" : ""}">
              <table class="cards" data-testid="block-rules">
                <thead>
                  <tr>
                    <th class="select">
                      <input
                        type="checkbox"
                        aria-label="Select all"
                        .checked=${coverage === "all"}
                        .indeterminate=${coverage === "some"}
                        @change=${(event: Event) => this.selection.setAll(ids, (event.target as HTMLInputElement).checked)}
                      />
                    </th>
                    <th>Target</th>
                    <th>Reason</th>
                    <th>Source</th>
                    <th>Added</th>
                    <th>Expires</th>
                    <th><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${rules.map((rule) => this.renderRule(rule))}
                </tbody>
              </table>
            </div>`}
      </section>
    `;
  }

  private renderRule(rule: BlockRule) {
    const selected = this.selection.has(rule.id);
    return html`<tr class=${selected ? "selected" : ""}>
      <td class="select">
        <input
          type="checkbox"
          aria-label="Select ${rule.target}"
          .checked=${selected}
          @change=${(event: Event) => this.selection.toggle(rule.id, (event.target as HTMLInputElement).checked)}
        />
      </td>
      <td class="target subject">
        ${rule.kind === "ip" ? html`<a class="mono" href=${ipHref(rule.target)}>${rule.target}</a>` : html`<span class="mono">${rule.target}</span>`}
        ${rule.kind !== "ip" ? html`<span class="badge">${rule.kind === "cidr" ? "range" : "country"}</span>` : null}
      </td>
      <td class="reason">${rule.reason || html`<span class="muted">—</span>`}</td>
      <td class="meta"><span class="badge">${rule.source}</span></td>
      <td data-label="Added" class="meta nowrap"><span title=${formatTime(rule.created_at)}>${formatRelative(rule.created_at)}</span></td>
      <td data-label="Expires" class="meta nowrap">
        ${rule.expires_at ? html`<span title=${formatTime(rule.expires_at)}>${formatRelative(rule.expires_at)}</span>` : html`<span class="muted">never</span>`}
      </td>
      <td class="actions">
        <button type="button" class="small danger" ?disabled=${this.busy} aria-label="Remove ${rule.target}" @click=${() => this.removeRules([rule])}>
          Remove
        </button>
      </td>
    </tr>`;
  }

  private readonly onAdd = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const target = String(data.get("target") ?? "").trim();
    const reason = String(data.get("reason") ?? "").trim();
    const duration = String(data.get("duration") ?? "").trim();
    if (!target) {
      this.report("", "Enter an IP address or a CIDR range to block.");
      form.querySelector<HTMLInputElement>("#target")?.focus();
      return;
    }
    await this.act(async () => {
      const rule = await this.api.value!.addBlock({ target, reason: reason || undefined, duration: duration || undefined });
      form.reset();
      form.querySelector<HTMLInputElement>("#target")?.focus();
      return `Blocked ${rule.target}${rule.expires_at ? ` until ${formatTime(rule.expires_at)}` : ""}.`;
    });
  };

  private readonly onRemoveSelected = (): void => {
    const rules = this.rulesTask.value ?? [];
    void this.removeRules(rules.filter((rule) => this.selection.has(rule.id)));
  };

  private async removeRules(rules: BlockRule[]): Promise<void> {
    if (rules.length === 0) return;
    await this.act(async () => {
      if (rules.length === 1) await this.api.value!.removeBlock(rules[0].id);
      else await this.api.value!.removeBlocks(rules.map((rule) => rule.id));
      this.selection.setAll(
        rules.map((rule) => rule.id),
        false,
      );
      return rules.length === 1 ? `Removed the block on ${rules[0].target}.` : `Removed ${rules.length} blocks.`;
    });
  }

  private readonly onImport = async (event: Event): Promise<void> => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    await this.act(async () => {
      const result = await this.api.value!.importBlocks(await file.text());
      const imported = `Imported ${formatCount(result.imported)} ${result.imported === 1 ? "rule" : "rules"} from ${file.name}.`;
      if (result.skipped.length === 0) return imported;
      const first = result.skipped[0];
      const more = result.skipped.length > 1 ? ` and ${formatCount(result.skipped.length - 1)} more` : "";
      return `${imported} Skipped line ${first.line} (${first.error})${more}.`;
    });
    input.value = "";
  };

  /** Runs one change, reloads the list, then reports the outcome (so what is announced is what is shown). */
  private async act(change: () => Promise<string>): Promise<void> {
    this.busy = true;
    const { notice, failure } = await actThenReload(change, () => this.rulesTask.run());
    this.busy = false;
    this.report(notice, failure);
  }

  private report(notice: string, failure: string): void {
    this.notice = notice;
    this.failure = failure;
  }
}

customElements.define("ipward-blocked-page", BlockedPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-blocked-page": BlockedPage;
  }
}
