import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { type AdminStore, openAdminStore } from "../../src/store/admin-store.ts";
import { openStatsStore, type StatsStore } from "../../src/store/stats-store.ts";
import { openStore, type SqliteStore } from "../../src/store/sqlite-store.ts";
import { drivers, logRow, T0, tempDir } from "./fixtures.ts";

const HOUR = 3_600_000;

for (const [name, driver] of drivers) {
  describe(`admin store (${name})`, () => {
    let dir: ReturnType<typeof tempDir>;
    let admin: AdminStore;
    beforeEach(() => {
      dir = tempDir();
      openStore(dir.dbPath, { driver }).close();
      admin = openAdminStore(dir.dbPath, { driver });
    });
    afterEach(() => {
      admin.close();
      dir.cleanup();
    });

    test("users: create, find, a taken name is a conflict, passwords change", () => {
      expect(admin.countUsers()).toBe(0);
      const alice = admin.createUser("alice", "$argon2id$hash1", T0);
      expect(alice).toEqual({ id: 1, username: "alice", password_hash: "$argon2id$hash1", created_at: T0 });
      expect(() => admin.createUser("alice", "$argon2id$other", T0)).toThrow(/already exists/);
      admin.setPassword("alice", "$argon2id$hash2");
      expect(admin.findUser("alice")?.password_hash).toBe("$argon2id$hash2");
      expect(() => admin.setPassword("bob", "x")).toThrow(/no admin user "bob"/);
      expect(admin.listUsers()).toEqual([{ id: 1, username: "alice", created_at: T0 }]);
    });

    test("sessions: live until they expire, extended, removed, and ended by a password change", () => {
      const user = admin.createUser("alice", "h", T0);
      admin.createSession({ id: "a".repeat(64), user_id: user.id, csrf: "csrf", created_at: T0, expires_at: T0 + HOUR });
      expect(admin.liveSession("a".repeat(64), T0)).toMatchObject({ username: "alice", csrf: "csrf", expires_at: T0 + HOUR });
      expect(admin.liveSession("a".repeat(64), T0 + HOUR)).toBeNull();
      admin.extendSession("a".repeat(64), T0 + 2 * HOUR);
      expect(admin.liveSession("a".repeat(64), T0 + HOUR)).not.toBeNull();
      admin.createSession({ id: "b".repeat(64), user_id: user.id, csrf: "c2", created_at: T0, expires_at: T0 + 1 });
      expect(admin.deleteExpiredSessions(T0 + 1)).toBe(1);
      admin.setPassword("alice", "h2");
      expect(admin.liveSession("a".repeat(64), T0)).toBeNull();
    });

    test("tokens: stored by hash, listed without it, touched and revoked", () => {
      const token = admin.createToken("ci", "f".repeat(64), T0);
      expect(token).toEqual({ id: 1, name: "ci", created_at: T0, last_used_at: null });
      expect(admin.findToken("f".repeat(64))).toEqual(token);
      admin.touchToken(token.id, T0 + 5);
      expect(admin.listTokens()).toEqual([{ ...token, last_used_at: T0 + 5 }]);
      expect(admin.deleteToken(token.id)).toBe(true);
      expect(admin.deleteToken(token.id)).toBe(false);
      expect(admin.findToken("f".repeat(64))).toBeNull();
    });
  });

  describe(`stats store (${name})`, () => {
    let dir: ReturnType<typeof tempDir>;
    let store: SqliteStore;
    let stats: StatsStore;
    beforeEach(() => {
      dir = tempDir();
      store = openStore(dir.dbPath, { driver });
      stats = openStatsStore(dir.dbPath, { driver });
    });
    afterEach(() => {
      stats.close();
      store.close();
      dir.cleanup();
    });

    test("totals, hourly series aligned to the hour, tops and status classes of a range", () => {
      store.insertLogBatch([
        logRow({ ts: T0 - 30 * 60_000 }),
        logRow({ ts: T0 - 20 * 60_000, ip: "198.51.100.1", status: 403, decision: "block", country_code: "US", country: "United States" }),
        logRow({ ts: T0 - 90 * 60_000, path: "/login", status: 429, decision: "limit" }),
        logRow({ ts: T0 - 3 * HOUR }),
      ]);
      const figures = stats.trafficStats({ since: T0 - 2 * HOUR, until: T0 }, HOUR);
      expect(figures.totals).toEqual({ requests: 3, blocked: 1, limited: 1, unique_ips: 2 });
      expect(figures.series).toEqual([
        { ts: T0 - 2 * HOUR, requests: 1, blocked: 0, limited: 1 },
        { ts: T0 - HOUR, requests: 2, blocked: 1, limited: 0 },
      ]);
      expect(figures.top_countries).toEqual([
        { country_code: "DE", country: "Germany", requests: 2 },
        { country_code: "US", country: "United States", requests: 1 },
      ]);
      expect(figures.top_ips).toEqual([
        { ip: "203.0.113.7", requests: 2, country_code: "DE" },
        { ip: "198.51.100.1", requests: 1, country_code: "US" },
      ]);
      expect(figures.top_paths).toEqual([
        { path: "/", requests: 2 },
        { path: "/login", requests: 1 },
      ]);
      expect(figures.status_mix).toEqual([
        { status_class: "2xx", requests: 1 },
        { status_class: "4xx", requests: 2 },
      ]);
      expect(stats.ipCounts("203.0.113.7")).toEqual({ requests: 3, blocked: 0, limited: 1, first_seen: T0 - 3 * HOUR, last_seen: T0 - 30 * 60_000 });
      expect(stats.ipCounts("192.0.2.99")).toEqual({ requests: 0, blocked: 0, limited: 0, first_seen: null, last_seen: null });
    });

    test("the top lists stop at 10", () => {
      store.insertLogBatch(Array.from({ length: 15 }, (_, i) => logRow({ ip: `192.0.2.${i}`, path: `/p${i}`, ts: T0 - 1000 })));
      const figures = stats.trafficStats({ since: T0 - HOUR, until: T0 }, HOUR);
      expect(figures.top_ips).toHaveLength(10);
      expect(figures.top_paths).toHaveLength(10);
      expect(figures.totals.unique_ips).toBe(15);
    });
  });
}
