import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { isIpwardError } from "../../src/core/errors.ts";
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from "../../src/store/migrations.ts";
import { defaultDbPath, openStore } from "../../src/store/sqlite-store.ts";
import { drivers, tempDir } from "./fixtures.ts";

describe.each(drivers)("migrations (%s)", (_name, driver) => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.cleanup());

  test("versions are consecutive from 1", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_m, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  test("an empty file gets the whole schema, in WAL mode, and re-opening changes nothing", () => {
    const store = openStore(temp.dbPath, { driver });
    store.close();
    expect(existsSync(temp.dbPath)).toBe(true);

    const db = driver(temp.dbPath);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all<{ name: string }>()
      .map((t) => t.name);
    expect(tables).toEqual([
      "admin_session",
      "admin_user",
      "api_token",
      "change_counter",
      "decision_rule",
      "request_log",
      "suspicious_ip",
    ]);
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();

    const again = openStore(temp.dbPath, { driver });
    expect(again.countLogs()).toBe(0);
    again.close();
  });

  test("a newer binary opens an older database and applies only the missing steps", () => {
    openStore(temp.dbPath, { driver }).close();
    const db = driver(temp.dbPath);
    const v2 = { version: SCHEMA_VERSION + 1, name: "test column", sql: "ALTER TABLE api_token ADD COLUMN note TEXT" };
    expect(migrate(db, [...MIGRATIONS, v2])).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 });
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    const columns = db.prepare("SELECT name FROM pragma_table_info('api_token')").all<{ name: string }>();
    expect(columns.map((c) => c.name)).toContain("note");
    db.close();
  });

  test("an older binary refuses a database from a newer one", () => {
    openStore(temp.dbPath, { driver }).close();
    const db = driver(temp.dbPath);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    let error: unknown;
    try {
      openStore(temp.dbPath, { driver });
    } catch (e) {
      error = e;
    }
    expect(isIpwardError(error, "conflict")).toBe(true);
    expect(String(error)).toContain(`schema version ${SCHEMA_VERSION + 1}`);
  });

  test("a failing step rolls back whole and leaves the version where it was", () => {
    openStore(temp.dbPath, { driver }).close();
    const db = driver(temp.dbPath);
    const broken = {
      version: SCHEMA_VERSION + 1,
      name: "half broken",
      sql: "CREATE TABLE extra (id INTEGER); INSERT INTO no_such_table VALUES (1);",
    };
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow();
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'extra'").get()).toBeUndefined();
    db.close();
  });

  test("defaultDbPath puts ipward.db in the data dir", () => {
    expect(defaultDbPath("/var/lib/ipward")).toBe("/var/lib/ipward/ipward.db");
  });
});
