import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ScheduledDetector, scheduledRules } from "../../../src/core/detection/scheduled.ts";
import { describeWindow, windowStart } from "../../../src/core/detection/settings.ts";
import { openBunSqlite } from "../../../src/store/bun-sqlite.ts";
import { openStore } from "../../../src/store/sqlite-store.ts";
import { drivers } from "../../store/fixtures.ts";
import { type Databases, HOUR, logRow, MINUTE, openDatabases, settings, T0 } from "./fixtures.ts";

const A = "198.51.100.1";
const B = "198.51.100.2";

describe("windowStart and describeWindow", () => {
  test("the window starts on the minute, never later than the configured length", () => {
    expect(windowStart(T0 + HOUR, HOUR)).toBe(T0);
    expect(windowStart(T0 + HOUR + 59_999, HOUR)).toBe(T0);
    expect(windowStart(T0 + HOUR + 60_000, HOUR)).toBe(T0 + MINUTE);
  });

  test("reasons name the window in words", () => {
    expect(describeWindow(HOUR)).toBe("the last hour");
    expect(describeWindow(MINUTE)).toBe("the last minute");
    expect(describeWindow(24 * HOUR)).toBe("the last day");
    expect(describeWindow(30 * MINUTE)).toBe("the last 30m");
    expect(describeWindow(90 * MINUTE)).toBe("the last 90m");
  });
});

