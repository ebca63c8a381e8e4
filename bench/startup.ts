/**
 * Start-up of the single binary: its size, and the time from spawn to the first successful
 * `GET /` (median of N runs, each in a fresh empty directory, so every run creates its database).
 * Baseline in the same run: a bare `Bun.serve` answering 200, compiled the same way, which is what
 * start-up would cost with ipward doing nothing. Goal: ipward under 60 ms.
 *
 * Usage: `bun bench/startup.ts [--runs 5] [--binary dist/ipward] [--record]`
 * (builds dist/ipward first when it is missing; `--record` appends to bench/RESULTS.md).
 */
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const repoRoot = join(import.meta.dir, "..");
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string", default: "5" },
    binary: { type: "string", default: join(repoRoot, "dist", "ipward") },
    record: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const binary = values.binary;
const GOAL_MS = 60;
const BUN = process.execPath;

if (!existsSync(binary)) {
  const build = Bun.spawnSync([BUN, join(repoRoot, "build.ts")], { cwd: repoRoot, stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("bun build.ts failed");
}

/** A port nobody listens on right now. */
function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const { port } = server;
  server.stop(true);
  return port!;
}

/** Spawns `command` in an empty directory and polls GET / until it answers 200; returns the ms taken. */
async function timeToFirst200(command: (port: number) => string[], file: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "ipward-startup-"));
  const local = join(dir, "app");
  copyFileSync(file, local);
  const port = freePort();
  const started = performance.now();
  const child = Bun.spawn(command(port).map((part) => (part === "@app" ? local : part)), {
    cwd: dir,
    env: { PATH: "/usr/bin:/bin", HOME: dir },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    for (;;) {
      if (performance.now() - started > 10_000) throw new Error(`${file} did not answer within 10 s`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        await response.arrayBuffer();
        if (response.status === 200) return performance.now() - started;
      } catch {
        // Not listening yet.
      }
      await Bun.sleep(1);
    }
  } finally {
    child.kill("SIGTERM");
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The baseline: a compiled bare Bun.serve (built once into a temp dir). */
function buildBaseline(): { file: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "ipward-startup-baseline-"));
  const source = join(dir, "bare.ts");
  writeFileSync(source, 'Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2]), fetch: () => Response.json({ ok: true }) });\n');
  const outfile = join(dir, "bare");
  const build = Bun.spawnSync([BUN, "build", source, "--compile", "--minify", "--bytecode", "--outfile", outfile], { stdout: "ignore", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("building the baseline failed");
  return { file: outfile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const baseline = buildBaseline();
const ipwardTimes: number[] = [];
const baselineTimes: number[] = [];
// One warm-up of each (page cache), then interleaved runs so machine noise hits both alike.
await timeToFirst200((port) => ["@app", "serve", "--port", String(port)], binary);
await timeToFirst200((port) => ["@app", String(port)], baseline.file);
for (let i = 0; i < runs; i++) {
  ipwardTimes.push(await timeToFirst200((port) => ["@app", "serve", "--port", String(port)], binary));
  baselineTimes.push(await timeToFirst200((port) => ["@app", String(port)], baseline.file));
}
const baselineSize = statSync(baseline.file).size;
baseline.cleanup();

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const size = statSync(binary).size;
const ipwardMedian = median(ipwardTimes);
const baselineMedian = median(baselineTimes);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(", ");
// Start-up is CPU-bound on 2 cores: other load shows directly in the figures, so record it with them.
const loadAverage = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const lines = [
  `machine: ${navigator.hardwareConcurrency} cores, load average ${loadAverage} (1, 5, 15 min) at the end of the run`,
  `binary: ${mb(size)} (bare Bun.serve compiled: ${mb(baselineSize)}, so ipward adds ${mb(size - baselineSize)})`,
  `start to first 200, median of ${runs}: ipward ${ipwardMedian.toFixed(1)} ms, best ${Math.min(...ipwardTimes).toFixed(1)} ms [${fmt(ipwardTimes)}]`,
  `                                  bare Bun.serve ${baselineMedian.toFixed(1)} ms, best ${Math.min(...baselineTimes).toFixed(1)} ms [${fmt(baselineTimes)}]`,
  `ipward adds ${(ipwardMedian - baselineMedian).toFixed(1)} ms; goal < ${GOAL_MS} ms: ${ipwardMedian < GOAL_MS ? "met" : "NOT met"}`,
];
console.log(lines.join("\n"));

if (values.record) {
  const day = new Date().toISOString().slice(0, 10);
  const section = [
    "",
    `### ${day} — single binary: size and start-up (bench/startup.ts)`,
    "",
    "```",
    ...lines,
    "```",
    "",
  ].join("\n");
  appendFileSync(join(repoRoot, "bench", "RESULTS.md"), section);
  console.log("recorded in bench/RESULTS.md");
}
