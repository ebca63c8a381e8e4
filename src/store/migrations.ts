import { IpwardError } from "../core/errors.ts";
import type { SqlDatabase } from "./sql-database.ts";

/** One schema step. Applied in order, each in its own transaction, recorded in PRAGMA user_version. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every schema version so far, oldest first. Append only: a released step never changes. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
      CREATE TABLE request_log (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        ip TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        user_agent TEXT,
        referer TEXT,
        country_code TEXT,
        country TEXT,
        city TEXT,
        decision TEXT NOT NULL CHECK (decision IN ('allow', 'block', 'limit')),
        rule TEXT,
        "user" TEXT
      ) STRICT;
      -- (ts, ip), not (ip) or (ip, ts): an ip-led index costs ~10x in insert throughput because every
      -- row lands on a random page. Appending on ts stays as cheap as a (ts) index, and ip filters
      -- scan this compact index instead of the table (~5x faster; see bench/log-writer.ts --index-study).
      CREATE INDEX request_log_ts_ip ON request_log (ts, ip);

      CREATE TABLE decision_rule (
        id INTEGER PRIMARY KEY,
        list TEXT NOT NULL CHECK (list IN ('block', 'allow')),
        target TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ip', 'cidr', 'country')),
        reason TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        source TEXT NOT NULL CHECK (source IN ('cli', 'admin', 'api', 'detection', 'import')),
        UNIQUE (list, target)
      ) STRICT;

      -- Bumped by triggers so that every process sees rule changes, whoever made them,
      -- while log inserts (which also change PRAGMA data_version) leave it alone.
      CREATE TABLE change_counter (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) STRICT;
      INSERT INTO change_counter (name, value) VALUES ('decision_rule', 0);
      CREATE TRIGGER decision_rule_insert AFTER INSERT ON decision_rule BEGIN
        UPDATE change_counter SET value = value + 1 WHERE name = 'decision_rule';
      END;
      CREATE TRIGGER decision_rule_update AFTER UPDATE ON decision_rule BEGIN
        UPDATE change_counter SET value = value + 1 WHERE name = 'decision_rule';
      END;
      CREATE TRIGGER decision_rule_delete AFTER DELETE ON decision_rule BEGIN
        UPDATE change_counter SET value = value + 1 WHERE name = 'decision_rule';
      END;

      CREATE TABLE suspicious_ip (
        id INTEGER PRIMARY KEY,
        ip TEXT NOT NULL,
        rule TEXT NOT NULL,
        reason TEXT,
        count INTEGER NOT NULL DEFAULT 1,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'blocked', 'dismissed')),
        offences INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE UNIQUE INDEX suspicious_ip_open ON suspicious_ip (ip, rule) WHERE status = 'open';
      CREATE INDEX suspicious_ip_ip ON suspicious_ip (ip);

      CREATE TABLE admin_user (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE admin_session (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES admin_user (id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX admin_session_user ON admin_session (user_id);
      CREATE TABLE api_token (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
      ) STRICT;
    `,
  },
];

/** The schema version this binary writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Schema version recorded in the database file (0 for a new file). */
export function schemaVersion(db: SqlDatabase): number {
  return db.prepare("PRAGMA user_version").get<{ user_version: number }>()?.user_version ?? 0;
}

/**
 * Brings the database up to SCHEMA_VERSION. Safe when several processes open the same file at
 * once: each step re-reads the version inside its write transaction. Refuses a database written
 * by a newer ipward rather than guess at its schema.
 */
export function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  const from = schemaVersion(db);
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  if (from > latest) {
    throw new IpwardError(
      "conflict",
      `database schema version ${from} is newer than this ipward supports (${latest}); upgrade ipward`,
      { schema_version: from, supported: latest },
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
    });
  }
  return { from, to: Math.max(from, latest) };
}
