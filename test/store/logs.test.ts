import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { LogRow } from "../../src/core/ports.ts";
import { toLogJson, toRuleJson } from "../../src/store/json.ts";
import { type SqlDatabase } from "../../src/store/sql-database.ts";
import { encodeLogRows, LogBatchEncoder, LogSymbolTable } from "../../src/store/log-batch.ts";
import { openStore, type SqliteStore } from "../../src/store/sqlite-store.ts";
import { drivers, logRow, T0, tempDir } from "./fixtures.ts";

const MINUTE = 60_000;

/** `n` rows one minute apart starting at T0, alternating between two addresses. */
function rows(n: number): LogRow[] {
  return Array.from({ length: n }, (_, i) =>
    logRow({ ts: T0 + i * MINUTE, ip: i % 2 === 0 ? "192.0.2.1" : "2001:db8::1", path: `/items/${i}` }),
  );
}

describe.each(drivers)("request log (%s)", (_name, driver) => {
  let temp: ReturnType<typeof tempDir>;
  let store: SqliteStore;

  beforeEach(() => {
    temp = tempDir();
    store = openStore(temp.dbPath, { driver });
  });
  afterEach(() => {
    store.close();
    temp.cleanup();
  });

  test("a batch round-trips every column, newest first", () => {
    const full = logRow({
      ts: T0 + 1,
      ip: "2001:db8::7",
      method: "POST",
      path: "/api/login",
      status: 429,
      duration_ms: 0.25,
      user_agent: null,
      referer: "https://example.com/",
      country_code: null,
      country: null,
      city: null,
      decision: "limit",
      rule: "login",
      user: "alice",
    });
    store.insertLogBatch([logRow(), full]);
    const [newest, oldest] = store.queryLogs();
    expect(newest).toEqual({ ...full, id: expect.any(Number) });
    expect(oldest).toEqual({ ...logRow(), id: expect.any(Number) });
    expect(store.countLogs()).toBe(2);
  });

  test("batches of every size around the 64-row statement are stored whole and in order", () => {
    const all: LogRow[] = [];
    for (const size of [1, 63, 64, 65, 128, 200]) {
      const batch = Array.from({ length: size }, (_, i) => logRow({ ts: T0 + all.length + i, path: `/${all.length + i}` }));
      store.insertLogBatch(batch);
      all.push(...batch);
      expect(store.countLogs()).toBe(all.length);
    }
    store.insertLogBatch([]);
    expect(store.queryLogs({ limit: 1000 }).map((r) => r.path)).toEqual(all.map((r) => r.path).reverse());
  });

  test("encoded batches send each text once: later batches reuse the symbols, a reset batch starts afresh", () => {
    const encoder = new LogBatchEncoder(3);
    const symbols = new LogSymbolTable();
    const geo = { country_code: "DE", country: "Germany", city: "Berlin" };
    const sent: LogRow[] = [];
    const add = (row: LogRow) => {
      encoder.add(row);
      sent.push(row);
    };
    add(logRow({ ts: T0, path: "/a", user_agent: "curl/8", ...geo }));
    add(logRow({ ts: T0 + 1, path: "/b", user_agent: "curl/8", referer: "https://example.com/", rule: "login", user: "alice" }));
    const first = encoder.take()!;
    expect(first.reset).toBe(true);
    add(logRow({ ts: T0 + 2, path: "/a", user_agent: "curl/8", decision: "block", rule: "203.0.113.0/24", ...geo }));
    add(logRow({ ts: T0 + 3, path: "/a", country_code: "FR", country: null, city: null }));
    const second = encoder.take()!;
    expect(second.reset).toBe(false);
    expect(second.symbols).toEqual(["203.0.113.0/24", "curl/8.5.0", "FR\u0000\u0000"]);
    // One city name in two countries is two places, however the rows alternate.
    add(logRow({ ts: T0 + 4, country_code: "FR", country: "France", city: "Paris" }));
    add(logRow({ ts: T0 + 5, country_code: "US", country: "United States", city: "Paris" }));
    add(logRow({ ts: T0 + 6, country_code: "FR", country: "France", city: "Paris" }));
    const third = encoder.take()!;
    expect(third.symbols).toEqual(["/", "FR\u0000France\u0000Paris", "US\u0000United States\u0000Paris"]);
    store.insertEncodedLogs(first, symbols);
    store.insertEncodedLogs(second, symbols);
    store.insertEncodedLogs(third, symbols);
    const stored = store.queryLogs({ limit: 10 }).reverse();
    expect(stored.map(({ id: _id, ...row }) => row)).toEqual(sent);

    expect(() => store.insertEncodedLogs(second, new LogSymbolTable())).toThrow(/symbol \d+, which was never sent/);
    expect(store.countLogs()).toBe(7);
  });

  test("a batch whose counts disagree is refused whole", () => {
    const batch = encodeLogRows(rows(3))!;
    expect(() => store.insertEncodedLogs({ ...batch, count: 2 }, new LogSymbolTable())).toThrow(/log batch of 2 rows has 33 numbers and 3 IPs/);
    expect(store.countLogs()).toBe(0);
  });

  test("a batch with a bad row is rolled back whole", () => {
    const bad = { ...logRow(), decision: "maybe" } as unknown as LogRow;
    expect(() => store.insertLogBatch([...rows(100), bad])).toThrow();
    expect(store.countLogs()).toBe(0);
  });

  test("query by ip, time range and limit", () => {
    store.insertLogBatch(rows(10));
    expect(store.queryLogs({ ip: "192.0.2.1" }).map((r) => r.path)).toEqual(
      ["/items/8", "/items/6", "/items/4", "/items/2", "/items/0"],
    );
    expect(store.queryLogs({ since: T0 + 7 * MINUTE }).map((r) => r.path)).toEqual(["/items/9", "/items/8", "/items/7"]);
    expect(store.queryLogs({ since: T0 + 2 * MINUTE, until: T0 + 4 * MINUTE }).map((r) => r.path)).toEqual(
      ["/items/3", "/items/2"],
    );
    expect(store.queryLogs({ ip: "2001:db8::1", since: T0 + 4 * MINUTE, limit: 2 }).map((r) => r.path)).toEqual(
      ["/items/9", "/items/7"],
    );
    expect(store.queryLogs({ limit: 1 }).map((r) => r.path)).toEqual(["/items/9"]);
    expect(store.countLogs({ ip: "2001:db8::1" })).toBe(5);
    expect(store.countLogs({ since: T0 + 8 * MINUTE })).toBe(2);
  });

  test("query by decision, status, country and path", () => {
    store.insertLogBatch([
      logRow({ path: "/a", decision: "block", status: 403, rule: "blocklist" }),
      logRow({ path: "/b", country_code: "FR", country: "France", city: "Paris" }),
      logRow({ path: "/c", status: 404 }),
    ]);
    expect(store.queryLogs({ decision: "block" }).map((r) => r.path)).toEqual(["/a"]);
    expect(store.queryLogs({ status: 404 }).map((r) => r.path)).toEqual(["/c"]);
    expect(store.queryLogs({ country_code: "FR" }).map((r) => r.path)).toEqual(["/b"]);
    expect(store.queryLogs({ path: "/c" }).map((r) => r.path)).toEqual(["/c"]);
  });

  test("cursor pages walk every row once, even when timestamps tie", () => {
    store.insertLogBatch([...rows(5), ...rows(5).map((r) => ({ ...r, path: `${r.path}/again` }))]);
    const seen: string[] = [];
    let page = store.queryLogs({ limit: 3 });
    while (page.length > 0) {
      seen.push(...page.map((r) => r.path));
      const last = page[page.length - 1];
      page = store.queryLogs({ limit: 3, before: { ts: last.ts, id: last.id } });
    }
    expect(seen.length).toBe(10);
    expect(new Set(seen).size).toBe(10);
    expect(seen.slice(0, 2)).toEqual(["/items/4/again", "/items/4"]);
  });

  test("a limit that is not a positive integer is refused", () => {
    expect(() => store.queryLogs({ limit: 0 })).toThrow(/positive integer/);
    expect(() => store.queryLogs({ limit: 1.5 })).toThrow(/positive integer/);
  });

  test("purge deletes rows older than the cut-off and says how many", () => {
    store.insertLogBatch(rows(10));
    expect(store.purgeLogs(T0 + 4 * MINUTE)).toBe(4);
    expect(store.purgeLogs(T0 + 4 * MINUTE)).toBe(0);
    expect(store.countLogs()).toBe(6);
    expect(store.queryLogs({ limit: 100 }).at(-1)?.path).toBe("/items/4");
  });

  test("purge works through more rows than one delete chunk", () => {
    const many = Array.from({ length: 25_000 }, (_, i) => logRow({ ts: T0 + i }));
    store.insertLogBatch(many);
    expect(store.purgeLogs(T0 + 24_000)).toBe(24_000);
    expect(store.countLogs()).toBe(1_000);
  });

  test("retention also removes the texts and places only purged rows used; a writer holding one re-creates it", () => {
    const DAY = 24 * 60 * MINUTE;
    // A second connection stands in for the log worker: it caches the entries of its first batch.
    const writer = openStore(temp.dbPath, { driver });
    const symbols = new LogSymbolTable();
    const encoder = new LogBatchEncoder(10);
    const day = (n: number, overrides: Partial<LogRow>) => logRow({ ts: T0 + n * DAY, ...overrides });
    // Twice each: a text's first sighting is stored in the row, its second creates its entry.
    for (const row of [day(0, { path: "/old", user_agent: "old-agent", country_code: "FR", country: "France", city: "Paris" }), day(0, { path: "/kept" })]) {
      encoder.add(row);
      encoder.add(row);
    }
    writer.insertEncodedLogs(encoder.take()!, symbols);
    store.insertLogBatch([day(2, { path: "/kept" }), day(2, { path: "/kept" })]);
    const db = rawConnection(temp.dbPath);
    const texts = () => db.prepare("SELECT value FROM log_text ORDER BY value").all<{ value: string }>().map((t) => t.value);
    const places = () => db.prepare("SELECT country_code FROM log_place ORDER BY country_code").all<{ country_code: string }>().map((p) => p.country_code);
    expect(texts()).toEqual(["/kept", "/old", "GET", "curl/8.5.0", "old-agent"]);
    expect(places()).toEqual(["DE", "FR"]);

    expect(store.purgeLogs(T0 + DAY)).toBe(4);
    expect(texts()).toEqual(["/kept", "GET", "curl/8.5.0"]);
    expect(places()).toEqual(["DE"]);

    // Its cached /old entry is gone: the next row using it brings it back, with a new id.
    encoder.add(day(3, { path: "/old", country_code: "FR", country: "France", city: "Paris" }));
    writer.insertEncodedLogs(encoder.take()!, symbols);
    writer.close();
    db.close();
    expect(store.queryLogs({ since: T0 + 3 * DAY }).map((r) => [r.path, r.city])).toEqual([["/old", "Paris"]]);
    expect(store.countLogs()).toBe(3);
  });

  test("a text seen once stays in its row; from its second use on it is stored once, and both rows read the same", () => {
    const db = rawConnection(temp.dbPath);
    const texts = () => db.prepare("SELECT value FROM log_text ORDER BY value").all<{ value: string }>().map((t) => t.value);
    const inline = () => db.prepare("SELECT path FROM request_log_entry WHERE path IS NOT NULL").all<{ path: string }>().map((r) => r.path);
    store.insertLogBatch([logRow({ path: "/scan/1.php", user_agent: null }), logRow({ ts: T0 + 1, path: "/scan/2.php", user_agent: null })]);
    expect(texts()).toEqual(["GET"]);
    expect(inline()).toEqual(["/scan/1.php", "/scan/2.php"]);
    store.insertLogBatch([1, 2, 3].map((i) => logRow({ ts: T0 + 1 + i, path: "/home", user_agent: null, method: "GET" })));
    expect(texts()).toEqual(["/home", "GET"]);
    expect(inline()).toEqual(["/scan/1.php", "/scan/2.php", "/home"]);
    expect(store.countLogs({ path: "/home" })).toBe(3);
    expect(store.queryLogs({ limit: 10 }).map((r) => r.path)).toEqual(["/home", "/home", "/home", "/scan/2.php", "/scan/1.php"]);
    db.close();
  });

  test("forget erases logs, suspicious records and rules of exactly that address", () => {
    store.insertLogBatch(rows(10));
    store.addRule({ list: "block", target: "192.0.2.1", kind: "ip", reason: null, expires_at: null, source: "cli" });
    store.addRule({ list: "allow", target: "192.0.2.1", kind: "ip", reason: null, expires_at: null, source: "cli" });
    store.addRule({ list: "block", target: "192.0.2.0/24", kind: "cidr", reason: null, expires_at: null, source: "cli" });
    const db = rawConnection(temp.dbPath);
    const suspicious = db.prepare(
      "INSERT INTO suspicious_ip (ip, rule, reason, first_seen, last_seen) VALUES (?, 'volume', 'x', ?, ?)",
    );
    suspicious.run("192.0.2.1", T0, T0);
    suspicious.run("2001:db8::1", T0, T0);

    const marker = store.changeMarker();
    expect(store.forgetIp("192.0.2.1")).toBe(5 + 1 + 2);
    expect(store.changeMarker()).not.toBe(marker);
    expect(store.countLogs({ ip: "192.0.2.1" })).toBe(0);
    expect(store.countLogs()).toBe(5);
    expect(store.listRules("block", T0).map((r) => r.target)).toEqual(["192.0.2.0/24"]);
    expect(store.listRules("allow", T0)).toEqual([]);
    expect(db.prepare("SELECT ip FROM suspicious_ip").all()).toEqual([{ ip: "2001:db8::1" }]);
    expect(store.forgetIp("192.0.2.1")).toBe(0);
    db.close();
  });

  function rawConnection(path: string): SqlDatabase {
    return driver(path);
  }
});

