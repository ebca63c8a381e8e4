import { ContextConsumer } from "@lit/context";
import { Task, TaskStatus } from "@lit/task";
import { html, LitElement } from "lit";
import type { SuspiciousIp, SuspiciousStatus } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { SelectionController } from "../controllers/selection.ts";
import { formatCount, formatRelative, formatTime } from "../format.ts";
import { ipHref } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { type ActionOutcome, actThenReload, renderTask } from "../task-view.ts";
import { suspiciousStyles } from "./suspicious-page.styles.ts";

const STATUSES: { status: SuspiciousStatus; label: string }[] = [
  { status: "open", label: "Open" },
  { status: "blocked", label: "Blocked" },
  { status: "dismissed", label: "Dismissed" },
];

/** What detection flagged: review, block or dismiss, one at a time or the selected ones together. */
export class SuspiciousPage extends LitElement {
  static override styles = [sharedStyles, suspiciousStyles];
  static override properties = {
    status: { state: true },
    notice: { state: true },
    failure: { state: true },
    busy: { state: true },
  };

  declare status: SuspiciousStatus;
  declare notice: string;
  declare failure: string;
  declare busy: boolean;

  private readonly api = new ContextConsumer(this, { context: apiContext });
  private readonly selection = new SelectionController<number>(this);

  private readonly listTask = new Task(this, {
    task: async ([status]) => ({ status, records: await this.api.value!.suspicious(status) }),
    args: () => [this.status] as const,
    onComplete: ({ records }) => this.selection.retain(records.map((record) => record.id)),
  });

  constructor() {
    super();
    this.status = "open";
    this.notice = "";
    this.failure = "";
    this.busy = false;
  }

  override render() {
    return html`
      <div class="page-header">
        <h1>Suspicious</h1>
        <div class="segmented" role="group" aria-label="Show">
          ${STATUSES.map(
            (item) => html`<button
              type="button"
              aria-pressed=${this.status === item.status ? "true" : "false"}
              @click=${() => this.show(item.status)}
            >
              ${item.label}
            </button>`,
          )}
        </div>
      </div>
      ${this.failure ? html`<p class="error" role="alert">${this.failure}</p>` : null}
      <p class="notice ${this.notice ? "" : "visually-hidden"}" role="status">${this.notice}</p>
      ${renderTask(this.listTask, ({ status, records }) => this.renderList(status, records), {
        what: "the suspicious IPs",
        keepPrevious: (previous) => previous.status === this.status,
      })}
    `;
  }

  private renderList(status: SuspiciousStatus, records: SuspiciousIp[]) {
    const open = status === "open";
    const ids = records.map((record) => record.id);
    const coverage = this.selection.coverage(ids);
    const refreshing = this.listTask.status === TaskStatus.PENDING;
    const count = this.selection.size;
    return html`
      <section class="card list" aria-labelledby="list-title">
        <div class="list-header">
          <h2 id="list-title">
            ${STATUSES.find((item) => item.status === status)?.label} <span class="muted">(${formatCount(records.length)})</span>
          </h2>
          ${open && records.length > 0
            ? html`<div class="toolbar">
                <button type="button" class="primary" ?disabled=${count === 0 || this.busy} @click=${() => this.bulk("block")}>
                  Block selected${count ? ` (${count})` : ""}
                </button>
                <button type="button" ?disabled=${count === 0 || this.busy} @click=${() => this.bulk("dismiss")}>
                  Dismiss selected${count ? ` (${count})` : ""}
                </button>
              </div>`
            : null}
        </div>
        ${records.length === 0
          ? html`<p class="empty">${open ? "Nothing to review: no open detections." : `No ${status} detections.`}</p>`
          : html`<div class="table-wrap ${refreshing ? "refreshing" : ""}">
              <table class="cards" data-testid="suspicious">
                <thead>
                  <tr>
                    ${open
                      ? html`<th class="select">
                          <input
                            type="checkbox"
                            aria-label="Select all"
                            .checked=${coverage === "all"}
                            .indeterminate=${coverage === "some"}
                            @change=${(event: Event) => this.selection.setAll(ids, (event.target as HTMLInputElement).checked)}
                          />
                        </th>`
                      : null}
                    <th>IP</th>
                    <th>Rule</th>
                    <th>Reason</th>
                    <th class="number">Count</th>
                    <th>First seen</th>
                    <th>Last seen</th>
                    ${open ? html`<th><span class="visually-hidden">Actions</span></th>` : null}
                  </tr>
                </thead>
                <tbody>
                  ${records.map((record) => this.renderRecord(record, open))}
                </tbody>
              </table>
            </div>`}
      </section>
    `;
  }

