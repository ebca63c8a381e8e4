/**
 * How the server process tunes Bun's memory allocator before it starts.
 *
 * Bun allocates through mimalloc, which by default gives memory back to the OS (a "purge") about
 * 10 ms after it is freed. Under load the JavaScript heap frees and reuses the same blocks all the
 * time, so the server kept faulting back in pages it had just given away: measured under wrk on
 * 2 cores, mimalloc's purging thread, the page faults and the extra work on the request thread cost
 * ipward 4–8 µs of CPU per request (10–15% of its throughput). With MIMALLOC_PURGE_DELAY=-1 freed
 * memory stays with the process for reuse; the resident size then stays at its high-water mark
 * instead of shrinking (figures: bench/RESULTS.md, 2026-12-06 22:00).
 *
 * mimalloc reads its options once, as the process starts, so setting the variable from JavaScript
 * is too late: the server replaces itself (execve, same pid, same open files) with a copy of itself
 * that has it set. An operator who sets MIMALLOC_PURGE_DELAY (10 is mimalloc's default) keeps
 * their choice. This module imports nothing, so the exec happens before the CLI loads.
 */

export const PURGE_DELAY_VARIABLE = "MIMALLOC_PURGE_DELAY";
/** Keep freed memory for reuse (never purge). */
export const KEEP_FREED_MEMORY = "-1";

/** What this process was started as. */
export interface ProcessStart {
  /** process.argv: runtime, entry script, then ipward's arguments. */
  argv: readonly string[];
  /** Runtime flags given before the script (`bun --smol src/main.ts`). */
  execArgv: readonly string[];
  execPath: string;
  env: Readonly<Record<string, string | undefined>>;
  /** True in the single binary, where the entry script is embedded and argv[1] names it. */
  compiled: boolean;
}

/** An execve call: the program, its full argv and its environment. */
export interface Reexecution {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** True when `ipward <args>` runs the server: no command, `serve`, or options only (runCli dispatches by this). */
export function startsServer(args: readonly string[]): boolean {
  const [name] = args;
  if (name === undefined || name === "serve") return true;
  return name.startsWith("-") && !["--help", "-h", "--version", "-v"].includes(name);
}

/**
 * The execve that restarts the server with mimalloc's purging off, or null when nothing is to be
 * done: a one-shot command, or the variable already set (by the operator or by the first start).
 */
export function allocatorReexecution(start: ProcessStart): Reexecution | null {
  const args = start.argv.slice(2);
  if (!startsServer(args)) return null;
  if (start.env[PURGE_DELAY_VARIABLE] !== undefined) return null;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(start.env)) if (value !== undefined) env[name] = value;
  env[PURGE_DELAY_VARIABLE] = KEEP_FREED_MEMORY;
  // The single binary takes ipward's arguments directly; `bun` needs its flags and the script first.
  const program = start.compiled ? [] : [...start.execArgv, start.argv[1] ?? ""];
  return { file: start.execPath, args: [start.execPath, ...program, ...args], env };
}
