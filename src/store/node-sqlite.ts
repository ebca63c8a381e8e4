import { DatabaseSync, type StatementSync } from "node:sqlite";
import { type RunResult, type SqlDatabase, type SqlStatement, type SqlValue, TransactionRunner } from "./sql-database.ts";

class NodeStatement implements SqlStatement {
  constructor(private readonly statement: StatementSync) {}

  run(...params: SqlValue[]): RunResult {
    const result = this.statement.run(...params);
    return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
  }

  runValues(params: readonly SqlValue[]): RunResult {
    return this.run(...params);
  }

  all<T>(...params: SqlValue[]): T[] {
    return this.statement.all(...params) as T[];
  }

  get<T>(...params: SqlValue[]): T | undefined {
    return this.statement.get(...params) as T | undefined;
  }
}

/** SqlDatabase over node:sqlite (used by the Deno entry; Bun ships it too). */
export class NodeSqliteDatabase implements SqlDatabase {
  private readonly db: DatabaseSync;
  private readonly transactions: TransactionRunner;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.transactions = new TransactionRunner((sql) => this.db.exec(sql));
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  prepare(sql: string): SqlStatement {
    return new NodeStatement(this.db.prepare(sql));
  }

  transaction<T>(fn: () => T): T {
    return this.transactions.run(fn);
  }

  close(): void {
    this.db.close();
  }
}

/** Opens (creating if needed) a SQLite file with node:sqlite. */
export function openNodeSqlite(path: string): SqlDatabase {
  return new NodeSqliteDatabase(path);
}
