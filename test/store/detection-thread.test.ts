import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { DetectionThread, type DetectionThreadOptions } from "../../src/store/detection-thread.ts";
import { openBunSqlite } from "../../src/store/bun-sqlite.ts";
import { type Databases, HOUR, logRow, MINUTE, openDatabases, settings, T0 } from "../core/detection/fixtures.ts";
import { tempDir } from "./fixtures.ts";

const A = "198.51.100.1";
const B = "198.51.100.2";

const requests = (ip: string, n: number, ts: number) => Array.from({ length: n }, (_, i) => logRow({ ip, ts: ts + i }));

/** Niceness of every thread of this process by name (field 19 of /proc/self/task/N/stat). */
function threadNiceness(): { name: string; nice: number }[] {
  return readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), nice: Number(fields[16]) };
  });
}

describe("DetectionThread: the scheduled detector on a worker thread", () => {
  let db: Databases | undefined;
  let thread: DetectionThread | undefined;
  afterEach(async () => {
    await thread?.close();
    db?.close();
    thread = db = undefined;
  });

  function open(detection: Record<string, unknown> = {}, errors: unknown[] = [], extra: Partial<DetectionThreadOptions> = {}): DetectionThread {
    db = openDatabases(openBunSqlite);
    thread = new DetectionThread({
      path: db.path,
      settings: settings(detection),
      clock: { now: () => T0 + 10 * MINUTE },
      onError: (error) => errors.push(error),
      ...extra,
    });
    return thread;
  }

  test("folds what was logged and finds what the rules find, reading each row once", async () => {
    const detector = open({ requests_per_window: 5 });
    db!.insert([...requests(A, 6, T0), ...requests(B, 3, T0)]);
    const first = await detector.detect(T0 + 10 * MINUTE);
    expect(first.rowsRead).toBe(9);
    expect(first.since).toBe(T0 + 10 * MINUTE - HOUR);
    expect(first.findings).toEqual([{ ip: A, rule: "high_volume", count: 6, reason: "6 requests in the last hour (threshold 5)" }]);

    db!.insert(requests(B, 3, T0 + 11 * MINUTE));
    expect(await detector.refresh(T0 + 12 * MINUTE)).toBe(3);
    const second = await detector.detect(T0 + 12 * MINUTE);
    expect(second.rowsRead).toBe(0);
    expect(second.findings.map((finding) => `${finding.ip} ${finding.count}`)).toEqual([`${A} 6`, `${B} 6`]);
  });

  test("the time is the caller's: without one, the injected clock's", async () => {
    const detector = open({ requests_per_window: 2 });
    db!.insert([...requests(A, 3, T0 - 2 * HOUR), ...requests(B, 3, T0)]);
    const run = await detector.detect();
    expect(run.until).toBe(T0 + 10 * MINUTE);
    expect(run.findings.map((finding) => finding.ip)).toEqual([B]);
  });

  test("start reads the window at once; the thread runs nicer than the request thread", async () => {
    const errors: unknown[] = [];
    const detector = open({}, errors);
    db!.insert(requests(A, 4, T0));
    detector.start(60_000);
    expect(await detector.refresh()).toBe(0);
    detector.stop();
    expect(errors).toEqual([]);
    const threads = threadNiceness();
    const main = threads[0];
    expect(threads.some((thread) => thread.nice === main.nice + 10)).toBe(true);
  });

  test("closing does not wait for a long fold past its grace: the fold's caller is told the thread closed", async () => {
    const detector = open({}, [], { closeGraceMs: 5 });
    db!.insert(Array.from({ length: 200_000 }, (_, i) => logRow({ ip: `198.51.${(i >> 8) & 255}.${i & 255}`, ts: T0 + i })));
    const fold = detector.refresh(T0 + 10 * MINUTE);
    const started = performance.now();
    await detector.close();
    expect(performance.now() - started).toBeLessThan(200);
    await expect(fold).rejects.toThrow("the detection thread is closed");
  });

  test("a database it cannot open fails every call with the reason, and closing still ends the thread", async () => {
    const errors: unknown[] = [];
    const temp = tempDir();
    try {
      thread = new DetectionThread({ path: `${temp.dir}/missing/dir/ipward.db`, settings: settings(), onError: (error) => errors.push(error) });
      await expect(thread.detect(T0)).rejects.toThrow(/detection could not open .*missing\/dir\/ipward\.db/);
      await expect(thread.refresh(T0)).rejects.toThrow(/detection could not open/);
      expect(errors).toHaveLength(1);
      await thread.close();
      await expect(thread.refresh(T0)).rejects.toThrow("the detection thread is closed");
    } finally {
      temp.cleanup();
    }
  });
});
