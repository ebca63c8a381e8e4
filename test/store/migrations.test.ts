import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { isIpwardError } from "../../src/core/errors.ts";
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from "../../src/store/migrations.ts";
import { defaultDbPath, openStore } from "../../src/store/sqlite-store.ts";
import { drivers, logRow, T0, tempDir } from "./fixtures.ts";

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
      "log_place",
      "log_text",
      "request_log_entry",
      "suspicious_ip",
    ]);
    const views = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'view'").all<{ name: string }>();
    expect(views).toEqual([{ name: "request_log" }]);
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();

    const again = openStore(temp.dbPath, { driver });
    expect(again.countLogs()).toBe(0);
    again.close();
  });

  test("version 2 moves a version 1 request log into the entry table: every row reads back the same", () => {
    mkdirSync(dirname(temp.dbPath), { recursive: true });
    const db = driver(temp.dbPath);
    db.exec("PRAGMA journal_mode = WAL");
    migrate(db, MIGRATIONS.slice(0, 1));
    const rows = [
      logRow({ ts: T0, path: "/a", user_agent: "curl/8", referer: "https://example.com/" }),
      logRow({ ts: T0 + 1, path: "/a", decision: "block", rule: "203.0.113.0/24", country_code: "FR", country: "France", city: null }),
      logRow({ ts: T0 + 2, path: "/b", user_agent: null, country_code: null, country: null, city: null, decision: "limit", rule: "login", user: "alice" }),
    ];
    const insert = db.prepare(`INSERT INTO request_log (ts, ip, method, path, status, duration_ms, user_agent, referer,
      country_code, country, city, decision, rule, "user") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const row of rows) {
      insert.run(row.ts, row.ip, row.method, row.path, row.status, row.duration_ms, row.user_agent, row.referer, row.country_code, row.country, row.city, row.decision, row.rule, row.user);
    }
    db.close();

    const store = openStore(temp.dbPath, { driver });
    expect(store.queryLogs().reverse()).toEqual(rows.map((row, i) => ({ ...row, id: i + 1 })));
    store.insertLogBatch([logRow({ ts: T0 + 3, path: "/a" })]);
    expect(store.countLogs({ path: "/a" })).toBe(3);
    store.close();
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
