/**
 * Request log throughput, each figure against a baseline in the same run:
 * - raw inserts of encoded batches (texts stored once, as ids) vs the same rows with every text bound as text;
 * - `LogWriter` end to end (write N rows as a server would, then close) through the Worker and inline;
 * - the cost of one `write()` call vs a bare Array.push.
 * Target: LogWriter ≥ 300,000 rows/s with nothing dropped; write() well under 1 µs.
 *
 * Usage: `bun bench/log-writer.ts [--rows N] [--http] [--index-study]`
 *   --http         wrk against a tiny Bun.serve that logs each request: no log vs Worker vs inline
 *   --index-study  request_log_entry insert speed and ip-query time with (ts), (ts, ip), (ip), (ip, ts) (minutes)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogRow } from "../src/core/ports.ts";
import { openBunSqlite } from "../src/store/bun-sqlite.ts";
import { LogWriter } from "../src/store/log-writer.ts";
import { openNodeSqlite } from "../src/store/node-sqlite.ts";
import { encodeLogRows, LogSymbolTable } from "../src/store/log-batch.ts";
import { openStore, type SqlDriver } from "../src/store/sqlite-store.ts";
import { spawnChild } from "./lib/cleanup.ts";
import { prepareScript, runWrk } from "./lib/wrk.ts";

const TARGET_ROWS_PER_S = 300_000;
const BATCH = 2_000;
const T0 = Date.UTC(2025, 0, 1);
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

function flag(name: string): boolean {
  return process.argv.includes(name);
}

function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

/** Deterministic pseudo-random numbers (mulberry32), so runs compare. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Rows as a busy site produces them: one every 10 ms (100 req/s over the whole run), from 100,000
 * addresses of which a few are heavy hitters (the cube skews towards low numbers).
 */
function rowMaker(seed = 42): (index: number) => LogRow {
  const next = random(seed);
  return (index) => {
    const k = Math.floor(100_000 * next() ** 3);
    return {
      ts: T0 + index * 10,
      ip: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
      method: index % 10 === 0 ? "POST" : "GET",
      path: `/api/items/${index % 5_000}`,
      status: index % 50 === 0 ? 404 : 200,
      duration_ms: 1 + (index % 7) / 3,
      user_agent: USER_AGENT,
      referer: null,
      country_code: "DE",
      country: "Germany",
      city: "Berlin",
      decision: "allow",
      rule: null,
      user: null,
    };
  };
}

