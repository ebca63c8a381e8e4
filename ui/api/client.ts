import type { ApiToken, BlockRule, BulkResult, ImportResult, IpDetail, LogFilter, LogPage, NewApiToken, NewBlock, Problem, Session, Stats, SuspiciousIp, SuspiciousStatus } from "./types.ts";

/** An error answer of the API, with the problem+json fields when the server sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail || title);
    this.name = "ApiError";
  }
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  json?: unknown;
  text?: string;
}

/**
 * The admin API as the UI uses it: one instance per page load, handed down through `apiContext`.
 * Keeps the session's CSRF token and sends it with every state-changing call. Fires `unauthorized`
 * when a call is refused because the session ended, so the app can ask to sign in again.
 */
export class ApiClient extends EventTarget {
  private csrfToken = "";

  /** `base` is the API's absolute path, e.g. `/_ipward/api`. */
  constructor(readonly base: string) {
    super();
  }

  /** The current session, or null when nobody is signed in. */
  async session(): Promise<Session | null> {
    try {
      return this.remember(await this.request<Session>("GET", "/session"));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  async signIn(username: string, password: string): Promise<Session> {
    return this.remember(await this.request<Session>("POST", "/session", { json: { username, password } }));
  }

  async signOut(): Promise<void> {
    await this.request("DELETE", "/session");
    this.csrfToken = "";
  }

  logs(filter: LogFilter, cursor?: string, limit = 100): Promise<LogPage> {
    return this.request<LogPage>("GET", "/logs", { query: { ...filter, cursor, limit } });
  }

  /** Address of the CSV export of the logs matching `filter` (a plain download link). */
  logsCsvUrl(filter: LogFilter): string {
    return this.url("/logs.csv", { ...filter });
  }

  stats(since: string): Promise<Stats> {
    return this.request<Stats>("GET", "/stats", { query: { since } });
  }

  /** The active block rules, newest first. */
  async blocks(): Promise<BlockRule[]> {
    const rules = listOf(await this.request<BlockRule[] | { items: BlockRule[] }>("GET", "/blocks"));
    return rules.sort((a, b) => b.id - a.id);
  }

  addBlock(block: NewBlock): Promise<BlockRule> {
    return this.request<BlockRule>("POST", "/blocks", { json: block });
  }

  async removeBlock(id: number): Promise<void> {
    await this.request("DELETE", `/blocks/${id}`);
  }

  async removeBlocks(ids: number[]): Promise<void> {
    await this.request("POST", "/blocks/bulk-delete", { json: { ids } });
  }

  /** Imports a plain list (one target per line) or, when `text` is a JSON array, an export of `blocksExportUrl("json")`. */
  importBlocks(text: string): Promise<ImportResult> {
    const json = text.trimStart().startsWith("[") ? parseJson(text) : undefined;
    return this.request<ImportResult>("POST", "/blocks/import", json === undefined ? { text } : { json });
  }

  /** Address of the block list export (`json` or `text`, one target per line). */
  blocksExportUrl(format: "json" | "text"): string {
    return this.url("/blocks/export", { format });
  }

  async suspicious(status: SuspiciousStatus): Promise<SuspiciousIp[]> {
    return listOf(await this.request<SuspiciousIp[] | { items: SuspiciousIp[] }>("GET", "/suspicious", { query: { status } }));
  }

  async blockSuspicious(id: number): Promise<void> {
    await this.request("POST", `/suspicious/${id}/block`);
  }

  async dismissSuspicious(id: number): Promise<void> {
    await this.request("POST", `/suspicious/${id}/dismiss`);
  }

  bulkSuspicious(ids: number[], action: "block" | "dismiss"): Promise<BulkResult> {
    return this.request<BulkResult>("POST", "/suspicious/bulk", { json: { ids, action } });
  }

  ip(ip: string): Promise<IpDetail> {
    return this.request<IpDetail>("GET", `/ips/${encodeURIComponent(ip)}`);
  }

  async tokens(): Promise<ApiToken[]> {
    return listOf(await this.request<ApiToken[] | { items: ApiToken[] }>("GET", "/tokens"));
  }

  createToken(name: string): Promise<NewApiToken> {
    return this.request<NewApiToken>("POST", "/tokens", { json: { name } });
  }

  async revokeToken(id: number): Promise<void> {
    await this.request("DELETE", `/tokens/${id}`);
  }

  private remember(session: Session): Session {
    this.csrfToken = session.csrf_token;
    return session;
  }

  private url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.base}${path}${search ? `?${search}` : ""}`;
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.text !== undefined) {
      headers["content-type"] = "text/plain; charset=utf-8";
      body = options.text;
    }
    if (method !== "GET" && this.csrfToken) headers["x-csrf-token"] = this.csrfToken;

    const response = await fetch(this.url(path, options.query), { method, headers, body, credentials: "same-origin" });
    if (!response.ok) throw await this.failure(response, path);
    if (response.status === 204) return undefined as T;
    const type = response.headers.get("content-type") ?? "";
    return (type.includes("json") ? await response.json() : undefined) as T;
  }

  private async failure(response: Response, path: string): Promise<ApiError> {
    let problem: Problem = {};
    try {
      problem = (await response.json()) as Problem;
    } catch {
      // Not problem+json (a proxy's error page, say): the status line is all there is to report.
    }
    if (response.status === 401 && path !== "/session") this.dispatchEvent(new Event("unauthorized"));
    return new ApiError(response.status, problem.title ?? response.statusText, problem.detail ?? "");
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON after all: the server reads it as a plain list and reports the lines it cannot use.
    return undefined;
  }
}

/** Lists may come bare or wrapped in `{ items }`. */
function listOf<T>(body: T[] | { items: T[] }): T[] {
  return Array.isArray(body) ? body : body.items;
}
