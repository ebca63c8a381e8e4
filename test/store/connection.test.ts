import { describe, expect, test } from "bun:test";
import { configureConnection } from "../../src/store/connection.ts";
import type { SqlDatabase } from "../../src/store/sql-database.ts";
import type { SqlDriver } from "../../src/store/sqlite-store.ts";
import { drivers, tempDir } from "./fixtures.ts";

/**
 * Another process holding the write lock of a new, still empty database file for `holdMs`: what a
 * second instance starting on the same fresh data dir sees while the first one creates the file.
 */
async function holdWriteLock(path: string, holdMs: number): Promise<{ released: Promise<number> }> {
  const script = `
    const { Database } = require("bun:sqlite");
    const db = new Database(${JSON.stringify(path)});
    db.exec("BEGIN IMMEDIATE");
    console.log("held");
    await Bun.sleep(${holdMs});
    db.exec("COMMIT");
    db.close();
  `;
  const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("held");
  return { released: child.exited };
}

/** Runs `body` on a connection of `driver` to a new file whose write lock another process holds for `holdMs`. */
async function onLockedFile(driver: SqlDriver, holdMs: number, body: (db: SqlDatabase, released: Promise<number>) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  const path = `${dir}/ipward.db`;
  try {
    const holder = await holdWriteLock(path, holdMs);
    const db = driver(path);
    try {
      await body(db, holder.released);
    } finally {
      db.close();
      await holder.released;
    }
  } finally {
    cleanup();
  }
}

for (const [name, driver] of drivers) {
  describe(`configureConnection (${name})`, () => {
    test("switching to WAL while another process holds the file waits for it instead of failing at once", async () => {
      await onLockedFile(driver, 300, async (db, released) => {
        // What SQLite does on its own: "database is locked" at once, busy_timeout or not.
        db.exec("PRAGMA busy_timeout = 5000");
        expect(() => db.exec("PRAGMA journal_mode = WAL")).toThrow(/database is locked/);

        const started = performance.now();
        configureConnection(db);
        expect(performance.now() - started).toBeGreaterThan(100);
        expect(await released).toBe(0);
        expect(db.prepare("PRAGMA journal_mode").get<{ journal_mode: string }>()?.journal_mode).toBe("wal");
      });
    });

    test("a lock held past the wait fails with SQLite's own message", async () => {
      await onLockedFile(driver, 1_500, async (db) => {
        const started = performance.now();
        expect(() => configureConnection(db, 200)).toThrow(/database is locked/);
        expect(performance.now() - started).toBeLessThan(1_000);
      });
    });
  });
}
