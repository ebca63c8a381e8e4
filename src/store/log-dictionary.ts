import { PLACE_SEPARATOR } from "./log-batch.ts";
import * as sql from "./sql.ts";
import type { SqlStatement } from "./sql-database.ts";

/**
 * An entry's last_used is refreshed when a row at least this much newer uses it. Retention
 * (at least a day) removes entries unused since before its cut-off minus this margin, so an entry a
 * connection holds in memory is never removed under it.
 */
export const LOG_TOUCH_MS = 60 * 60 * 1000;

/** Most entries of each kind kept in memory; past it the cache starts afresh (the tables keep them all). */
const MAX_CACHED = 100_000;

/** One dictionary row as a connection knows it; callers may hold on to it (see `use`). */
export interface LogDictionaryEntry {
  id: number;
  /** last_used as this connection last wrote or read it. */
  touched: number;
  readonly kind: Kind;
  readonly key: string;
}

interface Kind {
  cache: Map<string, LogDictionaryEntry>;
  upsert: string;
  touch: string;
  bind(key: string, ts: number): (string | number)[];
}

/**
 * The ids of the request log's repeated texts (log_text) and places (log_place) on one connection:
 * looked up in memory, created on first use, their last_used kept within LOG_TOUCH_MS of the newest
 * row using them. Call only inside the write transaction that inserts the rows using the ids.
 */
export class LogDictionary {
  private readonly texts: Kind = {
    cache: new Map(),
    upsert: sql.UPSERT_LOG_TEXT,
    touch: sql.TOUCH_LOG_TEXT,
    bind: (value, ts) => [value, ts],
  };
  private readonly places: Kind = {
    cache: new Map(),
    upsert: sql.UPSERT_LOG_PLACE,
    touch: sql.TOUCH_LOG_PLACE,
    bind: (key, ts) => [...key.split(PLACE_SEPARATOR), ts],
  };

  constructor(private readonly statement: (text: string) => SqlStatement) {}

  /** The log_text entry of `value`, created if new, as used by a row at `ts`. */
  text(value: string, ts: number): LogDictionaryEntry {
    return this.entry(this.texts, value, ts);
  }

  /** The log_place entry of a place symbol text ("code\0country\0city"), created if new, as used by a row at `ts`. */
  place(key: string, ts: number): LogDictionaryEntry {
    return this.entry(this.places, key, ts);
  }

  /**
   * The id of an entry (from `text` or `place`, possibly held since) for a row at `ts`: refreshes
   * last_used when due, and re-creates the entry if retention removed it meanwhile.
   */
  use(entry: LogDictionaryEntry, ts: number): number {
    if (ts >= entry.touched + LOG_TOUCH_MS) {
      // No row changed: retention removed the entry after all (possible only for rows older than its cut-off).
      if (this.statement(entry.kind.touch).run(entry.id, ts).changes === 0) this.reload(entry, ts);
      else entry.touched = ts;
    }
    return entry.id;
  }

  /** Forgets what is cached (after entries were removed on this connection). */
  clear(): void {
    this.texts.cache.clear();
    this.places.cache.clear();
  }

  private entry(kind: Kind, key: string, ts: number): LogDictionaryEntry {
    const cached = kind.cache.get(key);
    if (cached === undefined) return this.load(kind, key, ts);
    this.use(cached, ts);
    return cached;
  }

  private load(kind: Kind, key: string, ts: number): LogDictionaryEntry {
    const entry: LogDictionaryEntry = { id: 0, touched: 0, kind, key };
    this.reload(entry, ts);
    if (kind.cache.size >= MAX_CACHED) kind.cache.clear();
    kind.cache.set(key, entry);
    return entry;
  }

  /** Looks the entry's row up (creating it if missing) and takes its id and last_used. */
  private reload(entry: LogDictionaryEntry, ts: number): void {
    const stored = this.statement(entry.kind.upsert).get<{ id: number; last_used: number }>(...entry.kind.bind(entry.key, ts));
    if (!stored) throw new Error(`log dictionary: no id for ${JSON.stringify(entry.key)}`);
    entry.id = stored.id;
    entry.touched = stored.last_used;
  }
}
