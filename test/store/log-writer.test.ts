import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { LogRow } from "../../src/core/ports.ts";
import { openBunSqlite } from "../../src/store/bun-sqlite.ts";
import { LogWriter, type LogWriterOptions } from "../../src/store/log-writer.ts";
import { openStore } from "../../src/store/sqlite-store.ts";
import { logRow, T0, tempDir } from "./fixtures.ts";

const modes: [string, Partial<LogWriterOptions>][] = [
  ["worker, bun:sqlite", { driver: "bun" }],
  ["worker, node:sqlite", { driver: "node" }],
  ["inline, bun:sqlite", { inline: true, driver: "bun" }],
  ["inline, node:sqlite", { inline: true, driver: "node" }],
];

/** Polls until `condition` holds (a reply from another thread), failing after two seconds. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 2 s");
    await Bun.sleep(2);
  }
}

/**
 * The error a promise rejects with. Used instead of `expect(p).rejects`, which under bun test 1.4.5
 * never settles when the rejection arrives in a Worker's message.
 */
async function failureOf(promise: Promise<unknown>): Promise<Error | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

function numbered(n: number, from = 0): LogRow[] {
  return Array.from({ length: n }, (_, i) => logRow({ ts: T0 + from + i, path: `/${from + i}` }));
}

describe.each(modes)("LogWriter (%s)", (_name, mode) => {
  let temp: ReturnType<typeof tempDir>;
  let writers: LogWriter[];
  let errors: Error[];

  beforeEach(() => {
    temp = tempDir();
    writers = [];
    errors = [];
  });
  afterEach(async () => {
    await Promise.allSettled(writers.map((writer) => writer.close()));
    temp.cleanup();
  });

  function writer(options: Partial<LogWriterOptions> = {}): LogWriter {
    const created = new LogWriter({ path: temp.dbPath, onError: (e) => errors.push(e), ...mode, ...options });
    writers.push(created);
    return created;
  }

  function storedRows(): { count: number; paths: string[] } {
    const store = openStore(temp.dbPath, { driver: openBunSqlite });
    try {
      return { count: store.countLogs(), paths: store.queryLogs({ limit: 10_000 }).map((r) => r.path).reverse() };
    } finally {
      store.close();
    }
  }

  test("3000 rows written then close(): exactly 3000 rows, in order, none dropped", async () => {
    const logWriter = writer();
    for (const row of numbered(3000)) logWriter.write(row);
    expect(logWriter.stats()).toEqual({ buffered: 3000, written: 0, dropped: 0 });
    await logWriter.close();
    expect(logWriter.stats()).toEqual({ buffered: 0, written: 3000, dropped: 0 });
    const stored = storedRows();
    expect(stored.count).toBe(3000);
    expect(stored.paths).toEqual(numbered(3000).map((r) => r.path));
  });

  test("every column survives the trip", async () => {
    const logWriter = writer();
    const full = logRow({ duration_ms: 0.123456789, user_agent: null, referer: "https://a.example/é", rule: "login", user: "alice", decision: "limit" });
    logWriter.write(full);
    await logWriter.flush();
    const store = openStore(temp.dbPath, { driver: openBunSqlite });
    expect(store.queryLogs()).toEqual([{ ...full, id: expect.any(Number) }]);
    store.close();
  });

  test("flush() resolves once everything written so far is committed", async () => {
    const logWriter = writer({ flushMs: 60_000 });
    await logWriter.flush();
    for (const row of numbered(10)) logWriter.write(row);
    const first = logWriter.flush();
    for (const row of numbered(5, 10)) logWriter.write(row);
    const second = logWriter.flush();
    await first;
    expect(logWriter.stats().written).toBeGreaterThanOrEqual(10);
    await second;
    expect(logWriter.stats()).toEqual({ buffered: 0, written: 15, dropped: 0 });
    expect(storedRows().count).toBe(15);
  });

  test("rows are sent without flush() when the batch fills or flush_ms passes", async () => {
    const byBatch = writer({ batchSize: 5, flushMs: 60_000 });
    for (const row of numbered(5)) byBatch.write(row);
    await waitFor(() => byBatch.stats().written === 5);

    const byTimer = writer({ batchSize: 1_000, flushMs: 5 });
    byTimer.write(logRow());
    await waitFor(() => byTimer.stats().written === 1);
    expect(storedRows().count).toBe(6);
  });

  test("a burst larger than a batch is split into batches and kept in order", async () => {
    const logWriter = writer({ batchSize: 100 });
    for (const row of numbered(1_050)) logWriter.write(row);
    await logWriter.flush();
    expect(storedRows().paths).toEqual(numbered(1_050).map((r) => r.path));
  });

  test("beyond buffer_size rows are dropped and counted, never blocking", async () => {
    const logWriter = writer({ bufferSize: 10, batchSize: 4, flushMs: 60_000 });
    for (const row of numbered(25)) logWriter.write(row);
    expect(logWriter.stats()).toEqual({ buffered: 10, written: 0, dropped: 15 });
    await logWriter.close();
    expect(logWriter.stats()).toEqual({ buffered: 0, written: 10, dropped: 15 });
    expect(storedRows().paths).toEqual(numbered(10).map((r) => r.path));
  });

  test("rows waiting for the database count against buffer_size until committed", async () => {
    const logWriter = writer({ bufferSize: 10, batchSize: 10, flushMs: 60_000 });
    for (const row of numbered(10)) logWriter.write(row);
    const flushed = logWriter.flush();
    logWriter.write(logRow());
    expect(logWriter.stats().dropped).toBe(1);
    await flushed;
    logWriter.write(logRow());
    expect(logWriter.stats()).toEqual({ buffered: 1, written: 10, dropped: 1 });
  });

  test("rows written after close() are dropped", async () => {
    const logWriter = writer();
    await logWriter.close();
    logWriter.write(logRow());
    expect(logWriter.stats()).toEqual({ buffered: 0, written: 0, dropped: 1 });
    await logWriter.close();
  });

  test("a batch the database refuses is reported and dropped; later batches still land", async () => {
    const logWriter = writer({ flushMs: 60_000 });
    logWriter.write(logRow({ path: "/before" }));
    await logWriter.flush();
    for (const row of numbered(3)) logWriter.write(row);
    logWriter.write({ ...logRow(), decision: "maybe" } as unknown as LogRow);
    expect((await failureOf(logWriter.flush()))?.message).toMatch(/CHECK constraint failed/);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/CHECK constraint failed/)]);
    logWriter.write(logRow({ path: "/after" }));
    await logWriter.close();
    expect(logWriter.stats()).toEqual({ buffered: 0, written: 2, dropped: 4 });
    expect(storedRows().paths).toEqual(["/before", "/after"]);
  });
});

