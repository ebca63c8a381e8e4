/**
 * Table-driven scenarios of the admin API (PocketBase style): each case is method + path + how it
 * authenticates + body → expected status and body fragments. They run in order against one app
 * (real SQLite in a temp dir, a hand-moved clock), so later cases see what earlier ones changed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { LogRow } from "../../../src/core/ports.ts";
import { ADMIN, API, type ApiHarness, apiHarness, type AuthMode, type CallResult } from "./support.ts";

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

type Vars = Record<string, any>;

interface Scenario {
  name: string;
  method: string;
  /** Relative to /_ipward/api unless it starts with "/". */
  path: string | ((vars: Vars) => string);
  auth: AuthMode;
  body?: unknown | ((vars: Vars) => unknown);
  headers?: Record<string, string> | ((vars: Vars) => Record<string, string>);
  socketIp?: string;
  status: number;
  fragments?: string[];
  absent?: string[];
  contentType?: string;
  /** Further assertions, and values later cases need. */
  check?: (result: CallResult, vars: Vars, h: ApiHarness) => void;
  /** Sends something other than an API call (a request through the pipeline). */
  run?: (h: ApiHarness, vars: Vars) => Promise<CallResult>;
}

function row(minutesAgo: number, overrides: Partial<LogRow>): LogRow {
  return {
    ts: T - minutesAgo * MIN,
    ip: "203.0.113.7",
    method: "GET",
    path: "/",
    status: 200,
    duration_ms: 1.5,
    user_agent: "curl/8.5.0",
    referer: null,
    country_code: "DE",
    country: "Germany",
    city: "Berlin",
    decision: "allow",
    rule: null,
    user: null,
    ...overrides,
  };
}

/** Seven requests in the last 24 h (plus one older), whose figures the stats scenarios expect. */
const SEEDED_LOGS: LogRow[] = [
  row(10, {}),
  row(20, { path: "/about" }),
  row(70, { status: 404 }),
  row(30, { ip: "198.51.100.9", path: "/admin", status: 403, decision: "block", rule: "198.51.100.0/24", country_code: "US", country: "United States", city: null }),
  row(120, { ip: "192.0.2.10", method: "POST", path: "/api/login", status: 429, decision: "limit", rule: "login", country_code: "FR", country: "France", city: "Paris", user_agent: "=HYPERLINK(\"http://evil\")" }),
  row(119, { ip: "192.0.2.10", method: "POST", path: "/api/login", country_code: "FR", country: "France", city: "Paris" }),
  row(5, { ip: "2001:db8::5", path: "/v6", country_code: null, country: null, city: null }),
  row(25 * 60, { path: "/old" }),
];

async function pipelineRequest(h: ApiHarness, socketIp: string): Promise<CallResult> {
  h.t.app.rules.refreshIfChanged();
  const response = await h.t.request("/", { socketIp });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: undefined };
}

const tooBig = "192.0.2.1\n".repeat(110_000);

