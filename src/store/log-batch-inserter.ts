import type { LogRow } from "../core/ports.ts";
import { type DriverName, loadDriver } from "./drivers.ts";
import type { SqlValue } from "./sql-database.ts";
import { openStore, type SqliteStore } from "./sqlite-store.ts";

/**
 * Owns the log writer's own connection and inserts batches strictly in arrival order, even
 * though opening the database is asynchronous (the driver is loaded on demand).
 */
export class LogBatchInserter {
  private readonly store: Promise<SqliteStore>;

  constructor(path: string, driver: DriverName) {
    this.store = loadDriver(driver).then((open) => openStore(path, { driver: open }));
    // Each insert reports its own failure; this only keeps an open failure from going unhandled.
    this.store.catch(() => {});
  }

  /** Inserts rows given as objects, in one transaction. */
  insertRows(rows: readonly LogRow[]): Promise<void> {
    return this.store.then((store) => store.insertLogBatch(rows));
  }

  /** Inserts rows given flat (LOG_COLUMNS order), in one transaction. */
  insertValues(values: readonly SqlValue[], rowCount: number): Promise<void> {
    return this.store.then((store) => store.insertLogValues(values, rowCount));
  }

  /** Closes the connection; a database that never opened has nothing to close. */
  async close(): Promise<void> {
    const store = await this.store.catch(() => undefined);
    store?.close();
  }
}
