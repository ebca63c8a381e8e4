import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogRow } from "../../src/core/ports.ts";
import { openBunSqlite } from "../../src/store/bun-sqlite.ts";
import { openNodeSqlite } from "../../src/store/node-sqlite.ts";
import type { SqlDriver } from "../../src/store/sqlite-store.ts";

/** Every SqlDatabase adapter runnable under Bun; the store contract runs against each. */
export const drivers: [string, SqlDriver][] = [
  ["bun:sqlite", openBunSqlite],
  ["node:sqlite", openNodeSqlite],
];

/** A fresh temp dir per test; `cleanup` removes it. */
export function tempDir(): { dir: string; dbPath: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "ipward-store-"));
  return { dir, dbPath: join(dir, "data", "ipward.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

/** A plausible request log row; `overrides` set what a test cares about. */
export function logRow(overrides: Partial<LogRow> = {}): LogRow {
  return {
    ts: T0,
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
    user: null,
    ...overrides,
  };
}
