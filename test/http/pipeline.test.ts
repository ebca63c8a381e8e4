import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import proxyaddr from "proxy-addr";
import { normalizeIp } from "../../src/core/ip.ts";
import { type TestApp, testApp } from "../support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ trust_proxy: "loopback,10.0.0.0/8" });
});
afterAll(() => t.close());

async function clientIpOf(socketIp: string, forwardedFor: string | null): Promise<string> {
  const headers: Record<string, string> = forwardedFor === null ? {} : { "x-forwarded-for": forwardedFor };
  const response = await t.request("/", { socketIp, headers });
  expect(response.status).toBe(200);
  return ((await response.json()) as { ip: string }).ip;
}

const v4 = fc.oneof(
  fc.ipV4(),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`),
  fc.nat(255).map((d) => `127.0.0.${d}`),
);
const v6 = fc.oneof(fc.ipV6(), fc.constant("::1"), v4.map((a) => `::ffff:${a}`));
const address = fc.oneof({ weight: 3, arbitrary: v4 }, { weight: 1, arbitrary: v6 });

describe("demo app behind the pipeline", () => {
  test("GET / answers the welcome JSON with the client IP", async () => {
    const response = await t.request("/", { socketIp: "::ffff:203.0.113.7" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({
      message: "Welcome to the IP Tracking System",
      ip: "203.0.113.7",
      country: null,
      city: null,
    });
  });

  test("trailing slashes are accepted like the seed's URLs", async () => {
    for (const path of ["/api/login", "/api/login/", "/api/action/"]) {
      const response = await t.request(path, { method: "POST", socketIp: `198.18.0.${path.length}` });
      expect(response.status).toBe(200);
    }
  });

  test("the appliance health endpoint answers", async () => {
    const response = await t.request("/_ipward/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  test("client IP equals proxy-addr's for any chain of valid addresses (trust loopback,10.0.0.0/8)", async () => {
    const trust = proxyaddr.compile(["loopback", "10.0.0.0/8"]);
    await fc.assert(
      fc.asyncProperty(address, fc.array(address, { maxLength: 6 }), async (socketIp, chain) => {
        const forwardedFor = chain.length ? chain.join(", ") : null;
        const request = { connection: { remoteAddress: socketIp }, headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {} };
        const expected = normalizeIp(proxyaddr(request as never, trust));
        expect(await clientIpOf(socketIp, forwardedFor)).toBe(expected!);
      }),
      { numRuns: 300 },
    );
  });

  test("clients stay right across more socket addresses than the pipeline remembers parsed, which stays bounded", async () => {
    const sockets = Array.from({ length: 1500 }, (_, k) => `203.0.${k >> 8}.${k & 255}`);
    for (const round of [0, 1]) {
      for (const socketIp of round === 0 ? sockets : sockets.slice(0, 50)) {
        expect(await clientIpOf(socketIp, null)).toBe(socketIp);
        expect(await clientIpOf(`::ffff:${socketIp}`, "8.8.8.8")).toBe(socketIp);
      }
    }
    // The memo is private; its size is read here only to prove the bound.
    const memo = (t.app.pipeline as unknown as { sockets: Map<string, unknown> }).sockets;
    expect(memo.size).toBeLessThanOrEqual(1024);
    expect(await clientIpOf("not-an-address", null)).toBe("not-an-address");
  });

  test("malformed X-Forwarded-For entries never crash and never become the client IP", async () => {
    const junk = fc.oneof(fc.string(), fc.constantFrom("999.1.1.1", "unknown", "1.2.3", "::g", "[::1", "1.2.3.4:80", "", " , "));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(address, junk), { minLength: 1, maxLength: 6 }), async (entries) => {
        const header = entries.join(",").replace(/[\r\n\0]/g, "");
        const ip = await clientIpOf("127.0.0.1", header);
        expect(normalizeIp(ip)).toBe(ip);
        expect(entries.some((e) => normalizeIp(e.trim()) === ip) || ip === "127.0.0.1").toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
