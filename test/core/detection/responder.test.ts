import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Finding } from "../../../src/core/detection/ports.ts";
import { blockDuration, type DetectionAction, Responder, type ResponsePolicy } from "../../../src/core/detection/responder.ts";
import { isIpwardError } from "../../../src/core/errors.ts";
import { openBunSqlite } from "../../../src/store/bun-sqlite.ts";
import { type Databases, HOUR, ManualClock, openDatabases, T0 } from "./fixtures.ts";

const DAY = 24 * HOUR;
const IP = "203.0.113.50";
const finding = (rule = "sensitive_file", count = 3, ip = IP): Finding => ({ ip, rule, count, reason: `${count} things` });

describe("blockDuration", () => {
  test("doubles per earlier automatic block, up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((offence) => blockDuration(offence, 4 * HOUR, 7 * DAY) / HOUR)).toEqual([4, 8, 16, 32, 64, 128, 168]);
    expect(blockDuration(60, 4 * HOUR, 7 * DAY)).toBe(7 * DAY);
  });
});

describe("Responder", () => {
  let db: Databases;
  let clock: ManualClock;
  let actions: DetectionAction[];
  let allowlisted: Set<string>;
  let manuallyBlocked: Set<string>;

  beforeEach(() => {
    db = openDatabases(openBunSqlite);
    clock = new ManualClock(T0);
    actions = [];
    allowlisted = new Set();
    manuallyBlocked = new Set();
  });
  afterEach(() => db.close());

  function responder(policy: Partial<ResponsePolicy> = {}): Responder {
    return new Responder({
      store: db.detection,
      decisions: db.store,
      policy: { autoBlock: false, dryRun: false, blockDurationMs: 4 * HOUR, maxBlockDurationMs: 7 * DAY, ...policy },
      isAllowlisted: (ip) => allowlisted.has(ip),
      isBlocked: (ip) => manuallyBlocked.has(ip),
      clock,
      onAction: (action) => actions.push(action),
    });
  }
  const blocks = () => db.store.listRules("block", clock.now());

  test("by default a finding is flagged for review: an open record, no block; re-detection updates it", async () => {
    const flagging = responder();
    const [first] = await flagging.handle([finding("probing", 24)]);
    expect(first).toMatchObject({ action: "flag", dryRun: false, message: `flagged ${IP} (rule probing): 24 things` });
    expect(first.record).toMatchObject({ ip: IP, rule: "probing", count: 24, status: "open", first_seen: T0, last_seen: T0 });
    clock.time += HOUR;
    const [again] = await flagging.handle([finding("probing", 30)]);
    expect(again.record).toMatchObject({ id: first.record!.id, count: 30, first_seen: T0, last_seen: T0 + HOUR });
    expect(blocks()).toEqual([]);
    expect(actions).toHaveLength(2);
  });

  test("a dry run records and blocks nothing, and says what it would do", async () => {
    const flagOnly = await responder({ dryRun: true }).handle([finding("probing", 24)]);
    const blocking = await responder({ dryRun: true, autoBlock: true }).handle([finding("sensitive_file", 3)]);
    expect(flagOnly.map((action) => action.message)).toEqual([`would flag ${IP} (rule probing): 24 things`]);
    expect(blocking.map((action) => action.message)).toEqual([`would block ${IP} for 4h (rule sensitive_file)`]);
    expect(blocking[0]).toMatchObject({ action: "block", dryRun: true, record: null, durationMs: 4 * HOUR, expiresAt: T0 + 4 * HOUR, offence: 1 });
    expect(await db.detection.listSuspicious()).toEqual([]);
    expect(blocks()).toEqual([]);
  });

  test("auto-block blocks for 4h, doubling with each repeat offence, capped at 7d", async () => {
    const blocking = responder({ autoBlock: true });
    const hours: number[] = [];
    for (let offence = 1; offence <= 8; offence++) {
      const [action] = await blocking.handle([finding()]);
      expect(action).toMatchObject({ action: "block", offence });
      expect(action.record).toMatchObject({ status: "blocked", offences: offence });
      const [rule] = blocks();
      expect(rule).toMatchObject({ list: "block", target: IP, kind: "ip", source: "detection", reason: "sensitive_file: 3 things" });
      hours.push((rule.expires_at! - clock.now()) / HOUR);
      clock.time = rule.expires_at! + 1;
    }
    expect(hours).toEqual([4, 8, 16, 32, 64, 128, 168, 168]);
    expect(actions[0].message).toBe(`blocked ${IP} for 4h (rule sensitive_file, offence 1)`);
    expect(await db.detection.listSuspicious({ status: "blocked" })).toHaveLength(8);
  });

  test("a second finding about an IP just blocked does not block it again", async () => {
    const blocking = responder({ autoBlock: true });
    const [first, second] = await blocking.handle([finding("high_volume"), finding("probing")]);
    expect(first.action).toBe("block");
    expect(second).toMatchObject({ action: "already_blocked", message: `${IP} is already blocked (rule probing)` });
    expect(second.record).toMatchObject({ rule: "probing", status: "blocked", offences: 0 });
    expect(await db.detection.offencesOf(IP)).toBe(1);
    expect(blocks()).toHaveLength(1);
  });

  test("an IP already blocked by an operator gets its record closed, without a new block", async () => {
    manuallyBlocked.add(IP);
    const [action] = await responder({ autoBlock: true }).handle([finding()]);
    expect(action.action).toBe("already_blocked");
    expect(blocks()).toEqual([]);
  });

  test("allowlisted IPs are never flagged nor blocked", async () => {
    allowlisted.add(IP);
    const blocking = responder({ autoBlock: true });
    const [action] = await blocking.handle([finding()]);
    expect(action).toMatchObject({ action: "skip", message: `skipped ${IP}: allowlisted (rule sensitive_file)` });
    blocking.report(finding());
    expect(await blocking.flush()).toEqual([]);
    expect(await db.detection.listSuspicious()).toEqual([]);
    expect(blocks()).toEqual([]);
  });

  test("real-time reports are coalesced per (ip, rule) and written by the next flush, counts adding up", async () => {
    const flagging = responder();
    flagging.report(finding("bad_user_agent", 1));
    flagging.report({ ...finding("bad_user_agent", 1), reason: "latest" });
    flagging.report(finding("injection", 2));
    expect(await db.detection.listSuspicious()).toEqual([]);
    const written = await flagging.flush();
    expect(written.map((action) => [action.rule, action.count])).toEqual([
      ["bad_user_agent", 2],
      ["injection", 2],
    ]);
    flagging.report(finding("bad_user_agent", 1));
    await flagging.close();
    const [record] = await db.detection.listSuspicious({ rule: "bad_user_agent" });
    expect(record).toMatchObject({ count: 3, reason: "1 things" });
    expect(await flagging.flush()).toEqual([]);
  });

  test("operators block (not an offence) or dismiss records", async () => {
    const flagging = responder();
    const [flagged] = await flagging.handle([finding("probing")]);
    const { record, rule } = await flagging.blockRecord(flagged.record!.id, { source: "admin", durationMs: null });
    expect(record).toMatchObject({ status: "blocked", offences: 0 });
    expect(rule).toMatchObject({ target: IP, expires_at: null, source: "admin", reason: "probing: 3 things" });
    const [other] = await flagging.handle([finding("scraping", 5, "203.0.113.51")]);
    expect(await flagging.dismissRecord(other.record!.id)).toMatchObject({ status: "dismissed" });
    let missing: unknown;
    try {
      await flagging.dismissRecord(999);
    } catch (error) {
      missing = error;
    }
    expect(isIpwardError(missing, "not_found")).toBe(true);
    expect(await db.detection.offencesOf(IP)).toBe(0);
  });
});
