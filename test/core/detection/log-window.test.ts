import { describe, expect, test } from "bun:test";
import { LogWindow } from "../../../src/core/detection/log-window.ts";
import type { DetectionLogRow } from "../../../src/core/detection/ports.ts";
import { MINUTE, T0 } from "./fixtures.ts";

const FROM = T0 / MINUTE;
const A = "198.51.100.1";
const B = "2001:db8::2";

let nextId = 1;
function row(overrides: Partial<DetectionLogRow> = {}): DetectionLogRow {
  return { id: nextId++, ts: T0, ip: A, path: "/", status: 200, decision: "allow", user: null, country_code: "DE", ...overrides };
}

function windowOf(rows: Partial<DetectionLogRow>[], sensitive = ["/admin", "/login"]): LogWindow {
  const window = new LogWindow(FROM, sensitive);
  for (const overrides of rows) window.add(row(overrides));
  return window;
}

const byIp = <T extends { ip: string }>(rows: T[]) => [...rows].sort((x, y) => x.ip.localeCompare(y.ip));

describe("LogWindow", () => {
  test("counts requests per address; rows before the window are ignored", () => {
    const window = windowOf([{}, {}, { ts: T0 + 59 * MINUTE }, { ip: B }, { ts: T0 - 1 }]);
    expect(byIp(window.requestCounts(0))).toEqual([
      { ip: A, count: 3 },
      { ip: B, count: 1 },
    ]);
    expect(window.requestCounts(2)).toEqual([{ ip: A, count: 3 }]);
    expect(window.requestCounts(3)).toEqual([]);
  });

  test("expire drops whole minutes, rows arriving out of order included, and forgets idle addresses", () => {
    const window = windowOf([
      { ts: T0 },
      { ts: T0 + 5 * MINUTE },
      { ts: T0 + 2 * MINUTE + 30_000 },
      { ts: T0 + 2 * MINUTE },
      { ip: B, ts: T0 + MINUTE },
    ]);
    window.expire(FROM + 2);
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 3 }]);
    expect(window.size.ips).toBe(1);
    window.expire(FROM + 3);
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 1 }]);
    window.expire(FROM + 1);
    expect(window.fromMinute).toBe(FROM + 3);
    window.expire(FROM + 6);
    expect(window.size).toEqual({ ips: 0, users: 0 });
  });

  test("thousands of minutes of one address are counted and expired exactly", () => {
    const window = new LogWindow(FROM, []);
    for (let minute = 0; minute < 3000; minute++) window.add(row({ ts: T0 + minute * MINUTE }));
    window.expire(FROM + 2940);
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 60 }]);
  });

  test("sensitive paths: exact, below, trailing slash and query count; look-alikes do not", () => {
    const paths = ["/admin", "/admin/", "/admin/users/7", "/admin?tab=1", "/login", "/administrator", "/adminx", "/", "/logins"];
    const window = windowOf(paths.map((path) => ({ path })));
    expect(window.sensitiveCounts(0)).toEqual([{ ip: A, count: 5 }]);
    expect(window.sensitiveCounts(5)).toEqual([]);
    expect(windowOf([{ path: "/anything" }], [""]).sensitiveCounts(0)).toEqual([{ ip: A, count: 1 }]);
    expect(windowOf([{ path: "/admin" }], []).sensitiveCounts(0)).toEqual([]);
    expect(windowOf([{ path: "/a.b/c" }, { path: "/aXb/c" }], ["/a.b"]).sensitiveCounts(0)).toEqual([{ ip: A, count: 1 }]);
  });

  test("client errors: distinct paths without query; 429, 5xx and ipward's refusals do not count", () => {
    const window = windowOf([
      { path: "/missing-1", status: 404 },
      { path: "/missing-1?again", status: 404 },
      { path: "/missing-2", status: 410 },
      { path: "/private", status: 403 },
      { path: "/slow", status: 429 },
      { path: "/refused", status: 403, decision: "block" },
      { path: "/limited", status: 429, decision: "limit" },
      { path: "/broken", status: 500 },
      { ip: B, path: "/missing-1", status: 404 },
    ]);
    expect(byIp(window.clientErrorPathCounts(1))).toEqual([
      { ip: A, count: 3 },
      { ip: B, count: 1 },
    ]);
    expect(window.clientErrorPathCounts(4)).toEqual([]);
  });

  test("client-error paths expire by the minute they were last seen", () => {
    const window = windowOf([
      { path: "/a", status: 404, ts: T0 },
      { path: "/b", status: 404, ts: T0 },
      { path: "/a", status: 404, ts: T0 + 10 * MINUTE },
    ]);
    window.expire(FROM + 5);
    expect(window.clientErrorPathCounts(1)).toEqual([{ ip: A, count: 1 }]);
  });

  test("ids are grouped by pattern; candidates need enough ids under one pattern", () => {
    const window = windowOf([
      ...[1, 2, 3].map((n) => ({ path: `/items/${n}` })),
      { path: "/items/3?x=1" },
      { path: "/users/5/posts/9" },
      { ip: B, path: "/items/1" },
    ]);
    const candidates = window.idCandidates(3);
    expect(candidates.map(({ ip, idsByPattern }) => ({ ip, ids: idsByPattern.map(([pattern, ids]) => [pattern, [...ids]]) }))).toEqual([
      { ip: A, ids: [["/items/{n}", [1, 2, 3, 3]]] },
    ]);
    expect(window.idCandidates(5)).toEqual([]);
  });

  test("ids expire with their minute; only the latest ids per pattern and the first patterns per address are kept", () => {
    const limits = { errorPathsPerIp: 2, patternsPerIp: 2, idsPerPattern: 3, countriesPerUser: 2, ipsPerUserCountry: 2 };
    const window = new LogWindow(FROM, [], limits);
    for (let n = 1; n <= 5; n++) window.add(row({ path: `/items/${n}`, ts: T0 + n * MINUTE }));
    window.add(row({ path: "/b/1" }));
    window.add(row({ path: "/c/1" }));
    for (const path of ["/x", "/y", "/z"]) window.add(row({ path, status: 404 }));
    const ids = () => window.idCandidates(1).flatMap(({ idsByPattern }) => idsByPattern.map(([pattern, list]) => [pattern, [...list]]));
    expect(ids()).toEqual([
      ["/items/{n}", [3, 4, 5]],
      ["/b/{n}", [1]],
    ]);
    expect(window.clientErrorPathCounts(1)).toEqual([{ ip: A, count: 2 }]);
    window.expire(FROM + 4);
    expect(ids()).toEqual([["/items/{n}", [4, 5]]]);
  });

  test("users seen from enough countries list every (country, ip) sighting", () => {
    const window = windowOf([
      { user: "alice", country_code: "DE", ip: A },
      { user: "alice", country_code: "DE", ip: A },
      { user: "alice", country_code: "FR", ip: B },
      { user: "alice", country_code: "US", ip: "203.0.113.9" },
      { user: "bob", country_code: "DE", ip: A },
      { user: "bob", country_code: "FR", ip: B },
      { user: "carol", country_code: null, ip: B },
    ]);
    expect(window.multiCountryUsers(3)).toEqual([
      { user: "alice", country_code: "DE", ip: A },
      { user: "alice", country_code: "FR", ip: B },
      { user: "alice", country_code: "US", ip: "203.0.113.9" },
    ]);
    expect(window.multiCountryUsers(2)).toHaveLength(5);
    expect(window.size.users).toBe(2);
  });

  test("forget erases an address everywhere", () => {
    const window = windowOf([
      { ip: A, path: "/items/1", status: 404, user: "alice", country_code: "DE" },
      { ip: B, user: "alice", country_code: "FR" },
    ]);
    window.forget(A);
    expect(window.requestCounts(0)).toEqual([{ ip: B, count: 1 }]);
    expect(window.clientErrorPathCounts(1)).toEqual([]);
    expect(window.idCandidates(1)).toEqual([]);
    expect(window.multiCountryUsers(1)).toEqual([{ user: "alice", country_code: "FR", ip: B }]);
    window.forget(B);
    expect(window.size).toEqual({ ips: 0, users: 0 });
  });

  test("an address forgotten and seen again starts afresh; its old minutes expire without touching the new count", () => {
    const window = windowOf([{ ts: T0 }, { ts: T0 }, { ts: T0 }]);
    window.forget(A);
    window.add(row({ ts: T0 + MINUTE }));
    window.add(row({ ts: T0 + MINUTE }));
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 2 }]);
    window.expire(FROM + 1);
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 2 }]);
    window.expire(FROM + 2);
    expect(window.size).toEqual({ ips: 0, users: 0 });
  });

  test("more requests in one minute than a minute entry holds are all counted and all expire", () => {
    const window = new LogWindow(FROM, ["/admin"]);
    for (let i = 0; i < 70_000; i++) window.add(row({ ts: T0 + (i % 60_000), path: i % 2 === 0 ? "/admin" : "/" }));
    window.add(row({ ts: T0 + MINUTE }));
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 70_001 }]);
    expect(window.sensitiveCounts(0)).toEqual([{ ip: A, count: 35_000 }]);
    window.expire(FROM + 1);
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 1 }]);
    expect(window.sensitiveCounts(0)).toEqual([]);
  });

  test("addresses that expired make room for new ones, each counted exactly", () => {
    const window = new LogWindow(FROM, []);
    const ip = (minute: number, n: number) => `10.${minute}.${n >> 8}.${n & 255}`;
    for (let minute = 0; minute < 3; minute++) {
      for (let n = 0; n < 3000; n++) for (let k = 0; k <= n % 3; k++) window.add(row({ ip: ip(minute, n), ts: T0 + minute * MINUTE }));
      window.expire(FROM + minute);
    }
    expect(window.size.ips).toBe(3000);
    const counts = window.requestCounts(0);
    expect(counts).toHaveLength(3000);
    expect(counts.every(({ ip: address, count }) => address.startsWith("10.2.") && count === (Number(address.split(".")[3]) + 256 * Number(address.split(".")[2])) % 3 + 1)).toBe(true);
  });

  test("an hour of rows at one address across minute boundaries is counted and expired by the minute", () => {
    const window = new LogWindow(FROM, ["/admin"]);
    for (let i = 0; i < 600; i++) window.add(row({ ts: T0 + i * 6000, path: i % 10 === 0 ? "/admin" : "/" }));
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 600 }]);
    expect(window.sensitiveCounts(0)).toEqual([{ ip: A, count: 60 }]);
    window.expire(FROM + 30);
    expect(window.requestCounts(0)).toEqual([{ ip: A, count: 300 }]);
    expect(window.sensitiveCounts(0)).toEqual([{ ip: A, count: 30 }]);
  });
});
