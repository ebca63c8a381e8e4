import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnChild } from "./cleanup.ts";

const WRK_DIR = join(import.meta.dir, "..", "wrk");

/** One wrk run, as reported by bench/wrk/summary.lua. */
export interface WrkResult {
  /** Responses wrk received (it does not count requests still in flight when it stops). */
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx responses. */
  statusErrors: number;
  /** Connect, read, write and timeout errors. */
  socketErrors: number;
  /** Wall time of the run and CPU time wrk itself used, in seconds. */
  seconds: number;
  wrkCpuSeconds: number;
}

/** Settings shared by every wrk run of a benchmark. */
export interface WrkLoad {
  connections: number;
  seconds: number;
}

/**
 * Writes the wrk script for a scenario into `dir`: its request generator (if any) followed by the
 * summary hook, since wrk takes a single script. Returns the script's path.
 */
export function prepareScript(dir: string, scenarioScript: string | null): string {
  const summary = readFileSync(join(WRK_DIR, "summary.lua"), "utf8");
  const generator = scenarioScript === null ? "" : `${readFileSync(join(WRK_DIR, scenarioScript), "utf8")}\n`;
  const path = join(dir, `wrk-${scenarioScript ?? "plain"}`);
  writeFileSync(path, `${generator}${summary}`);
  return path;
}

/** Checks that wrk is installed and returns its version line. */
export async function wrkVersion(): Promise<string> {
  try {
    const child = spawnChild(["wrk", "--version"], { stdout: "pipe", stderr: "pipe" });
    const output = await new Response(child.stdout).text();
    await child.exited;
    return output.split("\n")[0]?.trim() || "wrk (unknown version)";
  } catch {
    throw new Error("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)");
  }
}

/** Drives `url` with wrk for `seconds` on one thread; killed if it overruns by 30 s. */
export async function runWrk(url: string, script: string, load: WrkLoad, seconds = load.seconds): Promise<WrkResult> {
  // One wrk thread: on a 2-core machine that leaves the other core to the (single-threaded) server.
  const cmd = ["wrk", "-t1", `-c${load.connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", script, url];
  const child = spawnChild(cmd, { stdout: "pipe", stderr: "pipe" });
  const guard = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.exited;
  clearTimeout(guard);
  const line = stdout.split("\n").find((l) => l.startsWith("IPWARD_BENCH "));
  if (child.exitCode !== 0 || line === undefined) {
    throw new Error(`wrk failed (exit ${child.exitCode ?? child.signalCode}): ${cmd.join(" ")}\n${stdout}${stderr}`);
  }
  const report = JSON.parse(line.slice("IPWARD_BENCH ".length)) as {
    requests: number;
    duration_us: number;
    errors: { connect: number; read: number; write: number; status: number; timeout: number };
    latency_us: { p50: number; p99: number };
  };
  const { connect, read, write, status, timeout } = report.errors;
  const cpu = child.resourceUsage()?.cpuTime.total ?? 0n;
  return {
    requests: report.requests,
    requestsPerSecond: report.requests / (report.duration_us / 1e6),
    p50Ms: report.latency_us.p50 / 1000,
    p99Ms: report.latency_us.p99 / 1000,
    statusErrors: status,
    socketErrors: connect + read + write + timeout,
    seconds: report.duration_us / 1e6,
    wrkCpuSeconds: Number(cpu) / 1e6,
  };
}
