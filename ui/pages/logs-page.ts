import { ContextConsumer } from "@lit/context";
import { Task, TaskStatus } from "@lit/task";
import { html, LitElement, type PropertyValues } from "lit";
import type { LogFilter, LogPage, LogRow } from "../api/types.ts";
import { apiContext } from "../context.ts";
import { formatCount, formatMs, formatTime, isoToLocalInput, localInputToIso } from "../format.ts";
import { countryName } from "../geo/iso-countries.ts";
import { ipHref, logsHref } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { errorMessage, renderTask } from "../task-view.ts";
import { logsStyles } from "./logs-page.styles.ts";

const PAGE_SIZE = 100;

/** The request log: filters (kept in the URL), newest first, "Load more" by cursor, CSV export. */
export class LogsPage extends LitElement {
  static override styles = [sharedStyles, logsStyles];
  static override properties = { filter: { attribute: false }, olderPages: { state: true }, allFilters: { state: true } };

  /** Set from the route (`#/logs?ip=…`). */
  declare filter: LogFilter;
  /** Pages fetched with "Load more", after the first. */
  declare olderPages: LogPage[];
  /** On a phone, whether the filters beyond the IP search are shown. */
  declare allFilters: boolean;

  private readonly api = new ContextConsumer(this, { context: apiContext });

  private readonly firstPage = new Task(this, {
    task: ([filter]) => this.api.value!.logs(filter, undefined, PAGE_SIZE),
    args: () => [this.filter] as const,
    argsEqual: ([a], [b]) => logsHref(a) === logsHref(b),
  });

  private readonly nextPage = new Task(this, {
    autoRun: false,
    task: async ([filter, cursor]: [LogFilter, string]) => ({ href: logsHref(filter), page: await this.api.value!.logs(filter, cursor, PAGE_SIZE) }),
    onComplete: ({ href, page }) => {
      // A page asked for before the filters changed belongs to the old list.
      if (href === logsHref(this.filter)) this.olderPages = [...this.olderPages, page];
    },
  });

