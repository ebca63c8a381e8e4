import { describe, expect, test } from "bun:test";
import { normalizeSensitivePaths, pathPrefixMatcher, stripQuery } from "../../../src/core/detection/paths.ts";
import { settings } from "./fixtures.ts";

describe("detection settings", () => {
  test("defaults: the seed's thresholds, 1h window, 4h doubling to 7d, flag only", () => {
    expect(settings()).toMatchObject({
      enabled: true,
      windowMs: 3_600_000,
      autoBlock: false,
      dryRun: false,
      blockDurationMs: 4 * 3_600_000,
      maxBlockDurationMs: 7 * 86_400_000,
      sensitivePaths: ["/admin", "/login", "/api/login"],
      requestsPerWindow: 100,
      sensitivePerWindow: 10,
      probeDistinctPaths: 20,
      scrapeSequence: 20,
      geoCountries: 3,
      realtime: true,
      realtimeMaxIps: 100_000,
      scenarios: {
        sensitive_file: { enabled: true, threshold: 3, windowMs: 600_000 },
        path_traversal: { enabled: true, threshold: 1, windowMs: 600_000 },
        injection: { enabled: true, threshold: 2, windowMs: 600_000 },
        bad_user_agent: { enabled: true, threshold: 1, windowMs: 600_000 },
        login_bruteforce: { enabled: true, threshold: 10, windowMs: 60_000 },
      },
    });
  });

  test("configured values are converted: durations to ms, paths normalised", () => {
    const tuned = settings({ window: "30m", block_duration: "1h30m", sensitive_paths: ["admin/", "/wp-admin/", " /admin "], login_paths: ["/signin/"] });
    expect(tuned).toMatchObject({ windowMs: 1_800_000, blockDurationMs: 5_400_000, sensitivePaths: ["/admin", "/wp-admin"], loginPaths: ["/signin"] });
  });
});

describe("paths", () => {
  test("normalizeSensitivePaths adds the leading slash, drops trailing ones, blanks and duplicates; the root becomes ''", () => {
    expect(normalizeSensitivePaths(["admin", "/admin//", "", "  ", "/", "/api/login"])).toEqual(["/admin", "", "/api/login"]);
  });

  test("pathPrefixMatcher: exact, below, trailing slash and query; not look-alikes; metacharacters are literal", () => {
    const matches = pathPrefixMatcher(["/admin", "/a.b", "/c+d"])!;
    for (const path of ["/admin", "/admin/", "/admin/x/y", "/admin?x=1", "/a.b/c", "/c+d"]) expect(matches(path)).toBe(true);
    for (const path of ["/administrator", "/adminx", "/aXb", "/ccd", "/", "/x/admin"]) expect(matches(path)).toBe(false);
    expect(pathPrefixMatcher([""])!("/anything")).toBe(true);
    expect(pathPrefixMatcher([])).toBeNull();
  });

  test("stripQuery", () => {
    expect(stripQuery("/a?b=1")).toBe("/a");
    expect(stripQuery("/a")).toBe("/a");
  });
});
