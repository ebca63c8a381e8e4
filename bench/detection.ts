/**
 * Detection (SPEC §3), against baselines in the same run:
 *
 * 1. Scheduled run over a request_log holding 10 million rows in the window (~50k IPs, power-law
 *    traffic, 100 attackers), in a temp SQLite file filled with the store's batch insert. Timed:
 *    the steady-state run (the server reads new rows every minute, so a run reads the last minute
 *    and evaluates the rules over the folded window; target < 2 s), the same run with nothing
 *    new, the cold run of a fresh process (`ipward detect` from the CLI reads the whole window),
 *    and as baseline the single `GROUP BY ip` the seed's first rule alone would run.
 * 2. Real-time observer per request on benign traffic (target well under 1 µs), against a no-op
 *    observer that reads the same fields (run first, before the scheduled part fills the heap).
 *
 * Usage: `bun bench/detection.ts [--rows 10000000] [--skip-scheduled] [--skip-realtime]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bench, do_not_optimize, run, summary } from "mitata";
import { validateConfig } from "../src/config/load.ts";
import { RealtimeDetector } from "../src/core/detection/realtime.ts";
import { realtimeScenarios } from "../src/core/detection/scenarios.ts";
import { ScheduledDetector, scheduledRules } from "../src/core/detection/scheduled.ts";
import { detectionSettings } from "../src/core/detection/settings.ts";
import { parseIp } from "../src/core/ip.ts";
import type { RequestFacts, Verdict } from "../src/core/pipeline.ts";
import type { LogRow } from "../src/core/ports.ts";
import { openBunSqlite } from "../src/store/bun-sqlite.ts";
import { openDetectionStore } from "../src/store/detection-store.ts";
import { LogBatchEncoder, LogSymbolTable } from "../src/store/log-batch.ts";
import { openStore } from "../src/store/sqlite-store.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};
const ROWS = Number(option("--rows") ?? 10_000_000);
const IPS = 50_000;
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const settings = detectionSettings(validateConfig({}).detection);

let seed = 12345;
/** xorshift32: every run generates the same traffic. */
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

const COUNTRIES = [["DE", "Germany"], ["US", "United States"], ["FR", "France"], ["GB", "United Kingdom"], ["NL", "Netherlands"], ["BR", "Brazil"], ["IN", "India"], ["JP", "Japan"]] as const;
const BROWSERS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];
const PAGES = ["/", "/products", "/about", "/blog", "/blog/scaling-sqlite", "/blog/why-bun", "/search", "/cart", "/checkout", "/contact", "/static/app.js", "/static/app.css", "/static/logo.svg", "/api/cart", "/api/session"];

interface Client {
  ip: string;
  country: readonly [string, string];
  user: string | null;
}
const clients: Client[] = Array.from({ length: IPS }, (_, i) => ({
  ip: i % 10 === 9 ? `2001:db8:${(i >> 8).toString(16)}::${(i & 255).toString(16)}` : `${11 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.${1 + (i % 250)}`,
  country: pick(COUNTRIES),
  user: i % 4 === 0 ? `user-${i}` : null,
}));
/** Zipf-like weights (s = 1.05): a few IPs send most of the traffic. */
const cumulative = new Float64Array(IPS);
{
  let total = 0;
  for (let i = 0; i < IPS; i++) cumulative[i] = total += 1 / (i + 1) ** 1.05;
  for (let i = 0; i < IPS; i++) cumulative[i] /= total;
}
function zipfClient(): Client {
  const r = random();
  let low = 0;
  let high = IPS - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (cumulative[mid] < r) low = mid + 1;
    else high = mid;
  }
  return clients[low];
}

/** One benign request of `client` at `ts`. */
function benignRow(client: Client, ts: number): LogRow {
  const r = random();
  const path = r < 0.25 ? `/products/${1 + Math.floor(random() * 50_000)}` : r < 0.27 ? `/missing-${Math.floor(random() * 40)}` : r < 0.272 ? "/admin" : r < 0.275 ? "/api/login" : pick(PAGES);
  const status = path.startsWith("/missing") ? 404 : r > 0.995 ? 500 : 200;
  return {
    ts,
    ip: client.ip,
    method: path === "/api/login" ? "POST" : "GET",
    path,
    status,
    duration_ms: 2 + random() * 40,
    user_agent: BROWSERS[client.ip.length % BROWSERS.length],
    referer: null,
    country_code: client.country[0],
    country: client.country[1],
    city: null,
    decision: "allow",
    rule: null,
    user: client.user,
  };
}

