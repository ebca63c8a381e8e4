import { Cron } from "croner";
import { IpwardError } from "../core/errors.ts";

/** One recurring job: a config key naming its cron expression, and the work. */
export interface ScheduledJob {
  name: string;
  /** Config key of the cron expression, named in errors. */
  key: string;
  pattern: string;
  run(): Promise<unknown> | unknown;
}

export interface JobScheduler {
  stop(): void;
}

/**
 * Starts the jobs with croner (what @elysiajs/cron wraps; used directly so that scheduling needs no
 * web framework). A job never overlaps itself (`protect`), and a failing run is reported, not
 * fatal. A bad cron expression stops start-up with the config key named.
 */
export function scheduleJobs(jobs: ScheduledJob[], log: (message: string) => void): JobScheduler {
  const started: Cron[] = [];
  for (const job of jobs) {
    try {
      // No croner `name`: croner keeps named jobs in one process-wide registry, and every app (tests
      // build many) schedules the same names.
      const options = {
        protect: true,
        catch: (error: unknown) => log(`job ${job.name} failed: ${error instanceof Error ? error.message : error}`),
      };
      started.push(new Cron(job.pattern, options, () => job.run()));
    } catch (error) {
      for (const cron of started) cron.stop();
      throw new IpwardError("invalid_config", `invalid value "${job.pattern}" for config key "${job.key}": ${(error as Error).message}`, { key: job.key });
    }
  }
  return {
    stop() {
      for (const cron of started) cron.stop();
    },
  };
}
