import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import proxyaddr from "proxy-addr";
import { clientIp, compileTrust, normalizeIp, parseIp } from "../../src/core/ip.ts";

const TRUST = ["loopback", "10.0.0.0/8"];
const trust = compileTrust(TRUST.join(","));

/** proxy-addr itself, given a fake Node request: the oracle. */
function oracle(socket: string, header: string | null): string {
  const req = { connection: { remoteAddress: socket }, headers: header === null ? {} : { "x-forwarded-for": header } };
  return proxyaddr(req as unknown as Parameters<typeof proxyaddr>[0], TRUST);
}

const byte = fc.integer({ min: 0, max: 255 });
const group = fc.integer({ min: 0, max: 0xffff });
const dotted = (a: number, b: number, c: number, d: number) => `${a}.${b}.${c}.${d}`;

/** Writes 8 groups uncompressed, with random case and random leading zeros. */
const spelledGroups = (groups: number[]) =>
  fc
    .tuple(fc.boolean(), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }))
    .map(([upper, padded]) =>
      groups
        .map((g, k) => {
          const hex = padded[k] ? g.toString(16).padStart(4, "0") : g.toString(16);
          return upper ? hex.toUpperCase() : hex;
        })
        .join(":"),
    );

const randomV4 = fc.tuple(byte, byte, byte, byte).map(([a, b, c, d]) => dotted(a, b, c, d));
const loopbackV4 = fc.tuple(byte, byte, byte).map(([b, c, d]) => dotted(127, b, c, d));
const tenV4 = fc.tuple(byte, byte, byte).map(([b, c, d]) => dotted(10, b, c, d));
const trustedV4 = fc.oneof(loopbackV4, tenV4);
/** An IPv4 address written as IPv4-mapped IPv6, dotted or hex, in either case. */
const mapped = (v4: fc.Arbitrary<string>) =>
  fc.tuple(v4, fc.constantFrom("dotted", "hex", "long", "upper")).map(([address, form]) => {
    const [a, b, c, d] = address.split(".").map(Number);
    const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    if (form === "dotted") return `::ffff:${address}`;
    if (form === "hex") return `::ffff:${hex}`;
    if (form === "long") return `0:0:0:0:0:ffff:${address}`;
    return `::FFFF:${hex.toUpperCase()}`;
  });
const loopbackV6 = fc.constantFrom("::1", "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001", "::0001");
const randomV6 = fc.oneof(fc.ipV6(), fc.array(group, { minLength: 8, maxLength: 8 }).chain(spelledGroups));

/** Addresses biased towards the trusted ranges (127/8, 10/8, ::1, mapped forms of both). */
const address = fc.oneof(
  { weight: 4, arbitrary: trustedV4 },
  { weight: 2, arbitrary: loopbackV6 },
  { weight: 2, arbitrary: mapped(trustedV4) },
  { weight: 2, arbitrary: randomV4 },
  { weight: 1, arbitrary: mapped(randomV4) },
  { weight: 2, arbitrary: randomV6 },
);

const separator = fc.constantFrom(",", ", ", " ,", " , ", ",  ");
const joinHeader = (entries: string[], separators: string[]) =>
  entries.reduce((header, entry, k) => (k === 0 ? entry : header + separators[k % separators.length] + entry), "");

describe("parseIp properties", () => {
  test("(a) canonical text of any IPv4 or IPv6 address round-trips", () => {
    fc.assert(
      fc.property(fc.oneof(randomV4, fc.ipV4(), randomV6, mapped(randomV4), loopbackV6), (text) => {
        const parsed = parseIp(text);
        expect(parsed).not.toBeNull();
        const again = parseIp(parsed!.text);
        expect(again).toEqual(parsed);
        expect(again!.text).toBe(parsed!.text);
      }),
      { numRuns: 5000 },
    );
  });

  test("(a) IPv6 bytes survive parsing, and the text matches the WHATWG URL serialiser (RFC 5952)", () => {
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }).chain((groups) => fc.tuple(fc.constant(groups), spelledGroups(groups))),
        fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 6 }),
        ([groups, text], zeroed) => {
          for (const k of zeroed) groups[k] = 0;
          const written = groups.map((g) => g.toString(16)).join(":");
          const parsed = parseIp(written);
          expect(parsed).not.toBeNull();
          if (parsed!.family === 4) {
            expect(groups.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0xffff]);
            return;
          }
          const bytes = groups.flatMap((g) => [g >> 8, g & 255]);
          expect([...parsed!.bytes]).toEqual(bytes);
          expect(parsed!.text).toBe(new URL(`http://[${written}]/`).hostname.slice(1, -1));
          if (zeroed.length === 0) expect(parseIp(text)!.text).toBe(parsed!.text);
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("(b) parseIp never throws on arbitrary strings, and what it accepts is canonical", () => {
    const ipAlphabet = fc.constantFrom(..."0123456789abcdefABCDEF:.[]%/ fFxX-\t".split(""));
    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.string({ unit: ipAlphabet, maxLength: 48 }),
      fc.tuple(address, fc.string({ unit: ipAlphabet, maxLength: 4 }), fc.nat()).map(([a, noise, at]) => {
        const cut = at % (a.length + 1);
        return a.slice(0, cut) + noise + a.slice(cut);
      }),
    );
    fc.assert(
      fc.property(text, (input) => {
        const parsed = parseIp(input);
        if (parsed !== null) expect(parseIp(parsed.text)!.text).toBe(parsed.text);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("clientIp properties", () => {
  test("(c) equals proxy-addr for chains of valid addresses (trust loopback,10.0.0.0/8)", () => {
    fc.assert(
      fc.property(
        address,
        fc.array(address, { maxLength: 12 }),
        fc.array(separator, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (socket, entries, separators, nullWhenEmpty) => {
          const header = entries.length === 0 && nullWhenEmpty ? null : joinHeader(entries, separators);
          expect(clientIp(socket, header, trust)).toBe(normalizeIp(oracle(socket, header))!);
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("(d) with junk mixed in, the result is a canonical address from the chain, as proxy-addr gives for the valid tail", () => {
    const junk = fc
      .oneof(
        fc.constantFrom(
          "unknown",
          "1.2.3.4:80",
          "[::1]:443",
          "01.2.3.4",
          "127.1",
          "2130706433",
          "0x7f000001",
          "fe80::1%eth0",
          "10.0.0.256",
          "_hidden",
          "::ffff:999.0.0.1",
          "<script>",
        ),
        fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
      )
      .filter((entry) => !entry.includes(",") && entry.trim() !== "" && parseIp(entry.trim()) === null);
    const entry = fc.oneof({ weight: 3, arbitrary: address }, { weight: 1, arbitrary: junk });
    fc.assert(
      fc.property(address, fc.array(entry, { minLength: 1, maxLength: 12 }), separator, (socket, entries, sep) => {
        const header = entries.join(sep);
        const result = clientIp(socket, header, trust);
        expect(normalizeIp(result)).toBe(result);
        const candidates = [socket, ...entries].map((e) => normalizeIp(e.trim())).filter((e) => e !== null);
        expect(candidates).toContain(result);
        const lastJunk = entries.findLastIndex((e) => parseIp(e.trim()) === null);
        const validTail = entries.slice(lastJunk + 1);
        expect(result).toBe(normalizeIp(oracle(socket, validTail.length === 0 ? null : validTail.join(sep)))!);
      }),
      { numRuns: 5000 },
    );
  });
});
