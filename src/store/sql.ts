import type { LogQuery } from "./sqlite-store.ts";
import type { SqlValue } from "./sql-database.ts";

/**
 * Every SQL statement the store runs (schema DDL lives in migrations.ts). Kept in one place so that
 * another engine's adapter has one file to translate.
 */

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/** Connection settings applied on every open (see configureConnection); busy_timeout first. */
export const CONNECTION_PRAGMAS = [
  `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`,
  "PRAGMA journal_mode = WAL",
  "PRAGMA synchronous = NORMAL",
  "PRAGMA foreign_keys = ON",
];

/** request_log (the view) columns, as queries return them. */
export const LOG_COLUMNS = [
  "ts",
  "ip",
  "method",
  "path",
  "status",
  "duration_ms",
  "user_agent",
  "referer",
  "country_code",
  "country",
  "city",
  "decision",
  "rule",
  "user",
] as const;

const logColumnList = LOG_COLUMNS.map((column) => `"${column}"`).join(", ");

/** request_log_entry columns in the order inserts bind them. */
export const LOG_ENTRY_COLUMNS = [
  "ts",
  "ip",
  "method_id",
  "method",
  "path_id",
  "path",
  "status",
  "duration_ms",
  "user_agent_id",
  "user_agent",
  "referer_id",
  "referer",
  "place_id",
  "decision",
  "rule",
  "user",
] as const;

const entryColumnList = LOG_ENTRY_COLUMNS.map((column) => `"${column}"`).join(", ");
const entryPlaceholders = `(${LOG_ENTRY_COLUMNS.map(() => "?").join(", ")})`;

/** INSERT of `rows` request_log_entry rows in one statement. */
export function insertLogEntriesSql(rows: number): string {
  return `INSERT INTO request_log_entry (${entryColumnList}) VALUES ${Array(rows).fill(entryPlaceholders).join(", ")}`;
}

/** The id of a log text, created if new; last_used moves forward only. */
export const UPSERT_LOG_TEXT = `INSERT INTO log_text (value, last_used) VALUES (?1, ?2)
  ON CONFLICT (value) DO UPDATE SET last_used = max(last_used, excluded.last_used)
  RETURNING id, last_used`;
export const TOUCH_LOG_TEXT = "UPDATE log_text SET last_used = max(last_used, ?2) WHERE id = ?1";
export const UPSERT_LOG_PLACE = `INSERT INTO log_place (country_code, country, city, last_used) VALUES (?1, ?2, ?3, ?4)
  ON CONFLICT (country_code, country, city) DO UPDATE SET last_used = max(last_used, excluded.last_used)
  RETURNING id, last_used`;
export const TOUCH_LOG_PLACE = "UPDATE log_place SET last_used = max(last_used, ?2) WHERE id = ?1";
/** Entries no row newer than ?1 can use (see LOG_TOUCH_MS); ?2 rows at most, like the log purge. */
export const PURGE_LOG_TEXTS_CHUNK =
  "DELETE FROM log_text WHERE id IN (SELECT id FROM log_text WHERE last_used < ?1 LIMIT ?2)";
export const PURGE_LOG_PLACES_CHUNK =
  "DELETE FROM log_place WHERE id IN (SELECT id FROM log_place WHERE last_used < ?1 LIMIT ?2)";

/** A statement text with its positional parameters. */
export interface BoundSql {
  text: string;
  params: SqlValue[];
}

/** SELECT of the rows matching `query`, newest first, at most `limit`. */
export function selectLogsSql(query: LogQuery, limit: number): BoundSql {
  const { where, params } = logFilter(query);
  if (query.before) {
    where.push("(ts < ? OR (ts = ? AND id < ?))");
    params.push(query.before.ts, query.before.ts, query.before.id);
  }
  params.push(limit);
  return { text: `SELECT id, ${logColumnList} FROM request_log${whereClause(where)} ORDER BY ts DESC, id DESC LIMIT ?`, params };
}

/** COUNT of the rows matching `query`'s filters (cursor and limit ignored). */
export function countLogsSql(query: LogQuery): BoundSql {
  const { where, params } = logFilter(query);
  return { text: `SELECT count(*) AS n FROM request_log${whereClause(where)}`, params };
}

function logFilter(query: LogQuery): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const equal = (column: string, value: SqlValue | undefined) => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal("ip", query.ip);
  equal("decision", query.decision);
  equal("status", query.status);
  equal("country_code", query.country_code);
  equal("path", query.path);
  if (query.since !== undefined) {
    where.push("ts >= ?");
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push("ts < ?");
    params.push(query.until);
  }
  return { where, params };
}

function whereClause(where: string[]): string {
  return where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`;
}

/** Deletes at most `?2` rows older than `?1`; run repeatedly so that no transaction holds the lock long. */
export const PURGE_LOGS_CHUNK =
  "DELETE FROM request_log_entry WHERE id IN (SELECT id FROM request_log_entry WHERE ts < ?1 LIMIT ?2)";
export const FORGET_LOGS_CHUNK =
  "DELETE FROM request_log_entry WHERE id IN (SELECT id FROM request_log_entry WHERE ip = ?1 LIMIT ?2)";
export const FORGET_SUSPICIOUS = "DELETE FROM suspicious_ip WHERE ip = ?";
export const FORGET_RULES = "DELETE FROM decision_rule WHERE target = ?";
/**
 * Counts erasures (`ipward forget`) so that other processes' detectors notice them: their folded
 * windows hold what the erased rows said. The row appears with the first erasure.
 */
export const COUNT_ERASURE = `INSERT INTO change_counter (name, value) VALUES ('erasure', 1)
  ON CONFLICT (name) DO UPDATE SET value = value + 1`;
export const ERASURE_COUNTER = "SELECT value FROM change_counter WHERE name = 'erasure'";

const ruleColumns = "id, list, target, kind, reason, created_at, expires_at, source";

export const LIST_ACTIVE_RULES = `SELECT ${ruleColumns} FROM decision_rule
  WHERE list = ?1 AND (expires_at IS NULL OR expires_at > ?2) ORDER BY id`;

/** Upsert on (list, target). A lapsed rule that is added again counts as new, so its created_at restarts. */
export const UPSERT_RULE = `INSERT INTO decision_rule (list, target, kind, reason, created_at, expires_at, source)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (list, target) DO UPDATE SET
    kind = excluded.kind,
    reason = excluded.reason,
    expires_at = excluded.expires_at,
    source = excluded.source,
    created_at = CASE
      WHEN decision_rule.expires_at IS NOT NULL AND decision_rule.expires_at <= excluded.created_at
      THEN excluded.created_at ELSE decision_rule.created_at END
  RETURNING ${ruleColumns}`;

export const DELETE_RULE = "DELETE FROM decision_rule WHERE list = ? AND target = ?";
export const DELETE_RULE_BY_ID = "DELETE FROM decision_rule WHERE list = ? AND id = ?";
export const RULES_CHANGE_COUNTER = "SELECT value FROM change_counter WHERE name = 'decision_rule'";
export const DATA_VERSION = "PRAGMA data_version";
/** Run before closing: lets SQLite refresh the planner statistics it needs. */
export const OPTIMIZE = "PRAGMA optimize";
