import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DURATION_BUCKETS, Metrics } from "../../src/core/metrics.ts";
import { ManualClock, type TestApp, testApp } from "../support/app.ts";
import { freePort } from "../support/upstream.ts";

/** Parses the text exposition format into `name{labels}` → value, checking every sample line's shape. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function scrape(t: TestApp): Promise<Map<string, number>> {
  const response = await t.request("/_ipward/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseMetrics(await response.text());
}

describe("/_ipward/metrics", () => {
  const clock = new ManualClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({}, clock);
    t.app.store.addRule({ list: "block", target: "198.51.100.7", kind: "ip", reason: null, expires_at: null, source: "cli" });
    t.app.store.addRule({ list: "block", target: "DE", kind: "country", reason: null, expires_at: null, source: "cli" });
    t.app.store.addRule({ list: "allow", target: "10.9.0.0/16", kind: "cidr", reason: null, expires_at: null, source: "cli" });
    t.app.rules.refreshIfChanged();
  });
  afterAll(() => t.close());

  test("exact counts by decision and status class after allowed, blocked, limited and forward-auth requests", async () => {
    for (let i = 0; i < 3; i++) expect((await t.request("/", { socketIp: `203.0.113.${i + 1}` })).status).toBe(200);
    expect((await t.request("/no-such-page", { socketIp: "203.0.113.9" })).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await t.request("/", { socketIp: "198.51.100.7" })).status).toBe(403);
    const logins = [];
    for (let i = 0; i < 7; i++) logins.push((await t.request("/api/login", { method: "POST", socketIp: "203.0.113.20" })).status);
    expect(logins).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const checked = await t.request("/_ipward/check", { headers: { "x-original-uri": "/x", "x-forwarded-for": "198.51.100.7" } });
    expect(checked.status).toBe(403);
    // Appliance routes are not traffic: health and metrics scrapes are not counted.
    await t.request("/_ipward/health");
    await t.app.logWriter.flush();

    const m = await scrape(t);
    expect(m.get('ipward_requests_total{decision="allow",status_class="2xx"}')).toBe(8);
    expect(m.get('ipward_requests_total{decision="allow",status_class="4xx"}')).toBe(1);
    expect(m.get('ipward_requests_total{decision="block",status_class="4xx"}')).toBe(3);
    expect(m.get('ipward_requests_total{decision="limit",status_class="4xx"}')).toBe(2);
    expect(m.get('ipward_requests_total{decision="allow",status_class="5xx"}')).toBe(0);
    expect(m.get('ipward_requests_total{decision="block",status_class="2xx"}')).toBe(0);

    expect(m.get("ipward_request_duration_seconds_count")).toBe(14);
    expect(m.get('ipward_request_duration_seconds_bucket{le="+Inf"}')).toBe(14);
    let previous = 0;
    for (const le of DURATION_BUCKETS) {
      const value = m.get(`ipward_request_duration_seconds_bucket{le="${le}"}`)!;
      expect(value).toBeGreaterThanOrEqual(previous);
      previous = value;
    }
    expect(m.get("ipward_request_duration_seconds_sum")).toBeGreaterThan(0);

    expect(m.get("ipward_log_rows_written_total")).toBe(14);
    expect(m.get("ipward_log_buffer_rows")).toBe(0);
    expect(m.get("ipward_log_rows_dropped_total")).toBe(0);
    expect(m.get('ipward_limiter_store{store="memory"}')).toBe(1);
    expect(m.get('ipward_limiter_store{store="redis"}')).toBe(0);
    expect(m.get("ipward_limiter_fallbacks_total")).toBe(0);
    expect(m.get("ipward_block_rules")).toBe(2);
    expect(m.get("ipward_allow_rules")).toBe(1);
    expect(m.get("ipward_uptime_seconds")).toBeGreaterThanOrEqual(0);
    expect(m.get("process_start_time_seconds")).toBeCloseTo(t.app.startedAt / 1000, 3);
  });

  test("detections: real-time findings and the metrics.detection(rule) hook are counted by rule", async () => {
    for (const path of ["/.env", "/.git/config", "/wp-config.php"]) await t.request(path, { socketIp: "203.0.113.66" });
    await t.app.detection.responder.flush();
    t.app.metrics.detection("volume");
    t.app.metrics.detection("volume");
    t.app.metrics.detection('odd "rule"\\name');
    const m = await scrape(t);
    expect(m.get('ipward_detections_total{rule="sensitive_file"}')).toBe(1);
    expect(m.get('ipward_detections_total{rule="volume"}')).toBe(2);
    expect(m.get('ipward_detections_total{rule="odd \\"rule\\"\\\\name"}')).toBe(1);
  });

  test("HELP and TYPE precede every family; HEAD has no body; other methods get 405", async () => {
    const text = await (await t.request("/_ipward/metrics")).text();
    for (const [name, type] of [
      ["ipward_requests_total", "counter"],
      ["ipward_request_duration_seconds", "histogram"],
      ["ipward_log_buffer_rows", "gauge"],
      ["ipward_log_rows_written_total", "counter"],
      ["ipward_log_rows_dropped_total", "counter"],
      ["ipward_limiter_store", "gauge"],
      ["ipward_limiter_fallbacks_total", "counter"],
      ["ipward_limiter_reserved_total", "counter"],
      ["ipward_detections_total", "counter"],
      ["ipward_block_rules", "gauge"],
      ["ipward_allow_rules", "gauge"],
      ["ipward_uptime_seconds", "gauge"],
    ]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expect(text.endsWith("\n")).toBe(true);
    const head = await t.request("/_ipward/metrics", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await t.request("/_ipward/metrics", { method: "POST" })).status).toBe(405);
  });
});

describe("limiter metrics with Redis", () => {
  test("a live Redis: store redis = 1", async () => {
    const t = await testApp({ redis: { url: "redis://127.0.0.1:6379", key_prefix: `ipward-metrics-${crypto.randomUUID()}:` } });
    try {
      await t.request("/api/login", { method: "POST", socketIp: "203.0.113.1" });
      const m = await scrape(t);
      expect(m.get('ipward_limiter_store{store="redis"}')).toBe(1);
      expect(m.get('ipward_limiter_store{store="memory"}')).toBe(0);
      expect(m.get("ipward_limiter_fallbacks_total")).toBe(0);
    } finally {
      await t.close();
    }
  });

  test("a large limit on Redis: one call reserves 1% of it, and the hits answered from it are counted", async () => {
    const t = await testApp({
      redis: { url: "redis://127.0.0.1:6379", key_prefix: `ipward-metrics-${crypto.randomUUID()}:` },
      rate_limit: { rules: [{ name: "pages", method: "GET", path: "/", limit: 1_000, window: "1m", key: "ip" }] },
    });
    try {
      const remaining: (string | undefined)[] = [];
      for (let i = 0; i < 5; i++) remaining.push((await t.request("/", { socketIp: "203.0.113.2" })).headers.get("ratelimit")?.split(";")[1]);
      expect(remaining).toEqual(["r=999", "r=998", "r=997", "r=996", "r=995"]);
      expect((await scrape(t)).get("ipward_limiter_reserved_total")).toBe(4);
    } finally {
      await t.close();
    }
  });

  test("Redis unreachable: store memory = 1 and each limited hit counts as a fallback", async () => {
    const t = await testApp({ redis: { url: `redis://127.0.0.1:${await freePort()}` } });
    try {
      for (let i = 0; i < 3; i++) await t.request("/api/login", { method: "POST", socketIp: "203.0.113.1" });
      await t.request("/", { socketIp: "203.0.113.1" });
      const m = await scrape(t);
      expect(m.get('ipward_limiter_store{store="memory"}')).toBe(1);
      expect(m.get('ipward_limiter_store{store="redis"}')).toBe(0);
      expect(m.get("ipward_limiter_fallbacks_total")).toBe(3);
    } finally {
      await t.close();
    }
  });
});

describe("Metrics registry", () => {
  test("histogram buckets are cumulative with le bounds inclusive; status classes outside 1xx–5xx count as 5xx", () => {
    const metrics = new Metrics();
    for (const seconds of [0.0001, 0.0005, 0.0007, 0.003, 0.5, 20]) metrics.count("allow", 200, seconds);
    metrics.count("block", 403, 0.0001);
    metrics.count("allow", 999, 0.0001);
    const m = parseMetrics(
      metrics.render({
        startedAt: 1_000_000,
        now: () => 1_060_000,
        logStats: () => ({ buffered: 3, written: 40, dropped: 2 }),
        limiterStats: () => ({ state: "memory", fallbacks: 5, reserved: 4 }),
        ruleCounts: () => ({ block: 7, allow: 1 }),
      }),
    );
    expect(m.get('ipward_request_duration_seconds_bucket{le="0.0005"}')).toBe(4);
    expect(m.get('ipward_request_duration_seconds_bucket{le="0.001"}')).toBe(5);
    expect(m.get('ipward_request_duration_seconds_bucket{le="0.0025"}')).toBe(5);
    expect(m.get('ipward_request_duration_seconds_bucket{le="0.005"}')).toBe(6);
    expect(m.get('ipward_request_duration_seconds_bucket{le="0.5"}')).toBe(7);
    expect(m.get('ipward_request_duration_seconds_bucket{le="10"}')).toBe(7);
    expect(m.get('ipward_request_duration_seconds_bucket{le="+Inf"}')).toBe(8);
    expect(m.get("ipward_request_duration_seconds_count")).toBe(8);
    expect(m.get("ipward_request_duration_seconds_sum")).toBeCloseTo(20.5045, 6);
    expect(m.get('ipward_requests_total{decision="allow",status_class="2xx"}')).toBe(6);
    expect(m.get('ipward_requests_total{decision="block",status_class="4xx"}')).toBe(1);
    expect(m.get('ipward_requests_total{decision="allow",status_class="5xx"}')).toBe(1);
    expect(m.get("ipward_log_buffer_rows")).toBe(3);
    expect(m.get("ipward_log_rows_written_total")).toBe(40);
    expect(m.get("ipward_log_rows_dropped_total")).toBe(2);
    expect(m.get("ipward_limiter_fallbacks_total")).toBe(5);
    expect(m.get("ipward_limiter_reserved_total")).toBe(4);
    expect(m.get("ipward_block_rules")).toBe(7);
    expect(m.get("ipward_uptime_seconds")).toBe(60);
    expect(m.get("process_start_time_seconds")).toBe(1000);
  });
});
