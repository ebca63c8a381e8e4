import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KEEP_FREED_MEMORY, PURGE_DELAY_VARIABLE } from "../../src/cli/allocator.ts";
import { makeTempDir, removeTempDir } from "./cleanup.ts";
import { CpuMeter, settle } from "./cpu.ts";
import type { BenchOptions } from "./options.ts";
import { deleteKeys, localRedisPid, redisProblem } from "./redis.ts";
import { countLoggedRequests } from "./request-log.ts";
import type { Scenario } from "./scenarios.ts";
import { freePort, outputTail, request, type ServerProcess, type StopOutcome, startServer, stopServer, waitUntilReady } from "./servers.ts";
import { median, medians, type ServerFigures } from "./stats.ts";
import { prepareScript, runWrk, type WrkResult } from "./wrk.ts";

/** One wrk run against one server, with the CPU it cost and how busy the rest of the machine was. */
export interface RunResult extends WrkResult {
  /**
   * CPU time (all threads) the driven server spent per answered request, in µs. Unlike req/s it
   * hardly moves when other processes compete for the cores.
   */
  cpuMicrosPerRequest: number | null;
  /** CPU the local redis-server spent per answered request, in µs; null when it is not watched. */
  redisCpuMicrosPerRequest: number | null;
  /** CPU used by processes other than the servers, Redis and wrk, in cores; null without /proc. */
  outsideCores: number | null;
}

/** A scenario that ran: per-round results, medians and what ipward logged. */
export interface MeasuredScenario {
  status: "measured";
  scenario: Scenario;
  rounds: { baseline: RunResult; target: RunResult }[];
  baseline: ServerFigures;
  target: ServerFigures;
  /** Median target req/s over median baseline req/s. */
  ratio: number;
  /** Median target p99 minus median baseline p99. */
  addedP99Ms: number;
  /** Rows in ipward's request_log against the responses the harness and wrk received; null in --self mode. */
  logging: { rows: number | null; answered: number; inFlightBound: number } | null;
  stop: StopOutcome | null;
  /** Median seconds until both servers were idle after a target round (log flushing shows up here). */
  targetSettleSeconds: number;
  /** Peak resident memory of ipward over the scenario; null in --self mode or without /proc. */
  targetPeakRssMiB: number | null;
  /** Median CPU redis-server spent per target request, in µs; null unless Redis is used and local. */
  redisCpuMicrosPerRequest: number | null;
  warnings: string[];
}

export interface SkippedScenario {
  status: "skipped";
  scenario: Scenario;
  reason: string;
}

export type ScenarioResult = MeasuredScenario | SkippedScenario;

/** Where the benchmark runs from and how it reports progress. */
export interface RunContext {
  repoRoot: string;
  targetLabel: string;
  progress: (line: string) => void;
}

const BASELINE_READY_MS = 15_000;
const IPWARD_READY_MS = 60_000;
const IPWARD_DRAIN_MS = 30_000;
/** Outside load (in cores) above which a round is flagged: on 2 cores, a tenth of the machine. */
const OUTSIDE_LOAD_WARNING_CORES = 0.2;

interface ServerTotals {
  runs: number;
  answered: number;
  statusErrors: number;
  socketErrors: number;
}

