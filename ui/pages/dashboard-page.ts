import { ContextConsumer } from "@lit/context";
import { Task } from "@lit/task";
import { html, LitElement, svg } from "lit";
import type { Stats } from "../api/types.ts";
import "../components/requests-chart.ts";
import "../components/world-map.ts";
import { apiContext } from "../context.ts";
import { IntervalController } from "../controllers/interval.ts";
import { formatClock, formatCount, formatShare } from "../format.ts";
import { countryName } from "../geo/iso-countries.ts";
import { ipHref, logsHref } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { renderTask } from "../task-view.ts";
import { dashboardStyles } from "./dashboard-page.styles.ts";

const PERIODS = [
  { since: "1h", label: "Last hour" },
  { since: "6h", label: "Last 6 hours" },
  { since: "24h", label: "Last 24 hours" },
  { since: "7d", label: "Last 7 days" },
  { since: "30d", label: "Last 30 days" },
] as const;

const REFRESH_MS = 10_000;

/** Traffic at a glance: totals, requests over time, decisions, countries, top IPs and paths; refreshes every 10 s. */
export class DashboardPage extends LitElement {
  static override styles = [sharedStyles, dashboardStyles];
  static override properties = { since: { state: true }, updatedAt: { state: true } };

  declare since: string;
  declare updatedAt: Date | null;

  private readonly api = new ContextConsumer(this, { context: apiContext });

  private readonly statsTask = new Task(this, {
    task: ([since]) => this.api.value!.stats(since),
    args: () => [this.since] as const,
    onComplete: () => {
      this.updatedAt = new Date();
    },
  });

  private readonly live = new IntervalController(this, REFRESH_MS, () => void this.statsTask.run());

  constructor() {
    super();
    this.since = "24h";
    this.updatedAt = null;
  }

  override render() {
    return html`
      <div class="page-header">
        <h1>Dashboard</h1>
        <div class="toolbar">
          <label class="inline" for="period">Period</label>
          <select id="period" @change=${(event: Event) => (this.since = (event.target as HTMLSelectElement).value)}>
            ${PERIODS.map((period) => html`<option value=${period.since} ?selected=${period.since === this.since}>${period.label}</option>`)}
          </select>
          <button type="button" class="small live" aria-pressed=${this.live.running ? "true" : "false"} @click=${this.toggleLive}>
            <span class="dot ${this.live.running ? "on" : ""}" aria-hidden="true"></span>
            ${this.live.running ? "Live" : "Paused"}
          </button>
          <span class="muted updated">${this.updatedAt ? `Updated ${formatClock(this.updatedAt)}` : ""}</span>
        </div>
      </div>
      ${renderTask(this.statsTask, (stats) => this.renderStats(stats), { what: "the statistics", keepPrevious: true })}
    `;
  }