/** Attack traffic, spread over the hour: scanners, scrapers, brute forcers, shared accounts. */
function attackRows(): LogRow[] {
  const rows: LogRow[] = [];
  const at = (i: number, n: number) => NOW - 59 * MINUTE + Math.floor((i / n) * 58 * MINUTE);
  for (let a = 0; a < 100; a++) {
    const base = benignRow(clients[IPS - 1 - a], 0);
    const kind = a % 4;
    const n = kind === 0 ? 300 : kind === 1 ? 400 : kind === 2 ? 60 : 30;
    for (let i = 0; i < n; i++) {
      const path = kind === 0 ? `/probe-${i}.php` : kind === 1 ? `/items/${1000 + i}` : kind === 2 ? "/api/login" : pick(PAGES);
      const country = kind === 3 ? COUNTRIES[i % 3] : base.country_code === null ? COUNTRIES[0] : [base.country_code, base.country!];
      rows.push({
        ...base,
        ts: at(i, n),
        method: kind === 2 ? "POST" : "GET",
        path,
        status: kind === 0 ? 404 : kind === 2 ? 401 : 200,
        country_code: country[0],
        country: country[1],
        user: kind === 3 ? `shared-${a}` : null,
      });
    }
  }
  return rows;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

async function scheduledBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ipward-bench-detection-"));
  const path = join(dir, "ipward.db");
  try {
    const store = openStore(path, { driver: openBunSqlite });
    const attacks = attackRows().sort((x, y) => x.ts - y.ts);
    const windowStartTs = NOW - 59.5 * MINUTE;
    const benignCount = ROWS - attacks.length;
    const lastMinute = NOW - MINUTE;
    const BATCH = 100_000;
    let attackAt = 0;
    // Inserted as the server's log writer does: encoded batches sharing one symbol table.
    const encoder = new LogBatchEncoder(BATCH);
    const symbols = new LogSymbolTable();
    let inserted = 0;
    const detection = openDetectionStore(path, { driver: openBunSqlite });
    const detector = new ScheduledDetector({ store: detection, rules: scheduledRules(settings), windowMs: settings.windowMs, sensitivePaths: settings.sensitivePaths });
    let warmedUp = false;
    let warmMs = 0;
    let warmRows = 0;
    const insertStarted = performance.now();
    const flushRows = () => {
      const batch = encoder.take();
      if (batch === null) return;
      store.insertEncodedLogs(batch, symbols);
      inserted += batch.count;
    };
    const add = (row: LogRow) => {
      if (encoder.size === BATCH) flushRows();
      encoder.add(row);
    };
    for (let i = 0; i < benignCount; i++) {
      const ts = windowStartTs + Math.floor((i / benignCount) * (NOW - windowStartTs - 1));
      while (attackAt < attacks.length && attacks[attackAt].ts <= ts) {
        add(attacks[attackAt++]);
      }
      if (!warmedUp && ts >= lastMinute) {
        // The server has been reading every minute: everything before the last minute is folded.
        flushRows();
        const started = performance.now();
        warmRows = await detector.refresh(lastMinute);
        warmMs = performance.now() - started;
        warmedUp = true;
      }
      add(benignRow(zipfClient(), ts));
    }
    while (attackAt < attacks.length) {
      add(attacks[attackAt++]);
    }
    flushRows();
    const insertMs = performance.now() - insertStarted;
    console.log(`request_log: ${inserted.toLocaleString("en")} rows in the window, ${IPS.toLocaleString("en")} IPs, ${attacks.length} attack rows; filled in ${seconds(insertMs)} (${Math.round(inserted / (insertMs / 1000)).toLocaleString("en")} rows/s, batch insert of ${BATCH.toLocaleString("en")})`);
    console.log(`window before the last minute (${warmRows.toLocaleString("en")} rows) read in ${seconds(warmMs)}: the cost the server's per-minute refresh spreads over the hour`);

    const steady = await detector.detect(NOW);
    const rules = Object.entries(Object.groupBy(steady.findings, (f) => f.rule)).map(([rule, list]) => `${rule} ${list!.length}`).join(", ");
    console.log(`scheduled run, steady state (reads the last minute, ${steady.rowsRead.toLocaleString("en")} rows, then every rule): ${seconds(steady.durationMs)}  [${rules}]`);
    const again = await detector.detect(NOW);
    console.log(`scheduled run, nothing new to read: ${seconds(again.durationMs)}`);
    const folded = detector.size();
    Bun.gc(true);
    console.log(`folded window: ${folded.ips.toLocaleString("en")} IPs, ${folded.users.toLocaleString("en")} users; JS heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);
    detection.close();

    const fresh = openDetectionStore(path, { driver: openBunSqlite });
    const cold = await new ScheduledDetector({ store: fresh, rules: scheduledRules(settings), windowMs: settings.windowMs, sensitivePaths: settings.sensitivePaths }).detect(NOW);
    console.log(`scheduled run, cold (fresh process: \`ipward detect\` from the CLI, ${cold.rowsRead.toLocaleString("en")} rows): ${seconds(cold.durationMs)}  [${cold.findings.length} findings]`);
    fresh.close();
    store.close();

    const raw = openBunSqlite(path);
    const started = performance.now();
    const heavy = raw.prepare("SELECT ip, count(*) AS n FROM request_log WHERE ts >= ? GROUP BY ip HAVING count(*) > ?").all(NOW - 60 * MINUTE, settings.requestsPerWindow);
    const baselineMs = performance.now() - started;
    raw.close();
    console.log(`baseline, one GROUP BY ip over request_log (the seed's first rule alone): ${seconds(baselineMs)}  [${heavy.length} IPs]`);
    console.log(`ratios to the baseline: steady run ${(steady.durationMs / baselineMs).toFixed(3)}, cold run ${(cold.durationMs / baselineMs).toFixed(2)}; target < 2 s for the steady run: ${steady.durationMs < 2000 ? "met" : "MISSED"}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Observed {
  row: LogRow;
  verdict: Verdict;
  facts: Pick<RequestFacts, "path" | "query" | "userAgent">;
}

async function realtimeBench(): Promise<void> {
  const QUERIES = ["", "", "", "page=2", "q=red+shoes&sort=price", "utm_source=newsletter&utm_medium=email", "q=caf%C3%A9", "ref=home"];
  const requests: Observed[] = Array.from({ length: 4096 }, (_, i) => {
    const client = clients[i * 7];
    const row = benignRow(client, NOW + i);
    const query = row.path.startsWith("/search") || row.path.startsWith("/products") ? pick(QUERIES) : "";
    return {
      row,
      verdict: { ip: client.ip, parsedIp: parseIp(client.ip), geo: null, decision: "allow", rule: null, allowlisted: false, user: null, headers: null, refusal: null, time: row.ts },
      facts: { path: row.path, query, userAgent: row.user_agent },
    };
  });
  let findings = 0;
  const detector = new RealtimeDetector({ scenarios: realtimeScenarios(settings), report: () => findings++, maxTrackedIps: settings.realtimeMaxIps });
  const noop = (row: LogRow, verdict: Verdict, facts: Observed["facts"]) => {
    do_not_optimize(row.status + verdict.ip.length + facts.path.length + facts.query.length);
  };
  // Each request is a second after the previous one, so that repeated rows leak like real traffic.
  let i = 0;
  let clock = NOW;
  summary(() => {
    bench("baseline: no-op observer reading the same fields", () => {
      const { row, verdict, facts } = requests[i++ & 4095];
      row.ts = clock += 1000;
      noop(row, verdict, facts);
    }).baseline(true);
    bench("RealtimeDetector.observe, benign request", () => {
      const { row, verdict, facts } = requests[i++ & 4095];
      row.ts = clock += 1000;
      detector.observe(row, verdict, facts);
    });
  });
  await run();
  console.log(`findings among benign requests: ${findings}`);
}

// Real-time first: the scheduled part leaves a large heap behind, whose collections would blur the nanoseconds.
if (!args.includes("--skip-realtime")) await realtimeBench();
if (!args.includes("--skip-scheduled")) await scheduledBench();
