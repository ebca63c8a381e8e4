import { describe, expect, test } from "bun:test";
import { findingsFromSightings, geoAnomalyRule } from "../../../src/core/detection/geo-anomaly.ts";
import { LogWindow } from "../../../src/core/detection/log-window.ts";
import type { DetectionLogRow } from "../../../src/core/detection/ports.ts";
import { probingRule } from "../../../src/core/detection/probing.ts";
import { scheduledRules } from "../../../src/core/detection/scheduled.ts";
import { forEachId, longestRun, patternText, scrapingRule } from "../../../src/core/detection/scraping.ts";
import { highVolumeRule, sensitivePathsRule } from "../../../src/core/detection/volume.ts";
import { MINUTE, settings, T0 } from "./fixtures.ts";

const A = "198.51.100.1";
const B = "198.51.100.2";
const C = "198.51.100.3";

function contextOf(rows: Partial<DetectionLogRow>[], sensitive = ["/admin", "/login", "/api/login"]) {
  const window = new LogWindow(T0 / MINUTE, sensitive);
  rows.forEach((overrides, i) =>
    window.add({ id: i + 1, ts: T0 + i, ip: A, path: "/", status: 200, decision: "allow", user: null, country_code: "DE", ...overrides }),
  );
  return { window, windowText: "the last hour" };
}

const repeat = (n: number, make: (i: number) => Partial<DetectionLogRow>) => Array.from({ length: n }, (_, i) => make(i));

describe("high_volume", () => {
  test("more than the threshold is flagged with the count in the reason; exactly the threshold is not", () => {
    const context = contextOf([...repeat(101, () => ({ ip: A })), ...repeat(100, () => ({ ip: B }))]);
    expect(highVolumeRule({ threshold: 100 }).evaluate(context)).toEqual([
      { ip: A, rule: "high_volume", count: 101, reason: "101 requests in the last hour (threshold 100)" },
    ]);
  });
});

describe("sensitive_paths", () => {
  test("more than the threshold of requests at or below sensitive paths", () => {
    const paths = ["/admin", "/admin/users", "/login/", "/api/login"];
    const context = contextOf([...repeat(11, (i) => ({ ip: A, path: paths[i % 4] })), ...repeat(10, () => ({ ip: B, path: "/admin" })), ...repeat(50, () => ({ ip: C, path: "/administrator" }))]);
    expect(sensitivePathsRule({ threshold: 10, paths: ["/admin", "/login", "/api/login"] }).evaluate(context)).toEqual([
      { ip: A, rule: "sensitive_paths", count: 11, reason: "11 requests to sensitive paths (/admin, /login, /api/login) in the last hour (threshold 10)" },
    ]);
  });
});

describe("probing", () => {
  test("at least the threshold of distinct paths answered 4xx", () => {
    const context = contextOf([
      ...repeat(20, (i) => ({ ip: A, path: `/wp-${i}.php`, status: 404 })),
      ...repeat(40, () => ({ ip: B, path: "/favicon.ico", status: 404 })),
      ...repeat(19, (i) => ({ ip: C, path: `/x${i}`, status: 404 })),
      ...repeat(5, (i) => ({ ip: C, path: `/y${i}`, status: 429 })),
    ]);
    expect(probingRule({ distinctPaths: 20 }).evaluate(context)).toEqual([
      { ip: A, rule: "probing", count: 20, reason: "20 distinct paths answered 4xx in the last hour (threshold 20)" },
    ]);
  });
});

/** The (pattern, id) pairs of a path, patterns spelled out. */
function idSegments(path: string): [string, number][] {
  const out: [string, number][] = [];
  forEachId(path, (pattern, id) => out.push([patternText(pattern), id]));
  return out;
}

/** `longestRun` over the ids found in `paths`. */
function longestSequentialRun(paths: string[], maxGap?: number) {
  const idsByPattern = new Map<string, number[]>();
  for (const path of paths) for (const [pattern, id] of idSegments(path)) idsByPattern.set(pattern, [...(idsByPattern.get(pattern) ?? []), id]);
  return longestRun(idsByPattern, maxGap);
}