const SCENARIOS: Scenario[] = [
  // Session and credentials
  { name: "GET /session with the cookie", method: "GET", path: "session", auth: "cookie", status: 200, fragments: ['"user":"alice"', '"csrf_token":"'] },
  { name: "GET /session with a bearer token", method: "GET", path: "session", auth: "bearer", status: 200, fragments: ['"user":"token:scenarios"', '"csrf_token":null'] },
  { name: "GET /session without credentials is 401", method: "GET", path: "session", auth: "none", status: 401, contentType: "application/problem+json", fragments: ['"status":401'] },
  { name: "an unknown bearer token is 401", method: "GET", path: "blocks", auth: "none", headers: { authorization: "Bearer ipw_not-a-token" }, status: 401, fragments: ["invalid or has been revoked"] },
  { name: "a wrong password is 401", method: "POST", path: "session", auth: "none", body: { username: ADMIN.username, password: "wrong password!" }, socketIp: "198.18.0.1", status: 401, fragments: ["invalid username or password"], absent: ["wrong password!"] },
  { name: "an unknown user gets the same 401", method: "POST", path: "session", auth: "none", body: { username: "nobody", password: "whatever-long" }, socketIp: "198.18.0.2", status: 401, fragments: ["invalid username or password"] },
  ...[1, 2, 3, 4, 5].map((n): Scenario => ({ name: `sign-in attempt ${n} from one IP is counted`, method: "POST", path: "session", auth: "none", body: { username: `mallory${n}`, password: "guess-guess" }, socketIp: "198.18.0.3", status: 401 })),
  {
    name: "after 5 failures from one IP the 6th attempt is 429 with Retry-After, even with the right password",
    method: "POST", path: "session", auth: "none", body: { username: ADMIN.username, password: ADMIN.password }, socketIp: "198.18.0.3", status: 429,
    contentType: "application/problem+json", fragments: ["too many failed sign-in attempts"],
    check: (r) => {
      const retryAfter = Number(r.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      // The limiter's sliding window can ask for up to two windows when the attempts came at its edge.
      expect(retryAfter).toBeLessThanOrEqual(2 * 15 * 60);
    },
  },
  ...[1, 2, 3, 4, 5].map((n): Scenario => ({ name: `sign-in attempt ${n} for one username is counted`, method: "POST", path: "session", auth: "none", body: { username: "trudy", password: "guess-guess" }, socketIp: `198.18.1.${n}`, status: 401 })),
  { name: "the 6th attempt for one username is 429, whatever the IP", method: "POST", path: "session", auth: "none", body: { username: "trudy", password: "guess-guess" }, socketIp: "198.18.1.6", status: 429 },
  ...[1, 2, 3, 4, 5, 6].map((n): Scenario => ({ name: `successful sign-in ${n} from one IP costs nothing`, method: "POST", path: "session", auth: "none", body: ADMIN, socketIp: "198.18.2.1", status: 200 })),
  { name: "a sign-in posted from another site is refused", method: "POST", path: "session", auth: "none", body: ADMIN, headers: { origin: "https://evil.example" }, socketIp: "198.18.0.9", status: 403, fragments: ["problems/csrf"] },
  {
    name: "sign-in over https through a trusted proxy sets a Secure, HttpOnly, SameSite=Strict cookie",
    method: "POST", path: "session", auth: "none", body: ADMIN, headers: { "x-forwarded-proto": "https" }, socketIp: "127.0.0.1", status: 200, fragments: ['"user":"alice"'],
    check: (r) => {
      const cookie = r.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^ipward_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/_ipward; Secure$/);
    },
  },
  {
    name: "X-Forwarded-Proto from an untrusted peer does not make the cookie Secure",
    method: "POST", path: "session", auth: "none", body: ADMIN, headers: { "x-forwarded-proto": "https" }, socketIp: "198.18.0.10", status: 200,
    check: (r) => expect(r.headers.get("set-cookie")).toMatch(/; Path=\/_ipward$/),
  },

  // CSRF
  { name: "a cookie POST without X-CSRF-Token is 403", method: "POST", path: "blocks", auth: "cookie-no-csrf", body: { target: "192.0.2.77" }, status: 403, contentType: "application/problem+json", fragments: ["problems/csrf", "X-CSRF-Token"] },
  { name: "a cookie POST with a wrong X-CSRF-Token is 403", method: "POST", path: "blocks", auth: "cookie-no-csrf", headers: { "x-csrf-token": "forged" }, body: { target: "192.0.2.77" }, status: 403, fragments: ["problems/csrf"] },
  { name: "a cross-site POST with the token but a foreign Origin is 403", method: "POST", path: "blocks", auth: "cookie", headers: { origin: "https://evil.example" }, body: { target: "192.0.2.77" }, status: 403, fragments: ["Origin"] },
  { name: "a cookie DELETE without X-CSRF-Token is 403", method: "DELETE", path: "blocks/1", auth: "cookie-no-csrf", status: 403, fragments: ["problems/csrf"] },
  {
    name: "a cookie POST with the token (same origin) blocks an IP for 4h",
    method: "POST", path: "blocks", auth: "cookie", headers: { origin: "http://127.0.0.1" }, body: { target: "192.0.2.55", reason: "scanner", duration: "4h" }, status: 201,
    fragments: ['"target":"192.0.2.55"', '"kind":"ip"', '"reason":"scanner"', '"source":"admin"', '"created_at":"2026-11-25T12:00:00.000Z"', '"expires_at":"2026-11-25T16:00:00.000Z"'],
    check: (r, vars) => void (vars.blockId = r.json.id),
  },
  { name: "nothing was blocked by the refused requests", method: "GET", path: "blocks", auth: "cookie-no-csrf", status: 200, fragments: ["192.0.2.55"], absent: ["192.0.2.77"] },
  { name: "a request from the blocked IP now gets 403 through the pipeline", method: "GET", path: "/", auth: "none", status: 403, contentType: "application/problem+json", fragments: ["192.0.2.55"], run: (h) => pipelineRequest(h, "192.0.2.55") },
  { name: "a bearer POST needs no CSRF token, and records source api", method: "POST", path: "blocks", auth: "bearer", body: { target: "2001:db8:0:0:1::/48" }, status: 201, fragments: ['"target":"2001:db8::/48"', '"kind":"cidr"', '"source":"api"', '"expires_at":null'] },

  // Blocks
  { name: "an invalid target is 400 naming it", method: "POST", path: "blocks", auth: "cookie", body: { target: "999.1.2.3" }, status: 400, fragments: ["problems/invalid-ip", '\\"999.1.2.3\\"'] },
  { name: "a target of the wrong type is 422 (schema)", method: "POST", path: "blocks", auth: "cookie", body: { target: 5 }, status: 422, contentType: "application/problem+json", fragments: ["problems/unprocessable", "/target"] },
  { name: "a missing body is 422", method: "POST", path: "blocks", auth: "cookie", status: 422, fragments: ["problems/unprocessable"] },
  { name: "malformed JSON is 400", method: "POST", path: "blocks", auth: "cookie", body: '{"target":', headers: { "content-type": "application/json" }, status: 400, fragments: ["not valid JSON"] },
  { name: "an invalid duration is 400 naming it", method: "POST", path: "blocks", auth: "cookie", body: { target: "192.0.2.56", duration: "soon" }, status: 400, fragments: ['duration \\"soon\\"'] },
  { name: "a country code blocks the country", method: "POST", path: "blocks", auth: "cookie", body: { target: "cn", reason: null }, status: 201, fragments: ['"target":"CN"', '"kind":"country"', '"reason":null'] },
  { name: "GET /blocks lists every active block", method: "GET", path: "blocks", auth: "bearer", status: 200, fragments: ['"items":[', "192.0.2.55", "203.0.113.0/24", "2001:db8::/48", '"CN"'] },
  { name: "deleting an unknown block is 404", method: "DELETE", path: "blocks/999999", auth: "cookie", status: 404, fragments: ["no block rule 999999"] },
  { name: "a non-numeric id is 400", method: "DELETE", path: "blocks/abc", auth: "cookie", status: 400, fragments: ["id must be a positive whole number"] },
  {
    name: "bulk create adds every target",
    method: "POST", path: "blocks/bulk", auth: "cookie", body: { targets: ["192.0.2.200", "192.0.2.201"], reason: "bulk", duration: "1d" }, status: 201,
    fragments: ["192.0.2.200", "192.0.2.201", '"expires_at":"2026-11-26T12:00:00.000Z"'],
    check: (r, vars) => void (vars.bulkIds = r.json.items.map((rule: { id: number }) => rule.id)),
  },
  { name: "bulk create with an invalid target adds nothing and names it", method: "POST", path: "blocks/bulk", auth: "cookie", body: { targets: ["192.0.2.202", "nope"] }, status: 400, fragments: ['\\"nope\\"', "nothing was added", '"errors":[{"value":"nope"'] },
  { name: "…so 192.0.2.202 is not blocked", method: "GET", path: "blocks", auth: "cookie", status: 200, absent: ["192.0.2.202"] },
  { name: "bulk delete removes rules by id", method: "POST", path: "blocks/bulk-delete", auth: "cookie", body: (v: Vars) => ({ ids: [...v.bulkIds, 999999] }), status: 200, fragments: ['{"deleted":2}'] },
  {
    name: "import of a plain list reports skipped lines",
    method: "POST", path: "blocks/import", auth: "cookie", body: "192.0.2.1 # scanner\nbogus line\n# a comment\n\n10.0.0.0/8 internal net\n", status: 200,
    fragments: ['"imported":2', '"line":2', '"value":"bogus"'],
  },
  {
    name: "import of JSON rules skips expired ones",
    method: "POST", path: "blocks/import", auth: "cookie", body: [{ target: "192.0.2.2", reason: "json", expires_at: "2026-11-26T00:00:00Z" }, { target: "192.0.2.3", expires_at: "2020-01-01T00:00:00Z" }, "192.0.2.4"], status: 200,
    fragments: ['"imported":2', '"line":2', '"value":"192.0.2.3"', "already expired"],
  },
  {
    name: "export as text is the importable plain list",
    method: "GET", path: "blocks/export?format=text", auth: "cookie", status: 200, contentType: "text/plain", fragments: ["192.0.2.1 # scanner\n", "10.0.0.0/8 # internal net\n", "192.0.2.4\n"],
    check: (r) => expect(r.headers.get("content-disposition")).toBe('attachment; filename="ipward-blocks.txt"'),
  },
  {
    name: "export as JSON lists rule objects",
    method: "GET", path: "blocks/export", auth: "bearer", status: 200, contentType: "application/json", fragments: ['"source": "import"', '"expires_at": "2026-11-26T00:00:00.000Z"'],
    check: (r) => {
      expect(r.headers.get("content-disposition")).toBe('attachment; filename="ipward-blocks.json"');
      expect(Array.isArray(r.json)).toBe(true);
    },
  },
  { name: "an unknown export format is 400", method: "GET", path: "blocks/export?format=xml", auth: "cookie", status: 400, fragments: ["format must be json or text"] },
  { name: "a body over 1 MiB is 413", method: "POST", path: "blocks/import", auth: "cookie", body: tooBig, status: 413, contentType: "application/problem+json", fragments: ["problems/payload-too-large"] },
  { name: "unblocking removes the rule", method: "DELETE", path: (v) => `blocks/${v.blockId}`, auth: "cookie", status: 204 },
  { name: "…and the IP passes the pipeline again", method: "GET", path: "/", auth: "none", status: 200, run: (h) => pipelineRequest(h, "192.0.2.55") },

  // Allows
  { name: "allowlists take no countries", method: "POST", path: "allows", auth: "cookie", body: { target: "DE" }, status: 400, fragments: ["country code"] },
  { name: "allowing an IP", method: "POST", path: "allows", auth: "cookie", body: { target: "10.1.2.3", reason: "office" }, status: 201, fragments: ['"target":"10.1.2.3"', '"source":"admin"'], check: (r, v) => void (v.allowId = r.json.id) },
  { name: "GET /allows lists it", method: "GET", path: "allows", auth: "cookie", status: 200, fragments: ["10.1.2.3", "office"], absent: ["192.0.2.1"] },
  { name: "removing the allow rule", method: "DELETE", path: (v) => `allows/${v.allowId}`, auth: "cookie", status: 204 },
  { name: "removing it twice is 404", method: "DELETE", path: (v) => `allows/${v.allowId}`, auth: "cookie", status: 404 },

  // Logs
  { name: "logs filtered by IP", method: "GET", path: "logs?ip=203.0.113.7", auth: "cookie", status: 200, fragments: ['"next_cursor":null'], check: (r) => expect(r.json.items.map((i: { path: string }) => i.path)).toEqual(["/", "/about", "/", "/old"]) },
  {
    name: "logs page 1 of 2 has a cursor",
    method: "GET", path: "logs?ip=203.0.113.7&limit=3", auth: "cookie", status: 200,
    check: (r, v) => {
      expect(r.json.items).toHaveLength(3);
      expect(typeof r.json.next_cursor).toBe("string");
      v.cursor = r.json.next_cursor;
    },
  },
  { name: "logs page 2 follows the cursor to the end", method: "GET", path: (v) => `logs?ip=203.0.113.7&limit=3&cursor=${v.cursor}`, auth: "cookie", status: 200, fragments: ['"path":"/old"', '"next_cursor":null'], check: (r) => expect(r.json.items).toHaveLength(1) },
  { name: "logs filtered by decision", method: "GET", path: "logs?decision=block", auth: "bearer", status: 200, fragments: ['"ip":"198.51.100.9"', '"rule":"198.51.100.0/24"', '"ts":"2026-11-25T11:30:00.000Z"'], check: (r) => expect(r.json.items).toHaveLength(1) },
  { name: "logs filtered by country and status", method: "GET", path: "logs?country=fr&status=429", auth: "cookie", status: 200, fragments: ['"ip":"192.0.2.10"', '"decision":"limit"'], check: (r) => expect(r.json.items).toHaveLength(1) },
  { name: "logs filtered by a time range (until exclusive)", method: "GET", path: "logs?since=2026-11-25T11:00:00Z&until=2026-11-25T11:55:00Z", auth: "cookie", status: 200, check: (r) => expect(r.json.items.map((i: { ts: string }) => i.ts)).toEqual(["2026-11-25T11:50:00.000Z", "2026-11-25T11:40:00.000Z", "2026-11-25T11:30:00.000Z"]) },
  { name: "logs since a duration ago", method: "GET", path: "logs?since=1h", auth: "cookie", status: 200, check: (r) => expect(r.json.items).toHaveLength(4) },
  { name: "logs filtered by path", method: "GET", path: "logs?path=/api/login", auth: "cookie", status: 200, check: (r) => expect(r.json.items).toHaveLength(2) },
  { name: "an invalid IP filter is 400 naming it", method: "GET", path: "logs?ip=not-an-ip", auth: "cookie", status: 400, fragments: ["not-an-ip"] },
  { name: "a forged cursor is 400", method: "GET", path: "logs?cursor=garbage", auth: "cookie", status: 400, fragments: ["invalid cursor"] },
  { name: "a limit over 1000 is 400", method: "GET", path: "logs?limit=5000", auth: "cookie", status: 400, fragments: ["limit must be a whole number from 1 to 1000"] },
  { name: "an unreadable since is 400", method: "GET", path: "logs?since=yesterday", auth: "cookie", status: 400, fragments: ['since \\"yesterday\\"'] },
  { name: "an unknown decision is 400", method: "GET", path: "logs?decision=maybe", auth: "cookie", status: 400, fragments: ["decision must be allow, block or limit"] },
  {
    name: "CSV export of the filtered logs, with formula cells defused",
    method: "GET", path: "logs.csv?ip=192.0.2.10", auth: "cookie", status: 200, contentType: "text/csv",
    fragments: ["ts,ip,method,path,status,duration_ms,user_agent,referer,country_code,country,city,decision,rule\r\n", `"'=HYPERLINK(""http://evil"")"`],
    check: (r) => {
      expect(r.headers.get("content-disposition")).toBe('attachment; filename="ipward-logs.csv"');
      expect(r.text.trimEnd().split("\r\n")).toHaveLength(3);
    },
  },
  { name: "CSV export of everything", method: "GET", path: "logs.csv", auth: "bearer", status: 200, check: (r) => expect(r.text.trimEnd().split("\r\n")).toHaveLength(1 + SEEDED_LOGS.length) },

  // Stats
  {
    name: "stats of the last 24 h equal the seeded traffic",
    method: "GET", path: "stats?since=24h", auth: "cookie", status: 200,
    check: (r) => {
      const stats = r.json;
      expect(stats.since).toBe("2026-11-24T12:00:00.000Z");
      expect(stats.until).toBe("2026-11-25T12:00:00.000Z");
      expect(stats.bucket).toBe("1h");
      expect(stats.totals).toEqual({ requests: 7, blocked: 1, limited: 1, unique_ips: 4 });
      expect(stats.decisions).toEqual({ allow: 5, block: 1, limit: 1 });
      expect(stats.top_countries).toEqual([
        { country_code: "DE", country: "Germany", requests: 3 },
        { country_code: "FR", country: "France", requests: 2 },
        { country_code: "US", country: "United States", requests: 1 },
      ]);
      expect(stats.top_ips).toEqual([
        { ip: "203.0.113.7", requests: 3, country_code: "DE" },
        { ip: "192.0.2.10", requests: 2, country_code: "FR" },
        { ip: "198.51.100.9", requests: 1, country_code: "US" },
        { ip: "2001:db8::5", requests: 1, country_code: null },
      ]);
      expect(stats.top_paths).toEqual([
        { path: "/", requests: 2 },
        { path: "/api/login", requests: 2 },
        { path: "/about", requests: 1 },
        { path: "/admin", requests: 1 },
        { path: "/v6", requests: 1 },
      ]);
      expect(stats.status_mix).toEqual([
        { status_class: "2xx", requests: 4 },
        { status_class: "4xx", requests: 3 },
      ]);
      expect(stats.series).toHaveLength(24);
      expect(stats.series[0]).toEqual({ ts: "2026-11-24T12:00:00.000Z", requests: 0, blocked: 0, limited: 0 });
      expect(stats.series.slice(-2)).toEqual([
        { ts: "2026-11-25T10:00:00.000Z", requests: 3, blocked: 0, limited: 1 },
        { ts: "2026-11-25T11:00:00.000Z", requests: 4, blocked: 1, limited: 0 },
      ]);
    },
  },
  {
    name: "stats of the last hour are per minute",
    method: "GET", path: "stats?since=1h", auth: "bearer", status: 200, fragments: ['"bucket":"1m"', '"totals":{"requests":4,"blocked":1,"limited":0,"unique_ips":3}'],
    check: (r) => expect(r.json.series).toHaveLength(60),
  },
  { name: "stats with since after until is 400", method: "GET", path: "stats?since=2026-11-25T13:00:00Z", auth: "cookie", status: 400, fragments: ["must be before until"] },
  { name: "a bucket under a minute is 400", method: "GET", path: "stats?bucket=1s", auth: "cookie", status: 400, fragments: ['bucket \\"1s\\"'] },

  // Suspicious
  {
    name: "open suspicious records",
    method: "GET", path: "suspicious?status=open", auth: "cookie", status: 200, fragments: ['"rule":"login_bruteforce"', '"first_seen":"2026-11-25T11:00:00.000Z"', '"next_offset":null'],
    check: (r, v) => {
      expect(r.json.items.map((s: { ip: string }) => s.ip).sort()).toEqual(["192.0.2.10", "198.51.100.9", "203.0.113.7"]);
      for (const s of r.json.items) v[`suspicious:${s.ip}`] = s.id;
    },
  },
  { name: "an unknown status is 400", method: "GET", path: "suspicious?status=bogus", auth: "cookie", status: 400, fragments: ["status must be open, blocked or dismissed"] },
  {
    name: "blocking a suspicious IP for 1h",
    method: "POST", path: (v) => `suspicious/${v["suspicious:192.0.2.10"]}/block`, auth: "cookie", body: { duration: "1h" }, status: 200,
    fragments: ['"status":"blocked"', '"target":"192.0.2.10"', '"source":"admin"', '"expires_at":"2026-11-25T13:00:00.000Z"'],
  },
  { name: "dismissing a suspicious IP", method: "POST", path: (v) => `suspicious/${v["suspicious:198.51.100.9"]}/dismiss`, auth: "cookie", status: 200, fragments: ['"ip":"198.51.100.9"', '"status":"dismissed"'] },
  {
    name: "blocking with no body is permanent (what the UI sends)",
    method: "POST", path: (v) => `suspicious/${v["suspicious:198.51.100.9"]}/block`, auth: "cookie", status: 200,
    fragments: ['"status":"blocked"', '"target":"198.51.100.9"', '"expires_at":null', '"reason":"sensitive_file: /.env probes"'],
  },
  { name: "dismissing an unknown record is 404", method: "POST", path: "suspicious/999/dismiss", auth: "cookie", status: 404, fragments: ["no suspicious record 999"] },
  {
    name: "bulk block of selected records reports the unknown ones",
    method: "POST", path: "suspicious/bulk", auth: "bearer", body: (v: Vars) => ({ ids: [v["suspicious:203.0.113.7"], 999], action: "block" }), status: 200,
    fragments: ['"ip":"203.0.113.7"', '"status":"blocked"', '"errors":[{"id":999,"error":"no suspicious record 999"}]'],
  },
  { name: "the bulk block's rule came from the API", method: "GET", path: "blocks", auth: "cookie", status: 200, fragments: ['"target":"203.0.113.7","kind":"ip"', '"source":"api"'] },
  { name: "no open records are left", method: "GET", path: "suspicious?status=open", auth: "cookie", status: 200, fragments: ['{"items":[],"next_offset":null}'] },
  { name: "a bulk action must be block or dismiss", method: "POST", path: "suspicious/bulk", auth: "cookie", body: { ids: [1], action: "explode" }, status: 422, fragments: ["/action"] },

  // One IP
  {
    name: "everything about one IP",
    method: "GET", path: "ips/203.0.113.7", auth: "cookie", status: 200,
    check: (r) => {
      const ip = r.json;
      expect(ip.ip).toBe("203.0.113.7");
      expect(ip.geo.ip).toBe("203.0.113.7");
      expect(ip.counts).toEqual({ requests: 4, blocked: 0, limited: 0, first_seen: "2026-11-24T11:00:00.000Z", last_seen: "2026-11-25T11:50:00.000Z" });
      expect(ip.recent.map((l: { path: string }) => l.path)).toEqual(["/", "/about", "/", "/old"]);
      expect(ip.decisions.map((d: { list: string; target: string }) => `${d.list} ${d.target}`).sort()).toEqual(["block 203.0.113.0/24", "block 203.0.113.7"]);
      expect(ip.detections).toHaveLength(1);
      expect(ip.detections[0]).toMatchObject({ rule: "volume", status: "blocked" });
    },
  },
  { name: "an IPv6 address", method: "GET", path: "ips/2001:db8:0::5", auth: "bearer", status: 200, fragments: ['"ip":"2001:db8::5"', '"requests":1', '"path":"/v6"', '"target":"2001:db8::/48"'] },
  { name: "an invalid IP is 400", method: "GET", path: "ips/not-an-ip", auth: "cookie", status: 400, fragments: ['\\"not-an-ip\\"'] },

  // Tokens
  { name: "tokens are listed without their secrets", method: "GET", path: "tokens", auth: "cookie", status: 200, fragments: ['"name":"scenarios"', '"last_used_at":"2026-11-25T12:00:00.000Z"'], absent: ["ipw_", "hash"] },
  {
    name: "a new token's secret is shown once",
    method: "POST", path: "tokens", auth: "cookie", body: { name: "to-revoke" }, status: 201, fragments: ['"name":"to-revoke"', '"token":"ipw_'],
    check: (r, v) => {
      v.revokeId = r.json.id;
      v.revokeToken = r.json.token;
    },
  },
  { name: "the new token works", method: "GET", path: "blocks", auth: "none", headers: (v) => ({ authorization: `Bearer ${v.revokeToken}` }), status: 200 },
  { name: "revoking it", method: "DELETE", path: (v) => `tokens/${v.revokeId}`, auth: "bearer", status: 204 },
  { name: "the revoked token is refused", method: "GET", path: "blocks", auth: "none", headers: (v) => ({ authorization: `Bearer ${v.revokeToken}` }), status: 401, fragments: ["revoked"] },
  { name: "a token needs a name", method: "POST", path: "tokens", auth: "cookie", body: { name: "" }, status: 422, fragments: ["/name"] },
  { name: "revoking an unknown token is 404", method: "DELETE", path: "tokens/999", auth: "cookie", status: 404 },

  // The rest
  { name: "an unknown API route is a problem+json 404", method: "GET", path: "nope", auth: "cookie", status: 404, contentType: "application/problem+json", fragments: ["no route GET /_ipward/api/nope"] },
  { name: "the OpenAPI document needs no sign-in", method: "GET", path: "openapi.json", auth: "none", status: 200, fragments: ['"openapi":"3.1.0"'] },
];

