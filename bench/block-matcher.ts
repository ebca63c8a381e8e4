/**
 * Allow/block check on the hot path (SPEC §2 steps 1–3), against baselines in the same run:
 * RuleSet.decide with 100k rules (IPv4 /32, /24, /16; IPv6 /64, /128) for hits and misses of both
 * families versus one Map.get of the address text (the least any in-memory lookup costs) and a
 * linear scan (what a naive matcher costs); parseIp per family; the whole check from the client's
 * text; clientIp versus proxy-addr (Express's implementation). Target: < 1 µs per check.
 * Usage: `bun bench/block-matcher.ts`.
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import proxyaddr from "proxy-addr";
import { RuleSet } from "../src/core/decisions.ts";
import { clientIp, compileTrust, formatIpBytes, ipInCidr, parseCidr, parseIp, type ParsedIp } from "../src/core/ip.ts";
import type { DecisionRule, DecisionStore, RuleKind, RuleList } from "../src/core/ports.ts";

const NOW = 1_767_225_600_000;
const PROBES = 1024;

let seed = 7;
/** xorshift32, so every run benchmarks the same rules and probes. */
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const randomV4 = () => `${1 + (random() % 223)}.${random() & 255}.${random() & 255}.${random() & 255}`;
const randomV6 = () => `2a0${random() & 7}:${Array.from({ length: 7 }, () => (random() & 0xffff).toString(16)).join(":")}`;

const MIX: [count: number, make: () => string, kind: RuleKind][] = [
  [40_000, () => randomV4(), "ip"],
  [20_000, () => parseCidr(`${randomV4()}/24`)!.text, "cidr"],
  [10_000, () => parseCidr(`${randomV4()}/16`)!.text, "cidr"],
  [15_000, () => parseCidr(`${randomV6()}/64`)!.text, "cidr"],
  [15_000, () => parseIp(randomV6())!.text, "ip"],
];

const rules: DecisionRule[] = [];
const seen = new Set<string>();
for (const [count, make, kind] of MIX) {
  for (let made = 0; made < count; ) {
    const target = make();
    if (seen.has(target)) continue;
    seen.add(target);
    rules.push({ id: rules.length + 1, list: "block", target, kind, reason: null, created_at: 0, expires_at: null, source: "import" });
    made++;
  }
}

const store: DecisionStore = {
  listRules: (list: RuleList) => rules.filter((rule) => rule.list === list),
  addRule: () => {
    throw new Error("read-only bench store");
  },
  removeRule: () => 0,
  changeMarker: () => 1,
};
const ruleSet = new RuleSet(store);
const cidrs = rules.map((rule) => parseCidr(rule.target)!);

/** An address inside a random rule of the given family (a random host of its network). */
function hitOf(family: 4 | 6): string {
  for (;;) {
    const cidr = cidrs[random() % cidrs.length];
    if (cidr.family !== family) continue;
    const host = cidr.bytes.slice();
    if (cidr.prefix <= host.length * 8 - 8) host[host.length - 1] = random() & 255;
    return formatIpBytes(family, host);
  }
}
function missOf(family: 4 | 6): string {
  for (;;) {
    const text = family === 4 ? randomV4() : randomV6();
    if (ruleSet.decide(parseIp(text)!, null, NOW) === null) return parseIp(text)!.text;
  }
}
const probes = (make: () => string) => Array.from({ length: PROBES }, make);
const texts = {
  v4Hit: probes(() => hitOf(4)),
  v4Miss: probes(() => missOf(4)),
  v6Hit: probes(() => hitOf(6)),
  v6Miss: probes(() => missOf(6)),
};
const parsed = (list: string[]) => list.map((text) => parseIp(text)!);
const v4Hit = parsed(texts.v4Hit);
const v4Miss = parsed(texts.v4Miss);
const v6Hit = parsed(texts.v6Hit);
const v6Miss = parsed(texts.v6Miss);
const mappedSockets = texts.v4Miss.map((text) => `::ffff:${text}`);
for (const [name, list, hit] of [["v4 hit", v4Hit, true], ["v4 miss", v4Miss, false], ["v6 hit", v6Hit, true], ["v6 miss", v6Miss, false]] as const) {
  for (const ip of list) {
    if ((ruleSet.decide(ip, null, NOW) !== null) !== hit) throw new Error(`bench setup: ${name} probe ${ip.text} is wrong`);
  }
}