describe("JSON shapes (SPEC §5)", () => {
  test("a log row prints its public fields with an ISO time and no user", () => {
    const json = toLogJson(logRow({ user: "alice", referer: null }));
    expect(json).toEqual({
      ts: "2025-01-15T12:00:00.000Z",
      ip: "203.0.113.7",
      method: "GET",
      path: "/",
      status: 200,
      duration_ms: 1.5,
      user_agent: "curl/8.5.0",
      referer: null,
      country_code: "DE",
      country: "Germany",
      city: "Berlin",
      decision: "allow",
      rule: null,
    });
    expect(Object.keys(json)).toEqual([
      "ts", "ip", "method", "path", "status", "duration_ms", "user_agent", "referer",
      "country_code", "country", "city", "decision", "rule",
    ]);
  });

  test("a rule prints id, target, kind, reason, times and source", () => {
    const rule = { id: 3, list: "block" as const, target: "10.0.0.0/8", kind: "cidr" as const, reason: null, source: "cli" as const };
    expect(toRuleJson({ ...rule, created_at: T0, expires_at: T0 + 4 * 3_600_000 })).toEqual({
      id: 3,
      target: "10.0.0.0/8",
      kind: "cidr",
      reason: null,
      created_at: "2025-01-15T12:00:00.000Z",
      expires_at: "2025-01-15T16:00:00.000Z",
      source: "cli",
    });
    expect(toRuleJson({ ...rule, created_at: T0, expires_at: null }).expires_at).toBeNull();
  });
});
