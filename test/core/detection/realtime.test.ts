import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LeakyBuckets } from "../../../src/core/detection/leaky-bucket.ts";
import type { Finding } from "../../../src/core/detection/ports.ts";
import { RealtimeDetector } from "../../../src/core/detection/realtime.ts";
import { realtimeScenarios } from "../../../src/core/detection/scenarios.ts";
import { MINUTE, request, settings, T0 } from "./fixtures.ts";

const SECOND = 1000;

describe("LeakyBuckets", () => {
  test("threshold hits within the window overflow, however they are spread", () => {
    for (const spacing of [0, 1, 4 * MINUTE, 5 * MINUTE - 1]) {
      const buckets = new LeakyBuckets(3, 10 * MINUTE, 100);
      expect(buckets.pour("a", T0)).toBe(0);
      expect(buckets.pour("a", T0 + spacing)).toBe(0);
      expect(buckets.pour("a", T0 + 2 * spacing)).toBe(3);
    }
  });

  test("hits further apart than the window never overflow; a bucket that leaked empty starts over", () => {
    const buckets = new LeakyBuckets(3, 10 * MINUTE, 100);
    for (let i = 0; i < 50; i++) expect(buckets.pour("a", T0 + i * 10 * MINUTE)).toBe(0);
    expect(buckets.pour("a", T0 + 49 * 10 * MINUTE + 1)).toBe(0);
    expect(buckets.pour("a", T0 + 49 * 10 * MINUTE + 2)).toBe(3);
  });

  test("a sustained rate above one hit per window overflows eventually", () => {
    const buckets = new LeakyBuckets(3, 10 * MINUTE, 100);
    let overflowedAt = -1;
    for (let i = 0; i < 100 && overflowedAt === -1; i++) if (buckets.pour("a", T0 + i * 5 * MINUTE) > 0) overflowedAt = i;
    expect(overflowedAt).toBe(3);
  });

  test("overflowing empties the bucket; keys are independent", () => {
    const buckets = new LeakyBuckets(2, MINUTE, 100);
    expect(buckets.pour("a", T0)).toBe(0);
    expect(buckets.pour("b", T0)).toBe(0);
    expect(buckets.pour("a", T0)).toBe(2);
    expect(buckets.pour("a", T0)).toBe(0);
    expect(buckets.pour("a", T0)).toBe(2);
    expect(buckets.pour("b", T0)).toBe(2);
  });

  test("a threshold of one overflows on every hit and tracks nothing", () => {
    const buckets = new LeakyBuckets(1, MINUTE, 100);
    expect(buckets.pour("a", T0)).toBe(1);
    expect(buckets.pour("a", T0)).toBe(1);
    expect(buckets.size).toBe(0);
  });

  test("pours answer as a plain Map-ordered model does, for any sequence (fast-check)", () => {
    /** The straightforward model: a Map in pouring order, the oldest first. */
    function referencePour(model: Map<string, { level: number; hits: number; last: number }>, threshold: number, maxKeys: number, key: string, now: number): number {
      let bucket = model.get(key);
      if (bucket) {
        model.delete(key);
        const level = bucket.level - Math.max(0, now - bucket.last) / MINUTE;
        if (level <= 0) bucket.hits = 0;
        bucket.level = Math.max(0, level) + 1;
        bucket.hits++;
        bucket.last = Math.max(bucket.last, now);
        if (bucket.level > threshold - 1) return bucket.hits;
      } else {
        bucket = { level: 1, hits: 1, last: now };
        if (bucket.level > threshold - 1) return bucket.hits;
        if (model.size >= maxKeys) model.delete(model.keys().next().value as string);
      }
      model.set(key, bucket);
      return 0;
    }
    const pours = fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d", "e", "f"), fc.nat(3 * MINUTE)), { maxLength: 60 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), pours, (threshold, maxKeys, sequence) => {
        const buckets = new LeakyBuckets(threshold, MINUTE, maxKeys);
        const model = new Map<string, { level: number; hits: number; last: number }>();
        for (const [key, offset] of sequence) {
          expect(buckets.pour(key, T0 + offset)).toBe(referencePour(model, threshold, maxKeys, key, T0 + offset));
          expect(buckets.size).toBe(model.size);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("a million distinct addresses never hold more than maxKeys", () => {
    const buckets = new LeakyBuckets(3, MINUTE, 1000);
    for (let i = 0; i < 1_000_000; i++) {
      buckets.pour(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, T0 + i);
      if (buckets.size > 1000) throw new Error(`size ${buckets.size} after ${i + 1} addresses`);
    }
    expect(buckets.size).toBe(1000);
  });

  test("at most maxKeys addresses are tracked; the least recently poured go first", () => {
    const buckets = new LeakyBuckets(3, MINUTE, 2);
    buckets.pour("a", T0);
    buckets.pour("b", T0);
    buckets.pour("a", T0 + 1);
    buckets.pour("c", T0 + 2);
    expect(buckets.size).toBe(2);
    expect(buckets.pour("a", T0 + 3)).toBe(3);
    expect(buckets.pour("b", T0 + 3)).toBe(0);
  });
});

describe("RealtimeDetector", () => {
  function detector(detection: Record<string, unknown> = {}) {
    const findings: Finding[] = [];
    const config = settings(detection);
    const realtime = new RealtimeDetector({ scenarios: realtimeScenarios(config), report: (finding) => findings.push(finding), maxTrackedIps: config.realtimeMaxIps });
    return { realtime, findings };
  }
  const IP = "198.51.100.9";

  test("three sensitive-file probes within ten minutes trigger once, with the evidence", () => {
    const { realtime, findings } = detector();
    for (const [i, path] of ["/.env", "/.git/config", "/wp-config.php.bak"].entries()) {
      const { row, verdict, facts } = request(IP, path, T0 + i * 4 * MINUTE, { status: 404 });
      realtime.observe(row, verdict, facts);
    }
    expect(findings).toEqual([
      { ip: IP, rule: "sensitive_file", count: 3, reason: "3 requests for sensitive files within 10m (threshold 3), last: /wp-config.php.bak" },
    ]);
  });

  test("the query string counts: one traversal or two injection attempts trigger", () => {
    const { realtime, findings } = detector();
    for (const target of ["/download?file=../../etc/passwd", "/item?id=1'+or+1=1--", "/item?id=1+union+select+1"]) {
      const { row, verdict, facts } = request(IP, target, T0, { status: 200 });
      realtime.observe(row, verdict, facts);
    }
    expect(findings.map((finding) => `${finding.rule} ${finding.count}`)).toEqual(["path_traversal 1", "injection 2"]);
    expect(findings[1].reason).toBe("2 requests with SQL injection or XSS patterns within 10m (threshold 2), last: /item?id=1+union+select+1");
  });

  test("a scanner's user agent triggers on its first request, even when user agents are not logged", () => {
    const { realtime, findings } = detector();
    const { row, verdict, facts } = request(IP, "/", T0, { user_agent: null });
    realtime.observe(row, verdict, { ...facts, userAgent: "sqlmap/1.8#stable" });
    expect(findings).toEqual([
      { ip: IP, rule: "bad_user_agent", count: 1, reason: '1 request from scanner user agent "sqlmap/1.8#stable" within 10m (threshold 1)' },
    ]);
  });

  test("ten login POSTs within a minute trigger; nine, or ten spread over two minutes, do not", () => {
    const post = (realtime: RealtimeDetector, ts: number, status = 401) => {
      const { row, verdict, facts } = request(IP, "/api/login", ts, { method: "POST", status });
      realtime.observe(row, verdict, facts);
    };
    const fast = detector();
    for (let i = 0; i < 10; i++) post(fast.realtime, T0 + i * 5 * SECOND, i < 5 ? 401 : 429);
    expect(fast.findings).toEqual([
      { ip: IP, rule: "login_bruteforce", count: 10, reason: "10 login attempts within 1m (threshold 10), last: POST /api/login → 429" },
    ]);
    const nine = detector();
    for (let i = 0; i < 9; i++) post(nine.realtime, T0 + i * SECOND);
    const slow = detector();
    for (let i = 0; i < 10; i++) post(slow.realtime, T0 + i * 13 * SECOND);
    expect([...nine.findings, ...slow.findings]).toEqual([]);
  });

  test("allowlisted requests, requests ipward blocked and unparsable addresses are ignored; limited ones count", () => {
    const { realtime, findings } = detector();
    const probe = (overrides: Parameters<typeof request>[3]) => {
      const { row, verdict, facts } = request(IP, "/.env", T0, overrides);
      realtime.observe(row, verdict, facts);
    };
    for (let i = 0; i < 5; i++) probe({ verdict: { allowlisted: true } });
    for (let i = 0; i < 5; i++) probe({ decision: "block", status: 403 });
    for (let i = 0; i < 5; i++) probe({ verdict: { parsedIp: null } });
    expect(findings).toEqual([]);
    for (let i = 0; i < 3; i++) probe({ decision: "limit", status: 429 });
    expect(findings.map((finding) => finding.rule)).toEqual(["sensitive_file"]);
  });

  test("the real client address is used, not the anonymised logged one", () => {
    const { realtime, findings } = detector();
    const { row, verdict, facts } = request(IP, "/", T0);
    realtime.observe({ ...row, ip: "198.51.100.0" }, verdict, { ...facts, userAgent: "nikto" });
    expect(findings[0].ip).toBe(IP);
  });

  test("scenarios can be disabled or retuned from the config", () => {
    const { realtime, findings } = detector({ scenarios: { bad_user_agent: { enabled: false }, sensitive_file: { threshold: 1 } } });
    const { row, verdict, facts } = request(IP, "/.env", T0);
    realtime.observe(row, verdict, { ...facts, userAgent: "nikto" });
    expect(findings.map((finding) => finding.rule)).toEqual(["sensitive_file"]);
  });

  test("tracked addresses are capped per scenario", () => {
    const { realtime } = detector({ realtime_max_ips: 100 });
    for (let i = 0; i < 500; i++) {
      const { row, verdict, facts } = request(`10.0.${i >> 8}.${i & 255}`, "/.env", T0);
      realtime.observe(row, verdict, facts);
    }
    expect(realtime.tracked().sensitive_file).toBe(100);
  });

  test("ordinary browsing triggers nothing", () => {
    const { realtime, findings } = detector();
    const paths = ["/", "/products/12", "/search?q=O%27Brien", "/admin", "/static/app.js", "/favicon.ico", "/login?next=%2Fa"];
    for (let i = 0; i < 500; i++) {
      const { row, verdict, facts } = request(IP, paths[i % paths.length], T0 + i * SECOND, { status: i % 7 === 5 ? 404 : 200 });
      realtime.observe(row, verdict, facts);
    }
    const login = request(IP, "/api/login", T0, { method: "POST", status: 200 });
    realtime.observe(login.row, login.verdict, login.facts);
    expect(findings).toEqual([]);
  });
});
