import { type DriverName, loadDriver } from "./drivers.ts";
import { type EncodedLogBatch, LogSymbolTable } from "./log-batch.ts";
import { openStore, type SqliteStore } from "./sqlite-store.ts";

/**
 * Owns the log writer's own connection and inserts one encoder's batches strictly in arrival
 * order, even though opening the database is asynchronous (the driver is loaded on demand).
 */
export class LogBatchInserter {
  private readonly store: Promise<SqliteStore>;
  /** The symbols of the one encoder whose batches come here. */
  private readonly symbols = new LogSymbolTable();

  constructor(path: string, driver: DriverName) {
    this.store = loadDriver(driver).then((open) => openStore(path, { driver: open }));
    // Each insert reports its own failure; this only keeps an open failure from going unhandled.
    this.store.catch(() => {});
  }

  /** Inserts an encoded batch in one transaction; batches must come in the order they were encoded. */
  insertEncoded(batch: EncodedLogBatch): Promise<void> {
    return this.store.then((store) => store.insertEncodedLogs(batch, this.symbols));
  }

  /** Closes the connection; a database that never opened has nothing to close. */
  async close(): Promise<void> {
    const store = await this.store.catch(() => undefined);
    store?.close();
  }
}
