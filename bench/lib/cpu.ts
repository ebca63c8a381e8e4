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

/** CPU times read at one instant, for `CpuMeter.since`. */
export interface CpuSample {
  machine: number | null;
  processes: (number | null)[];
}

/** CPU used during a run: by each watched process, and by everything else on the machine. */
export interface CpuUsage {
  /** Seconds of CPU per watched process, in the order given to the meter; null without /proc. */
  processSeconds: (number | null)[];
  /** Cores' worth of CPU used by unwatched processes (0.25 = a quarter core); null without /proc. */
  outsideCores: number | null;
}

/** Accounts CPU time around a run for a fixed set of processes. */
export class CpuMeter {
  constructor(private readonly pids: number[]) {}

  sample(): CpuSample {
    return { machine: machineBusyTicks(), processes: this.pids.map(processTicks) };
  }

  /**
   * CPU used since `start`, over `wallSeconds`. `otherSeconds` is CPU known to belong to the run
   * although no watched process used it (wrk's own time, read from its exit status).
   */
  since(start: CpuSample, wallSeconds: number, otherSeconds: number): CpuUsage {
    const end = this.sample();
    const processTicksUsed = end.processes.map((ticks, i) => {
      const before = start.processes[i];
      return ticks === null || before === null || before === undefined ? null : ticks - before;
    });
    const processSeconds = processTicksUsed.map((ticks) => (ticks === null ? null : ticks / TICKS_PER_SECOND));
    if (start.machine === null || end.machine === null || processSeconds.includes(null)) return { processSeconds, outsideCores: null };
    const watched = processSeconds.reduce<number>((sum, seconds) => sum + (seconds ?? 0), 0);
    const outside = (end.machine - start.machine) / TICKS_PER_SECOND - watched - otherSeconds;
    return { processSeconds, outsideCores: Math.max(0, outside / wallSeconds) };
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
 * Waits until the processes `pids` (servers, Redis) are idle, so that work left over from a round (ipward
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
