import { readFileSync } from "node:fs";

/** Where a run happened, for bench/RESULTS.md. */
export interface Machine {
  cores: string;
  cpuModel: string;
  bunVersion: string;
  kernel: string;
  commit: string;
}

function output(cmd: string[], cwd: string): string {
  try {
    const result = Bun.spawnSync({ cmd, cwd, stdout: "pipe", stderr: "ignore" });
    return result.exitCode === 0 ? result.stdout.toString().trim() : "";
  } catch {
    return "";
  }
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => /^(model name|Model|cpu model)\s*:/.test(l));
    return line?.split(":").slice(1).join(":").trim() || "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

/** Describes this machine and the checkout being measured (`cwd` is the repository root). */
export function describeMachine(cwd: string): Machine {
  const head = output(["git", "rev-parse", "--short", "HEAD"], cwd);
  // Other work may be in progress in the tree; say so rather than pretend the commit was measured.
  const dirty = output(["git", "status", "--porcelain", "--", "src"], cwd) !== "";
  return {
    cores: output(["nproc"], cwd) || "?",
    cpuModel: cpuModel(),
    bunVersion: Bun.version,
    kernel: output(["uname", "-sr"], cwd) || process.platform,
    commit: head === "" ? "unknown commit" : dirty ? `${head} + uncommitted changes in src/` : head,
  };
}
