import { migrate } from "./migrations.ts";
import { BUSY_TIMEOUT_MS, CONNECTION_PRAGMAS } from "./sql.ts";
import type { SqlDatabase, SqlStatement } from "./sql-database.ts";
import type { SqlDriver } from "./sqlite-store.ts";

/**
 * Opens one more connection to the database file with the store's pragmas, migrating it if this is
 * the first open. Every store's connection starts here.
 */
export function openMigratedDatabase(path: string, driver: SqlDriver): SqlDatabase {
  const db = driver(path);
  try {
    configureConnection(db);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Applies CONNECTION_PRAGMAS. Switching a new file to WAL needs the file to itself for a moment, and
 * SQLite answers "database is locked" at once rather than through the busy handler when another
 * connection holds its write lock (two instances starting on one fresh data dir: 4 of 124 paired
 * starts failed on two cores): a pragma that finds the file locked is retried, backing off, for up
 * to `waitMs` (as long as busy_timeout lets a statement wait).
 */
export function configureConnection(db: SqlDatabase, waitMs = BUSY_TIMEOUT_MS): void {
  const deadline = performance.now() + waitMs;
  for (const pragma of CONNECTION_PRAGMAS) {
    for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
      try {
        db.exec(pragma);
        break;
      } catch (error) {
        if (!isLocked(error) || performance.now() + pause > deadline) throw error;
        sleepSync(pause);
      }
    }
  }
}

/** SQLITE_BUSY as either binding reports it (bun:sqlite sets `code`, node:sqlite `errcode`). */
function isLocked(error: unknown): boolean {
  const { code, errcode, message } = error as { code?: unknown; errcode?: unknown; message?: unknown };
  return code === "SQLITE_BUSY" || errcode === 5 || (typeof message === "string" && message.includes("database is locked"));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (opening a store is synchronous, and this happens only at start). */
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Prepared statements of one connection, prepared on first use. */
export class StatementCache {
  private readonly statements = new Map<string, SqlStatement>();

  constructor(private readonly db: SqlDatabase) {}

  get(text: string): SqlStatement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  clear(): void {
    this.statements.clear();
  }
}
