import type { Machine } from "./machine.ts";
import type { Target } from "./scenarios.ts";
import type { MeasuredScenario, RunResult, ScenarioResult } from "./scenario-run.ts";
import type { ServerFigures } from "./stats.ts";

const rps = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => `${n.toFixed(2)} ms`;
const ratio = (n: number) => `${n.toFixed(2)}×`;
const cpu = (us: number | null) => (us === null ? "?" : `${us.toFixed(1)} µs`);
const signedMs = (n: number) => `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(2)} ms`;

/** Lays out rows as aligned text columns; the first column is left-aligned, the others right-aligned. */
function textTable(rows: string[][], indent = "  "): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) => indent + row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("   "))
    .join("\n");
}

function targetText(target: Target | null): string {
  if (target === null) return "— (informational)";
  const p99 = target.maxAddedP99Ms === null ? "" : `, p99 added < ${target.maxAddedP99Ms} ms`;
  return `≥ ${target.minRatio.toFixed(2)}×${p99}`;
}

/** "pass", "MISS (…)" or "—" when the scenario has no target. */
export function verdict(result: MeasuredScenario): string {
  const { target } = result.scenario;
  if (target === null) return "—";
  const misses: string[] = [];
  if (result.ratio < target.minRatio) misses.push("ratio");
  if (target.maxAddedP99Ms !== null && result.addedP99Ms >= target.maxAddedP99Ms) misses.push("p99");
  return misses.length === 0 ? "pass" : `MISS (${misses.join(", ")})`;
}

/** `logged X of Y requests` with what the difference means. */
export function loggingLine(result: MeasuredScenario): string | null {
  const { logging } = result;
  if (logging === null) return null;
  if (logging.rows === null) return `logged ? of ${rps(logging.answered)} requests: no ipward.db in the data dir`;
  const difference = logging.rows - logging.answered;
  const head = `logged ${rps(logging.rows)} of ${rps(logging.answered)} requests`;
  if (difference === 0) return `${head}: every request logged`;
  if (difference < 0) return `${head}: ${rps(-difference)} LOST`;
  if (difference <= logging.inFlightBound) {
    return `${head}: 0 lost; the ${rps(difference)} extra rows are requests still in flight when wrk stopped (the server answered and logged them, wrk no longer counted them; at most ${rps(logging.inFlightBound)} = connections × wrk runs)`;
  }
  return `${head}: ${rps(difference)} more rows than requests, beyond the ${rps(logging.inFlightBound)} that can be in flight — unexpected`;
}

function outsideLoad(baseline: RunResult | ServerFigures, target: RunResult | ServerFigures): string {
  if (!("outsideCores" in baseline) || !("outsideCores" in target)) return "";
  if (baseline.outsideCores === null || target.outsideCores === null) return "?";
  return `${baseline.outsideCores.toFixed(2)} / ${target.outsideCores.toFixed(2)}`;
}

function roundRow(label: string, baseline: RunResult | ServerFigures, target: RunResult | ServerFigures): string[] {
  return [
    label,
    rps(baseline.requestsPerSecond),
    ms(baseline.p50Ms),
    ms(baseline.p99Ms),
    cpu(baseline.cpuMicrosPerRequest),
    rps(target.requestsPerSecond),
    ms(target.p50Ms),
    ms(target.p99Ms),
    cpu(target.cpuMicrosPerRequest),
    ratio(target.requestsPerSecond / baseline.requestsPerSecond),
    outsideLoad(baseline, target),
  ];
}

