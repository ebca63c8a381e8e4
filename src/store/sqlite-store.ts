import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { IpwardError } from "../core/errors.ts";
import {
  type Clock,
  type Decision,
  type DecisionRule,
  type DecisionStore,
  type LogRow,
  type NewDecisionRule,
  type RuleList,
  systemClock,
} from "../core/ports.ts";
import { migrate } from "./migrations.ts";
import * as sql from "./sql.ts";
import type { SqlDatabase, SqlStatement, SqlValue } from "./sql-database.ts";

/** Opens a SQLite file with one driver (bun:sqlite or node:sqlite). */
export type SqlDriver = (path: string) => SqlDatabase;

/** A request_log row as read back: the LogRow plus its id (used as a pagination tie-breaker). */
export interface StoredLogRow extends LogRow {
  id: number;
}

/** Position of the last row of a page, to fetch the next (older) page. */
export interface LogCursor {
  ts: number;
  id: number;
}

/** Filters of `queryLogs`; times in ms, `since` inclusive, `until` exclusive. */
export interface LogQuery {
  ip?: string;
  since?: number;
  until?: number;
  decision?: Decision;
  status?: number;
  country_code?: string;
  path?: string;
  /** Only rows older than this cursor (the next page). */
  before?: LogCursor;
  /** Default 100. */
  limit?: number;
}

export interface StoreOptions {
  clock?: Clock;
}

export interface OpenStoreOptions extends StoreOptions {
  driver: SqlDriver;
}

/** Number of values per request_log row in the flat encoding (see LOG_COLUMNS). */
export const LOG_FIELD_COUNT = sql.LOG_COLUMNS.length;

const ROWS_PER_INSERT = 64;
const DELETE_CHUNK = 10_000;
const DEFAULT_LOG_LIMIT = 100;

/** Where the database lives inside the data dir. */
export function defaultDbPath(dataDir: string): string {
  return join(dataDir, "ipward.db");
}

/** Opens (creating the parent dir and the file if needed) and migrates the database at `path`. */
export function openStore(path: string, options: OpenStoreOptions): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = options.driver(path);
  try {
    for (const pragma of sql.CONNECTION_PRAGMAS) db.exec(pragma);
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteStore(db, options);
}

/**
 * The rows' values in LOG_COLUMNS order, one row after another: the compact form that crosses to
 * the log worker and is bound to the multi-row INSERT. Preallocated and index-assigned because it
 * runs on the request thread (about twice as fast as push).
 */
export function flattenLogRows(rows: readonly LogRow[]): SqlValue[] {
  const values: SqlValue[] = new Array(rows.length * LOG_FIELD_COUNT);
  let k = 0;
  for (const row of rows) {
    values[k] = row.ts;
    values[k + 1] = row.ip;
    values[k + 2] = row.method;
    values[k + 3] = row.path;
    values[k + 4] = row.status;
    values[k + 5] = row.duration_ms;
    values[k + 6] = row.user_agent ?? null;
    values[k + 7] = row.referer ?? null;
    values[k + 8] = row.country_code ?? null;
    values[k + 9] = row.country ?? null;
    values[k + 10] = row.city ?? null;
    values[k + 11] = row.decision;
    values[k + 12] = row.rule ?? null;
    values[k + 13] = row.user ?? null;
    k += LOG_FIELD_COUNT;
  }
  return values;
}

/** Rules, request logs and erasure over one SQLite connection (its SQL text is in sql.ts). */
export class SqliteStore implements DecisionStore {
  private readonly clock: Clock;
  private readonly statements = new Map<string, SqlStatement>();
  private seenDataVersion = -1;
  private ownRuleWrite = true;
  private rulesVersion = 0;

