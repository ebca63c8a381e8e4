import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type DecisionMessage, DecisionSync, parseDecisionMessage } from "../../src/core/decision-sync.ts";
import type { NewDecisionRule } from "../../src/core/ports.ts";
import { openBunSqlite } from "../../src/store/bun-sqlite.ts";
import { openStore, type SqliteStore } from "../../src/store/sqlite-store.ts";
import { ManualClock } from "../support/app.ts";
import { tempDir } from "../support/process.ts";

/** Instances with their own SQLite file, joined by a bus that delivers in order, like one Redis channel. */
class Cluster {
  readonly clock = new ManualClock();
  readonly published: DecisionMessage[] = [];
  private readonly members: { store: SqliteStore; sync: DecisionSync }[] = [];
  private held = false;
  private queue: DecisionMessage[] = [];

  constructor(private readonly dir: string) {}

  join(name: string, seed: NewDecisionRule[] = []) {
    const store = openStore(join(this.dir, `${name}.db`), { driver: openBunSqlite, clock: this.clock });
    for (const rule of seed) store.addRule(rule);
    const sync = new DecisionSync(store, {
      instanceId: name,
      clock: this.clock,
      publish: (message) => {
        this.published.push(message);
        this.queue.push(message);
        if (!this.held) this.deliver();
      },
    });
    this.members.push({ store, sync });
    return { store, sync };
  }

  /** Holds messages until `deliver()` (to make two changes cross on the wire). */
  hold(): void {
    this.held = true;
  }

  deliver(): void {
    this.held = false;
    while (this.queue.length > 0) {
      const message = this.queue.shift()!;
      for (const member of this.members) member.sync.receive(message);
    }
  }

  close(): void {
    for (const member of this.members) member.store.close();
  }
}

const rule = (target: string, extra: Partial<NewDecisionRule> = {}): NewDecisionRule => ({
  list: "block",
  target,
  kind: target.includes("/") ? "cidr" : "ip",
  reason: null,
  expires_at: null,
  source: "cli",
  ...extra,
});

const targets = (store: SqliteStore, list: "block" | "allow" = "block") =>
  store.listRules(list, cluster.clock.now()).map(({ target, reason, expires_at, source }) => ({ target, reason, expires_at, source }));

let dir: ReturnType<typeof tempDir>;
let cluster: Cluster;
beforeEach(() => {
  dir = tempDir("ipward-sync-");
  cluster = new Cluster(dir.path);
});
afterEach(() => {
  cluster.close();
  dir.cleanup();
});

describe("DecisionSync", () => {
  test("a change in one store reaches the others once, with the same values, and is not echoed", async () => {
    const a = cluster.join("a");
    const b = cluster.join("b");
    const c = cluster.join("c");
    a.store.addRule(rule("198.51.100.0/24", { reason: "scanner", expires_at: cluster.clock.now() + 3_600_000 }));
    expect(a.sync.poll()).toBe(true);
    for (const member of [b, c]) expect(targets(member.store)).toEqual(targets(a.store));
    expect(cluster.published).toHaveLength(1);
    for (const member of [a, b, c]) expect(member.sync.poll()).toBe(false);
    expect(cluster.published).toHaveLength(1);
  });

  test("removals and allowlist changes travel too", () => {
    const a = cluster.join("a");
    const b = cluster.join("b");
    a.store.addRule(rule("192.0.2.1"));
    a.store.addRule(rule("192.0.2.7", { list: "allow", reason: "office" }));
    a.sync.poll();
    expect(targets(b.store, "allow")).toEqual([{ target: "192.0.2.7", reason: "office", expires_at: null, source: "cli" }]);
    b.store.removeRule("block", "192.0.2.1");
    b.sync.poll();
    expect(targets(a.store)).toEqual([]);
    expect(a.sync.poll()).toBe(false);
  });

  test("what each store holds at start is not published (it would overwrite newer rules elsewhere)", () => {
    cluster.join("a", [rule("192.0.2.1", { reason: "old" })]);
    const b = cluster.join("b", [rule("192.0.2.1", { reason: "new" })]);
    expect(cluster.published).toEqual([]);
    expect(targets(b.store)[0].reason).toBe("new");
  });

  test("two changes to one target that cross on the wire converge on the later one everywhere", () => {
    const a = cluster.join("a");
    const b = cluster.join("b");
    cluster.hold();
    a.store.addRule(rule("192.0.2.1", { reason: "from a" }));
    a.sync.poll();
    cluster.clock.advance(5);
    b.store.addRule(rule("192.0.2.1", { reason: "from b" }));
    b.sync.poll();
    cluster.deliver();
    expect(targets(a.store)[0].reason).toBe("from b");
    expect(targets(b.store)[0].reason).toBe("from b");
    expect(a.sync.poll() || b.sync.poll()).toBe(false);
  });

  test("an expired rule still in the store is not a change", () => {
    const a = cluster.join("a");
    const b = cluster.join("b");
    a.store.addRule(rule("192.0.2.1", { expires_at: cluster.clock.now() + 1_000 }));
    a.sync.poll();
    cluster.clock.advance(60_000);
    a.store.addRule(rule("192.0.2.2"));
    a.sync.poll();
    expect(cluster.published.at(-1)!.ops.map((op) => op.target)).toEqual(["192.0.2.2"]);
    expect(targets(b.store).map((r) => r.target)).toEqual(["192.0.2.2"]);
  });

  test("own messages and repeated deliveries are ignored", () => {
    const a = cluster.join("a");
    const b = cluster.join("b");
    a.store.addRule(rule("192.0.2.1"));
    a.sync.poll();
    const message = cluster.published[0];
    expect(a.sync.receive(message)).toBe(0);
    b.store.removeRule("block", "192.0.2.1");
    expect(b.sync.receive(message)).toBe(0);
  });
});

describe("parseDecisionMessage", () => {
  const valid = {
    v: 1,
    instance: "x",
    change: "x:1",
    at: 1,
    ops: [{ op: "upsert", list: "block", target: "192.0.2.0/24", kind: "cidr", reason: null, created_at: 1, expires_at: null, source: "cli" }],
  };

  test("accepts what DecisionSync publishes", () => {
    expect(parseDecisionMessage(JSON.stringify(valid))).toEqual(valid as DecisionMessage);
    expect(parseDecisionMessage(JSON.stringify({ ...valid, ops: [{ op: "delete", list: "allow", target: "2001:db8::1" }] }))).not.toBeNull();
  });

  test.each([
    ["not JSON", "{"],
    ["another version", JSON.stringify({ ...valid, v: 2 })],
    ["a non-canonical target", JSON.stringify({ ...valid, ops: [{ ...valid.ops[0], target: "192.0.2.9/24" }] })],
    ["a target that is no address", JSON.stringify({ ...valid, ops: [{ ...valid.ops[0], target: "'; DROP TABLE" }] })],
    ["a kind that does not match the target", JSON.stringify({ ...valid, ops: [{ ...valid.ops[0], kind: "country" }] })],
    ["an unknown source", JSON.stringify({ ...valid, ops: [{ ...valid.ops[0], source: "mars" }] })],
    ["an unknown list", JSON.stringify({ ...valid, ops: [{ op: "delete", list: "grey", target: "192.0.2.1" }] })],
  ])("rejects %s", (_name, text) => {
    expect(parseDecisionMessage(text)).toBeNull();
  });
});