describe("LogWriter worker", () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.cleanup());

  test("a worker that cannot start is reported; its rows are dropped, not waited for", async () => {
    const errors: Error[] = [];
    const logWriter = new LogWriter({
      path: temp.dbPath,
      workerUrl: new URL("./no-such-worker.ts", import.meta.url),
      onError: (e) => errors.push(e),
    });
    logWriter.write(logRow());
    expect((await failureOf(logWriter.flush()))?.message).toMatch(/log worker failed/);
    logWriter.write(logRow());
    expect((await failureOf(logWriter.close()))?.message).toMatch(/log worker failed/);
    expect(errors.length).toBe(1);
    expect(logWriter.stats()).toEqual({ buffered: 0, written: 0, dropped: 2 });
  });

  test("a script that never calls close() still commits its rows and exits; an idle writer holds nothing open", () => {
    const script = `
      import { LogWriter } from "./src/store/log-writer.ts";
      const idle = new LogWriter({ path: ${JSON.stringify(temp.dbPath)} });
      const busy = new LogWriter({ path: ${JSON.stringify(temp.dbPath)}, flushMs: 20 });
      for (let i = 0; i < 100; i++) busy.write({ ts: i, ip: "192.0.2.1", method: "GET", path: "/", status: 200,
        duration_ms: 1, user_agent: null, referer: null, country_code: null, country: null, city: null,
        decision: "allow", rule: null, user: null });
    `;
    const child = Bun.spawnSync([process.execPath, "-e", script], { cwd: `${import.meta.dir}/../..`, timeout: 10_000 });
    expect(child.stderr.toString()).toBe("");
    expect(child.exitCode).toBe(0);
    const store = openStore(temp.dbPath, { driver: openBunSqlite });
    expect(store.countLogs()).toBe(100);
    store.close();
  });
});