  constructor(
    private readonly db: SqlDatabase,
    options: StoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Active rules of one list (no expiry, or expiring after `now`), oldest first. */
  listRules(list: RuleList, now: number): DecisionRule[] {
    return this.statement(sql.LIST_ACTIVE_RULES).all<DecisionRule>(list, now);
  }

  /** Adds a rule, or replaces kind/reason/expiry/source of the rule with the same list and target. */
  addRule(rule: NewDecisionRule): DecisionRule {
    const stored = this.statement(sql.UPSERT_RULE).get<DecisionRule>(
      rule.list,
      rule.target,
      rule.kind,
      rule.reason,
      rule.created_at ?? this.clock.now(),
      rule.expires_at,
      rule.source,
    );
    this.ownRuleWrite = true;
    if (!stored) throw new IpwardError("internal", `rule ${rule.list} ${rule.target} was not stored`);
    return stored;
  }

  removeRule(list: RuleList, target: string): number {
    const { changes } = this.statement(sql.DELETE_RULE).run(list, target);
    if (changes > 0) this.ownRuleWrite = true;
    return changes;
  }

  /** Removes the rule with this id from `list`; returns how many were removed (0 or 1). */
  removeRuleById(list: RuleList, id: number): number {
    const { changes } = this.statement(sql.DELETE_RULE_BY_ID).run(list, id);
    if (changes > 0) this.ownRuleWrite = true;
    return changes;
  }

  /**
   * Changes whenever any connection, in any process, changes the rules. PRAGMA data_version is the
   * cheap gate (it moves only on other connections' commits, including log inserts); the rule
   * counter kept by triggers is re-read only then, or after this connection wrote a rule itself.
   */
  changeMarker(): number {
    const dataVersion = this.statement(sql.DATA_VERSION).get<{ data_version: number }>()?.data_version ?? 0;
    if (dataVersion !== this.seenDataVersion || this.ownRuleWrite) {
      this.seenDataVersion = dataVersion;
      this.ownRuleWrite = false;
      this.rulesVersion = this.statement(sql.RULES_CHANGE_COUNTER).get<{ value: number }>()?.value ?? 0;
    }
    return this.rulesVersion;
  }

  /** Inserts rows in one transaction. */
  insertLogBatch(rows: readonly LogRow[]): void {
    this.insertLogValues(flattenLogRows(rows), rows.length);
  }

  /** Inserts `rowCount` rows given flat, in LOG_COLUMNS order, in one transaction. */
  insertLogValues(values: readonly SqlValue[], rowCount: number): void {
    if (values.length !== rowCount * LOG_FIELD_COUNT) {
      throw new IpwardError("invalid_input", `expected ${rowCount * LOG_FIELD_COUNT} log values, got ${values.length}`);
    }
    if (rowCount === 0) return;
    this.db.transaction(() => {
      const chunk = ROWS_PER_INSERT * LOG_FIELD_COUNT;
      const full = Math.floor(rowCount / ROWS_PER_INSERT);
      if (full > 0) {
        const insert = this.statement(sql.insertLogsSql(ROWS_PER_INSERT));
        for (let i = 0; i < full; i++) insert.run(...values.slice(i * chunk, (i + 1) * chunk));
      }
      const rest = rowCount - full * ROWS_PER_INSERT;
      if (rest > 0) this.statement(sql.insertLogsSql(rest)).run(...values.slice(full * chunk));
    });
  }

  /** Matching rows, newest first. */
  queryLogs(query: LogQuery = {}): StoredLogRow[] {
    const limit = query.limit ?? DEFAULT_LOG_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new IpwardError("invalid_input", `log limit must be a positive integer, got ${limit}`);
    }
    const { text, params } = sql.selectLogsSql(query, limit);
    return this.statement(text).all<StoredLogRow>(...params);
  }

  /** Number of rows matching the filters (cursor and limit are ignored). */
  countLogs(query: LogQuery = {}): number {
    const { text, params } = sql.countLogsSql(query);
    return this.statement(text).get<{ n: number }>(...params)?.n ?? 0;
  }

  /** Deletes request logs older than `olderThan` (ms); returns how many. */
  purgeLogs(olderThan: number): number {
    return this.deleteInChunks(sql.PURGE_LOGS_CHUNK, olderThan);
  }

  /** Erases everything about one address: its request logs, suspicious records and rules targeting it. */
  forgetIp(ip: string): number {
    const logs = this.deleteInChunks(sql.FORGET_LOGS_CHUNK, ip);
    return logs + this.db.transaction(() => {
      const suspicious = this.statement(sql.FORGET_SUSPICIOUS).run(ip).changes;
      const rules = this.statement(sql.FORGET_RULES).run(ip).changes;
      if (rules > 0) this.ownRuleWrite = true;
      return suspicious + rules;
    });
  }

  close(): void {
    this.statements.clear();
    this.db.exec(sql.OPTIMIZE);
    this.db.close();
  }

  /** Chunked so that the log writer's connection gets the write lock between chunks. */
  private deleteInChunks(text: string, key: SqlValue): number {
    const statement = this.statement(text);
    let total = 0;
    for (;;) {
      const { changes } = this.db.transaction(() => statement.run(key, DELETE_CHUNK));
      total += changes;
      if (changes < DELETE_CHUNK) return total;
    }
  }

  private statement(text: string): SqlStatement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }
}
