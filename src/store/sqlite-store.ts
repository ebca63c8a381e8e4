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
import { ENCODED_FIELDS, type EncodedLogBatch, encodeLogRows, F_DECISION, F_DURATION, F_METHOD, F_PATH, F_PLACE, F_REFERER, F_RULE, F_STATUS, F_TS, F_USER, F_USER_AGENT, LogSymbolTable } from "./log-batch.ts";
import { LOG_TOUCH_MS, LogDictionary, type LogDictionaryEntry } from "./log-dictionary.ts";
import { openMigratedDatabase, StatementCache } from "./connection.ts";
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

const ROWS_PER_INSERT = 64;
const ENTRY_FIELD_COUNT = sql.LOG_ENTRY_COLUMNS.length;
const INSERT_FULL_CHUNK = sql.insertLogEntriesSql(ROWS_PER_INSERT);
/** Marks a text symbol stored inline once; its next use creates its log_text entry. */
const FIRST_SIGHTING = Symbol("first sighting");
const DELETE_CHUNK = 10_000;
const DEFAULT_LOG_LIMIT = 100;

/** Where the database lives inside the data dir. */
export function defaultDbPath(dataDir: string): string {
  return join(dataDir, "ipward.db");
}

/** Opens (creating the parent dir and the file if needed) and migrates the database at `path`. */
export function openStore(path: string, options: OpenStoreOptions): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  return new SqliteStore(openMigratedDatabase(path, options.driver), options);
}

/** Rules, request logs and erasure over one SQLite connection (its SQL text is in sql.ts). */
export class SqliteStore implements DecisionStore {
  private readonly clock: Clock;
  private readonly statements: StatementCache;
  private seenDataVersion = -1;
  private ownRuleWrite = true;
  private rulesVersion = 0;
  private readonly dictionary = new LogDictionary((text) => this.statement(text));
  /** Parameters of one multi-row insert, reused across statements. */
  private readonly entryValues: SqlValue[] = new Array(ROWS_PER_INSERT * ENTRY_FIELD_COUNT);

  constructor(
    private readonly db: SqlDatabase,
    options: StoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.statements = new StatementCache(db);
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
    const batch = encodeLogRows(rows);
    if (batch) this.insertEncodedLogs(batch, new LogSymbolTable());
  }

  /**
   * Inserts an encoded batch in one transaction. `symbols` holds what the batch's encoder sent
   * before; batches of one encoder must come here in order, each exactly once.
   */
  insertEncodedLogs(batch: EncodedLogBatch, symbols: LogSymbolTable): void {
    symbols.receive(batch);
    const { count, numbers } = batch;
    const ips = batch.ips.split("\n");
    if (numbers.length !== count * ENCODED_FIELDS || ips.length !== count) {
      throw new IpwardError("invalid_input", `log batch of ${count} rows has ${numbers.length} numbers and ${ips.length} IPs`);
    }
    const dictionary = this.dictionary;
    // Per symbol, at 2 × symbol its use as a text and at 2 × symbol + 1 as a place: the dictionary
    // entry once there is one, FIRST_SIGHTING after a text was stored inline once.
    const resolved = symbols.resolved as (LogDictionaryEntry | typeof FIRST_SIGHTING | undefined)[];
    const values = this.entryValues;
    /** Puts a text's id, or on its first sighting the text itself, at values[k] and values[k + 1]. */
    const putText = (k: number, symbol: number, ts: number): void => {
      values[k] = null;
      values[k + 1] = null;
      if (symbol === -1) return;
      const slot = 2 * symbol;
      const entry = resolved[slot];
      if (entry === undefined) {
        resolved[slot] = FIRST_SIGHTING;
        values[k + 1] = symbols.text(symbol);
      } else if (entry === FIRST_SIGHTING) {
        const created = dictionary.text(symbols.text(symbol)!, ts);
        resolved[slot] = created;
        values[k] = created.id;
      } else {
        values[k] = dictionary.use(entry, ts);
      }
    };
    /** A place's id (places are few: always stored once). */
    const placeId = (symbol: number, ts: number): number | null => {
      if (symbol === -1) return null;
      const entry = resolved[2 * symbol + 1];
      if (entry !== undefined && entry !== FIRST_SIGHTING) return dictionary.use(entry, ts);
      const created = dictionary.place(symbols.text(symbol)!, ts);
      resolved[2 * symbol + 1] = created;
      return created.id;
    };
    this.db.transaction(() => {
      let k = 0;
      for (let row = 0; row < count; row++) {
        const at = row * ENCODED_FIELDS;
        const ts = numbers[at + F_TS];
        values[k] = ts;
        values[k + 1] = ips[row];
        putText(k + 2, numbers[at + F_METHOD], ts);
        putText(k + 4, numbers[at + F_PATH], ts);
        values[k + 6] = numbers[at + F_STATUS];
        values[k + 7] = numbers[at + F_DURATION];
        putText(k + 8, numbers[at + F_USER_AGENT], ts);
        putText(k + 10, numbers[at + F_REFERER], ts);
        values[k + 12] = placeId(numbers[at + F_PLACE], ts);
        values[k + 13] = numbers[at + F_DECISION];
        values[k + 14] = symbols.text(numbers[at + F_RULE]);
        values[k + 15] = symbols.text(numbers[at + F_USER]);
        k += ENTRY_FIELD_COUNT;
        if (k === values.length) {
          this.statement(INSERT_FULL_CHUNK).runValues(values);
          k = 0;
        }
      }
      if (k > 0) this.statement(sql.insertLogEntriesSql(k / ENTRY_FIELD_COUNT)).runValues(values.slice(0, k));
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
    const purged = this.deleteInChunks(sql.PURGE_LOGS_CHUNK, olderThan);
    // Texts and places no remaining row can use go too (see LOG_TOUCH_MS); others' caches stay valid.
    this.deleteInChunks(sql.PURGE_LOG_TEXTS_CHUNK, olderThan - LOG_TOUCH_MS);
    this.deleteInChunks(sql.PURGE_LOG_PLACES_CHUNK, olderThan - LOG_TOUCH_MS);
    this.dictionary.clear();
    return purged;
  }

  /** Erases everything about one address: its request logs, suspicious records and rules targeting it. */
  forgetIp(ip: string): number {
    const logs = this.deleteInChunks(sql.FORGET_LOGS_CHUNK, ip);
    return logs + this.db.transaction(() => {
      const suspicious = this.statement(sql.FORGET_SUSPICIOUS).run(ip).changes;
      const rules = this.statement(sql.FORGET_RULES).run(ip).changes;
      if (rules > 0) this.ownRuleWrite = true;
      this.statement(sql.COUNT_ERASURE).run();
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
    return this.statements.get(text);
  }
}