function tempDb(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "ipward-bench-log-"));
  return { path: join(dir, "ipward.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const perSecond = (rows: number, ms: number) => rows / (ms / 1000);

/**
 * Raw insert speed of one driver: the store's encoded batches (texts as ids, one symbol table, as
 * the log worker inserts) against the version 1 layout — the same rows with every text bound as
 * text, into a table shaped like the old request_log — in the same run.
 */
function rawInserts(name: string, driver: SqlDriver, rows: number): void {
  const make = rowMaker();
  const batches = Array.from({ length: rows / BATCH }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => make(b * BATCH + i)),
  );

  const encoded = tempDb();
  const store = openStore(encoded.path, { driver });
  const symbols = new LogSymbolTable();
  let started = performance.now();
  for (const batch of batches) store.insertEncodedLogs(encodeLogRows(batch)!, symbols);
  const encodedRate = perSecond(rows, performance.now() - started);
  store.close();
  encoded.cleanup();

  const textual = tempDb();
  const db = driver(textual.path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(`CREATE TABLE request_log (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ip TEXT NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, status INTEGER NOT NULL, duration_ms REAL NOT NULL, user_agent TEXT, referer TEXT, country_code TEXT,
    country TEXT, city TEXT, decision TEXT NOT NULL, rule TEXT, "user" TEXT) STRICT;
    CREATE INDEX request_log_ts_ip ON request_log (ts, ip)`);
  const perStatement = 64;
  const inserts = new Map<number, ReturnType<typeof db.prepare>>();
  const insertOf = (n: number) => {
    let statement = inserts.get(n);
    if (!statement) {
      statement = db.prepare(
        `INSERT INTO request_log (ts, ip, method, path, status, duration_ms, user_agent, referer, country_code, country, city, decision, rule, "user") VALUES ${Array(n).fill(`(${Array(14).fill("?").join(", ")})`).join(", ")}`,
      );
      inserts.set(n, statement);
    }
    return statement;
  };
  const values: (string | number | null)[] = [];
  started = performance.now();
  for (const batch of batches) {
    db.transaction(() => {
      for (let i = 0; i < batch.length; i += perStatement) {
        values.length = 0;
        for (const row of batch.slice(i, i + perStatement)) {
          values.push(row.ts, row.ip, row.method, row.path, row.status, row.duration_ms, row.user_agent, row.referer, row.country_code, row.country, row.city, row.decision, row.rule, row.user);
        }
        insertOf(values.length / 14).runValues(values);
      }
    });
  }
  const textualRate = perSecond(rows, performance.now() - started);
  db.close();
  textual.cleanup();

  console.log(
    `  ${name.padEnd(12)} encoded batches ${count(encodedRate).padStart(9)} rows/s   every text bound as text (version 1 layout) ${count(textualRate).padStart(9)} rows/s   ${(encodedRate / textualRate).toFixed(2)}×`,
  );
}

/**
 * Sustained throughput: writes `rows` rows a slice per event-loop turn (so flush timers fire, as in
 * a server), holding back while the buffer is full so that the figure is what the writer keeps up
 * with rather than how fast rows can be dropped; then closes. Every row must reach the database.
 */
async function endToEnd(rows: number, inline: boolean): Promise<{ ms: number; written: number; dropped: number; writeMs: number }> {
  const make = rowMaker();
  const prepared = Array.from({ length: rows }, (_, i) => make(i));
  const db = tempDb();
  const bufferSize = 100_000;
  const writer = new LogWriter({ path: db.path, inline, bufferSize });
  await writer.flush();
  const slice = 1_000;
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  // Waiting on a timer, not spinning on setImmediate, leaves the CPU to the worker as an idle server would.
  const backOff = () => new Promise((resolve) => setTimeout(resolve, 1));
  let writeMs = 0;
  const started = performance.now();
  for (let start = 0; start < rows; start += slice) {
    while (writer.stats().buffered + slice > bufferSize) await backOff();
    const writeStarted = performance.now();
    for (let i = start; i < start + slice && i < rows; i++) writer.write(prepared[i]);
    writeMs += performance.now() - writeStarted;
    await nextTurn();
  }
  await writer.close();
  const ms = performance.now() - started;
  const { written, dropped } = writer.stats();
  const stored = openStore(db.path, { driver: openBunSqlite });
  const count = stored.countLogs();
  stored.close();
  db.cleanup();
  if (count !== written) throw new Error(`writer says ${written} rows, database has ${count}`);
  return { ms, written, dropped, writeMs };
}

/** ns per write() on the request path, against a bare Array.push of the same rows. */
async function writeCost(rows: number): Promise<{ writeNs: number; pushNs: number }> {
  const make = rowMaker();
  const prepared = Array.from({ length: rows }, (_, i) => make(i));
  const db = tempDb();
  // Nothing is sent during the loop (no event-loop turn), so this times write() alone.
  const writer = new LogWriter({ path: db.path, bufferSize: rows, batchSize: rows, inline: true });
  let started = performance.now();
  for (const row of prepared) writer.write(row);
  const writeNs = ((performance.now() - started) * 1e6) / rows;
  const plain: LogRow[] = [];
  started = performance.now();
  for (const row of prepared) plain.push(row);
  const pushNs = ((performance.now() - started) * 1e6) / rows;
  await writer.close();
  db.cleanup();
  return { writeNs, pushNs };
}

/** --serve <none|worker|inline>: the server wrk drives in --http. Prints its port, logs each request. */
async function serve(mode: string): Promise<void> {
  const db = tempDb();
  const writer = mode === "none" ? null : new LogWriter({ path: db.path, inline: mode === "inline" });
  const server = Bun.serve({
    port: 0,
    fetch(request) {
      const started = performance.now();
      const response = new Response('{"message":"ok"}', { headers: { "content-type": "application/json" } });
      writer?.write({
        ts: Date.now(),
        ip: "203.0.113.9",
        method: request.method,
        path: new URL(request.url).pathname,
        status: 200,
        duration_ms: performance.now() - started,
        user_agent: request.headers.get("user-agent"),
        referer: request.headers.get("referer"),
        country_code: "DE",
        country: "Germany",
        city: "Berlin",
        decision: "allow",
        rule: null,
        user: null,
      });
      return response;
    },
  });
  console.log(server.port);
  process.on("SIGTERM", async function drainAndExit() {
    server.stop();
    await writer?.close();
    console.error(JSON.stringify(writer?.stats() ?? null));
    db.cleanup();
    process.exit(0);
  });
}

/** wrk against the --serve server in each mode, interleaved rounds; prints medians and ratios to "none". */
async function httpComparison(): Promise<void> {
  const modes = ["none", "worker", "inline"] as const;
  const results: Record<string, { rps: number[]; p99: number[]; dropped: number }> = {};
  for (const mode of modes) results[mode] = { rps: [], p99: [], dropped: 0 };
  const scriptDir = mkdtempSync(join(tmpdir(), "ipward-bench-wrk-"));
  const script = prepareScript(scriptDir, null);
  for (let round = 0; round < 3; round++) {
    for (const mode of modes) {
      const child = spawnChild([process.execPath, import.meta.path, "--serve", mode], { stdout: "pipe", stderr: "pipe" });
      const reader = child.stdout.getReader();
      const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
      const result = await runWrk(`http://127.0.0.1:${port}/items/1`, script, { connections: 64, seconds: 8 });
      child.kill("SIGTERM");
      const stats = JSON.parse((await new Response(child.stderr).text()).trim() || "null") as { dropped: number } | null;
      await child.exited;
      results[mode].rps.push(result.requestsPerSecond);
      results[mode].p99.push(result.p99Ms);
      results[mode].dropped += stats?.dropped ?? 0;
    }
  }
  rmSync(scriptDir, { recursive: true, force: true });
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const base = { rps: median(results.none.rps), p99: median(results.none.p99) };
  console.log("\nHTTP: Bun.serve logging every request, wrk -t1 -c64 8 s × 3 interleaved rounds (medians)");
  for (const mode of modes) {
    const rps = median(results[mode].rps);
    const p99 = median(results[mode].p99);
    const vsBase = mode === "none" ? "baseline" : `${(rps / base.rps).toFixed(2)}× rps, p99 +${(p99 - base.p99).toFixed(2)} ms, dropped ${results[mode].dropped}`;
    console.log(`  ${mode.padEnd(7)} ${count(rps).padStart(9)} req/s   p99 ${p99.toFixed(2)} ms   ${vsBase}`);
  }
}

/** Insert speed and ip-query time for each request_log_entry index choice, on a table already holding rows. */
function indexStudy(): void {
  const variants: [string, string | null][] = [
    ["(ts)", "DROP INDEX request_log_entry_ts_ip; CREATE INDEX study ON request_log_entry (ts)"],
    ["(ts, ip)", null],
    ["(ts) + (ip)", "DROP INDEX request_log_entry_ts_ip; CREATE INDEX study_ts ON request_log_entry (ts); CREATE INDEX study ON request_log_entry (ip)"],
    ["(ts) + (ip, ts)", "DROP INDEX request_log_entry_ts_ip; CREATE INDEX study_ts ON request_log_entry (ts); CREATE INDEX study ON request_log_entry (ip, ts)"],
  ];
  const preload = numberOption("--preload", 2_000_000);
  const measured = 400_000;
  console.log(`\nIndex study: insert ${count(measured)} rows into a table holding ${count(preload)}; then queries by ip`);
  for (const [name, ddl] of variants) {
    const db = tempDb();
    const store = openStore(db.path, { driver: openBunSqlite });
    if (ddl) {
      // Study only: the shipped schema is the one in migrations.ts.
      const raw = openBunSqlite(db.path);
      raw.exec(ddl);
      raw.close();
    }
    const make = rowMaker();
    for (let start = 0; start < preload; start += BATCH) store.insertLogBatch(Array.from({ length: BATCH }, (_, i) => make(start + i)));
    const batches = Array.from({ length: measured / BATCH }, (_, b) =>
      Array.from({ length: BATCH }, (_, i) => make(preload + b * BATCH + i)),
    );
    let started = performance.now();
    for (const batch of batches) store.insertLogBatch(batch);
    const rate = perSecond(measured, performance.now() - started);
    const heavy = "10.0.0.0";
    const seen = new Map<string, number>();
    for (const row of store.queryLogs({ limit: 100_000 })) seen.set(row.ip, (seen.get(row.ip) ?? 0) + 1);
    const occasional = [...seen].find(([, n]) => n >= 3 && n <= 10)?.[0] ?? heavy;
    const timed = (run: () => number) => {
      started = performance.now();
      const found = run();
      return `${(performance.now() - started).toFixed(1)} ms (${found})`;
    };
    const lastHour = T0 + (preload + measured - 360_000) * 10;
    console.log(
      `  ${name.padEnd(16)} ${count(rate).padStart(8)} rows/s | logs --ip heavy ${timed(() => store.queryLogs({ ip: heavy }).length)}` +
        ` | occasional ${timed(() => store.queryLogs({ ip: occasional }).length)}` +
        ` | unseen ${timed(() => store.queryLogs({ ip: "192.0.2.1" }).length)}` +
        ` | occasional --since 1h ${timed(() => store.queryLogs({ ip: occasional, since: lastHour }).length)}` +
        ` | forget occasional ${timed(() => store.forgetIp(occasional))}`,
    );
    store.close();
    db.cleanup();
  }
}

async function main(): Promise<void> {
  const serveMode = process.argv.indexOf("--serve");
  if (serveMode !== -1) return serve(process.argv[serveMode + 1] ?? "worker");

  const rows = numberOption("--rows", 1_000_000);
  console.log(`Request log on Bun ${Bun.version}: ${count(rows)} rows, batches of ${BATCH}\n`);

  console.log("Raw inserts (one transaction per batch):");
  rawInserts("bun:sqlite", openBunSqlite, Math.min(rows, 400_000));
  rawInserts("node:sqlite", openNodeSqlite, Math.min(rows, 400_000));

  const cost = await writeCost(rows);
  console.log(`\nwrite() on the request path: ${cost.writeNs.toFixed(1)} ns/row (bare Array.push ${cost.pushNs.toFixed(1)} ns/row)`);

  console.log(`\nLogWriter end to end (write ${count(rows)} rows a slice per event-loop turn, then close):`);
  for (const inline of [false, true]) {
    const run = await endToEnd(rows, inline);
    const rate = perSecond(run.written, run.ms);
    const verdict = run.dropped === 0 && rate >= TARGET_ROWS_PER_S ? "pass" : "MISS";
    console.log(
      `  ${(inline ? "inline" : "worker").padEnd(7)} ${count(rate).padStart(9)} rows/s  (${(run.ms / 1000).toFixed(2)} s, ` +
        `written ${count(run.written)}, dropped ${count(run.dropped)}, main thread in write() ${run.writeMs.toFixed(0)} ms)` +
        `  target ≥ ${count(TARGET_ROWS_PER_S)} rows/s: ${verdict}`,
    );
  }

  if (flag("--http")) await httpComparison();
  if (flag("--index-study")) indexStudy();
}

await main();
