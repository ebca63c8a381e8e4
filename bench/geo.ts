/**
 * Geolocation lookups: ipward's cached and uncached lookup against baselines in the same run —
 * a bare Map.get for the cache hit, and the maxmind Reader alone for the uncached lookup.
 * Target: a cached lookup under 1 µs. Usage: `bun bench/geo.ts`.
 */
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { loadBundledDatabases } from "../src/geo/bundled.ts";
import { openGeo } from "../src/geo/index.ts";

const CACHED_TARGET_NS = 1000;

/** Deterministic public addresses (IPv4, with every 8th one IPv6) so runs compare. */
function sampleAddresses(count: number): string[] {
  let seed = 0x9e3779b9;
  const next = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0);
  const addresses: string[] = [];
  while (addresses.length < count) {
    const n = next();
    if (addresses.length % 8 === 7) {
      addresses.push(`2a0${n % 10}:${(n >>> 8).toString(16)}::${(next() & 0xffff).toString(16)}`);
      continue;
    }
    const first = 1 + (n % 223);
    if (first === 10 || first === 127 || first === 100 || first === 169 || first === 172 || first === 192) continue;
    addresses.push(`${first}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}`);
  }
  return addresses;
}

const addresses = sampleAddresses(4096);
const log = (message: string) => console.error(message);
const dataDir = "/nonexistent/ipward-bench";
const cachedGeo = await openGeo({ dataDir, cacheSize: 50_000, log, watch: false });
const uncachedGeo = await openGeo({ dataDir, cacheSize: 0, log, watch: false });
const bundled = await loadBundledDatabases();
const baselineMap = new Map(addresses.map((ip) => [ip, cachedGeo.lookup(ip)]));
const located = addresses.filter((ip) => cachedGeo.lookup(ip) !== null).length;
console.log(`${addresses.length} sample addresses, ${located} located by the bundled data\n`);

let i = 0;
const nextAddress = () => addresses[i++ & 4095]!;

summary(() => {
  group("cached lookup (cache hit)", () => {
    bench("baseline: Map.get", () => do_not_optimize(baselineMap.get(nextAddress()))).baseline(true);
    bench("ipward geo.lookup, cached", () => do_not_optimize(cachedGeo.lookup(nextAddress())));
  });
});

summary(() => {
  group("uncached lookup", () => {
    bench("baseline: maxmind Reader.get", () => {
      const ip = nextAddress();
      do_not_optimize(bundled[ip.includes(":") ? 6 : 4].reader.get(ip));
    }).baseline(true);
    bench("ipward geo.lookup, cache off", () => do_not_optimize(uncachedGeo.lookup(nextAddress())));
  });
});

const { benchmarks } = await run();
const cached = benchmarks.find((trial) => trial.alias === "ipward geo.lookup, cached")?.runs[0]?.stats;
if (cached !== undefined) {
  const verdict = cached.avg < CACHED_TARGET_NS ? "meets" : "MISSES";
  console.log(`\ncached lookup: ${cached.avg.toFixed(1)} ns average, p99 ${cached.p99.toFixed(1)} ns — ${verdict} the < ${CACHED_TARGET_NS} ns target`);
}
