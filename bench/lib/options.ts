import { parseArgs } from "node:util";
import { SCENARIOS, type Scenario } from "./scenarios.ts";

/** Settings of one benchmark run, from flags > BENCH_* environment > defaults. */
export interface BenchOptions {
  scenarios: Scenario[];
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** How long to wait before each round for other processes to leave the machine alone. */
  quietWaitSeconds: number;
  redisUrl: string;
  record: boolean;
  /** A/A mode: the baseline is measured against a second baseline process instead of ipward. */
  self: boolean;
  /** Floor mode: the baseline is measured against bench/floor.ts (the scenario's least work) instead of ipward. */
  floor: boolean;
}

export const USAGE = `usage: bun bench/run.ts [scenario ...] [options]

Starts the bare-Elysia baseline and ipward as separate processes on this Bun, drives them with wrk
in interleaved rounds (baseline, ipward, baseline, ipward, ...) and prints medians and ratios.

scenarios (default: all):
${SCENARIOS.map((s) => `  ${s.name.padEnd(16)}${s.title}`).join("\n")}

options:
  --rounds N         measured rounds per server              (BENCH_ROUNDS, default 5)
  --seconds S        length of one round in seconds          (BENCH_SECONDS, default 5)
  --warmup S         warm-up per server before the rounds    (BENCH_WARMUP, default 3; 0 = none)
  --connections C    wrk connections (wrk runs with -t1)     (BENCH_CONNECTIONS, default 50)
  --quiet-wait S     wait up to S s before each round for other
                     processes to go quiet                   (BENCH_QUIET_WAIT, default 15)
  --redis URL        Redis for redis-limiter                 (BENCH_REDIS_URL, default redis://127.0.0.1:6379)
  --record           append the summary to bench/RESULTS.md (nothing is written otherwise)
  --self             A/A run: baseline against a second baseline, to see the harness's noise floor
  --floor            baseline against bench/floor.ts, the least work same-ip and random-xff
                     demand (socket IP, X-Forwarded-For, geolocation, SQLite log) on a plain
                     Bun.serve: the best ratio any implementation of those scenarios can reach
  -h, --help         this text
`;

/** A command-line or environment value the benchmark cannot use. */
export class UsageError extends Error {}

function positiveInteger(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The benchmark only ever loads this machine: Redis must be on a loopback address. */
function isLoopbackRedis(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === "redis:" || url.protocol === "rediss:") && ["127.0.0.1", "[::1]"].includes(url.hostname);
  } catch {
    return false;
  }
}

/** Parses argv (without the runtime and script) and the environment; throws UsageError on bad input. */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rounds: { type: "string" },
        seconds: { type: "string" },
        warmup: { type: "string" },
        connections: { type: "string" },
        "quiet-wait": { type: "string" },
        redis: { type: "string" },
        record: { type: "boolean", default: false },
        self: { type: "boolean", default: false },
        floor: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";

  const unknown = positionals.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  }
  if (values.record && (values.self || values.floor)) {
    throw new UsageError(`--record records ipward's figures; it cannot be combined with --${values.self ? "self" : "floor"}`);
  }
  if (values.self && values.floor) throw new UsageError("--self and --floor each replace ipward; choose one");
  const floorable = SCENARIOS.filter((s) => s.config === null && !s.redis);
  const unfloorable = positionals.filter((name) => !floorable.some((s) => s.name === name));
  if (values.floor && unfloorable.length > 0) {
    throw new UsageError(`--floor covers ${floorable.map((s) => s.name).join(" and ")} (no rate limiting in the floor), not ${unfloorable.join(", ")}`);
  }
  const redisUrl = values.redis ?? env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
  if (!isLoopbackRedis(redisUrl)) {
    throw new UsageError(`--redis must be a redis:// URL on 127.0.0.1 or [::1], got ${JSON.stringify(redisUrl)}`);
  }
  return {
    scenarios: positionals.length > 0 ? SCENARIOS.filter((s) => positionals.includes(s.name)) : values.floor ? floorable : SCENARIOS,
    rounds: positiveInteger("--rounds", values.rounds ?? env.BENCH_ROUNDS ?? "5", 1, 100),
    seconds: positiveInteger("--seconds", values.seconds ?? env.BENCH_SECONDS ?? "5", 1, 600),
    warmupSeconds: positiveInteger("--warmup", values.warmup ?? env.BENCH_WARMUP ?? "3", 0, 600),
    connections: positiveInteger("--connections", values.connections ?? env.BENCH_CONNECTIONS ?? "50", 1, 10_000),
    quietWaitSeconds: positiveInteger("--quiet-wait", values["quiet-wait"] ?? env.BENCH_QUIET_WAIT ?? "15", 1, 600),
    redisUrl,
    record: values.record,
    self: values.self,
    floor: values.floor,
  };
}