let h: ApiHarness;
const vars: Vars = {};

beforeAll(async () => {
  h = await apiHarness();
  h.t.app.store.insertLogBatch(SEEDED_LOGS);
  h.t.app.store.addRule({ list: "block", target: "203.0.113.0/24", kind: "cidr", reason: "seeded", expires_at: null, source: "cli" });
  const detections = h.t.app.detectionStore;
  await detections.upsertSuspicious({ ip: "192.0.2.10", rule: "login_bruteforce", reason: "12 failed logins", count: 12 }, T - HOUR, "replace");
  await detections.upsertSuspicious({ ip: "198.51.100.9", rule: "sensitive_file", reason: "/.env probes", count: 3 }, T - 2 * HOUR, "replace");
  await detections.upsertSuspicious({ ip: "203.0.113.7", rule: "volume", reason: "150 requests in 1h", count: 150 }, T - 3 * HOUR, "replace");
});
afterAll(() => h.close());

describe("admin API scenarios", () => {
  for (const scenario of SCENARIOS) {
    test(`${scenario.method} ${typeof scenario.path === "string" ? scenario.path : "…"} (${scenario.auth}): ${scenario.name}`, async () => {
      const resolve = <V>(value: V | ((v: Vars) => V)) => (typeof value === "function" ? (value as (v: Vars) => V)(vars) : value);
      const result = scenario.run
        ? await scenario.run(h, vars)
        : await h.call(scenario.method, resolve(scenario.path), {
            auth: scenario.auth,
            body: resolve(scenario.body),
            headers: resolve(scenario.headers),
            socketIp: scenario.socketIp,
          });
      if (result.status !== scenario.status) throw new Error(`expected ${scenario.status}, got ${result.status}: ${result.text.slice(0, 500)}`);
      if (scenario.contentType) expect(result.headers.get("content-type") ?? "").toStartWith(scenario.contentType);
      if (result.status >= 400 && !scenario.run) expect(result.headers.get("content-type")).toBe("application/problem+json");
      for (const fragment of scenario.fragments ?? []) expect(result.text).toContain(fragment);
      for (const fragment of scenario.absent ?? []) expect(result.text).not.toContain(fragment);
      scenario.check?.(result, vars, h);
    });
  }
});