  private renderRecord(record: SuspiciousIp, open: boolean) {
    const selected = this.selection.has(record.id);
    return html`<tr class=${selected ? "selected" : ""}>
      ${open
        ? html`<td class="select">
            <input
              type="checkbox"
              aria-label="Select ${record.ip} (${record.rule})"
              .checked=${selected}
              @change=${(event: Event) => this.selection.toggle(record.id, (event.target as HTMLInputElement).checked)}
            />
          </td>`
        : null}
      <td class="subject"><a class="mono" href=${ipHref(record.ip)}>${record.ip}</a></td>
      <td class="meta rule"><span class="badge">${record.rule}</span></td>
      <td class="reason">${record.reason || html`<span class="muted">—</span>`}</td>
      <td data-label="Count" class="number meta">${formatCount(record.count)}</td>
      <td data-label="First seen" class="meta nowrap"><span title=${formatTime(record.first_seen)}>${formatRelative(record.first_seen)}</span></td>
      <td data-label="Last seen" class="meta nowrap"><span title=${formatTime(record.last_seen)}>${formatRelative(record.last_seen)}</span></td>
      ${open
        ? html`<td class="actions">
            <button type="button" class="small danger" ?disabled=${this.busy} aria-label="Block ${record.ip}" @click=${() => this.act([record], "block")}>
              Block
            </button>
            <button type="button" class="small" ?disabled=${this.busy} aria-label="Dismiss ${record.ip}" @click=${() => this.act([record], "dismiss")}>
              Dismiss
            </button>
          </td>`
        : null}
    </tr>`;
  }

  private show(status: SuspiciousStatus): void {
    if (status === this.status) return;
    this.selection.clear();
    this.notice = "";
    this.failure = "";
    this.status = status;
  }

  private bulk(action: "block" | "dismiss"): void {
    const records = (this.listTask.value?.records ?? []).filter((record) => this.selection.has(record.id));
    void this.act(records, action);
  }

  private async act(records: SuspiciousIp[], action: "block" | "dismiss"): Promise<void> {
    if (records.length === 0) return;
    const api = this.api.value!;
    this.busy = true;
    const change = async (): Promise<ActionOutcome> => {
      let failed: { id: number; error: string }[] = [];
      if (records.length > 1) failed = (await api.bulkSuspicious(records.map((record) => record.id), action)).errors;
      else if (action === "block") await api.blockSuspicious(records[0].id);
      else await api.dismissSuspicious(records[0].id);
      this.selection.setAll(
        records.map((record) => record.id),
        false,
      );
      const failedIds = new Set(failed.map((entry) => entry.id));
      const ips = [...new Set(records.filter((record) => !failedIds.has(record.id)).map((record) => record.ip))];
      const what = ips.length === 1 ? ips[0] : `${ips.length} IPs`;
      return {
        notice: ips.length === 0 ? "" : action === "block" ? `Blocked ${what}.` : `Dismissed ${what}.`,
        failure: failed.length === 0 ? "" : `${failed.length} could not be changed: ${failed[0].error}`,
      };
    };
    ({ notice: this.notice, failure: this.failure } = await actThenReload(change, () => this.listTask.run()));
    this.busy = false;
  }
}

customElements.define("ipward-suspicious-page", SuspiciousPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-suspicious-page": SuspiciousPage;
  }
}