function targetCommand(scenario: Scenario, options: BenchOptions, repoRoot: string, port: number, dir: string, redisKeyPrefix: string): string[] {
  if (options.self) return [process.execPath, join(repoRoot, "bench", "baseline.ts"), String(port)];
  const dataDir = join(dir, "data");
  mkdirSync(dataDir);
  if (options.floor) return [process.execPath, join(repoRoot, "bench", "floor.ts"), String(port), dataDir];
  const cmd = [process.execPath, join(repoRoot, "src", "main.ts"), "serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir];
  if (scenario.config !== null) {
    const configPath = join(dir, "ipward.toml");
    writeFileSync(configPath, scenario.config(redisKeyPrefix));
    cmd.push("--config", configPath);
  }
  if (scenario.redis) cmd.push("--redis", options.redisUrl);
  return cmd;
}

/** Peak resident memory of a process in MiB, from /proc (null elsewhere). */
function peakRssMiB(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function probeTarget(scenario: Scenario, target: ServerProcess, warnings: string[]): Promise<void> {
  const response = await request(target, scenario.probe.headers);
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    warnings.push(`probe GET / did not return JSON: ${text.slice(0, 200)}`);
  }
  if (response.status !== 200) warnings.push(`probe GET / answered ${response.status}`);
  const problem = scenario.probe.verify(response, body);
  if (problem !== null) warnings.push(`probe: ${problem}`);
}

const perRequest = (seconds: number | null | undefined, requests: number) =>
  seconds === null || seconds === undefined || requests === 0 ? null : (seconds / requests) * 1e6;

/** Starts both servers, warms them up, runs the interleaved rounds, stops them and collects the figures. */
export async function runScenario(scenario: Scenario, options: BenchOptions, context: RunContext): Promise<ScenarioResult> {
  const { progress, targetLabel } = context;
  const usesRedis = scenario.redis && !options.self;
  if (usesRedis) {
    const problem = await redisProblem(options.redisUrl);
    if (problem !== null) return { status: "skipped", scenario, reason: problem };
  }
  const dir = makeTempDir(`ipward-bench-${scenario.name}-`);
  const redisKeyPrefix = `ipward-bench-${crypto.randomUUID().slice(0, 8)}:`;
  const servers: ServerProcess[] = [];
  let redisCleaned = !usesRedis;
  try {
    const [baselinePort, targetPort] = [await freePort(), await freePort()];
    const baseline = startServer("baseline", [process.execPath, join(context.repoRoot, "bench", "baseline.ts"), String(baselinePort)], baselinePort, dir, context.repoRoot);
    servers.push(baseline);
    const targetCmd = targetCommand(scenario, options, context.repoRoot, targetPort, dir, redisKeyPrefix);
    // The floor gets the allocator setting ipward's serve gives itself (src/cli/allocator.ts).
    const targetEnv = options.floor ? { ...process.env, [PURGE_DELAY_VARIABLE]: KEEP_FREED_MEMORY } : undefined;
    const target = startServer(targetLabel, targetCmd, targetPort, dir, context.repoRoot, targetEnv);
    servers.push(target);
    await Promise.all([waitUntilReady(baseline, BASELINE_READY_MS), waitUntilReady(target, IPWARD_READY_MS)]);

    const warnings: string[] = [];
    if (!options.self) await probeTarget(scenario, target, warnings);

    // Redis works for ipward in this scenario: its CPU is part of the cost, not outside load.
    const redisPid = usesRedis ? await localRedisPid(options.redisUrl) : null;
    const watched = [...servers.map((s) => s.child.pid), ...(redisPid === null ? [] : [redisPid])];
    const meter = new CpuMeter(watched);
    const script = prepareScript(dir, scenario.wrkScript);
    const load = { connections: options.connections, seconds: options.seconds };
    const totals = new Map<ServerProcess, ServerTotals>(servers.map((s) => [s, { runs: 0, answered: 0, statusErrors: 0, socketErrors: 0 }]));

    const drive = async (server: ServerProcess, seconds: number): Promise<RunResult> => {
      const start = meter.sample();
      let wrkResult: WrkResult;
      try {
        wrkResult = await runWrk(server.url, script, load, seconds);
      } catch (error) {
        const { exitCode, signalCode } = server.child;
        if (exitCode === null && signalCode === null) throw error;
        throw new Error(`${server.label} exited (${exitCode ?? signalCode}) during the benchmark:\n${outputTail(server)}`);
      }
      const usage = meter.since(start, wrkResult.seconds, wrkResult.wrkCpuSeconds);
      const total = totals.get(server) as ServerTotals;
      total.runs += 1;
      total.answered += wrkResult.requests;
      total.statusErrors += wrkResult.statusErrors;
      total.socketErrors += wrkResult.socketErrors;
      return {
        ...wrkResult,
        cpuMicrosPerRequest: perRequest(usage.processSeconds[servers.indexOf(server)], wrkResult.requests),
        redisCpuMicrosPerRequest: redisPid === null ? null : perRequest(usage.processSeconds[servers.length], wrkResult.requests),
        outsideCores: usage.outsideCores,
      };
    };

    const quietWaitMs = options.quietWaitSeconds * 1000;
    if (options.warmupSeconds > 0) {
      progress(`  warm-up ${options.warmupSeconds} s each`);
      await drive(baseline, options.warmupSeconds);
      await settle(watched, quietWaitMs);
      await drive(target, options.warmupSeconds);
    }
    const rounds: MeasuredScenario["rounds"] = [];
    const settleSeconds: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const settled = await settle(watched, quietWaitMs);
      if (round > 1 || options.warmupSeconds > 0) settleSeconds.push(settled.serversIdleSeconds);
      const baselineResult = await drive(baseline, options.seconds);
      await settle(watched, quietWaitMs);
      const targetResult = await drive(target, options.seconds);
      rounds.push({ baseline: baselineResult, target: targetResult });
      progress(
        `  round ${round}/${options.rounds}: baseline ${Math.round(baselineResult.requestsPerSecond)} req/s p99 ${baselineResult.p99Ms.toFixed(2)} ms · ` +
          `${targetLabel} ${Math.round(targetResult.requestsPerSecond)} req/s p99 ${targetResult.p99Ms.toFixed(2)} ms`,
      );
    }
    settleSeconds.push((await settle(watched, quietWaitMs)).serversIdleSeconds);

    const busyRounds = rounds
      .map((round, i) => ({ round: i + 1, cores: Math.max(round.baseline.outsideCores ?? 0, round.target.outsideCores ?? 0) }))
      .filter((r) => r.cores >= OUTSIDE_LOAD_WARNING_CORES);
    if (busyRounds.length > 0) {
      warnings.push(
        `other processes used up to ${Math.max(...busyRounds.map((r) => r.cores)).toFixed(2)} cores during round ${busyRounds.map((r) => r.round).join(", ")}: ` +
          "req/s and p99 of those rounds are depressed (CPU/req much less so); rerun on a quiet machine for figures to record",
      );
    }
    for (const [server, total] of totals) {
      if (total.statusErrors > 0) warnings.push(`${server.label} answered ${total.statusErrors} requests with a non-2xx/3xx status`);
      if (total.socketErrors > 0) warnings.push(`wrk saw ${total.socketErrors} connect/read/write/timeout errors against ${server.label}`);
    }
    if (usesRedis && redisPid === null) warnings.push("redis-server is not a local process: its CPU counts as outside load");

    let logging: MeasuredScenario["logging"] = null;
    let stop: StopOutcome | null = null;
    let peak: number | null = null;
    if (!options.self) {
      peak = peakRssMiB(target.child.pid);
      stop = await stopServer(target, IPWARD_DRAIN_MS);
      if (stop.killed || stop.exitCode !== 0) warnings.push(`ipward's last output:\n${outputTail(target, 10)}`);
      const total = totals.get(target) as ServerTotals;
      logging = {
        rows: countLoggedRequests(join(dir, "data")),
        answered: total.answered + target.harnessResponses,
        inFlightBound: total.runs * options.connections,
      };
    }
    if (usesRedis) {
      const keys = await deleteKeys(options.redisUrl, redisKeyPrefix);
      redisCleaned = true;
      if (keys === 0) warnings.push(`no Redis keys under "${redisKeyPrefix}": ipward's limiter did not use Redis (memory fallback?)`);
    }

    const baselineFigures = medians(rounds.map((r) => r.baseline));
    const targetFigures = medians(rounds.map((r) => r.target));
    const redisCpu = rounds.map((r) => r.target.redisCpuMicrosPerRequest).filter((us): us is number => us !== null);
    return {
      status: "measured",
      scenario,
      rounds,
      baseline: baselineFigures,
      target: targetFigures,
      ratio: targetFigures.requestsPerSecond / baselineFigures.requestsPerSecond,
      addedP99Ms: targetFigures.p99Ms - baselineFigures.p99Ms,
      logging,
      stop,
      targetSettleSeconds: median(settleSeconds),
      targetPeakRssMiB: peak,
      redisCpuMicrosPerRequest: redisCpu.length === rounds.length ? median(redisCpu) : null,
      warnings,
    };
  } finally {
    await Promise.all(servers.map((server) => stopServer(server, 5_000)));
    if (!redisCleaned) await deleteKeys(options.redisUrl, redisKeyPrefix).catch(() => 0);
    removeTempDir(dir);
  }
}
