import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { LogRow } from "../../src/core/ports.ts";
import { openBunSqlite } from "../../src/store/bun-sqlite.ts";
import { defaultDbPath, openStore } from "../../src/store/sqlite-store.ts";
import { cli } from "../support/cli.ts";
import { tempDir } from "../support/process.ts";

const DAY = 86_400_000;
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("ipward-cli-detect-");
});
afterEach(() => dir.cleanup());

function row(ip: string, ts: number, path = "/"): LogRow {
  return {
    ts, ip, method: "GET", path, status: 200, duration_ms: 1, user_agent: "ua", referer: null,
    country_code: null, country: null, city: null, decision: "allow", rule: null, user: null,
  };
}

function seed(rows: LogRow[]) {
  const store = openStore(defaultDbPath(dir.path), { driver: openBunSqlite });
  store.insertLogBatch(rows);
  return store;
}

const run = (...args: string[]) => cli([...args, "--data-dir", dir.path]);

describe("detection and retention commands", () => {
  test("detect --dry-run reports the crawler and records nothing; detect records it; suspicious lists it", async () => {
    const now = Date.now();
    const store = seed([
      ...Array.from({ length: 130 }, (_, n) => row("203.0.113.5", now - n * 20_000)),
      ...Array.from({ length: 20 }, (_, n) => row("203.0.113.6", now - n * 60_000)),
    ]);
    store.close();

    const dry = await run("detect", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("203.0.113.5");
    expect(dry.stdout).toContain("high_volume");
    expect(dry.stdout).not.toContain("203.0.113.6");
    expect(JSON.parse((await run("suspicious", "--json")).stdout)).toEqual([]);

    const real = await run("detect", "--json");
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toEqual([expect.objectContaining({ ip: "203.0.113.5", rule: "high_volume", action: "flag" })]);

    const listed = JSON.parse((await run("suspicious", "--status", "open", "--json")).stdout);
    expect(listed).toHaveLength(1);
    expect(Object.keys(listed[0]).sort()).toEqual(["count", "first_seen", "id", "ip", "last_seen", "reason", "rule", "status"]);
    expect(listed[0]).toMatchObject({ ip: "203.0.113.5", rule: "high_volume", count: 130, status: "open" });
    expect(listed[0].reason).toContain("130 requests");
    expect((await run("suspicious", "--status", "weird")).code).toBe(2);
  });

  test("forget <ip> leaves no row about that IP", async () => {
    const now = Date.now();
    const store = seed([row("198.51.100.7", now), row("198.51.100.7", now - 1000), row("198.51.100.8", now)]);
    store.addRule({ list: "block", target: "198.51.100.7", kind: "ip", reason: null, expires_at: null, source: "cli" });
    store.close();
    expect((await run("detect")).code).toBe(0);

    const forgot = await run("forget", "198.51.100.7");
    expect(forgot.code).toBe(0);
    expect(JSON.parse((await run("logs", "--ip", "198.51.100.7", "--json")).stdout)).toEqual([]);
    expect(JSON.parse((await run("blocks", "--json")).stdout)).toEqual([]);
    expect(JSON.parse((await run("logs", "--json")).stdout).map((r: { ip: string }) => r.ip)).toEqual(["198.51.100.8"]);
    expect((await run("forget", "not-an-ip")).code).toBe(2);
  });

  test("purge --older-than 90d removes only older rows", async () => {
    const now = Date.now();
    seed([row("192.0.2.1", now - 91 * DAY), row("192.0.2.2", now - 89 * DAY), row("192.0.2.3", now)]).close();
    const purged = await run("purge", "--older-than", "90d", "--json");
    expect(purged.code).toBe(0);
    expect(JSON.parse(purged.stdout).removed).toBe(1);
    const left = JSON.parse((await run("logs", "--json")).stdout).map((r: { ip: string }) => r.ip).sort();
    expect(left).toEqual(["192.0.2.2", "192.0.2.3"]);
    expect((await run("purge", "--older-than", "yesterday")).code).toBe(2);
  });
});