  private renderStats(stats: Stats) {
    const { totals } = stats;
    return html`
      <section class="totals" aria-label="Totals">
        ${[
          { key: "requests", label: "Requests", value: totals.requests, href: logsHref() },
          { key: "blocked", label: "Blocked", value: totals.blocked, href: logsHref({ decision: "block" }) },
          { key: "limited", label: "Rate-limited", value: totals.limited, href: logsHref({ decision: "limit" }) },
          { key: "unique_ips", label: "Unique IPs", value: totals.unique_ips, href: null },
        ].map(
          (total) => html`
            <div class="card total ${total.key}" data-testid="total-${total.key}">
              <span class="total-label">${total.label}</span>
              <span class="total-value">${formatCount(total.value)}</span>
              ${total.href ? html`<a class="total-link" href=${total.href}>View logs<span class="visually-hidden"> (${total.label})</span></a>` : null}
            </div>
          `,
        )}
      </section>

      <div class="grid two-one">
        <section class="card" aria-labelledby="over-time">
          <h2 id="over-time">Requests over time</h2>
          <ipward-requests-chart .series=${stats.series}></ipward-requests-chart>
        </section>
        <section class="card" aria-labelledby="decisions">
          <h2 id="decisions">Decisions</h2>
          ${this.renderDecisions(stats.decisions)}
          <h2 class="sub" id="status-mix">Status codes</h2>
          ${this.renderStatusMix(stats.status_mix)}
        </section>
      </div>

      <section class="card countries" aria-labelledby="top-countries">
        <h2 id="top-countries">Top countries</h2>
        <div class="grid map-list">
          <ipward-world-map .countries=${stats.top_countries}></ipward-world-map>
          ${this.renderCountries(stats.top_countries, totals.requests)}
        </div>
      </section>

      <div class="grid halves">
        <section class="card" aria-labelledby="top-ips">
          <h2 id="top-ips">Top IPs</h2>
          ${stats.top_ips.length === 0
            ? html`<p class="empty">No requests in this period.</p>`
            : html`<table data-testid="top-ips">
                <thead>
                  <tr><th>IP</th><th>Country</th><th class="number">Requests</th></tr>
                </thead>
                <tbody>
                  ${stats.top_ips.map(
                    (row) => html`<tr>
                      <td><a class="mono" href=${ipHref(row.ip)}>${row.ip}</a></td>
                      <td>${row.country_code ? html`<span title=${countryName(row.country_code)}>${row.country_code}</span>` : html`<span class="muted">—</span>`}</td>
                      <td class="number">${formatCount(row.requests)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`}
        </section>
        <section class="card" aria-labelledby="top-paths">
          <h2 id="top-paths">Top paths</h2>
          ${stats.top_paths.length === 0
            ? html`<p class="empty">No requests in this period.</p>`
            : html`<table data-testid="top-paths">
                <thead>
                  <tr><th>Path</th><th class="number">Requests</th></tr>
                </thead>
                <tbody>
                  ${stats.top_paths.map(
                    (row) => html`<tr>
                      <td class="path"><a class="mono" href=${logsHref({ path: row.path })}>${row.path}</a></td>
                      <td class="number">${formatCount(row.requests)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`}
        </section>
      </div>
    `;
  }

  private renderDecisions(decisions: Stats["decisions"]) {
    const total = decisions.allow + decisions.block + decisions.limit;
    const parts = [
      { key: "allow", label: "Allowed", value: decisions.allow },
      { key: "block", label: "Blocked", value: decisions.block },
      { key: "limit", label: "Rate-limited", value: decisions.limit },
    ];
    let offset = 0;
    return html`
      <svg class="stack" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
        <rect class="track" width="100" height="8"></rect>
        ${parts.map((part) => {
          const width = total === 0 ? 0 : (part.value / total) * 100;
          const rect = svg`<rect class=${part.key} x=${offset} width=${width} height="8"></rect>`;
          offset += width;
          return rect;
        })}
      </svg>
      <ul class="legend">
        ${parts.map(
          (part) => html`<li data-testid="decision-${part.key}">
            <span class="swatch ${part.key}" aria-hidden="true"></span>
            <a href=${logsHref({ decision: part.key })}>${part.label}</a>
            <span class="count">${formatCount(part.value)}</span>
            <span class="muted share">${formatShare(part.value, total)}</span>
          </li>`,
        )}
      </ul>
    `;
  }

  private renderStatusMix(mix: Stats["status_mix"]) {
    if (mix.length === 0) return html`<p class="empty">No requests in this period.</p>`;
    const total = mix.reduce((sum, row) => sum + row.requests, 0);
    const max = Math.max(...mix.map((row) => row.requests));
    return html`<ul class="bars">
      ${mix.map(
        (row) => html`<li>
          <span class="bar-label">${row.status_class}</span>
          <svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
            <rect class="track" width="100" height="8"></rect>
            <rect class="fill s${row.status_class.charAt(0)}" width=${(row.requests / max) * 100} height="8"></rect>
          </svg>
          <span class="count">${formatCount(row.requests)}</span>
          <span class="muted share">${formatShare(row.requests, total)}</span>
        </li>`,
      )}
    </ul>`;
  }

  private renderCountries(countries: Stats["top_countries"], total: number) {
    if (countries.length === 0) return html`<p class="empty">No located requests in this period.</p>`;
    return html`<table data-testid="top-countries">
      <thead>
        <tr><th>Country</th><th class="number">Requests</th><th class="number">Share</th></tr>
      </thead>
      <tbody>
        ${countries.map(
          (row) => html`<tr>
            <td>
              ${row.country_code
                ? html`<a href=${logsHref({ country: row.country_code })}>${row.country ?? countryName(row.country_code)}</a>
                    <span class="muted code">${row.country_code}</span>`
                : html`<span class="muted">Unknown</span>`}
            </td>
            <td class="number">${formatCount(row.requests)}</td>
            <td class="number muted">${formatShare(row.requests, total)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private readonly toggleLive = (): void => {
    this.live.setRunning(!this.live.running);
    this.requestUpdate();
  };
}

customElements.define("ipward-dashboard-page", DashboardPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-dashboard-page": DashboardPage;
  }
}
