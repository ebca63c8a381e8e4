import { describe, expect, test } from "bun:test";
import proxyaddr from "proxy-addr";
import { isIpwardError } from "../../src/core/errors.ts";
import {
  clientIp,
  compileTrust,
  ipInCidr,
  ipScope,
  isCanonicalIp,
  MAX_FORWARDED_ENTRIES,
  maskIp,
  normalizeIp,
  parseCidr,
  parseIp,
  resolveClientIp,
  type TrustSpec,
} from "../../src/core/ip.ts";

const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`test setup: ${text} does not parse`);
  return parsed;
};

describe("parseIp: IPv4", () => {
  test.each([
    ["1.2.3.4", "1.2.3.4", 0x01020304],
    ["0.0.0.0", "0.0.0.0", 0],
    ["255.255.255.255", "255.255.255.255", 0xffffffff],
    ["192.168.0.10", "192.168.0.10", 0xc0a8000a],
  ])("%s is valid", (input, text, v4) => {
    const parsed = ip(input);
    expect(parsed.family).toBe(4);
    expect(parsed.text).toBe(text);
    expect(parsed.v4).toBe(v4);
    expect([...parsed.bytes]).toEqual([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
  });

  test.each([
    "",
    "1",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.256",
    "999.1.1.1",
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.00",
    "1..3.4",
    ".1.2.3",
    "1.2.3.",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2. 3.4",
    "1.2.3.4\n",
    "0x7f.0.0.1",
    "127.1",
    "2130706433",
    "1.2.3.-4",
    "+1.2.3.4",
    "1.2.3.4/32",
    "1.2.3.4:80",
    "[1.2.3.4]",
    "１.2.3.4",
  ])("%p is rejected", (input) => {
    expect(parseIp(input)).toBeNull();
  });
});

describe("parseIp: IPv6 canonical text (RFC 5952)", () => {
  test.each([
    // §4.1 leading zeros are suppressed
    ["2001:0db8::0001", "2001:db8::1"],
    // §4.2.1 "::" shortens as much as possible
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    // §4.2.2 a single zero group is not shortened
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // §4.2.3 the longest run is shortened, the first one on a tie
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    // §4.3 lower case
    ["2001:DB8::A", "2001:db8::a"],
    ["2001:DB8:0:0:1::1", "2001:db8::1:0:0:1"],
    // §2 the many spellings of one address
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8::1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:1::1", "2001:db8::1:0:0:1"],
    ["2001:db8:0000:0:1::1", "2001:db8::1:0:0:1"],
    ["::", "::"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1::", "1::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["fe80::0:0:1", "fe80::1"],
    ["FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["[2001:db8::1]", "2001:db8::1"],
    ["[::1]", "::1"],
    // embedded IPv4 that is not IPv4-mapped stays IPv6, written in hex
    ["::1.2.3.4", "::102:304"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["::ffff:0:1.2.3.4", "::ffff:0:102:304"],
  ])("%s → %s", (input, canonical) => {
    const parsed = ip(input);
    expect(parsed.family).toBe(6);
    expect(parsed.text).toBe(canonical);
    expect(parsed.bytes.length).toBe(16);
    expect(parsed.v4).toBe(0);
  });

  test("bytes are in network order", () => {
    expect([...ip("2001:db8::ff00:42:8329").bytes]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29,
    ]);
  });

  test.each([
    ":",
    ":::",
    "1:::2",
    ":1::",
    "1::2::3",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "12345::1",
    "1:",
    ":1",
    "1:2:3:4:5:6:7:",
    "g::1",
    "fe80::1%eth0",
    "fe80::1%25eth0",
    "[::1",
    "::1]",
    "[::1]:8080",
    "[]",
    ":: 1",
    " ::1",
    "::1 ",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3",
    "::1.2.3.4.5",
    "::ffff:01.2.3.4",
    "::ffff:256.2.3.4",
    "::1.2.3.4:1",
    "1.2.3.4::",
    "0000:0000:0000:0000:0000:0000:0000:00001",
  ])("%p is rejected", (input) => {
    expect(parseIp(input)).toBeNull();
  });
});

describe("parseIp: IPv4-mapped IPv6 becomes IPv4", () => {
  test.each([
    "::ffff:1.2.3.4",
    "::FFFF:1.2.3.4",
    "::ffff:102:304",
    "0:0:0:0:0:ffff:102:304",
    "0000:0000:0000:0000:0000:ffff:0102:0304",
    "0:0:0:0:0:ffff:1.2.3.4",
    "[::ffff:1.2.3.4]",
  ])("%s → 1.2.3.4", (input) => {
    const parsed = ip(input);
    expect(parsed.family).toBe(4);
    expect(parsed.text).toBe("1.2.3.4");
    expect(parsed.v4).toBe(0x01020304);
    expect([...parsed.bytes]).toEqual([1, 2, 3, 4]);
  });

  test("Bun's socket form of loopback", () => {
    expect(normalizeIp("::ffff:127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("parseIp never throws and rejects non-strings", () => {
  test("odd inputs", () => {
    const inputs: unknown[] = [undefined, null, 42, {}, [], "x".repeat(1_000_000), ":".repeat(100), `[${"1".repeat(50)}]`];
    for (const input of inputs) expect(parseIp(input as string)).toBeNull();
  });
});

describe("normalizeIp and isCanonicalIp", () => {
  test("normalizeIp returns canonical text or null", () => {
    expect(normalizeIp("2001:DB8::0001")).toBe("2001:db8::1");
    expect(normalizeIp("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(normalizeIp("nope")).toBeNull();
  });
  test("isCanonicalIp", () => {
    expect(isCanonicalIp("2001:db8::1")).toBe(true);
    expect(isCanonicalIp("10.0.0.1")).toBe(true);
    expect(isCanonicalIp("2001:DB8::1")).toBe(false);
    expect(isCanonicalIp("::ffff:10.0.0.1")).toBe(false);
    expect(isCanonicalIp("junk")).toBe(false);
  });
});

describe("parseCidr", () => {
  test.each([
    ["10.0.0.0/8", "10.0.0.0/8", 4, 8],
    ["10.1.2.3/8", "10.0.0.0/8", 4, 8],
    ["192.168.1.77/24", "192.168.1.0/24", 4, 24],
    ["172.31.255.255/12", "172.16.0.0/12", 4, 12],
    ["1.2.3.4", "1.2.3.4/32", 4, 32],
    ["1.2.3.4/32", "1.2.3.4/32", 4, 32],
    ["1.2.3.255/31", "1.2.3.254/31", 4, 31],
    ["0.0.0.0/0", "0.0.0.0/0", 4, 0],
    ["8.8.8.8/0", "0.0.0.0/0", 4, 0],
    ["10.0.0.1/255.0.0.0", "10.0.0.0/8", 4, 8],
    ["10.0.0.1/255.255.255.0", "10.0.0.0/24", 4, 24],
    ["10.0.0.1/255.255.255.255", "10.0.0.1/32", 4, 32],
    ["10.0.0.1/0.0.0.0", "0.0.0.0/0", 4, 0],
    ["2001:db8::1/32", "2001:db8::/32", 6, 32],
    ["2001:DB8:abcd:12:1:2:3:4/64", "2001:db8:abcd:12::/64", 6, 64],
    ["2001:db8::1/33", "2001:db8::/33", 6, 33],
    ["2001:db8:ffff::/35", "2001:db8:e000::/35", 6, 35],
    ["::1", "::1/128", 6, 128],
    ["::1/128", "::1/128", 6, 128],
    ["::/0", "::/0", 6, 0],
    ["fe80::1/10", "fe80::/10", 6, 10],
    ["[2001:db8::1]/48", "2001:db8::/48", 6, 48],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8", 4, 8],
    ["::ffff:10.1.2.3/120", "10.1.2.0/24", 4, 24],
    ["::ffff:1.2.3.4", "1.2.3.4/32", 4, 32],
    ["::ffff:1.2.3.4/128", "1.2.3.4/32", 4, 32],
    ["::ffff:0:0/96", "0.0.0.0/0", 4, 0],
    ["::ffff:1.2.3.4/95", "::fffe:0:0/95", 6, 95],
  ])("%s → %s", (input, text, family, prefix) => {
    const cidr = parseCidr(input);
    expect(cidr).not.toBeNull();
    expect(cidr!.text).toBe(text);
    expect(cidr!.family).toBe(family as 4 | 6);
    expect(cidr!.prefix).toBe(prefix);
    expect(cidr!.bytes.length).toBe(family === 4 ? 4 : 16);
  });

  test.each([
    "",
    "/24",
    "1.2.3.4/",
    "1.2.3.4/33",
    "1.2.3.4/-1",
    "1.2.3.4/+8",
    "1.2.3.4/8.0",
    "1.2.3.4/ 8",
    "1.2.3.4/8 ",
    "1.2.3.4/1000",
    "1.2.3.4/8/8",
    "999.1.1.1/8",
    "10.0.0.1/255.0.255.0",
    "10.0.0.1/0.255.255.255",
    "10.0.0.1/256.0.0.0",
    "::1/129",
    "::1/ffff::",
    "::ffff:1.2.3.4/255.0.0.0",
    "abc/8",
    "fe80::1%eth0/64",
  ])("%p is rejected", (input) => {
    expect(parseCidr(input)).toBeNull();
  });
});

describe("ipInCidr", () => {
  test.each([
    ["10.1.2.3", "10.0.0.0/8", true],
    ["11.0.0.0", "10.0.0.0/8", false],
    ["9.255.255.255", "10.0.0.0/8", false],
    ["172.31.0.1", "172.16.0.0/12", true],
    ["172.32.0.1", "172.16.0.0/12", false],
    ["1.2.3.4", "1.2.3.4/32", true],
    ["1.2.3.5", "1.2.3.4/32", false],
    ["1.2.3.5", "1.2.3.4/31", true],
    ["8.8.8.8", "0.0.0.0/0", true],
    ["::ffff:10.9.9.9", "10.0.0.0/8", true],
    ["10.9.9.9", "::ffff:10.0.0.0/104", true],
    ["2001:db8:1::5", "2001:db8::/32", true],
    ["2001:db9::5", "2001:db8::/32", false],
    ["2001:db8:7fff::1", "2001:db8::/33", true],
    ["2001:db8:8000::1", "2001:db8::/33", false],
    ["::1", "::1/128", true],
    ["::2", "::1/128", false],
    ["2001:db8::1", "::/0", true],
    ["10.0.0.1", "::/0", false],
    ["::a00:1", "10.0.0.0/8", false],
  ])("%s in %s → %p", (address, range, expected) => {
    expect(ipInCidr(ip(address), parseCidr(range)!)).toBe(expected);
  });
});

describe("maskIp", () => {
  test.each([
    ["2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::"],
    ["2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::"],
    ["2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6"],
    ["2001:db8:1:2:3:4:5:6", 0, "::"],
    ["2001:db8:1:2:3:4:5:6", 200, "2001:db8:1:2:3:4:5:6"],
    ["2001:db8:1:ffff::", 52, "2001:db8:1:f000::"],
    ["1.2.3.4", 24, "1.2.3.0"],
    ["1.2.3.4", 16, "1.2.0.0"],
    ["255.255.255.255", 1, "128.0.0.0"],
    ["1.2.3.4", 32, "1.2.3.4"],
    ["1.2.3.4", 64, "1.2.3.4"],
    ["1.2.3.4", 0, "0.0.0.0"],
    ["1.2.3.4", -5, "0.0.0.0"],
    ["::ffff:203.0.113.77", 24, "203.0.113.0"],
  ])("%s /%d → %s", (address, prefix, expected) => {
    expect(maskIp(ip(address), prefix)).toBe(expected);
  });
});

describe("ipScope", () => {
  test.each([
    ["8.8.8.8", "unicast"],
    ["1.1.1.1", "unicast"],
    ["192.0.1.1", "unicast"],
    ["198.20.0.1", "unicast"],
    ["223.255.255.255", "unicast"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["169.254.1.1", "linklocal"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "unicast"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["100.127.255.255", "private"],
    ["100.128.0.1", "unicast"],
    ["0.0.0.0", "reserved"],
    ["0.1.2.3", "reserved"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.7", "reserved"],
    ["224.0.0.1", "reserved"],
    ["239.255.255.250", "reserved"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["2001:4860:4860::8888", "unicast"],
    ["2606:4700::1111", "unicast"],
    ["2002:c000:203::1", "unicast"],
    ["64:ff9b::808:808", "unicast"],
    ["::1", "loopback"],
    ["fe80::1", "linklocal"],
    ["febf::1", "linklocal"],
    ["fc00::1", "uniquelocal"],
    ["fd12:3456::1", "uniquelocal"],
    ["::", "reserved"],
    ["2001:db8::1", "reserved"],
    ["2001:2::1", "reserved"],
    ["3fff::1", "reserved"],
    ["ff02::1", "reserved"],
    ["fec0::1", "reserved"],
    ["100::1", "reserved"],
    ["::102:304", "reserved"],
    ["5f00::1", "reserved"],
  ])("%s is %s", (address, scope) => {
    expect(ipScope(ip(address))).toBe(scope as ReturnType<typeof ipScope>);
  });
});

/** Express's own compileTrust in front of proxy-addr: the oracle for the table below. */
function expressTrust(spec: TrustSpec): Parameters<typeof proxyaddr>[1] {
  if (spec === true) return () => true;
  if (spec === false) return () => false;
  if (typeof spec === "number") return (_addr: string, i: number) => i < spec;
  const list = typeof spec === "string" ? spec.split(",").map((entry) => entry.trim()) : spec;
  return proxyaddr.compile(list);
}

function proxyaddrOf(socket: string, xff: string | null, spec: TrustSpec): string {
  const req = { connection: { remoteAddress: socket }, headers: xff === null ? {} : { "x-forwarded-for": xff } };
  return proxyaddr(req as unknown as Parameters<typeof proxyaddr>[0], expressTrust(spec));
}

describe("clientIp follows proxy-addr", () => {
  const cases: [string, string, string | null, TrustSpec, string][] = [
    ["no header: socket", "203.0.113.9", null, "loopback", "203.0.113.9"],
    ["empty header: socket", "127.0.0.1", "", "loopback", "127.0.0.1"],
    ["untrusted socket ignores the header", "203.0.113.9", "10.0.0.1", "loopback", "203.0.113.9"],
    ["trusted socket: header value", "127.0.0.1", "10.0.0.1", "loopback", "10.0.0.1"],
    ["first untrusted from the right", "127.0.0.1", "10.0.0.1, 10.0.0.2", "loopback", "10.0.0.2"],
    ["walks through trusted hops", "127.0.0.1", "192.168.0.1, 10.0.0.1", ["127.0.0.1", "10.0.0.1"], "192.168.0.1"],
    ["does not skip untrusted", "127.0.0.1", "10.0.0.3, 192.168.0.1, 10.0.0.1", "127.0.0.1,10.0.0.1", "192.168.0.1"],
    ["all trusted: leftmost", "127.0.0.1", "10.0.0.3, 10.0.0.2", "loopback, 10.0.0.0/8", "10.0.0.3"],
    ["trust true: leftmost", "203.0.113.9", "1.1.1.1, 2.2.2.2, 3.3.3.3", true, "1.1.1.1"],
    ["trust false: socket", "127.0.0.1", "1.1.1.1", false, "127.0.0.1"],
    ["hop count 0: socket", "127.0.0.1", "1.1.1.1, 2.2.2.2", 0, "127.0.0.1"],
    ["hop count 1: rightmost entry", "198.51.100.1", "1.1.1.1, 2.2.2.2", 1, "2.2.2.2"],
    ["hop count 2", "198.51.100.1", "1.1.1.1, 2.2.2.2", 2, "1.1.1.1"],
    ["hop count beyond the chain: leftmost", "198.51.100.1", "1.1.1.1, 2.2.2.2", 5, "1.1.1.1"],
    ["mapped socket matches IPv4 rule", "::ffff:127.0.0.1", "10.0.0.1", "127.0.0.1", "10.0.0.1"],
    ["mapped socket matches preset", "::ffff:127.0.0.1", "8.8.8.8", "loopback", "8.8.8.8"],
    ["mapped entry matches CIDR", "127.0.0.1", "8.8.8.8, ::ffff:a00:2", "loopback,10.0.0.2/26", "8.8.8.8"],
    ["IPv6 loopback", "::1", "2002:c000:203::1", "loopback", "2002:c000:203::1"],
    ["IPv6 CIDR", "::1", "2001:db8::9, fe80::1", "loopback,linklocal", "2001:db8::9"],
    ["uniquelocal preset", "10.1.1.1", "8.8.4.4, 192.168.1.1, 172.16.0.1", "uniquelocal", "8.8.4.4"],
    ["netmask notation", "10.0.0.5", "8.8.4.4", "10.0.0.1/255.255.255.0", "8.8.4.4"],
    ["netmask notation excludes", "10.0.1.5", "8.8.4.4", "10.0.0.1/255.255.255.0", "10.0.1.5"],
    ["mapped range", "10.0.0.5", "8.8.4.4", "::ffff:a00:1/104", "8.8.4.4"],
    ["empty entries are skipped", "127.0.0.1", "1.1.1.1, , 10.0.0.1,", "loopback,10.0.0.0/8", "1.1.1.1"],
    ["no spaces", "127.0.0.1", "1.1.1.1,2.2.2.2", "loopback", "2.2.2.2"],
    ["IPv4 rule does not match IPv6", "::1", "2001:db8::1", "127.0.0.1", "::1"],
  ];
  test.each(cases)("%s", (_name, socket, xff, spec, expected) => {
    const result = clientIp(socket, xff, compileTrust(spec));
    expect(result).toBe(expected);
    expect(result).toBe(normalizeIp(proxyaddrOf(socket, xff, spec))!);
  });

  test.each([
    ["IPv6 socket is canonicalised", "0:0:0:0:0:0:0:1", null, "loopback", "::1"],
    ["IPv6 entry is canonicalised", "::1", "2001:DB8:0:0:0:0:0:1", "loopback", "2001:db8::1"],
    ["mapped entry becomes IPv4", "127.0.0.1", "::ffff:8.8.8.8", "loopback", "8.8.8.8"],
    ["bracketed entry", "127.0.0.1", "[2001:db8::1]", "loopback", "2001:db8::1"],
  ] as [string, string, string | null, TrustSpec, string][])("output is canonical: %s", (_n, socket, xff, spec, expected) => {
    expect(clientIp(socket, xff, compileTrust(spec))).toBe(expected);
  });
});

describe("clientIp with malformed input (deliberate deviation from proxy-addr)", () => {
  const trust = compileTrust("loopback, 10.0.0.0/8");
  test.each([
    ["garbage right after the socket", "127.0.0.1", "garbage", "127.0.0.1"],
    ["garbage behind a trusted proxy", "127.0.0.1", "garbage, 10.0.0.7", "10.0.0.7"],
    ["garbage beyond the client is never reached", "127.0.0.1", "garbage, 8.8.8.8, 10.0.0.7", "8.8.8.8"],
    ["out-of-range entry", "127.0.0.1", "300.1.1.1", "127.0.0.1"],
    ["entry with a port", "127.0.0.1", "1.2.3.4:5678", "127.0.0.1"],
    ["zone id", "127.0.0.1", "fe80::1%eth0", "127.0.0.1"],
    ["script injection", "127.0.0.1", "<script>alert(1)</script>", "127.0.0.1"],
    ["only commas", "127.0.0.1", ",,,", "127.0.0.1"],
    ["tabs are trimmed", "127.0.0.1", "\t8.8.8.8\t", "8.8.8.8"],
  ])("%s", (_name, socket, xff, expected) => {
    expect(clientIp(socket, xff, trust)).toBe(expected);
  });

  test("hop counts stop at garbage too", () => {
    expect(clientIp("127.0.0.1", "8.8.8.8, junk, 10.0.0.1", compileTrust(3))).toBe("10.0.0.1");
  });

  test("trust all stops at garbage", () => {
    expect(clientIp("127.0.0.1", "junk, 8.8.8.8", compileTrust(true))).toBe("8.8.8.8");
  });

  test("an unparsable socket address is returned as given", () => {
    expect(clientIp("unix:/run/sock", "8.8.8.8", trust)).toBe("unix:/run/sock");
    expect(resolveClientIp("unix:/run/sock", "8.8.8.8", trust)).toBeNull();
  });

  test("resolveClientIp returns the parsed client", () => {
    const parsed = resolveClientIp("::ffff:127.0.0.1", "2001:DB8::1", trust);
    expect(parsed?.family).toBe(6);
    expect(parsed?.text).toBe("2001:db8::1");
  });

  test(`examines at most ${MAX_FORWARDED_ENTRIES} entries of a long chain of trusted proxies`, () => {
    const proxies = Array.from({ length: 200 }, (_, k) => `10.0.${k >> 8}.${k & 255}`);
    const header = proxies.join(", ");
    const result = clientIp("127.0.0.1", header, trust);
    expect(result).toBe(proxies[200 - MAX_FORWARDED_ENTRIES]);
    expect(clientIp("127.0.0.1", proxies.slice(-MAX_FORWARDED_ENTRIES).join(","), trust)).toBe(
      proxies[200 - MAX_FORWARDED_ENTRIES],
    );
  });

  test("a huge header costs linear time", () => {
    const header = "1.1.1.1, ".repeat(200_000) + "8.8.8.8";
    const junk = "x".repeat(2_000_000);
    const started = performance.now();
    expect(clientIp("127.0.0.1", header, trust)).toBe("8.8.8.8");
    expect(clientIp("127.0.0.1", junk, trust)).toBe("127.0.0.1");
    expect(clientIp("127.0.0.1", ",".repeat(1_000_000), trust)).toBe("127.0.0.1");
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe("compileTrust", () => {
  test.each([
    ["loopback", "127.9.9.9", true],
    ["loopback", "::1", true],
    ["loopback", "10.0.0.1", false],
    ["LoopBack", "127.0.0.1", true],
    ["linklocal", "169.254.3.3", true],
    ["linklocal", "fe80::abcd", true],
    ["uniquelocal", "10.0.0.1", true],
    ["uniquelocal", "172.20.0.1", true],
    ["uniquelocal", "192.168.9.9", true],
    ["uniquelocal", "fd00::1", true],
    ["uniquelocal", "8.8.8.8", false],
    ["10.0.0.1", "10.0.0.1", true],
    ["10.0.0.1", "10.0.0.2", false],
    ["::ffff:10.0.0.1", "10.0.0.1", true],
    ["2001:db8::/32", "2001:db8:5::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["0.0.0.0/0", "::1", false],
    ["", "127.0.0.1", false],
    [" , ", "127.0.0.1", false],
  ] as [string, string, boolean][])("%p trusts %s: %p", (spec, address, expected) => {
    expect(compileTrust(spec)(ip(address), 0)).toBe(expected);
  });

  test("lists, and comma-separated entries inside lists", () => {
    const trust = compileTrust(["loopback", "10.0.0.0/8, 192.0.2.1"]);
    expect(trust(ip("127.0.0.1"), 0)).toBe(true);
    expect(trust(ip("10.2.2.2"), 0)).toBe(true);
    expect(trust(ip("192.0.2.1"), 0)).toBe(true);
    expect(trust(ip("192.0.2.2"), 0)).toBe(false);
  });

  test("hop counts and booleans, also written as strings", () => {
    for (const spec of [2, "2", " 2 "] as TrustSpec[]) {
      const trust = compileTrust(spec);
      expect([0, 1, 2].map((hop) => trust(ip("8.8.8.8"), hop))).toEqual([true, true, false]);
    }
    expect(compileTrust(true)(ip("8.8.8.8"), 99)).toBe(true);
    expect(compileTrust("TRUE")(ip("8.8.8.8"), 99)).toBe(true);
    expect(compileTrust(false)(ip("127.0.0.1"), 0)).toBe(false);
    expect(compileTrust("false")(ip("127.0.0.1"), 0)).toBe(false);
    expect(compileTrust(0)(ip("127.0.0.1"), 0)).toBe(false);
  });

  test.each([
    ["blargh", "blargh"],
    ["loopback, 10.0.0.300", "10.0.0.300"],
    ["10.0.0.1/33", "10.0.0.1/33"],
    ["::1/129", "::1/129"],
    ["10.0.0.1/-1", "10.0.0.1/-1"],
    ["10.0.0.1/255.0.255.0", "10.0.0.1/255.0.255.0"],
    ["local host", "local host"],
    [["loopback", "nope"], "nope"],
  ] as [TrustSpec, string][])("%p throws invalid_config naming %p", (spec, entry) => {
    let error: unknown;
    try {
      compileTrust(spec);
    } catch (e) {
      error = e;
    }
    expect(isIpwardError(error, "invalid_config")).toBe(true);
    expect((error as Error).message).toContain(`"${entry}"`);
  });

  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("hop count %p throws invalid_config", (hops) => {
    expect(() => compileTrust(hops)).toThrow(/hop count/);
  });

  test("non-string list entries throw invalid_config", () => {
    expect(() => compileTrust([42 as unknown as string])).toThrow(/trust_proxy entry 42/);
  });
});
