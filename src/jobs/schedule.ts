import { cron } from "@elysiajs/cron";
import { Elysia } from "elysia";
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
 * Starts the jobs with @elysiajs/cron. A job never overlaps itself (`protect`), and a failing run
 * is reported, not fatal. A bad cron expression stops start-up with the config key named.
 */
export function scheduleJobs(jobs: ScheduledJob[], log: (message: string) => void): JobScheduler {
  let app = new Elysia({ name: "ipward-jobs" });
  for (const job of jobs) {
    try {
      app = app.use(
        cron({
          name: job.name,
          pattern: job.pattern,
          protect: true,
          catch: (error: unknown) => log(`job ${job.name} failed: ${error instanceof Error ? error.message : error}`),
          run: () => job.run(),
        }),
      ) as unknown as Elysia<"">;
    } catch (error) {
      throw new IpwardError("invalid_config", `invalid value "${job.pattern}" for config key "${job.key}": ${(error as Error).message}`, { key: job.key });
    }
  }
  const store = app.store as { cron?: Record<string, { stop(): void }> };
  return {
    stop() {
      for (const job of Object.values(store.cron ?? {})) job.stop();
    },
  };
}
