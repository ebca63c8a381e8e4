import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { isIpwardError } from "../../src/core/errors.ts";
import { type Databases, HOUR, MINUTE, openDatabases } from "../core/detection/fixtures.ts";
import { drivers, logRow, T0 } from "./fixtures.ts";

const A = "198.51.100.1";
const B = "198.51.100.2";

describe.each(drivers)("SqliteDetectionStore (%s)", (_name, driver) => {
  describe("request_log cursor", () => {
    let db: Databases;
    beforeEach(() => {
      db = openDatabases(driver);
    });
    afterEach(() => db.close());

    test("an empty log has no first id and last id 0", async () => {
      expect(await db.detection.firstLogIdSince(T0)).toBeNull();
      expect(await db.detection.lastLogId()).toBe(0);
      expect(await db.detection.readLogs(0, 10, 0)).toEqual([]);
    });

    test("firstLogIdSince is the lowest id logged at or after a time, even out of ts order", async () => {
      db.insert([
        logRow({ ts: T0 - 2 * MINUTE }),
        logRow({ ts: T0 + MINUTE }),
        logRow({ ts: T0 - MINUTE }),
        logRow({ ts: T0 }),
      ]);
      expect(await db.detection.firstLogIdSince(T0 - 90_000)).toBe(2);
      expect(await db.detection.firstLogIdSince(T0)).toBe(2);
      expect(await db.detection.firstLogIdSince(T0 + 1)).toBe(2);
      expect(await db.detection.firstLogIdSince(T0 + HOUR)).toBeNull();
      expect(await db.detection.lastLogId()).toBe(4);
    });

    test("readLogs returns an id range from a time on, in id order, with the columns detection reads", async () => {
      db.insert([
        logRow({ ts: T0 - MINUTE, ip: A }),
        logRow({ ts: T0, ip: A, path: "/x?y=1", status: 404, decision: "allow", user: "alice", country_code: "FR" }),
        logRow({ ts: T0 + 1, ip: B, status: 429, decision: "limit", user: null, country_code: null }),
        logRow({ ts: T0 + 2, ip: B }),
      ]);
      expect(await db.detection.readLogs(0, 3, T0)).toEqual([
        { id: 2, ts: T0, ip: A, path: "/x?y=1", status: 404, decision: "allow", user: "alice", country_code: "FR" },
        { id: 3, ts: T0 + 1, ip: B, path: "/", status: 429, decision: "limit", user: null, country_code: null },
      ]);
      expect((await db.detection.readLogs(1, 4, 0)).map((row) => row.id)).toEqual([2, 3, 4]);
      expect(await db.detection.readLogs(4, 10, 0)).toEqual([]);
    });
  });

  describe("suspicious records", () => {
    let db: Databases;
    beforeEach(() => {
      db = openDatabases(driver);
    });
    afterEach(() => db.close());

    const finding = (count: number, reason = `${count} things`) => ({ ip: A, rule: "probing", reason, count });

    test("re-detection of an open record updates it; 'add' accumulates, 'replace' overwrites", async () => {
      const first = await db.detection.upsertSuspicious(finding(5), T0, "replace");
      expect(first).toEqual({
        id: expect.any(Number),
        ip: A,
        rule: "probing",
        reason: "5 things",
        count: 5,
        first_seen: T0,
        last_seen: T0,
        status: "open",
        offences: 0,
      });
      const added = await db.detection.upsertSuspicious(finding(3), T0 + 10, "add");
      expect(added).toMatchObject({ id: first.id, count: 8, reason: "3 things", first_seen: T0, last_seen: T0 + 10 });
      const replaced = await db.detection.upsertSuspicious(finding(2), T0 + 20, "replace");
      expect(replaced).toMatchObject({ id: first.id, count: 2, last_seen: T0 + 20 });
      const other = await db.detection.upsertSuspicious({ ...finding(1), rule: "scraping" }, T0, "replace");
      expect(other.id).not.toBe(first.id);
      expect(await db.detection.listSuspicious()).toHaveLength(2);
    });

    test("after a record is closed, a new detection opens a new record", async () => {
      const first = await db.detection.upsertSuspicious(finding(5), T0, "replace");
      expect(await db.detection.setSuspiciousStatus(first.id, "dismissed")).toMatchObject({ id: first.id, status: "dismissed" });
      const second = await db.detection.upsertSuspicious(finding(7), T0 + 1, "replace");
      expect(second.id).not.toBe(first.id);
      expect(second).toMatchObject({ status: "open", count: 7 });
      let conflict: unknown;
      try {
        await db.detection.setSuspiciousStatus(first.id, "open");
      } catch (error) {
        conflict = error;
      }
      expect(isIpwardError(conflict, "conflict")).toBe(true);
      expect(await db.detection.setSuspiciousStatus(9999, "blocked")).toBeNull();
      expect(await db.detection.getSuspicious(9999)).toBeNull();
    });

    test("list filters by status, ip and rule, most recently seen first, with limit and offset", async () => {
      const a = await db.detection.upsertSuspicious(finding(1), T0, "replace");
      const b = await db.detection.upsertSuspicious({ ...finding(1), ip: B }, T0 + 2, "replace");
      const c = await db.detection.upsertSuspicious({ ...finding(1), rule: "scraping" }, T0 + 1, "replace");
      await db.detection.setSuspiciousStatus(c.id, "blocked", 1);
      const ids = (rows: { id: number }[]) => rows.map((row) => row.id);
      expect(ids(await db.detection.listSuspicious())).toEqual([b.id, c.id, a.id]);
      expect(ids(await db.detection.listSuspicious({ status: "open" }))).toEqual([b.id, a.id]);
      expect(ids(await db.detection.listSuspicious({ ip: A }))).toEqual([c.id, a.id]);
      expect(ids(await db.detection.listSuspicious({ rule: "scraping", status: "blocked" }))).toEqual([c.id]);
      expect(ids(await db.detection.listSuspicious({ limit: 1, offset: 1 }))).toEqual([c.id]);
      await expect(db.detection.listSuspicious({ limit: 0 })).rejects.toThrow(/invalid limit/);
    });

    test("offencesOf is the highest offence ordinal of the address; the store's forgetIp resets it", async () => {
      expect(await db.detection.offencesOf(A)).toBe(0);
      const first = await db.detection.upsertSuspicious(finding(1), T0, "replace");
      await db.detection.setSuspiciousStatus(first.id, "blocked", 1);
      const second = await db.detection.upsertSuspicious(finding(1), T0, "replace");
      await db.detection.setSuspiciousStatus(second.id, "blocked", 2);
      await db.detection.upsertSuspicious({ ...finding(1), ip: B }, T0, "replace");
      expect(await db.detection.offencesOf(A)).toBe(2);
      expect(await db.detection.offencesOf(B)).toBe(0);
      db.store.forgetIp(A);
      expect(await db.detection.offencesOf(A)).toBe(0);
      expect(await db.detection.listSuspicious()).toHaveLength(1);
    });
  });
});