/** Baseline: one Map.get per check, as if every rule were an exact address. */
const exact = new Map(rules.map((rule) => [rule.target, rule]));
/** Baseline: scan every rule, keeping the longest prefix. */
function linearScan(ip: ParsedIp): DecisionRule | null {
  let best: DecisionRule | null = null;
  let bestPrefix = -1;
  for (let k = 0; k < cidrs.length; k++) {
    if (cidrs[k].prefix > bestPrefix && ipInCidr(ip, cidrs[k])) {
      best = rules[k];
      bestPrefix = cidrs[k].prefix;
    }
  }
  return best;
}

let i = 0;
const next = () => i++ & (PROBES - 1);

group("decide, 100k rules (pre-parsed address)", () => {
  summary(() => {
    bench("baseline: Map.get of the address text", () => do_not_optimize(exact.get(texts.v4Hit[next()])));
    bench("decide IPv4 hit", () => do_not_optimize(ruleSet.decide(v4Hit[next()], null, NOW)));
    bench("decide IPv4 miss", () => do_not_optimize(ruleSet.decide(v4Miss[next()], "DE", NOW)));
    bench("decide IPv6 hit", () => do_not_optimize(ruleSet.decide(v6Hit[next()], null, NOW)));
    bench("decide IPv6 miss", () => do_not_optimize(ruleSet.decide(v6Miss[next()], "DE", NOW)));
    bench("baseline: linear scan IPv4 miss", () => do_not_optimize(linearScan(v4Miss[next()])));
  });
});

group("parseIp", () => {
  summary(() => {
    bench("baseline: Map.get of the address text", () => do_not_optimize(exact.get(texts.v4Miss[next()])));
    bench("parseIp IPv4", () => do_not_optimize(parseIp(texts.v4Miss[next()])));
    bench("parseIp IPv4-mapped (Bun socket form)", () => do_not_optimize(parseIp(mappedSockets[next()])));
    bench("parseIp IPv6", () => do_not_optimize(parseIp(texts.v6Miss[next()])));
  });
});

group("whole check: parseIp + decide from text", () => {
  summary(() => {
    bench("check IPv4 hit", () => do_not_optimize(ruleSet.decide(parseIp(texts.v4Hit[next()])!, null, NOW)));
    bench("check IPv4 miss", () => do_not_optimize(ruleSet.decide(parseIp(texts.v4Miss[next()])!, "DE", NOW)));
    bench("check IPv6 hit", () => do_not_optimize(ruleSet.decide(parseIp(texts.v6Hit[next()])!, null, NOW)));
    bench("check IPv6 miss", () => do_not_optimize(ruleSet.decide(parseIp(texts.v6Miss[next()])!, "DE", NOW)));
  });
});

const trust = compileTrust("loopback");
const xff = texts.v4Miss.map((text, k) => `${texts.v6Miss[k]}, ${text}`);
const requests = xff.map((header) => ({ connection: { remoteAddress: "::ffff:127.0.0.1" }, headers: { "x-forwarded-for": header } }));
const proxyTrust = proxyaddr.compile("loopback");
group("client IP (socket ::ffff:127.0.0.1, two X-Forwarded-For entries)", () => {
  summary(() => {
    bench("baseline: proxy-addr", () => {
      do_not_optimize(proxyaddr(requests[next()] as unknown as Parameters<typeof proxyaddr>[0], proxyTrust));
    });
    bench("clientIp", () => do_not_optimize(clientIp("::ffff:127.0.0.1", xff[next()], trust)));
    bench("clientIp, no X-Forwarded-For", () => do_not_optimize(clientIp(mappedSockets[next()], null, trust)));
  });
});

const { benchmarks } = await run();
console.log(`\n${rules.length} rules (${MIX.map(([count, , kind], k) => `${count} ${["/32", "/24", "/16", "/64", "/128"][k]}`).join(", ")}), ns per operation:`);
for (const trial of benchmarks) {
  const stats = trial.runs[0]?.stats;
  if (stats) console.log(`  ${trial.alias.padEnd(42)} ${stats.avg.toFixed(1).padStart(10)} ns  (p99 ${stats.p99.toFixed(1)} ns)`);
}
const worst = Math.max(
  ...benchmarks.filter((trial) => trial.alias.startsWith("check ")).map((trial) => trial.runs[0]?.stats?.avg ?? Number.POSITIVE_INFINITY),
);
console.log(`\nslowest whole check: ${worst.toFixed(1)} ns — target < 1000 ns: ${worst < 1000 ? "met" : "NOT met"}`);