describe("scraping", () => {
  test("forEachId: one pattern per all-digit segment, query ignored", () => {
    expect(idSegments("/items/7")).toEqual([["/items/{n}", 7]]);
    expect(idSegments("/items/7/")).toEqual([["/items/{n}/", 7]]);
    expect(idSegments("/users/5/posts/7?page=2")).toEqual([
      ["/users/{n}/posts/7", 5],
      ["/users/5/posts/{n}", 7],
    ]);
    expect(idSegments("/v2/items")).toEqual([]);
    expect(idSegments("/items/7a")).toEqual([]);
    expect(idSegments("/items/1234567890123456")).toEqual([]);
    expect(idSegments("/")).toEqual([]);
    expect(idSegments("/2024")).toEqual([["/{n}", 2024]]);
  });

  test("longestRun: runs break on gaps above 2; repeats and order do not matter", () => {
    expect(longestSequentialRun(["/items/3", "/items/1", "/items/2", "/items/2", "/items/5", "/items/9"])).toEqual({
      pattern: "/items/{n}",
      first: 1,
      last: 5,
      length: 4,
    });
    expect(longestSequentialRun(["/a/1", "/a/2", "/b/10", "/b/11", "/b/12"])).toMatchObject({ pattern: "/b/{n}", length: 3 });
    expect(longestSequentialRun(["/a/1", "/a/2", "/b/1", "/b/2"])).toMatchObject({ pattern: "/a/{n}", length: 2 });
    expect(longestSequentialRun(["/about"])).toBeNull();
    expect(longestSequentialRun(["/a/1", "/a/2"], 0)).toMatchObject({ length: 1 });
  });

  test("a sequential scraper is flagged, a visitor of as many random ids is not", () => {
    const context = contextOf([
      ...repeat(25, (i) => ({ ip: A, path: `/items/${100 + i}` })),
      ...repeat(30, (i) => ({ ip: B, path: `/items/${(i * 7919) % 100_000}` })),
      ...repeat(19, (i) => ({ ip: C, path: `/items/${i + 1}` })),
    ]);
    expect(scrapingRule({ sequence: 20 }).evaluate(context)).toEqual([
      { ip: A, rule: "scraping", count: 25, reason: "25 sequential ids under /items/{n} (100–124) in the last hour (threshold 20)" },
    ]);
  });

  test("a scraper skipping every other id still forms a run", () => {
    const context = contextOf(repeat(20, (i) => ({ path: `/p/${i * 2}/details` })));
    expect(scrapingRule({ sequence: 20 }).evaluate(context)).toEqual([
      { ip: A, rule: "scraping", count: 20, reason: "20 sequential ids under /p/{n}/details (0–38) in the last hour (threshold 20)" },
    ]);
  });
});

describe("geo_anomaly", () => {
  test("every IP of a user seen from enough countries is flagged, naming user and countries", () => {
    const context = contextOf([
      { ip: A, user: "alice", country_code: "DE" },
      { ip: B, user: "alice", country_code: "FR" },
      { ip: C, user: "alice", country_code: "US" },
      { ip: A, user: "bob", country_code: "DE" },
      { ip: B, user: "bob", country_code: "FR" },
    ]);
    const findings = geoAnomalyRule({ countries: 3 }).evaluate(context);
    expect(findings).toEqual([A, B, C].map((ip) => ({
      ip,
      rule: "geo_anomaly",
      count: 3,
      reason: 'user "alice" seen from 3 countries (DE, FR, US) in the last hour (threshold 3)',
    })));
  });

  test("an IP shared by two anomalous users names both", () => {
    const findings = findingsFromSightings(
      [
        { user: "alice", country_code: "DE", ip: A },
        { user: "alice", country_code: "FR", ip: B },
        { user: "bob", country_code: "DE", ip: A },
        { user: "bob", country_code: "US", ip: C },
        { user: "bob", country_code: "JP", ip: "203.0.113.1" },
      ],
      2,
      "the last hour",
    );
    expect(findings.find((finding) => finding.ip === A)).toEqual({
      ip: A,
      rule: "geo_anomaly",
      count: 3,
      reason: 'user "alice" seen from 2 countries (DE, FR); user "bob" seen from 3 countries (DE, JP, US) in the last hour (threshold 2)',
    });
    expect(findings).toHaveLength(4);
  });
});

describe("scheduledRules", () => {
  test("the configured rules, with the configured thresholds, in a fixed order", () => {
    const rules = scheduledRules(settings({ requests_per_window: 500, sensitive_paths: ["/wp-admin/"], scrape_sequence: 50 }));
    expect(rules.map((rule) => rule.name)).toEqual(["high_volume", "sensitive_paths", "probing", "scraping", "geo_anomaly"]);
    expect(rules[0]).toMatchObject({ threshold: 500 });
    expect(rules[1]).toMatchObject({ threshold: 10, paths: ["/wp-admin"] });
    expect(rules[2]).toMatchObject({ distinctPaths: 20 });
    expect(rules[3]).toMatchObject({ sequence: 50, maxGap: 2 });
    expect(rules[4]).toMatchObject({ countries: 3 });
  });
});
