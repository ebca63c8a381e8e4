import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Clock, NewDecisionRule } from "../../src/core/ports.ts";
import { openStore, type SqliteStore } from "../../src/store/sqlite-store.ts";
import { drivers, logRow, T0, tempDir } from "./fixtures.ts";

const HOUR = 3_600_000;

function blockRule(target: string, overrides: Partial<NewDecisionRule> = {}): NewDecisionRule {
  return { list: "block", target, kind: "ip", reason: null, expires_at: null, source: "cli", ...overrides };
}

describe.each(drivers)("decision rules (%s)", (_name, driver) => {
  let temp: ReturnType<typeof tempDir>;
  let clock: Clock & { t: number };
  let store: SqliteStore;
  const others: SqliteStore[] = [];

  beforeEach(() => {
    temp = tempDir();
    clock = { t: T0, now: () => clock.t };
    store = openStore(temp.dbPath, { driver, clock });
  });
  afterEach(() => {
    store.close();
    for (const other of others.splice(0)) other.close();
    temp.cleanup();
  });

  function secondConnection(): SqliteStore {
    const other = openStore(temp.dbPath, { driver, clock });
    others.push(other);
    return other;
  }

  test("add returns the stored rule with id and clock time; list returns it", () => {
    const added = store.addRule(blockRule("198.51.100.4", { reason: "scanner" }));
    expect(added).toEqual({
      id: expect.any(Number),
      list: "block",
      target: "198.51.100.4",
      kind: "ip",
      reason: "scanner",
      created_at: T0,
      expires_at: null,
      source: "cli",
    });
    expect(store.listRules("block", T0)).toEqual([added]);
    expect(store.listRules("allow", T0)).toEqual([]);
  });

  test("the same target on both lists is two rules", () => {
    store.addRule(blockRule("10.0.0.0/8", { kind: "cidr" }));
    store.addRule(blockRule("10.0.0.0/8", { kind: "cidr", list: "allow" }));
    expect(store.listRules("block", T0).map((r) => r.target)).toEqual(["10.0.0.0/8"]);
    expect(store.listRules("allow", T0).map((r) => r.target)).toEqual(["10.0.0.0/8"]);
  });

  test("adding an existing target replaces reason, expiry and source but keeps id and created_at", () => {
    const first = store.addRule(blockRule("DE", { kind: "country", reason: "first" }));
    clock.t = T0 + HOUR;
    const second = store.addRule(
      blockRule("DE", { kind: "country", reason: "second", expires_at: T0 + 5 * HOUR, source: "admin" }),
    );
    expect(second).toEqual({ ...first, reason: "second", expires_at: T0 + 5 * HOUR, source: "admin" });
    expect(store.listRules("block", clock.t)).toEqual([second]);
  });

  test("re-adding a lapsed rule starts it afresh", () => {
    store.addRule(blockRule("192.0.2.1", { expires_at: T0 + HOUR }));
    clock.t = T0 + 2 * HOUR;
    const renewed = store.addRule(blockRule("192.0.2.1", { expires_at: null }));
    expect(renewed.created_at).toBe(T0 + 2 * HOUR);
    expect(renewed.expires_at).toBeNull();
  });

  test("an explicit created_at is kept (imports)", () => {
    expect(store.addRule({ ...blockRule("192.0.2.9", { source: "import" }), created_at: T0 - HOUR }).created_at).toBe(
      T0 - HOUR,
    );
  });

  test("only rules without expiry or expiring after now are listed", () => {
    store.addRule(blockRule("192.0.2.1", { expires_at: T0 + HOUR }));
    store.addRule(blockRule("192.0.2.2"));
    expect(store.listRules("block", T0).map((r) => r.target)).toEqual(["192.0.2.1", "192.0.2.2"]);
    expect(store.listRules("block", T0 + HOUR - 1).map((r) => r.target)).toEqual(["192.0.2.1", "192.0.2.2"]);
    expect(store.listRules("block", T0 + HOUR).map((r) => r.target)).toEqual(["192.0.2.2"]);
  });

  test("remove deletes one list's rule and says how many", () => {
    store.addRule(blockRule("192.0.2.1"));
    store.addRule(blockRule("192.0.2.1", { list: "allow" }));
    expect(store.removeRule("block", "192.0.2.1")).toBe(1);
    expect(store.removeRule("block", "192.0.2.1")).toBe(0);
    expect(store.listRules("block", T0)).toEqual([]);
    expect(store.listRules("allow", T0).length).toBe(1);
  });

  test("bad list, kind or source values are refused by the schema", () => {
    expect(() => store.addRule(blockRule("192.0.2.1", { kind: "asn" as never }))).toThrow();
    expect(() => store.addRule(blockRule("192.0.2.1", { source: "nobody" as never }))).toThrow();
    expect(store.listRules("block", T0)).toEqual([]);
  });

  test("changeMarker moves on own writes only when rules change", () => {
    const m0 = store.changeMarker();
    expect(store.changeMarker()).toBe(m0);
    store.addRule(blockRule("192.0.2.1"));
    const m1 = store.changeMarker();
    expect(m1).not.toBe(m0);
    expect(store.changeMarker()).toBe(m1);
    expect(store.removeRule("block", "192.0.2.99")).toBe(0);
    expect(store.changeMarker()).toBe(m1);
    store.removeRule("block", "192.0.2.1");
    expect(store.changeMarker()).not.toBe(m1);
  });

  test("changeMarker sees rule changes made by another connection", () => {
    const cli = secondConnection();
    const before = store.changeMarker();
    cli.addRule(blockRule("192.0.2.1"));
    const afterAdd = store.changeMarker();
    expect(afterAdd).not.toBe(before);
    expect(store.listRules("block", T0).map((r) => r.target)).toEqual(["192.0.2.1"]);
    cli.removeRule("block", "192.0.2.1");
    expect(store.changeMarker()).not.toBe(afterAdd);
    expect(store.listRules("block", T0)).toEqual([]);
  });

  test("changeMarker ignores log inserts from another connection", () => {
    const writer = secondConnection();
    const before = store.changeMarker();
    writer.insertLogBatch([logRow()]);
    expect(store.changeMarker()).toBe(before);
  });

  test("changeMarker sees a rule added by another process", () => {
    const before = store.changeMarker();
    const script = `
      import { openStore } from "./src/store/sqlite-store.ts";
      import { openBunSqlite } from "./src/store/bun-sqlite.ts";
      const cli = openStore(${JSON.stringify(temp.dbPath)}, { driver: openBunSqlite });
      cli.addRule({ list: "block", target: "192.0.2.77", kind: "ip", reason: "cli", expires_at: null, source: "cli" });
      cli.close();
    `;
    const child = Bun.spawnSync([process.execPath, "-e", script], { cwd: `${import.meta.dir}/../..` });
    expect(child.stderr.toString()).toBe("");
    expect(child.exitCode).toBe(0);
    expect(store.changeMarker()).not.toBe(before);
    expect(store.listRules("block", Date.now()).map((r) => r.target)).toEqual(["192.0.2.77"]);
  });
});
