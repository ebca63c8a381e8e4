import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type ParsedIp, parseIp } from "../../src/core/ip.ts";
import { loadBundledDatabases } from "../../src/geo/bundled.ts";
import { type GeoDatabase, openDatabase } from "../../src/geo/mmdb-database.ts";
import { treeSearch } from "../../src/geo/mmdb-tree.ts";
import { writeMmdb } from "./mmdb-writer.ts";

/**
 * The record maxmind's own reader finds for `ip`, as its data-section pointer. Reaches into the
 * reader's private `findAddressInTree` on purpose: it is the reference the tree walk must agree with.
 */
function maxmindRecord(database: GeoDatabase, ip: ParsedIp): number {
  const reader = database.reader as unknown as { findAddressInTree(ip: string): [number | null, number] };
  return reader.findAddressInTree(ip.text)[0] ?? -1;
}

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parseIp(parts.join("."))!);
const v6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((groups) => parseIp(groups.map((g) => g.toString(16)).join(":"))!)
  .filter((ip) => ip.family === 6);
/** Addresses near the test networks, so that both hits and misses are common. */
const nearV4 = fc.tuple(fc.constantFrom(8, 9, 81), fc.nat(255), fc.nat(255)).map(([a, c, d]) => parseIp(`${a}.8.${c}.${d}`)!);
const nearV6 = fc.tuple(fc.constantFrom(0x2001, 0x2a00), fc.constantFrom(0x4860, 0x1450, 0x4861), fc.nat(0xffff)).map(
  ([a, b, c]) => parseIp(`${a.toString(16)}:${b.toString(16)}::${c.toString(16)}`)!,
);

function testDatabase(ipVersion: 4 | 6, recordSize: 24 | 28 | 32): GeoDatabase {
  const networks: Record<string, { city: string }> = {
    "8.8.8.0/24": { city: "a" },
    "8.8.9.0/25": { city: "b" },
    "81.8.0.0/16": { city: "c" },
    "9.8.8.8/32": { city: "d" },
    // Shorter than the search's 16-bit jump table: found before the walk starts.
    "64.0.0.0/4": { city: "g" },
  };
  if (ipVersion === 6) Object.assign(networks, { "2001:4860::/32": { city: "e" }, "2a00:1450::/29": { city: "f" }, "3000::/4": { city: "h" } });
  const bytes = writeMmdb({ ipVersion, databaseType: "test", buildEpoch: new Date(0), networks, recordSize });
  return openDatabase(Buffer.from(bytes), "test", ipVersion === 6 ? [4, 6] : [4]);
}

describe("treeSearch", () => {
  for (const recordSize of [24, 28, 32] as const) {
    for (const ipVersion of [4, 6] as const) {
      test(`finds the record maxmind finds (${recordSize}-bit records, IPv${ipVersion} tree)`, () => {
        const database = testDatabase(ipVersion, recordSize);
        const addresses = ipVersion === 6 ? fc.oneof(v4, nearV4, v6, nearV6) : fc.oneof(v4, nearV4);
        fc.assert(
          fc.property(addresses, (ip) => {
            expect(database.search(ip)).toBe(maxmindRecord(database, ip));
          }),
          { numRuns: 2000 },
        );
      });
    }
  }

  test("finds the record maxmind finds in the bundled databases", async () => {
    const bundled = await loadBundledDatabases();
    fc.assert(
      fc.property(fc.oneof(v4, v6), (ip) => {
        expect(bundled[ip.family].search(ip)).toBe(maxmindRecord(bundled[ip.family], ip));
      }),
      { numRuns: 5000 },
    );
  });

  test("reads record values too large for a test file's tree (28-bit nibbles, unsigned 32-bit)", () => {
    // One root node whose records point straight at data; the node counts claimed are what makes
    // such values legal (files that large are not written in tests).
    const nibbles = treeSearch(Uint8Array.from([0x00, 0x00, 0x05, 0x34, 0x00, 0x00, 0x09]), { nodeCount: 0x2000000, recordSize: 28, ipVersion: 4 });
    expect(nibbles(parseIp("1.2.3.4")!)).toBe(0x3000005);
    expect(nibbles(parseIp("200.0.0.0")!)).toBe(0x4000009);
    const unsigned = treeSearch(Uint8Array.from([0x90, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe]), { nodeCount: 0x80000000, recordSize: 32, ipVersion: 4 });
    expect(unsigned(parseIp("1.2.3.4")!)).toBe(0x90000001);
    expect(unsigned(parseIp("200.0.0.0")!)).toBe(0xfffffffe);
  });

  test("an address outside every network is not found", () => {
    const database = testDatabase(6, 28);
    expect(database.search(parseIp("1.2.3.4")!)).toBe(-1);
    expect(database.search(parseIp("2001:4861::1")!)).toBe(-1);
    expect(database.search(parseIp("8.8.8.200")!)).toBeGreaterThan(0);
    expect(database.search(parseIp("70.1.2.3")!)).toBe(database.search(parseIp("64.0.0.0")!));
    expect(database.search(parseIp("3fff:1::1")!)).toBeGreaterThan(0);
  });
});

describe("GeoDatabase.decode", () => {
  test("gives maxmind's answer for the record the search found (bundled databases)", async () => {
    const bundled = await loadBundledDatabases();
    fc.assert(
      fc.property(fc.oneof(v4, v6), (ip) => {
        const database = bundled[ip.family];
        const record = database.search(ip);
        if (record >= 0) expect(database.decode(record, ip)).toEqual(database.reader.get(ip.text));
        else expect(database.reader.get(ip.text)).toBeNull();
      }),
      { numRuns: 5000 },
    );
  });

  test("gives maxmind's answer in every record size and tree family", () => {
    for (const recordSize of [24, 28, 32] as const) {
      for (const ipVersion of [4, 6] as const) {
        const database = testDatabase(ipVersion, recordSize);
        for (const text of ["8.8.8.8", "8.8.9.1", "81.8.3.4", "9.8.8.8", "70.1.2.3", ...(ipVersion === 6 ? ["2001:4860::1", "2a00:1450::9", "3001::1"] : [])]) {
          const ip = parseIp(text)!;
          const record = database.search(ip);
          expect(record).toBeGreaterThanOrEqual(0);
          expect(database.decode(record, ip)).toEqual(database.reader.get(text));
        }
      }
    }
  });
});
