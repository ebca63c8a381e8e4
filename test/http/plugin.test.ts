import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Elysia } from "elysia";
import { ipward } from "ipward";
import { isIpwardError } from "../../src/core/errors.ts";
import { eventually, tempDir } from "../support/process.ts";

const data = tempDir("ipward-plugin-");
let handled = 0;
const guard = ipward(
  {
    data_dir: data.path,
    rate_limit: { rules: [{ name: "signin", method: "POST", path: "/signin", limit: 2, window: "1m", key: "ip" }] },
  },
  { log: () => {} },
);
/** A user's own Elysia app with its own routes, guarded by the plugin. */
const app = new Elysia()
  .use(guard)
  .get("/hello", function hello({ ipward: info }) {
    handled++;
    return { hello: "world", ip: info.ip, decision: info.decision, country: info.geo?.country_code ?? null };
  })
  .post("/signin", () => ({ signed: "in" }))
  .get("/teapot", () => new Response("short and stout", { status: 418 }))
  .get("/broken", () => {
    throw new Error("route failed");
  });
let url: string;

beforeAll(() => {
  app.listen({ hostname: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${app.server!.port}`;
});
afterAll(async () => {
  await app.stop(true);
  data.cleanup();
});

const from = (ip: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, { ...init, headers: { "x-forwarded-for": ip, ...(init.headers as Record<string, string>) } });

/** The log rows of `ip`, once `count` of them are there (onAfterResponse records just after the answer is sent). */
async function rows(ip: string, count: number) {
  const core = await guard.ready;
  await eventually(
    async () => {
      await core.logWriter.flush();
      return core.store.countLogs({ ip }) >= count;
    },
    2_000,
    `${count} log rows for ${ip}`,
  );
  return core.store.queryLogs({ ip });
}

describe("ipward() as an Elysia plugin", () => {
  test("the user's route answers, with the client IP and geolocation from the pipeline; the request is logged", async () => {
    // Not awaiting guard.ready: the first requests wait for the stores to open.
    const response = await from("81.2.69.160", "/hello?x=1", { headers: { "user-agent": "plugin-test" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ hello: "world", ip: "81.2.69.160", decision: "allow", country: "GB" });
    expect((await rows("81.2.69.160", 1))[0]).toMatchObject({
      method: "GET",
      path: "/hello",
      status: 200,
      decision: "allow",
      country_code: "GB",
      user_agent: "plugin-test",
    });
  });

  test("the real status is logged: a Response's own status, a thrown error's 500, an unknown route's 404", async () => {
    expect((await from("203.0.113.31", "/teapot")).status).toBe(418);
    expect((await from("203.0.113.31", "/broken")).status).toBe(500);
    expect((await from("203.0.113.31", "/nowhere")).status).toBe(404);
    expect((await rows("203.0.113.31", 3)).map((r) => [r.path, r.status])).toEqual([
      ["/nowhere", 404],
      ["/broken", 500],
      ["/teapot", 418],
    ]);
  });

  test("a blocked IP gets 403 problem+json, the route never runs, the refusal is logged", async () => {
    const core = await guard.ready;
    core.store.addRule({ list: "block", target: "198.51.100.0/24", kind: "cidr", reason: "plugin test", expires_at: null, source: "cli" });
    core.rules.refreshIfChanged();
    const before = handled;
    const response = await from("198.51.100.44", "/hello");
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 403, title: "Forbidden" });
    expect(handled).toBe(before);
    expect((await rows("198.51.100.44", 1))[0]).toMatchObject({ path: "/hello", status: 403, decision: "block", rule: "198.51.100.0/24" });
  });

  test("rate limits from the config: RateLimit headers on allowed answers, then 429 with Retry-After", async () => {
    const post = () => from("203.0.113.40", "/signin", { method: "POST" });
    const first = await post();
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"signin";q=2;w=60');
    expect(first.headers.get("ratelimit")).toMatch(/^"signin";r=1;t=\d+$/);
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await from("203.0.113.41", "/signin", { method: "POST" })).status).toBe(200);
    expect((await rows("203.0.113.40", 3)).map((r) => [r.status, r.decision, r.rule])).toEqual([
      [429, "limit", "signin"],
      [200, "allow", null],
      [200, "allow", null],
    ]);
  });

  test("pipeline metrics count the plugin's traffic", async () => {
    const core = await guard.ready;
    const text = core.metrics.render(core.metricsSources);
    expect(text).toContain('ipward_requests_total{decision="block",status_class="4xx"} 1\n');
    expect(text).toContain('ipward_requests_total{decision="limit",status_class="4xx"} 1\n');
  });
});

describe("configuration and shutdown", () => {
  test("a bad config value throws at once, naming the key", () => {
    let thrown: unknown;
    try {
      ipward({ rate_limit: { ipv6_prefix: 200 } });
    } catch (error) {
      thrown = error;
    }
    expect(isIpwardError(thrown, "invalid_config")).toBe(true);
    expect(String((thrown as Error).message)).toContain("rate_limit.ipv6_prefix");
  });

  test("close() drains the request log to the database; stopping the app closes the plugin", async () => {
    const dir = tempDir("ipward-plugin-close-");
    const plugin = ipward({ data_dir: dir.path, log: { flush_ms: 60_000 } }, { log: () => {} });
    const own = new Elysia().use(plugin).get("/", () => "ok").listen({ hostname: "127.0.0.1", port: 0 });
    for (let i = 0; i < 25; i++) await fetch(`http://127.0.0.1:${own.server!.port}/`, { headers: { "x-forwarded-for": "203.0.113.77" } });
    const count = () => {
      const db = new Database(join(dir.path, "ipward.db"), { readonly: true });
      try {
        return (db.query("SELECT count(*) AS n FROM request_log WHERE ip = '203.0.113.77' AND status = 200").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    expect(count()).toBe(0);
    // flush_ms is a minute: only the drain of close() can write the rows, and app.stop() starts it.
    await own.stop(true);
    await eventually(() => count() === 25, 5_000, "the rows drained by stop");
    await plugin.close();
    expect(count()).toBe(25);
    dir.cleanup();
  });
});
