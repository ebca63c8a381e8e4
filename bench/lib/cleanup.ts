import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SpawnOptions, Subprocess } from "bun";

const running = new Set<Subprocess>();
const tempDirs = new Set<string>();

/** Spawns a child process (as Bun.spawn does) that `cleanUp` will end if the benchmark stops early. */
export function spawnChild<
  const In extends SpawnOptions.Writable = "ignore",
  const Out extends SpawnOptions.Readable = "pipe",
  const Err extends SpawnOptions.Readable = "inherit",
>(cmd: string[], options: SpawnOptions.OptionsObject<In, Out, Err>): Subprocess<In, Out, Err> {
  const child = Bun.spawn(cmd, options);
  running.add(child);
  child.exited.finally(() => running.delete(child));
  return child;
}

/** Creates a temporary directory that `cleanUp` removes if the benchmark stops early. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes a directory made by `makeTempDir`. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Kills every child still running (servers, wrk) and removes the temporary directories; safe in a signal handler. */
export function cleanUp(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
