import type { SpawnOptions, Subprocess } from "bun";

const running = new Set<Subprocess>();

/** Spawns a child process (as Bun.spawn does) that `killChildren` will end if the benchmark stops early. */
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

/** Kills every child still running (servers and wrk); safe to call from a signal handler. */
export function killChildren(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}
