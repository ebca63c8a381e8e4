import { afterEach, describe, expect, jest, test } from "bun:test";
import { parseRuleTarget, RuleMatcher, RuleSet } from "../../src/core/decisions.ts";
import { isIpwardError } from "../../src/core/errors.ts";
import { formatIpBytes, ipInCidr, parseCidr, parseIp } from "../../src/core/ip.ts";
import type { DecisionRule, DecisionStore, NewDecisionRule, RuleKind, RuleList } from "../../src/core/ports.ts";

/** In-memory DecisionStore fake; listRules deliberately returns expired rules too. */
class FakeDecisionStore implements DecisionStore {
  rules: DecisionRule[] = [];
  marker = 0;
  failure: Error | null = null;
  private nextId = 1;

  listRules(list: RuleList, _now: number): DecisionRule[] {
    if (this.failure) throw this.failure;
    return this.rules.filter((rule) => rule.list === list);
  }

  addRule(rule: NewDecisionRule): DecisionRule {
    this.rules = this.rules.filter((r) => !(r.list === rule.list && r.target === rule.target));
    const stored: DecisionRule = { ...rule, id: this.nextId++, created_at: rule.created_at ?? 0 };
    this.rules.push(stored);
    this.marker++;
    return stored;
  }

  removeRule(list: RuleList, target: string): number {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => !(r.list === list && r.target === target));
    this.marker++;
    return before - this.rules.length;
  }

  changeMarker(): number {
    return this.marker;
  }
}

let nextId = 1;
function rule(target: string, options: { list?: RuleList; expires_at?: number | null } = {}): DecisionRule {
  const parsed = parseRuleTarget(target);
  return {
    id: nextId++,
    list: options.list ?? "block",
    target: parsed.target,
    kind: parsed.kind,
    reason: null,
    created_at: 0,
    expires_at: options.expires_at ?? null,
    source: "cli",
  };
}

function add(store: FakeDecisionStore, target: string, list: RuleList = "block", expires_at: number | null = null) {
  const parsed = parseRuleTarget(target);
  return store.addRule({ list, target: parsed.target, kind: parsed.kind, reason: "test", expires_at, source: "cli" });
}

const ip = (text: string) => parseIp(text)!;
const NOW = 1_700_000_000_000;

describe("parseRuleTarget", () => {
  test.each([
    ["1.2.3.4", "ip", "1.2.3.4"],
    [" 1.2.3.4 ", "ip", "1.2.3.4"],
    ["::ffff:1.2.3.4", "ip", "1.2.3.4"],
    ["2001:DB8:0::1", "ip", "2001:db8::1"],
    ["[2001:db8::1]", "ip", "2001:db8::1"],
    ["10.1.2.3/8", "cidr", "10.0.0.0/8"],
    ["192.0.2.0/24", "cidr", "192.0.2.0/24"],
    ["0.0.0.0/0", "cidr", "0.0.0.0/0"],
    ["1.2.3.4/32", "ip", "1.2.3.4"],
    ["2001:db8::1/128", "ip", "2001:db8::1"],
    ["2001:DB8::/32", "cidr", "2001:db8::/32"],
    ["2001:db8:1:2:3:4:5:6/64", "cidr", "2001:db8:1:2::/64"],
    ["::ffff:10.0.0.0/104", "cidr", "10.0.0.0/8"],
    ["::ffff:10.0.0.1/128", "ip", "10.0.0.1"],
    ["us", "country", "US"],
    ["De", "country", "DE"],
    [" fr ", "country", "FR"],
  ] as [string, RuleKind, string][])("%p → %s %s", (text, kind, target) => {
    expect(parseRuleTarget(text)).toEqual({ kind, target });
  });

  test.each(["999.1.1.1", "", "   ", "1.2.3.4/33", "abc", "u1", "usa", "u", "é!", "1.2.3", "1.2.3.4/", "::1/129", "01.2.3.4", "fe80::1%eth0", "10.0.0.0/8/8"])(
    "%p throws invalid_ip naming the value",
    (text) => {
      let error: unknown;
      try {
        parseRuleTarget(text);
      } catch (e) {
        error = e;
      }
      expect(isIpwardError(error, "invalid_ip")).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain(`"${text}"`);
      expect(message).toContain("expected");
    },
  );
});