  constructor() {
    super();
    this.filter = {};
    this.olderPages = [];
    this.allFilters = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("filter") && logsHref(changed.get("filter") ?? {}) !== logsHref(this.filter)) this.olderPages = [];
  }

  override render() {
    const filter = this.filter;
    const active = Object.values(filter).some(Boolean);
    const { ip: _ip, ...others } = filter;
    const expanded = this.allFilters || Object.values(others).some(Boolean);
    return html`
      <div class="page-header">
        <h1>Logs</h1>
        <div class="toolbar">
          <a class="button" href=${this.api.value!.logsCsvUrl(filter)} download>Export CSV</a>
        </div>
      </div>

      <form class="card filters ${expanded ? "" : "collapsed"}" @submit=${this.onSubmit} aria-label="Filter the logs">
        <div class="field f-ip">
          <label for="ip">IP address</label>
          <input id="ip" name="ip" type="search" .value=${filter.ip ?? ""} placeholder="Search by IP, e.g. 203.0.113.7" autocomplete="off" spellcheck="false" />
        </div>
        <div class="field f-country">
          <label for="country">Country</label>
          <input id="country" name="country" .value=${filter.country ?? ""} placeholder="e.g. DE" maxlength="2" autocomplete="off" />
        </div>
        <div class="field f-path">
          <label for="path">Path</label>
          <input id="path" name="path" .value=${filter.path ?? ""} placeholder="e.g. /login" autocomplete="off" spellcheck="false" />
        </div>
        <div class="field f-status">
          <label for="status">Status</label>
          <input id="status" name="status" .value=${filter.status ?? ""} inputmode="numeric" placeholder="e.g. 404" autocomplete="off" />
        </div>
        <div class="field f-decision">
          <label for="decision">Decision</label>
          <select id="decision" name="decision">
            ${[
              ["", "Any"],
              ["allow", "Allowed"],
              ["block", "Blocked"],
              ["limit", "Rate-limited"],
            ].map(([value, label]) => html`<option value=${value} ?selected=${(filter.decision ?? "") === value}>${label}</option>`)}
          </select>
        </div>
        <div class="field f-since">
          <label for="since">From</label>
          <input id="since" name="since" type="datetime-local" .value=${isoToLocalInput(filter.since)} />
        </div>
        <div class="field f-until">
          <label for="until">To</label>
          <input id="until" name="until" type="datetime-local" .value=${isoToLocalInput(filter.until)} />
        </div>
        <div class="actions">
          <button
            class="more-filters"
            type="button"
            aria-expanded=${expanded ? "true" : "false"}
            @click=${() => (this.allFilters = !expanded)}
          >
            ${expanded ? "Fewer filters" : "More filters"}
          </button>
          <button class="primary" type="submit">Apply filters</button>
          ${active ? html`<a class="button" href=${logsHref()}>Clear</a>` : null}
        </div>
      </form>

      ${renderTask(this.firstPage, (first) => this.renderRows(first), { what: "the logs" })}
    `;
  }

  private renderRows(first: LogPage) {
    const pages = [first, ...this.olderPages];
    const rows = pages.flatMap((page) => page.items);
    const cursor = pages[pages.length - 1].next_cursor;
    const loadingMore = this.nextPage.status === TaskStatus.PENDING;
    if (rows.length === 0) {
      return html`<div class="table-wrap"><p class="empty">No requests match these filters.</p></div>`;
    }
    return html`
      <p class="count muted" role="status">
        ${formatCount(rows.length)} ${rows.length === 1 ? "request" : "requests"}${cursor ? ", newest first — more are available" : ""}
      </p>
      <div class="table-wrap">
        <table class="log-table" data-testid="log-rows">
          <thead>
            <tr>
              <th>Time</th>
              <th>IP</th>
              <th>Country</th>
              <th>Request</th>
              <th class="number">Status</th>
              <th>Decision</th>
              <th class="number">Duration</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map((row) => this.renderRow(row))}
          </tbody>
        </table>
      </div>
      ${this.nextPage.render({
        error: (error) => html`<p class="error" role="alert">Could not load more. ${errorMessage(error)}</p>`,
      })}
      ${cursor
        ? html`<div class="more">
            <button type="button" ?disabled=${loadingMore} @click=${() => void this.nextPage.run([this.filter, cursor])}>
              ${loadingMore ? "Loading…" : "Load more"}
            </button>
          </div>`
        : html`<p class="muted end">End of the log for these filters.</p>`}
    `;
  }

  private renderRow(row: LogRow) {
    return html`<tr>
      <td class="time">${formatTime(row.ts)}</td>
      <td class="ip"><a class="mono" href=${ipHref(row.ip)}>${row.ip}</a></td>
      <td class="country">
        ${row.country_code
          ? html`<span title=${row.country ?? countryName(row.country_code)}>${row.country_code}</span>${row.city ? html`<span class="muted city">${row.city}</span>` : null}`
          : html`<span class="muted" aria-label="Unknown country">—</span>`}
      </td>
      <td class="request">
        <span class="mono"><span class="method">${row.method}</span> ${row.path}</span>
        ${row.user_agent ? html`<span class="ua muted" title=${row.user_agent}>${row.user_agent}</span>` : null}
      </td>
      <td class="number status-cell"><span class="status s${String(row.status).charAt(0)}">${row.status}</span></td>
      <td class="decision">
        <span class="badge ${row.decision}">${row.decision}</span>
        ${row.rule ? html`<span class="muted rule" title="Rule">${row.rule}</span>` : null}
      </td>
      <td class="number duration">${formatMs(row.duration_ms)}</td>
    </tr>`;
  }

  private readonly onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    const filter: LogFilter = {
      ip: text("ip"),
      country: text("country").toUpperCase(),
      path: text("path"),
      status: text("status"),
      decision: text("decision"),
      since: localInputToIso(text("since")),
      until: localInputToIso(text("until")),
    };
    const href = logsHref(filter);
    if (href === logsHref(this.filter)) void this.firstPage.run();
    else location.hash = href;
  };
}

customElements.define("ipward-logs-page", LogsPage);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-logs-page": LogsPage;
  }
}
