import { expect, test } from "bun:test";
import { isIpwardError } from "../../src/core/errors.ts";
import { scheduleJobs } from "../../src/jobs/schedule.ts";

test("a bad cron expression is a config error naming its key", () => {
  let thrown: unknown;
  try {
    scheduleJobs(
      [
        { name: "retention", key: "retention.schedule", pattern: "17 3 * * *", run: () => {} },
        { name: "detection", key: "detection.schedule", pattern: "61 * * * *", run: () => {} },
      ],
      () => {},
    );
  } catch (error) {
    thrown = error;
  }
  expect(isIpwardError(thrown, "invalid_config")).toBe(true);
  expect((thrown as Error).message).toContain('invalid value "61 * * * *" for config key "detection.schedule"');
});
