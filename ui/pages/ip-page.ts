import { ContextConsumer } from "@lit/context";
import { Task } from "@lit/task";
import { html, LitElement } from "lit";
import type { BlockRule, IpDetail } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { formatCount, formatMs, formatRelative, formatTime } from "../format.ts";
import { countryName } from "../geo/iso-countries.ts";
import { logsHref } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { actThenReload, renderTask } from "../task-view.ts";
import { ipStyles } from "./ip-page.styles.ts";

/** Everything known about one address: location, counts, rules, detections, recent requests; block or unblock it. */
export class IpPage extends LitElement {
  static override styles = [sharedStyles, ipStyles];
  static override properties = { ip: { type: String }, notice: { state: true }, failure: { state: true }, busy: { state: true } };

  declare ip: string;
  declare notice: string;
  declare failure: string;
  declare busy: boolean;

  private readonly api = new ContextConsumer(this, { context: apiContext });

  private readonly detailTask = new Task(this, {
    task: ([ip]) => this.api.value!.ip(ip),
    args: () => [this.ip] as const,
  });

  constructor() {
    super();
    this.ip = "";
    this.notice = "";
    this.failure = "";
    this.busy = false;
  }

  override render() {
    return html`
      <div class="page-header">
        <div class="title">
          <p class="crumb">IP address</p>
          <h1 class="mono">${this.ip}</h1>
        </div>
        <div class="toolbar">
          <a class="button" href=${logsHref({ ip: this.ip })}>All requests from this IP</a>
        </div>
      </div>
      ${this.failure ? html`<p class="error" role="alert">${this.failure}</p>` : null}
      <p class="notice ${this.notice ? "" : "visually-hidden"}" role="status">${this.notice}</p>
      ${renderTask(this.detailTask, (detail) => this.renderDetail(detail), {
        what: `what is known about ${this.ip}`,
        keepPrevious: (previous) => previous.ip === this.ip,
      })}
    `;
  }

