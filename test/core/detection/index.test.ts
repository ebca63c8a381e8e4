import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createDetection, listedBy } from "../../../src/core/detection/index.ts";
import { RuleSet } from "../../../src/core/decisions.ts";
import { openBunSqlite } from "../../../src/store/bun-sqlite.ts";
import { type Databases, HOUR, ManualClock, openDatabases, request, settings, T0 } from "./fixtures.ts";

describe("createDetection", () => {
  let db: Databases;
  let clock: ManualClock;
  beforeEach(() => {
    db = openDatabases(openBunSqlite);
    clock = new ManualClock(T0);
  });
  afterEach(() => db.close());

  const wire = (detection: Record<string, unknown> = {}, dryRun?: boolean) =>
    createDetection({ settings: settings(detection), store: db.detection, decisions: db.store, isAllowlisted: () => false, isBlocked: () => false, clock, dryRun });

  test("no real-time detector when real-time or all detection is off", () => {
    expect(wire().realtime).not.toBeNull();
    expect(wire({ realtime: false }).realtime).toBeNull();
    expect(wire({ enabled: false }).realtime).toBeNull();
  });

  test("runScheduled detects over the log and applies the policy; dryRun overrides the config", async () => {
    db.insert(Array.from({ length: 101 }, (_, i) => request("203.0.113.1", "/", T0 + i).row));
    clock.time = T0 + HOUR;
    const dry = await wire({ auto_block: true }, true).runScheduled();
    expect(dry.actions.map((action) => action.message)).toEqual(["would block 203.0.113.1 for 4h (rule high_volume)"]);
    expect(await db.detection.listSuspicious()).toEqual([]);
    const real = await wire({ auto_block: true }).runScheduled();
    expect(real.findings).toHaveLength(1);
    expect(real.actions[0]).toMatchObject({ action: "block", offence: 1 });
    expect(db.store.listRules("block", clock.now()).map((rule) => rule.target)).toEqual(["203.0.113.1"]);
  });

  test("real-time findings reach storage through the responder's flush", async () => {
    const detection = wire();
    const { row, verdict, facts } = request("203.0.113.2", "/", T0);
    detection.realtime!.observe(row, verdict, { ...facts, userAgent: "masscan/1.3" });
    await detection.responder.flush();
    expect(await db.detection.listSuspicious()).toMatchObject([{ ip: "203.0.113.2", rule: "bad_user_agent", count: 1, status: "open" }]);
  });
});

describe("listedBy", () => {
  test("answers from the rule set's allow and block lists, CIDRs included", () => {
    const db = openDatabases(openBunSqlite);
    try {
      db.store.addRule({ list: "allow", target: "10.0.0.0/8", kind: "cidr", reason: null, expires_at: null, source: "cli" });
      db.store.addRule({ list: "block", target: "203.0.113.7", kind: "ip", reason: null, expires_at: null, source: "cli" });
      const listed = listedBy(new RuleSet(db.store));
      expect(listed.isAllowlisted("10.1.2.3")).toBe(true);
      expect(listed.isAllowlisted("203.0.113.7")).toBe(false);
      expect(listed.isBlocked("203.0.113.7")).toBe(true);
      expect(listed.isBlocked("not an ip")).toBe(false);
    } finally {
      db.close();
    }
  });
});
