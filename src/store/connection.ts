import { migrate } from "./migrations.ts";
import { CONNECTION_PRAGMAS } from "./sql.ts";
import type { SqlDatabase, SqlStatement } from "./sql-database.ts";
import type { SqlDriver } from "./sqlite-store.ts";

/**
 * Opens one more connection to the database file with the store's pragmas, migrating it if this is
 * the first open. Stores that keep their own connection (admin accounts, statistics) start here.
 */
export function openMigratedDatabase(path: string, driver: SqlDriver): SqlDatabase {
  const db = driver(path);
  try {
    for (const pragma of CONNECTION_PRAGMAS) db.exec(pragma);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
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
