/** Shapes of the admin JSON API (`<prefix>/api`), as the UI reads them. Times are ISO 8601 strings. */

export type Decision = "allow" | "block" | "limit";

export interface Session {
  user: string;
  csrf_token: string;
}

export interface LogRow {
  ts: string;
  ip: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  user_agent: string | null;
  referer: string | null;
  country_code: string | null;
  country: string | null;
  city: string | null;
  decision: Decision;
  rule: string | null;
}

/** Filters of the logs list and its CSV export; empty fields are left out of the query. */
export interface LogFilter {
  ip?: string;
  country?: string;
  path?: string;
  status?: string;
  decision?: string;
  since?: string;
  until?: string;
}

export interface LogPage {
  items: LogRow[];
  next_cursor: string | null;
}

export interface Stats {
  totals: { requests: number; blocked: number; limited: number; unique_ips: number };
  series: { ts: string; requests: number; blocked: number; limited: number }[];
  decisions: { allow: number; block: number; limit: number };
  top_countries: { country_code: string | null; country: string | null; requests: number }[];
  top_ips: { ip: string; requests: number; country_code: string | null }[];
  top_paths: { path: string; requests: number }[];
  status_mix: { status_class: string; requests: number }[];
}

export type RuleKind = "ip" | "cidr" | "country";

export interface BlockRule {
  id: number;
  /** Present where block and allow rules are listed together (an IP's detail). */
  list?: "block" | "allow";
  target: string;
  kind: RuleKind;
  reason: string | null;
  created_at: string;
  expires_at: string | null;
  source: string;
}

export interface NewBlock {
  target: string;
  reason?: string;
  duration?: string;
}

export interface ImportResult {
  imported: number;
  /** Lines that were not imported, and why. */
  skipped: { line: number; value: string; error: string }[];
}

/** Outcome of a bulk action on suspicious records: the records changed, and the ids that failed. */
export interface BulkResult {
  items: SuspiciousIp[];
  errors: { id: number; error: string }[];
}

export type SuspiciousStatus = "open" | "blocked" | "dismissed";

export interface SuspiciousIp {
  id: number;
  ip: string;
  rule: string;
  reason: string | null;
  count: number;
  first_seen: string;
  last_seen: string;
  status: SuspiciousStatus;
}

export interface IpDetail {
  ip: string;
  geo: { country_code: string | null; country: string | null; city: string | null; latitude: number | null; longitude: number | null } | null;
  counts: { requests: number; blocked: number; limited: number; first_seen: string | null; last_seen: string | null };
  recent: LogRow[];
  decisions: BlockRule[];
  detections: SuspiciousIp[];
}

/** RFC 9457 problem details, as the API reports errors. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}

/** An API token as listed: never its secret. */
export interface ApiToken {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** A token just created: the secret is in this answer only. */
export interface NewApiToken extends Omit<ApiToken, "last_used_at"> {
  token: string;
}