describe("RuleMatcher", () => {
  test("exact IPv4 and IPv6 addresses", () => {
    const matcher = new RuleMatcher([rule("192.0.2.7"), rule("2001:db8::7")]);
    expect(matcher.match(ip("192.0.2.7"), null, NOW)?.target).toBe("192.0.2.7");
    expect(matcher.match(ip("::ffff:192.0.2.7"), null, NOW)?.target).toBe("192.0.2.7");
    expect(matcher.match(ip("192.0.2.8"), null, NOW)).toBeNull();
    expect(matcher.match(ip("2001:DB8:0::7"), null, NOW)?.target).toBe("2001:db8::7");
    expect(matcher.match(ip("2001:db8::8"), null, NOW)).toBeNull();
    expect(matcher.size).toBe(2);
  });

  test.each([
    ["10.0.0.0/8", "10.255.1.1", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["192.0.2.128/25", "192.0.2.200", true],
    ["192.0.2.128/25", "192.0.2.127", false],
    ["128.0.0.0/1", "200.1.1.1", true],
    ["128.0.0.0/1", "100.1.1.1", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["0.0.0.0/0", "2001:db8::1", false],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["2001:db8::/33", "2001:db8:7fff::1", true],
    ["2001:db8::/33", "2001:db8:8000::1", false],
    ["2001:db8:1:2::/64", "2001:db8:1:2:ffff:ffff:ffff:ffff", true],
    ["2001:db8:1:2::/64", "2001:db8:1:3::", false],
    ["2001:db8:1:2:8000::/65", "2001:db8:1:2:8000::1", true],
    ["2001:db8:1:2:8000::/65", "2001:db8:1:2:7fff::1", false],
    ["2001:db8::/127", "2001:db8::1", true],
    ["2001:db8::/127", "2001:db8::2", false],
    ["2001:db8::/96", "2001:db8::ffff:ffff", true],
    ["2001:db8::/96", "2001:db8::1:0:0", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "1.2.3.4", false],
    ["fe80::/10", "febf::1", true],
    ["fe80::/10", "fec0::1", false],
  ])("%s contains %s: %p", (target, address, expected) => {
    const matcher = new RuleMatcher([rule(target)]);
    expect(matcher.match(ip(address), null, NOW)?.target ?? null).toBe(expected ? parseRuleTarget(target).target : null);
  });

  test("country rules apply when no address rule matches", () => {
    const matcher = new RuleMatcher([rule("us"), rule("10.0.0.0/8")]);
    expect(matcher.match(ip("8.8.8.8"), "US", NOW)?.target).toBe("US");
    expect(matcher.match(ip("2001:4860::1"), "US", NOW)?.target).toBe("US");
    expect(matcher.match(ip("8.8.8.8"), "DE", NOW)).toBeNull();
    expect(matcher.match(ip("8.8.8.8"), null, NOW)).toBeNull();
    expect(matcher.matchIp(ip("8.8.8.8"), NOW)).toBeNull();
    expect(matcher.match(ip("10.1.1.1"), "US", NOW)?.target).toBe("10.0.0.0/8");
  });

  test("most specific wins: exact IP, then longest prefix, then country", () => {
    const matcher = new RuleMatcher([
      rule("FR"),
      rule("10.0.0.0/8"),
      rule("10.1.0.0/16"),
      rule("10.1.2.0/24"),
      rule("10.1.2.3"),
      rule("2001:db8::/32"),
      rule("2001:db8:1::/48"),
      rule("2001:db8:1:2::/64"),
      rule("2001:db8:1:2::3"),
    ]);
    const cases = [
      ["10.1.2.3", "10.1.2.3"],
      ["10.1.2.4", "10.1.2.0/24"],
      ["10.1.3.4", "10.1.0.0/16"],
      ["10.2.3.4", "10.0.0.0/8"],
      ["11.2.3.4", "FR"],
      ["2001:db8:1:2::3", "2001:db8:1:2::3"],
      ["2001:db8:1:2::4", "2001:db8:1:2::/64"],
      ["2001:db8:1:3::4", "2001:db8:1::/48"],
      ["2001:db8:2::4", "2001:db8::/32"],
      ["2001:db9::4", "FR"],
    ];
    for (const [address, target] of cases) expect(matcher.match(ip(address), "FR", NOW)?.target).toBe(target);
  });

  test("expired rules are ignored, and a less specific live rule then applies", () => {
    const matcher = new RuleMatcher([
      rule("10.1.2.3", { expires_at: NOW }),
      rule("10.1.0.0/16", { expires_at: NOW + 1 }),
      rule("10.0.0.0/8", { expires_at: NOW - 1 }),
      rule("2001:db8::/32", { expires_at: NOW - 1000 }),
      rule("CN", { expires_at: NOW + 60_000 }),
    ]);
    expect(matcher.match(ip("10.1.2.3"), null, NOW)?.target).toBe("10.1.0.0/16");
    expect(matcher.match(ip("10.1.2.3"), null, NOW - 1)?.target).toBe("10.1.2.3");
    expect(matcher.match(ip("10.1.2.3"), null, NOW + 1)).toBeNull();
    expect(matcher.match(ip("10.2.0.1"), null, NOW)).toBeNull();
    expect(matcher.match(ip("10.2.0.1"), null, NOW - 2)?.target).toBe("10.0.0.0/8");
    expect(matcher.match(ip("2001:db8::1"), "CN", NOW)?.target).toBe("CN");
    expect(matcher.match(ip("2001:db8::1"), "CN", NOW + 60_000)).toBeNull();
  });

  test("duplicate targets keep the rule that lives longest", () => {
    const short = rule("10.0.0.0/8", { expires_at: NOW + 10 });
    const forever = rule("10.0.0.0/8");
    const later = rule("2001:db8::/32", { expires_at: NOW + 100 });
    const earlier = rule("2001:db8::/32", { expires_at: NOW + 50 });
    const matcher = new RuleMatcher([short, forever, short, later, earlier]);
    expect(matcher.size).toBe(2);
    expect(matcher.match(ip("10.0.0.1"), null, NOW)).toBe(forever);
    expect(matcher.match(ip("2001:db8::1"), null, NOW)).toBe(later);
  });

  test("rules with unparsable targets are skipped and counted", () => {
    const broken = (target: string, kind: RuleKind): DecisionRule => ({ ...rule("1.1.1.1"), target, kind });
    const matcher = new RuleMatcher([broken("not an ip", "ip"), broken("10.0.0.0/99", "cidr"), broken("USA", "country"), rule("1.1.1.1")]);
    expect(matcher.size).toBe(1);
    expect(matcher.skipped).toBe(3);
    expect(matcher.match(ip("1.1.1.1"), null, NOW)?.target).toBe("1.1.1.1");
  });

  test("an empty matcher matches nothing", () => {
    const matcher = new RuleMatcher([]);
    expect(matcher.size).toBe(0);
    expect(matcher.match(ip("1.2.3.4"), "US", NOW)).toBeNull();
    expect(matcher.match(ip("::1"), "US", NOW)).toBeNull();
  });

  test("100k random rules answer like a linear scan", () => {
    let seed = 42;
    /** xorshift32: deterministic, and unlike a power-of-two LCG its low bits are not short-period. */
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const v4 = () => `${random() & 255}.${random() & 255}.${random() & 255}.${random() & 255}`;
    const v6 = () =>
      Array.from({ length: 8 }, (_, k) => (k < 2 ? 0x2001 + (random() & 3) : random() & 0xffff).toString(16)).join(":");
    const targets = new Set<string>();
    const rules: DecisionRule[] = [];
    for (let attempts = 0; rules.length < 100_000 && attempts < 1_000_000; attempts++) {
      const pick = random() % 100;
      const prefix = [32, 24, 16, 8, 64, 128, 48, 56][pick % 8];
      const text = pick < 95 ? (prefix <= 32 ? `${v4()}/${prefix}` : `${v6()}/${prefix}`) : ["US", "CN", "RU", "BR", "IN"][pick % 5];
      const candidate = rule(text, { expires_at: random() % 4 === 0 ? NOW - 1 + (random() % 3) : null });
      if (targets.has(candidate.target)) continue;
      targets.add(candidate.target);
      rules.push(candidate);
    }
    const matcher = new RuleMatcher(rules);
    expect(matcher.size).toBe(100_000);

    const ranges = rules.filter((r) => r.kind !== "country").map((r) => ({ rule: r, cidr: parseCidr(r.target)! }));
    const linearScan = (address: string, country: string) => {
      const parsed = ip(address);
      let best: DecisionRule | null = null;
      let bestPrefix = -1;
      for (const { rule: r, cidr } of ranges) {
        if (cidr.prefix > bestPrefix && (r.expires_at === null || r.expires_at > NOW) && ipInCidr(parsed, cidr)) {
          best = r;
          bestPrefix = cidr.prefix;
        }
      }
      return best ?? rules.find((r) => r.kind === "country" && r.target === country && (r.expires_at === null || r.expires_at > NOW)) ?? null;
    };
    const probes: string[] = [];
    for (let k = 0; k < 200; k++) {
      const inside = ranges[random() % ranges.length].cidr;
      const host = inside.bytes.slice();
      if (inside.prefix <= host.length * 8 - 8) host[host.length - 1] = random() & 255;
      probes.push(formatIpBytes(inside.family, host));
      probes.push(k % 2 === 0 ? v4() : v6());
    }
    let hits = 0;
    for (const [k, address] of probes.entries()) {
      const country = ["US", "CN", "DE"][k % 3];
      const expected = linearScan(address, country);
      if (expected) hits++;
      expect(matcher.match(ip(address), country, NOW)).toBe(expected);
    }
    expect(hits).toBeGreaterThan(100);
  });
});

describe("RuleSet", () => {
  afterEach(() => jest.useRealTimers());

  test("allow beats block, at any specificity", () => {
    const store = new FakeDecisionStore();
    add(store, "10.0.0.0/8", "allow");
    add(store, "10.1.2.3", "block");
    add(store, "2001:db8::/32", "allow");
    add(store, "2001:db8::1", "block");
    add(store, "192.0.2.0/24", "block");
    add(store, "US", "allow");
    const rules = new RuleSet(store);
    expect(rules.decide(ip("10.1.2.3"), null, NOW)).toMatchObject({ list: "allow", rule: { target: "10.0.0.0/8" } });
    expect(rules.decide(ip("2001:db8::1"), null, NOW)).toMatchObject({ list: "allow", rule: { target: "2001:db8::/32" } });
    expect(rules.decide(ip("192.0.2.9"), null, NOW)).toMatchObject({ list: "block", rule: { target: "192.0.2.0/24" } });
    expect(rules.decide(ip("192.0.2.9"), "US", NOW)).toMatchObject({ list: "allow", rule: { target: "US" } });
    expect(rules.decide(ip("198.51.100.1"), "DE", NOW)).toBeNull();
    expect(rules.allow.size).toBe(3);
    expect(rules.block.size).toBe(3);
  });

  test("an expired allow rule no longer shields a blocked address", () => {
    const store = new FakeDecisionStore();
    add(store, "10.1.2.3", "allow", NOW + 1000);
    add(store, "10.0.0.0/8", "block");
    const rules = new RuleSet(store);
    expect(rules.decide(ip("10.1.2.3"), null, NOW)?.list).toBe("allow");
    expect(rules.decide(ip("10.1.2.3"), null, NOW + 1000)).toMatchObject({ list: "block", rule: { target: "10.0.0.0/8" } });
  });

  test("refreshIfChanged reloads only when the change marker moves", () => {
    const store = new FakeDecisionStore();
    const rules = new RuleSet(store);
    expect(rules.decide(ip("203.0.113.5"), null, NOW)).toBeNull();
    expect(rules.refreshIfChanged()).toBe(false);
    add(store, "203.0.113.0/24");
    expect(rules.decide(ip("203.0.113.5"), null, NOW)).toBeNull();
    expect(rules.refreshIfChanged()).toBe(true);
    expect(rules.decide(ip("203.0.113.5"), null, NOW)?.list).toBe("block");
    const before = rules.block;
    expect(rules.refreshIfChanged()).toBe(false);
    expect(rules.block).toBe(before);
    store.removeRule("block", "203.0.113.0/24");
    expect(rules.refreshIfChanged()).toBe(true);
    expect(rules.decide(ip("203.0.113.5"), null, NOW)).toBeNull();
  });

  test("reload reloads unconditionally", () => {
    const store = new FakeDecisionStore();
    const rules = new RuleSet(store);
    store.rules.push(rule("198.51.100.0/24"));
    rules.reload();
    expect(rules.decide(ip("198.51.100.1"), null, NOW)?.list).toBe("block");
  });

  test("start polls the store on an interval; stop ends it", () => {
    jest.useFakeTimers();
    const store = new FakeDecisionStore();
    const rules = new RuleSet(store);
    rules.start(250);
    add(store, "198.51.100.7");
    jest.advanceTimersByTime(249);
    expect(rules.decide(ip("198.51.100.7"), null, NOW)).toBeNull();
    jest.advanceTimersByTime(1);
    expect(rules.decide(ip("198.51.100.7"), null, NOW)?.list).toBe("block");
    rules.stop();
    store.removeRule("block", "198.51.100.7");
    jest.advanceTimersByTime(1000);
    expect(rules.decide(ip("198.51.100.7"), null, NOW)?.list).toBe("block");
  });

  test("start twice keeps a single timer with the new interval", () => {
    jest.useFakeTimers();
    const store = new FakeDecisionStore();
    let polls = 0;
    const changeMarker = store.changeMarker.bind(store);
    store.changeMarker = () => {
      polls++;
      return changeMarker();
    };
    const rules = new RuleSet(store);
    polls = 0;
    rules.start(100);
    rules.start(1000);
    jest.advanceTimersByTime(1000);
    expect(polls).toBe(1);
    rules.stop();
  });

  test("a failing store keeps the previous rules and reports the error; polling recovers", () => {
    jest.useFakeTimers();
    const store = new FakeDecisionStore();
    add(store, "192.0.2.1");
    const errors: unknown[] = [];
    const rules = new RuleSet(store, { onError: (e) => errors.push(e) });
    rules.start(250);
    store.failure = new Error("database is locked");
    add(store, "192.0.2.2");
    jest.advanceTimersByTime(500);
    expect(errors).toHaveLength(2);
    expect((errors[0] as Error).message).toBe("database is locked");
    expect(rules.decide(ip("192.0.2.1"), null, NOW)?.list).toBe("block");
    expect(rules.decide(ip("192.0.2.2"), null, NOW)).toBeNull();
    expect(() => rules.refreshIfChanged()).toThrow("database is locked");
    store.failure = null;
    jest.advanceTimersByTime(250);
    expect(rules.decide(ip("192.0.2.2"), null, NOW)?.list).toBe("block");
    expect(errors).toHaveLength(2);
    rules.stop();
  });

  test("the clock's time is passed to the store", () => {
    const store = new FakeDecisionStore();
    const seen: number[] = [];
    const listRules = store.listRules.bind(store);
    store.listRules = (list: RuleList, now: number) => {
      seen.push(now);
      return listRules(list, now);
    };
    new RuleSet(store, { clock: { now: () => 1234 } });
    expect(seen).toEqual([1234, 1234]);
  });
});