describe.each(drivers)("ScheduledDetector over SQLite (%s)", (_name, driver) => {
  let db: Databases;
  let detector: ScheduledDetector;
  const config = settings({ requests_per_window: 5 });

  beforeEach(() => {
    db = openDatabases(driver);
    detector = new ScheduledDetector({
      store: db.detection,
      rules: scheduledRules(config),
      windowMs: config.windowMs,
      sensitivePaths: config.sensitivePaths,
      readRows: 4,
    });
  });
  afterEach(() => db.close());

  const requests = (ip: string, n: number, ts: number) => Array.from({ length: n }, (_, i) => logRow({ ip, ts: ts + i }));
  const flagged = async (now: number) => (await detector.detect(now)).findings.map((finding) => `${finding.rule} ${finding.ip} ${finding.count}`).sort();

  test("a run reads only what was logged since the previous read", async () => {
    db.insert([...requests(A, 6, T0), ...requests(B, 3, T0)]);
    const first = await detector.detect(T0 + 10 * MINUTE);
    expect(first.rowsRead).toBe(9);
    expect(first.since).toBe(T0 + 10 * MINUTE - HOUR);
    expect(first.findings).toEqual([{ ip: A, rule: "high_volume", count: 6, reason: "6 requests in the last hour (threshold 5)" }]);
    db.insert(requests(B, 3, T0 + 11 * MINUTE));
    expect(await detector.refresh(T0 + 12 * MINUTE)).toBe(3);
    const second = await detector.detect(T0 + 12 * MINUTE);
    expect(second.rowsRead).toBe(0);
    expect(second.findings.map((finding) => [finding.ip, finding.count])).toEqual([
      [A, 6],
      [B, 6],
    ]);
  });

  test("the first read starts at the window: older rows are not read", async () => {
    db.insert([...requests(A, 50, T0 - 2 * HOUR), ...requests(B, 6, T0)]);
    const run = await detector.detect(T0 + 30 * MINUTE);
    expect(run.rowsRead).toBe(6);
    expect(run.findings.map((finding) => finding.ip)).toEqual([B]);
  });

  test("requests leave the window as it moves", async () => {
    db.insert([...requests(A, 6, T0), ...requests(B, 6, T0 + 30 * MINUTE)]);
    expect(await flagged(T0 + 40 * MINUTE)).toEqual([`high_volume ${A} 6`, `high_volume ${B} 6`]);
    expect(await flagged(T0 + HOUR + MINUTE)).toEqual([`high_volume ${B} 6`]);
    expect(await flagged(T0 + 2 * HOUR)).toEqual([]);
  });

  test("a clock set back rebuilds the window from the log (rows stamped after the new time still count)", async () => {
    db.insert([...requests(A, 6, T0), ...requests(B, 6, T0 + 2 * HOUR)]);
    expect(await flagged(T0 + 2 * HOUR + MINUTE)).toEqual([`high_volume ${B} 6`]);
    const rebuilt = await detector.detect(T0 + 10 * MINUTE);
    expect(rebuilt.rowsRead).toBe(12);
    expect(rebuilt.findings.map((finding) => finding.ip)).toEqual([A, B]);
  });

  test("every rule runs, and concurrent calls are serialised", async () => {
    db.insert([
      ...Array.from({ length: 11 }, (_, i) => logRow({ ip: A, path: "/admin", ts: T0 + i })),
      ...Array.from({ length: 20 }, (_, i) => logRow({ ip: B, path: `/probe-${i}`, status: 404, ts: T0 + i })),
      ...Array.from({ length: 20 }, (_, i) => logRow({ ip: "198.51.100.3", path: `/items/${i}`, ts: T0 + i })),
      ...["DE", "FR", "US"].map((country_code, i) => logRow({ ip: `203.0.113.${i}`, user: "alice", country_code, ts: T0 })),
    ]);
    const [refreshed, run] = await Promise.all([detector.refresh(T0 + MINUTE), detector.detect(T0 + MINUTE)]);
    expect(refreshed).toBe(54);
    expect(run.rowsRead).toBe(0);
    expect(run.findings.map((finding) => `${finding.rule} ${finding.ip}`).sort()).toEqual([
      `high_volume ${A}`,
      `high_volume ${B}`,
      "high_volume 198.51.100.3",
      "geo_anomaly 203.0.113.0",
      "geo_anomaly 203.0.113.1",
      "geo_anomaly 203.0.113.2",
      `probing ${B}`,
      "scraping 198.51.100.3",
      `sensitive_paths ${A}`,
    ].sort());
  });

  test("forget removes an address from the folded window", async () => {
    db.insert(requests(A, 6, T0));
    await detector.refresh(T0 + MINUTE);
    expect(detector.size()).toEqual({ ips: 1, users: 0 });
    detector.forget(A);
    expect(await flagged(T0 + MINUTE)).toEqual([]);
  });

  test("an erasure by another connection (ipward forget) takes the address out of the folded window at the next read", async () => {
    db.insert([...requests(A, 6, T0), ...requests(B, 6, T0)]);
    expect(await flagged(T0 + MINUTE)).toEqual([`high_volume ${A} 6`, `high_volume ${B} 6`]);

    const cli = openStore(db.path, { driver });
    try {
      expect(cli.forgetIp(A)).toBe(6);
    } finally {
      cli.close();
    }
    const run = await detector.detect(T0 + 2 * MINUTE);
    // The window is read again, without the erased rows; what A does afterwards counts as usual.
    expect(run.rowsRead).toBe(6);
    expect(run.findings.map((finding) => `${finding.rule} ${finding.ip} ${finding.count}`)).toEqual([`high_volume ${B} 6`]);
    expect(detector.size()).toEqual({ ips: 1, users: 0 });
    db.insert(requests(A, 6, T0 + 3 * MINUTE));
    expect(await flagged(T0 + 4 * MINUTE)).toEqual([`high_volume ${A} 6`, `high_volume ${B} 6`]);
    expect((await detector.detect(T0 + 4 * MINUTE)).rowsRead).toBe(0);
  });
});

describe("ScheduledDetector.start", () => {
  test("reads the window at once, then on each tick; stop ends the ticks", async () => {
    const db = openDatabases(openBunSqlite);
    try {
      db.insert(Array.from({ length: 3 }, (_, i) => logRow({ ts: T0 + i })));
      const config = settings();
      const errors: unknown[] = [];
      const detector = new ScheduledDetector({
        store: db.detection,
        rules: scheduledRules(config),
        windowMs: config.windowMs,
        sensitivePaths: config.sensitivePaths,
        clock: { now: () => T0 + MINUTE },
        onError: (error) => errors.push(error),
      });
      detector.start(60_000);
      detector.stop();
      expect(await detector.refresh()).toBe(0);
      expect(detector.size().ips).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      db.close();
    }
  });
});
