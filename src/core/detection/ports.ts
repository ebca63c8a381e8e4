/**
 * What detection needs from storage. The SQLite adapter is src/store/detection-store.ts; every SQL
 * statement detection runs lives there. Methods are asynchronous so that a network database
 * (PostgreSQL) can implement the same port.
 */
import type { Decision } from "../ports.ts";

/** One detection: an address, the rule that caught it, why (with the numbers) and how many events. */
export interface Finding {
  ip: string;
  rule: string;
  reason: string;
  count: number;
}

export type SuspiciousStatus = "open" | "blocked" | "dismissed";

/** A suspicious-IP record as stored (times in ms since the epoch). */
export interface SuspiciousRecord {
  id: number;
  ip: string;
  rule: string;
  reason: string | null;
  count: number;
  first_seen: number;
  last_seen: number;
  status: SuspiciousStatus;
  /** Ordinal of the automatic block this record caused (1 = first), 0 when it caused none. */
  offences: number;
}

/**
 * How a re-detection of an open record changes its count: "replace" for scheduled rules (the count
 * is the current window's), "add" for real-time scenarios (each report is new evidence).
 */
export type CountMode = "replace" | "add";

export interface SuspiciousFilter {
  status?: SuspiciousStatus;
  ip?: string;
  rule?: string;
  /** Default 100. */
  limit?: number;
  offset?: number;
}

/** The columns of a request_log row that scheduled detection reads. */
export interface DetectionLogRow {
  /** Position in the log: ids grow as rows are logged. */
  id: number;
  ts: number;
  ip: string;
  /** As logged: with the query string when `log.query_string` is on. */
  path: string;
  status: number;
  decision: Decision;
  user: string | null;
  country_code: string | null;
}

/** An address and a number (requests, distinct paths, …) over the window. */
export interface IpCount {
  ip: string;
  count: number;
}

/** One (user, country, ip) combination seen in the window. */
export interface UserSighting {
  user: string;
  country_code: string;
  ip: string;
}

/**
 * What scheduled detection needs from storage: a cursor over request_log by id (the scheduled
 * detector folds new rows into an in-memory window every minute, so a run reads only what was
 * logged since the previous fold), and the suspicious_ip records.
 */
export interface DetectionStore {
  /** The lowest id among rows logged at or after `ts`, or null when there are none. */
  firstLogIdSince(ts: number): Promise<number | null>;
  /** The highest id logged so far (0 when the log is empty). */
  lastLogId(): Promise<number>;
  /** Rows with `afterId` < id ≤ `throughId` and ts ≥ `since`, in id order. */
  readLogs(afterId: number, throughId: number, since: number): Promise<DetectionLogRow[]>;
  /** How many erasures of an address's rows (`ipward forget`) any process has made; grows with each. */
  erasures(): Promise<number>;

  /**
   * Creates an open record for (finding.ip, finding.rule), or updates the open one: reason,
   * last_seen, and count per `mode`.
   */
  upsertSuspicious(finding: Finding, now: number, mode: CountMode): Promise<SuspiciousRecord>;
  /** Records matching `filter`, most recently seen first. */
  listSuspicious(filter?: SuspiciousFilter): Promise<SuspiciousRecord[]>;
  getSuspicious(id: number): Promise<SuspiciousRecord | null>;
  /**
   * Sets a record's status (and its offence ordinal when given); null when there is no such record.
   * Reopening a record while another open one exists for the same (ip, rule) is a "conflict".
   */
  setSuspiciousStatus(id: number, status: SuspiciousStatus, offences?: number): Promise<SuspiciousRecord | null>;
  /** How many automatic blocks `ip` has had: the highest offence ordinal of its records. */
  offencesOf(ip: string): Promise<number>;
}
