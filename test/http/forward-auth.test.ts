import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { ManualClock, type TestApp, testApp } from "../support/app.ts";

const SECRET = "forward-auth-secret-long-enough-for-hs256";
const clock = new ManualClock();
let t: TestApp;

beforeAll(async () => {
  t = await testApp({ auth: { jwt_secret: SECRET }, trust_proxy: "loopback" }, clock);
  t.app.store.addRule({ list: "block", target: "198.51.100.0/24", kind: "cidr", reason: "fa test", expires_at: null, source: "cli" });
  t.app.rules.refreshIfChanged();
});
afterAll(() => t.close());

/** Asks /_ipward/check about an original request, as a proxy on `socketIp` (default: nginx on loopback) would. */
const check = (headers: Record<string, string>, socketIp = "127.0.0.1") => t.request("/_ipward/check", { headers, socketIp });

const nginx = (uri: string, method: string, forwardedFor: string, extra: Record<string, string> = {}) =>
  check({ "x-original-uri": uri, "x-original-method": method, "x-forwarded-for": forwardedFor, ...extra });

async function rowsFor(ip: string) {
  await t.app.logWriter.flush();
  return t.app.store.queryLogs({ ip });
}

describe("forward auth /_ipward/check", () => {
  test("a clean client is allowed: 200, no body, client IP and the original request logged", async () => {
    const response = await nginx("/shop/cart?item=7", "GET", "203.0.113.50", { "user-agent": "Browser/1.0", referer: "https://shop.example/" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect(response.headers.get("x-ipward-client-ip")).toBe("203.0.113.50");
    expect(response.headers.get("ratelimit")).toBeNull();

    const rows = await rowsFor("203.0.113.50");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ method: "GET", path: "/shop/cart", status: 200, decision: "allow", user_agent: "Browser/1.0", referer: "https://shop.example/" });
    expect(t.app.store.queryLogs({ path: "/_ipward/check" })).toEqual([]);
  });

  test("a blocked client gets 403 problem+json; the original request is logged as blocked", async () => {
    const response = await nginx("/admin/users", "DELETE", "198.51.100.23");
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 403, title: "Forbidden" });
    expect((await rowsFor("198.51.100.23"))[0]).toMatchObject({
      method: "DELETE",
      path: "/admin/users",
      status: 403,
      decision: "block",
      rule: "198.51.100.0/24",
    });
  });

  test("rate limits apply to the original method and path: RateLimit headers on 200, then 429 with Retry-After", async () => {
    const ip = "203.0.113.60";
    for (let i = 0; i < 5; i++) {
      const allowed = await nginx("/api/login", "POST", ip);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get("ratelimit-policy")).toBe('"login";q=5;w=60');
      expect(allowed.headers.get("ratelimit")).toMatch(new RegExp(`^"login";r=${4 - i};t=\\d+$`));
    }
    const limited = await nginx("/api/login/", "POST", ip);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ status: 429, title: "Too Many Requests" });
    // GET of the same path matches no rule.
    expect((await nginx("/api/login", "GET", ip)).status).toBe(200);

    const rows = await rowsFor(ip);
    expect(rows.map((r) => [r.method, r.status, r.decision])).toEqual([
      ["GET", 200, "allow"],
      ["POST", 429, "limit"],
      ...Array.from({ length: 5 }, () => ["POST", 200, "allow"]),
    ]);
    expect(rows[1]!.rule).toBe("login");
  });

  test("dot segments in the original URI cannot dodge a rule", async () => {
    const ip = "203.0.113.61";
    const statuses = [];
    for (const uri of ["/api/login", "/api/./login", "/api/x/../login", "/api/%2e/login", "/api/login", "/api/login?next=/", "/api//./login/.."]) {
      statuses.push((await nginx(uri, "POST", ip)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 200]);
    expect((await rowsFor(ip)).map((r) => r.path)).toContain("/api/login");
  });

  test("Caddy and Traefik headers: X-Forwarded-Uri and X-Forwarded-Method", async () => {
    const ip = "203.0.113.62";
    for (let i = 0; i < 5; i++) {
      expect((await check({ "x-forwarded-uri": "/api/login", "x-forwarded-method": "post", "x-forwarded-for": ip })).status).toBe(200);
    }
    expect((await check({ "x-forwarded-uri": "/api/login", "x-forwarded-method": "POST", "x-forwarded-for": ip })).status).toBe(429);
    const blocked = await check({ "x-forwarded-uri": "/", "x-forwarded-method": "GET", "x-forwarded-for": "198.51.100.1" });
    expect(blocked.status).toBe(403);
  });

  test("X-Real-IP names the client when there is no X-Forwarded-For", async () => {
    const blocked = await check({ "x-original-uri": "/", "x-original-method": "GET", "x-real-ip": "198.51.100.99" });
    expect(blocked.status).toBe(403);
    const clean = await check({ "x-original-uri": "/", "x-original-method": "GET", "x-real-ip": "203.0.113.63" });
    expect(clean.headers.get("x-ipward-client-ip")).toBe("203.0.113.63");
  });

  test("trusted-proxy rules apply: a caller that is not a trusted proxy cannot name another client", async () => {
    const spoofed = await check({ "x-original-uri": "/", "x-original-method": "GET", "x-forwarded-for": "203.0.113.64" }, "192.0.2.200");
    expect(spoofed.status).toBe(200);
    expect(spoofed.headers.get("x-ipward-client-ip")).toBe("192.0.2.200");
    // …and cannot launder a blocked address either: the blocked caller is judged by its own address.
    const blockedCaller = await check({ "x-original-uri": "/", "x-forwarded-for": "203.0.113.65" }, "198.51.100.200");
    expect(blockedCaller.status).toBe(403);
    // A chain through the trusted proxy: right to left, the first untrusted entry is the client.
    const chain = await nginx("/", "GET", "198.51.100.5, 203.0.113.66");
    expect(chain.headers.get("x-ipward-client-ip")).toBe("203.0.113.66");
  });

  test("user-keyed limits see the original Authorization header", async () => {
    const token = (sub: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(sub)
        .setIssuedAt(Math.floor(clock.now() / 1000))
        .setExpirationTime(Math.floor(clock.now() / 1000) + 3600)
        .sign(new TextEncoder().encode(SECRET));
    const alice = `Bearer ${await token("alice")}`;
    const bob = `Bearer ${await token("bob")}`;
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await nginx("/api/action", "POST", `203.0.113.${70 + i}`, { authorization: alice })).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    expect((await nginx("/api/action", "POST", "203.0.113.70", { authorization: bob })).status).toBe(200);
  });

  test("without X-Original-Method the check request's own method stands in; without a URI, /", async () => {
    const response = await check({ "x-forwarded-for": "203.0.113.90" });
    expect(response.status).toBe(200);
    expect((await rowsFor("203.0.113.90"))[0]).toMatchObject({ method: "GET", path: "/" });
  });
});