/** The per-round table, medians, ratio line and logging line of one scenario. */
export function formatScenario(result: ScenarioResult, targetLabel: string): string {
  const title = `${result.scenario.name} — ${result.scenario.title}`;
  if (result.status === "skipped") return `${title}\n  skipped: ${result.reason}`;
  const rows = [
    ["round", "baseline req/s", "p50", "p99", "CPU/req", `${targetLabel} req/s`, "p50", "p99", "CPU/req", "ratio", "other load (cores)"],
    ...result.rounds.map((round, i) => roundRow(String(i + 1), round.baseline, round.target)),
    roundRow("median", result.baseline, result.target),
  ];
  const lines = [
    title,
    textTable(rows),
    `  ratio ${targetLabel}/baseline ${ratio(result.ratio)} · p99 added ${signedMs(result.addedP99Ms)} · target ${targetText(result.scenario.target)} · ${verdict(result)}`,
  ];
  const logging = loggingLine(result);
  if (logging !== null) lines.push(`  ${logging}`);
  if (result.stop !== null) {
    const how = result.stop.killed ? "ignored SIGTERM and was killed" : `exited ${result.stop.exitCode} after SIGTERM`;
    const rss = result.targetPeakRssMiB === null ? "" : `; peak RSS ${result.targetPeakRssMiB.toFixed(0)} MiB`;
    lines.push(`  ${targetLabel} ${how} in ${result.stop.seconds.toFixed(1)} s${rss}; both servers idle a median ${result.targetSettleSeconds.toFixed(1)} s after each ${targetLabel} round`);
  }
  if (result.redisCpuMicrosPerRequest !== null) {
    lines.push(`  redis-server spent a median ${cpu(result.redisCpuMicrosPerRequest)} of CPU per ${targetLabel} request (not in ${targetLabel}'s CPU/req)`);
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  return lines.join("\n");
}

function summaryRows(results: ScenarioResult[], targetLabel: string): string[][] {
  const header = ["scenario", "baseline req/s", `${targetLabel} req/s`, "ratio", "target", "p50 base / " + targetLabel, "p99 base / " + targetLabel, "p99 added", "CPU/req base / " + targetLabel, "logged / answered", "verdict"];
  return [
    header,
    ...results.map((r) =>
      r.status === "skipped"
        ? [r.scenario.name, "—", "—", "—", targetText(r.scenario.target), "—", "—", "—", "—", "—", `skipped: ${r.reason}`]
        : [
            r.scenario.name,
            rps(r.baseline.requestsPerSecond),
            rps(r.target.requestsPerSecond),
            ratio(r.ratio),
            targetText(r.scenario.target),
            `${ms(r.baseline.p50Ms)} / ${ms(r.target.p50Ms)}`,
            `${ms(r.baseline.p99Ms)} / ${ms(r.target.p99Ms)}`,
            signedMs(r.addedP99Ms),
            `${cpu(r.baseline.cpuMicrosPerRequest)} / ${cpu(r.target.cpuMicrosPerRequest)}`,
            r.logging === null || r.logging.rows === null ? "—" : `${rps(r.logging.rows)} / ${rps(r.logging.answered)}`,
            verdict(r),
          ],
    ),
  ];
}

/** The final summary as an aligned text table. */
export function formatSummary(results: ScenarioResult[], targetLabel: string): string {
  return `summary (medians over the rounds)\n${textTable(summaryRows(results, targetLabel))}`;
}

/** Load settings of the run, as one line. */
export interface RunSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  quietWaitSeconds: number;
  wrkVersion: string;
}

export function settingsLine(settings: RunSettings): string {
  return (
    `${settings.rounds} interleaved rounds × ${settings.seconds} s per server after ${settings.warmupSeconds} s warm-up, ` +
    `up to ${settings.quietWaitSeconds} s wait for a quiet machine before each; ${settings.wrkVersion.split(" [")[0]}, -t1 -c${settings.connections}`
  );
}

/** A dated bench/RESULTS.md section with the machine, the settings and the summary table. */
export function markdownSection(results: ScenarioResult[], machine: Machine, settings: RunSettings, when: Date): string {
  const rows = summaryRows(results, "ipward");
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  const table = [
    `| ${rows[0]?.map(escape).join(" | ")} |`,
    `|${rows[0]?.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.slice(1).map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
  const notes = results
    .filter((r): r is MeasuredScenario => r.status === "measured")
    .flatMap((r) => [loggingLine(r), ...r.warnings].filter((line): line is string => line !== null).map((line) => `- ${r.scenario.name}: ${line}`));
  return [
    `### ${when.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `- machine: ${machine.cores} cores (\`nproc\`), ${machine.cpuModel}, ${machine.kernel}`,
    `- Bun ${machine.bunVersion} (baseline and ipward); ipward at ${machine.commit}`,
    `- ${settingsLine(settings)}`,
    "",
    table,
    "",
    ...notes,
    "",
  ].join("\n");
}
