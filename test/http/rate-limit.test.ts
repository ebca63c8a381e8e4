import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { ManualClock, type TestApp, testApp } from "../support/app.ts";

const SECRET = "test-secret-that-is-long-enough-for-hs256";
const clock = new ManualClock();
let t: TestApp;

beforeAll(async () => {
  t = await testApp({ auth: { jwt_secret: SECRET } }, clock);
});
afterAll(() => t.close());

function token(sub: string, claims: Record<string, unknown> = {}, secret = SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .setExpirationTime(Math.floor(clock.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(secret));
}

const post = (path: string, socketIp: string, headers: Record<string, string> = {}) =>
  t.request(path, { method: "POST", socketIp, headers });

async function statuses(n: number, send: () => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send()).status);
  return out;
}

describe("rate limits (demo defaults)", () => {
  test("six logins from one IP within a minute: five 200 then a 429 with Retry-After and RateLimit headers", async () => {
    const first = await post("/api/login", "203.0.113.10");
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"login";q=5;w=60');
    expect(first.headers.get("ratelimit")).toMatch(/^"login";r=4;t=\d+$/);

    expect(await statuses(4, () => post("/api/login/", "203.0.113.10"))).toEqual([200, 200, 200, 200]);
    const limited = await post("/api/login", "203.0.113.10");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("ratelimit")).toMatch(/^"login";r=0;t=\d+$/);
    expect(limited.headers.get("ratelimit-policy")).toBe('"login";q=5;w=60');
    expect(await limited.json()).toMatchObject({ status: 429, title: "Too Many Requests", instance: "/api/login" });

    expect((await post("/api/login", "203.0.113.11")).status).toBe(200);
  });

  test("the window slides: still refused just after the minute, allowed once the old hits weigh little", async () => {
    const ip = "203.0.113.20";
    expect(await statuses(6, () => post("/api/login", ip))).toEqual([200, 200, 200, 200, 200, 429]);
    clock.advance(61_000);
    expect((await post("/api/login", ip)).status).toBe(429);
    clock.advance(60_000);
    expect((await post("/api/login", ip)).status).toBe(200);
  });

  test("routes without a rule carry no RateLimit headers", async () => {
    const response = await t.request("/", { socketIp: "203.0.113.30" });
    expect(response.status).toBe(200);
    expect(response.headers.get("ratelimit")).toBeNull();
  });

  test("eleven actions: ten 200 then 429", async () => {
    expect(await statuses(11, () => post("/api/action", "203.0.113.40"))).toEqual([...Array(10).fill(200), 429]);
  });

  test("with a valid JWT the key is the user, not the IP", async () => {
    const alice = `Bearer ${await token("alice")}`;
    let n = 0;
    const fromManyIps = await statuses(11, () => post("/api/action", `198.51.100.${++n}`, { authorization: alice }));
    expect(fromManyIps).toEqual([...Array(10).fill(200), 429]);

    const bob = `Bearer ${await token("bob")}`;
    const sharedIp = "203.0.113.50";
    expect(await statuses(10, () => post("/api/action", sharedIp, { authorization: bob }))).toEqual(Array(10).fill(200));
    expect((await post("/api/action", sharedIp)).status).toBe(200);
    const answered = await post("/api/action", sharedIp, { authorization: bob });
    expect(answered.status).toBe(429);
  });

  test("the action endpoint reports the authenticated user", async () => {
    const response = await post("/api/action", "203.0.113.60", { authorization: `Bearer ${await token("carol")}` });
    expect(await response.json()).toMatchObject({ user: "carol" });
  });

  test("a forged or expired token counts as anonymous (keyed by IP)", async () => {
    const forged = `Bearer ${await token("mallory", {}, "wrong-secret-wrong-secret-wrong-secret")}`;
    const response = await post("/api/action", "203.0.113.70", { authorization: forged });
    expect(await response.json()).toMatchObject({ user: null });
  });

  test("a premium tier gets its larger limit", async () => {
    const premium = `Bearer ${await token("dave", { tier: "premium" })}`;
    const results = await statuses(101, () => post("/api/action", "203.0.113.80", { authorization: premium }));
    expect(results.slice(0, 100).every((s) => s === 200)).toBe(true);
    expect(results[100]).toBe(429);
    const last = await post("/api/action", "203.0.113.80", { authorization: premium });
    expect(last.headers.get("ratelimit-policy")).toBe('"action";q=100;w=60');
  });

  test("IPv6 clients share a limit per /64", async () => {
    const results = [];
    for (let i = 1; i <= 6; i++) results.push((await post("/api/login", `2001:db8:1:2::${i}`)).status);
    expect(results).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await post("/api/login", "2001:db8:1:3::1")).status).toBe(200);
  });

  test("limited requests are logged with decision limit and the rule name", async () => {
    await t.app.logWriter.flush();
    const rows = t.app.store.queryLogs({ ip: "203.0.113.10" });
    const limited = rows.filter((r) => r.decision === "limit");
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ status: 429, rule: "login", path: "/api/login", method: "POST" });
    expect(rows.filter((r) => r.decision === "allow")).toHaveLength(5);
  });
});