  private renderDetail(detail: IpDetail) {
    const { counts, geo } = detail;
    const blocks = detail.decisions.filter((rule) => (rule.list ?? "block") === "block");
    const ownBlock = blocks.find((rule) => rule.kind === "ip");
    const place = geo && (geo.city || geo.country || geo.country_code)
      ? [geo.city, geo.country ?? (geo.country_code ? countryName(geo.country_code) : null)].filter(Boolean).join(", ")
      : null;
    return html`
      <section class="summary card" aria-label="Summary">
        <div class="where">
          <span class="label">Location</span>
          <span class="value">${place ?? html`<span class="muted">Unknown (private, reserved or not in the database)</span>`}</span>
          ${geo?.latitude != null && geo.longitude != null
            ? html`<span class="muted coords">${geo.latitude.toFixed(2)}, ${geo.longitude.toFixed(2)}</span>`
            : null}
        </div>
        <div class="state">
          <span class="label">Status</span>
          ${blocks.length > 0
            ? html`<span class="badge block">Blocked</span>
                <span class="muted">by ${blocks.map((rule) => rule.target).join(", ")}</span>`
            : html`<span class="badge allow">Not blocked</span>`}
        </div>
      </section>

      <section class="counts" aria-label="Counts">
        ${[
          { label: "Requests", value: formatCount(counts.requests) },
          { label: "Blocked", value: formatCount(counts.blocked) },
          { label: "Rate-limited", value: formatCount(counts.limited) },
          { label: "First seen", value: formatRelative(counts.first_seen), title: formatTime(counts.first_seen), time: true },
          { label: "Last seen", value: formatRelative(counts.last_seen), title: formatTime(counts.last_seen), time: true },
        ].map(
          (item) => html`<div class="card count ${item.time ? "time" : ""}">
            <span class="label">${item.label}</span>
            <span class="value" title=${item.title ?? ""}>${item.value}</span>
          </div>`,
        )}
      </section>

      <div class="columns">
        <section class="card" aria-labelledby="rules-title">
          <h2 id="rules-title">Rules</h2>
          ${detail.decisions.length === 0
            ? html`<p class="muted">No block or allow rule applies to this address.</p>`
            : html`<ul class="rules">
                ${detail.decisions.map((rule) => this.renderRule(rule, rule === ownBlock))}
              </ul>`}
          ${ownBlock ? null : this.renderBlockForm()}
        </section>

        <section class="card" aria-labelledby="detections-title">
          <h2 id="detections-title">Detections</h2>
          ${detail.detections.length === 0
            ? html`<p class="muted">Detection has not flagged this address.</p>`
            : html`<ul class="detections">
                ${detail.detections.map(
                  (record) => html`<li>
                    <span class="badge">${record.rule}</span>
                    <span class="badge ${record.status === "blocked" ? "block" : record.status === "open" ? "limit" : ""}">${record.status}</span>
                    <span>${record.reason ?? ""}</span>
                    <span class="muted">${formatCount(record.count)}× · last ${formatRelative(record.last_seen)}</span>
                  </li>`,
                )}
              </ul>`}
        </section>
      </div>

      <section class="card recent" aria-labelledby="recent-title">
        <h2 id="recent-title">Recent requests</h2>
        ${detail.recent.length === 0
          ? html`<p class="muted">No requests from this address are in the log.</p>`
          : html`<div class="table-wrap">
              <table class="recent-table">
                <thead>
                  <tr><th>Time</th><th>Request</th><th class="number">Status</th><th>Decision</th><th class="number">Duration</th></tr>
                </thead>
                <tbody>
                  ${detail.recent.map(
                    (row) => html`<tr>
                      <td class="time">${formatTime(row.ts)}</td>
                      <td class="request"><span class="mono"><strong>${row.method}</strong> ${row.path}</span></td>
                      <td class="number status mono">${row.status}</td>
                      <td class="decision"><span class="badge ${row.decision}">${row.decision}</span></td>
                      <td class="number duration">${formatMs(row.duration_ms)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`}
      </section>
    `;
  }

  private renderRule(rule: BlockRule, removable: boolean) {
    const list = rule.list ?? "block";
    return html`<li>
      <span class="badge ${list === "block" ? "block" : "allow"}">${list}</span>
      <span class="mono">${rule.target}</span>
      ${rule.reason ? html`<span>${rule.reason}</span>` : null}
      <span class="muted">${rule.expires_at ? `expires ${formatRelative(rule.expires_at)}` : "no expiry"} · ${rule.source}</span>
      ${removable
        ? html`<button type="button" class="small danger" ?disabled=${this.busy} @click=${() => this.unblock(rule)}>Unblock</button>`
        : null}
    </li>`;
  }

  private renderBlockForm() {
    return html`<form class="block-form" @submit=${this.onBlock} aria-labelledby="block-title">
      <h3 id="block-title">Block this address</h3>
      <div class="field">
        <label for="reason">Reason</label>
        <input id="reason" name="reason" autocomplete="off" placeholder="e.g. scanner" />
      </div>
      <div class="field">
        <label for="duration">Duration</label>
        <input id="duration" name="duration" autocomplete="off" placeholder="e.g. 4h; empty = until removed" />
      </div>
      <button type="submit" class="danger" ?disabled=${this.busy}>Block ${this.ip}</button>
    </form>`;
  }

  private readonly onBlock = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const reason = String(data.get("reason") ?? "").trim();
    const duration = String(data.get("duration") ?? "").trim();
    await this.act(async () => {
      await this.api.value!.addBlock({ target: this.ip, reason: reason || undefined, duration: duration || undefined });
      return `Blocked ${this.ip}.`;
    });
  };

  private async unblock(rule: BlockRule): Promise<void> {
    await this.act(async () => {
      await this.api.value!.removeBlock(rule.id);
      return `Removed the block on ${rule.target}.`;
    });
  }

  /** Runs one change, reloads, then reports the outcome (so what is announced is what is shown). */
  private async act(change: () => Promise<string>): Promise<void> {
    this.busy = true;
    ({ notice: this.notice, failure: this.failure } = await actThenReload(change, () => this.detailTask.run()));
    this.busy = false;
  }
}

customElements.define("ipward-ip-page", IpPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-ip-page": IpPage;
  }
}
