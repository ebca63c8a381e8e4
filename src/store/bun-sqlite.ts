import { Database, type Statement } from "bun:sqlite";
import { type RunResult, type SqlDatabase, type SqlStatement, type SqlValue, TransactionRunner } from "./sql-database.ts";

class BunStatement implements SqlStatement {
  constructor(private readonly statement: Statement) {}

  run(...params: SqlValue[]): RunResult {
    const result = this.statement.run(...params);
    return { changes: result.changes, lastInsertRowid: Number(result.lastInsertRowid) };
  }

  runValues(params: readonly SqlValue[]): RunResult {
    // bun:sqlite binds an array given as the only argument positionally.
    const result = this.statement.run(params as SqlValue[]);
    return { changes: result.changes, lastInsertRowid: Number(result.lastInsertRowid) };
  }

  all<T>(...params: SqlValue[]): T[] {
    return this.statement.all(...params) as T[];
  }

  get<T>(...params: SqlValue[]): T | undefined {
    return (this.statement.get(...params) ?? undefined) as T | undefined;
  }
}

/** SqlDatabase over bun:sqlite. */
export class BunSqliteDatabase implements SqlDatabase {
  private readonly db: Database;
  private readonly transactions: TransactionRunner;

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.transactions = new TransactionRunner((sql) => this.db.exec(sql));
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare(sql: string): SqlStatement {
    return new BunStatement(this.db.prepare(sql));
  }

  transaction<T>(fn: () => T): T {
    return this.transactions.run(fn);
  }

  close(): void {
    this.db.close();
  }
}

/** Opens (creating if needed) a SQLite file with bun:sqlite. */
export function openBunSqlite(path: string): SqlDatabase {
  return new BunSqliteDatabase(path);
}
