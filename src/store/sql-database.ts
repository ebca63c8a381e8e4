/**
 * The few SQLite operations the store needs, so that bun:sqlite, node:sqlite (Deno) and later
 * other drivers can sit behind one SqliteStore. Only src/store/ imports this.
 */

export type SqlValue = string | number | bigint | null | Uint8Array;

/** Outcome of a data-changing statement. */
export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** A prepared statement with positional `?` parameters. */
export interface SqlStatement {
  run(...params: SqlValue[]): RunResult;
  /** run() with the parameters in one array (bulk inserts: no spread of hundreds of arguments). */
  runValues(params: readonly SqlValue[]): RunResult;
  all<T = Record<string, SqlValue>>(...params: SqlValue[]): T[];
  /** First row, or undefined when there is none. */
  get<T = Record<string, SqlValue>>(...params: SqlValue[]): T | undefined;
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /** Runs synchronous `fn` in one write transaction (BEGIN IMMEDIATE); nested calls become savepoints. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/**
 * Transaction bookkeeping shared by the adapters. BEGIN IMMEDIATE takes the write lock up front,
 * so a reader that later writes never hits SQLITE_BUSY without the busy handler being able to wait.
 */
export class TransactionRunner {
  private depth = 0;

  constructor(private readonly exec: (sql: string) => void) {}

  run<T>(fn: () => T): T {
    const savepoint = this.depth > 0 ? `sp${this.depth}` : null;
    this.exec(savepoint ? `SAVEPOINT ${savepoint}` : "BEGIN IMMEDIATE");
    this.depth++;
    try {
      const result = fn();
      this.exec(savepoint ? `RELEASE ${savepoint}` : "COMMIT");
      return result;
    } catch (error) {
      try {
        this.exec(savepoint ? `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}` : "ROLLBACK");
      } catch {
        // SQLite may already have rolled back (e.g. SQLITE_FULL); the original error is the one to report.
      }
      throw error;
    } finally {
      this.depth--;
    }
  }
}
