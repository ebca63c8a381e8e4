import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { cleanUp } from "./lib/cleanup.ts";
import { describeMachine } from "./lib/machine.ts";
import { parseOptions, USAGE, UsageError } from "./lib/options.ts";
import { formatScenario, formatSummary, markdownSection, type RunSettings, settingsLine } from "./lib/report.ts";
import { runScenario, type ScenarioResult } from "./lib/scenario-run.ts";
import { wrkVersion } from "./lib/wrk.ts";

/**
 * `npm run bench`: ipward against a bare Elysia baseline on the same Bun, interleaved rounds of wrk,
 * medians and ratios per scenario. See bench/RESULTS.md for how to read the figures.
 */
const repoRoot = join(import.meta.dir, "..");
const RESULTS_FILE = join(repoRoot, "bench", "RESULTS.md");

function onSignal(signal: NodeJS.Signals) {
  cleanUp();
  process.stderr.write(`\nbench: ${signal}, servers and wrk killed, temporary files removed\n`);
  process.exit(130);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message} (see --help)\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.record && !existsSync(RESULTS_FILE)) {
    process.stderr.write(`bench: --record appends to ${RESULTS_FILE}, which does not exist\n`);
    return 2;
  }

  const settings: RunSettings = { ...options, wrkVersion: await wrkVersion() };
  const targetLabel = options.self ? "baseline-b" : options.floor ? "floor" : "ipward";
  const machine = describeMachine(repoRoot);
  const progress = (line: string) => process.stdout.write(`${line}\n`);
  progress(`bench: baseline vs ${targetLabel} on Bun ${machine.bunVersion}, ${machine.cores} cores (${machine.cpuModel})`);
  progress(`       ${settingsLine(settings)}\n`);

  const results: ScenarioResult[] = [];
  for (const scenario of options.scenarios) {
    progress(`${scenario.name}: starting servers`);
    const result = await runScenario(scenario, options, { repoRoot, targetLabel, progress });
    results.push(result);
    progress(`\n${formatScenario(result, targetLabel)}\n`);
  }
  progress(formatSummary(results, targetLabel));

  if (options.record) {
    appendFileSync(RESULTS_FILE, `\n${markdownSection(results, machine, settings, new Date())}`);
    progress(`\nrecorded in ${RESULTS_FILE}`);
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  cleanUp();
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
