import { readFileSync } from "node:fs";

/** Linux reports CPU time in /proc in USER_HZ ticks, 100 per second on every mainstream build. */
export const TICKS_PER_SECOND = 100;

/** CPU time (user + system, in ticks) a process has used so far, or null when /proc has none. */
export function processTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * Busy CPU time of the whole machine in ticks (everything but idle and iowait), or null without /proc.
 * Interrupt time is included: loopback networking runs partly in softirq, which /proc/stat counts
 * apart but which the kernel also charges to the process that caused it.
 */
export function machineBusyTicks(): number | null {
  try {
    const [user, nice, system, , , irq, softirq, steal] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    return [user, nice, system, irq, softirq, steal].reduce<number>((sum, ticks) => sum + (ticks ?? 0), 0);
  } catch {
    return null;
  }
}

/** How long `settle` waited and what it found. */
export interface Settling {
  /** Seconds until the servers went idle: work one left over from its round shows up here. */
  serversIdleSeconds: number;
  /** False when other processes still used the machine when the wait gave up. */
  quiet: boolean;
}

const SAMPLE_MS = 500;
/** A server is idle below 10% of a core. */
const IDLE_SERVER_TICKS = 0.1 * TICKS_PER_SECOND * (SAMPLE_MS / 1000);
/** The machine is quiet when everything else uses less than a fifth of a core. */
const QUIET_OUTSIDE_TICKS = 0.2 * TICKS_PER_SECOND * (SAMPLE_MS / 1000);

/**
 * Waits until the servers `pids` are idle, so that work one left over from its round (ipward
 * flushing its log buffer, garbage collection) is not charged to the next round, and until other
 * processes leave the machine alone, both for at most `maxMs`. Without /proc it only pauses.
 */
export async function settle(pids: number[], maxMs: number): Promise<Settling> {
  const started = performance.now();
  let serversIdleSeconds: number | null = null;
  while (performance.now() - started < maxMs) {
    const [machineBefore, serversBefore] = [machineBusyTicks(), pids.map(processTicks)];
    const harnessBefore = process.cpuUsage();
    await Bun.sleep(SAMPLE_MS);
    const [machineAfter, serversAfter] = [machineBusyTicks(), pids.map(processTicks)];
    if (machineBefore === null || machineAfter === null || serversBefore.includes(null) || serversAfter.includes(null)) {
      return { serversIdleSeconds: (performance.now() - started) / 1000, quiet: true };
    }
    const serverTicks = serversAfter.map((ticks, i) => (ticks as number) - (serversBefore[i] as number));
    const harness = process.cpuUsage(harnessBefore);
    const harnessTicks = ((harness.user + harness.system) / 1e6) * TICKS_PER_SECOND;
    const outsideTicks = machineAfter - machineBefore - serverTicks.reduce((a, b) => a + b, 0) - harnessTicks;
    if (serversIdleSeconds === null && serverTicks.every((ticks) => ticks <= IDLE_SERVER_TICKS)) {
      serversIdleSeconds = (performance.now() - started) / 1000;
    }
    if (serversIdleSeconds !== null && outsideTicks <= QUIET_OUTSIDE_TICKS) return { serversIdleSeconds, quiet: true };
  }
  return { serversIdleSeconds: serversIdleSeconds ?? maxMs / 1000, quiet: false };
}
