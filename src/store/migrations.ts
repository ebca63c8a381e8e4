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
  {
    version: 2,
    name: "request log with its repeated texts stored once",
    // Binding text costs SQLite (and the writer thread) far more than binding integers: a row whose
    // method, path, user agent, referer and location are ids inserts about 2.3x faster than the same
    // row as text (bench/log-writer.ts). The view keeps the old table's name and columns for readers.
    sql: `
      -- Texts the log repeats (methods, paths, user agents, referers). last_used (ms) is the newest
      -- ts of a row using the entry, kept to within LOG_TOUCH_MS; retention removes entries unused
      -- since before its cut-off, so the dictionary shrinks with the log.
      -- AUTOINCREMENT: an id removed by retention is never given to another text, so readers
      -- may cache id -> text (detection-store.ts).
      CREATE TABLE log_text (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        value TEXT NOT NULL UNIQUE,
        last_used INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX log_text_last_used ON log_text (last_used);
      -- Geolocations; '' stands for an unknown part so that UNIQUE holds ('' is never a real name).
      CREATE TABLE log_place (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        country_code TEXT NOT NULL,
        country TEXT NOT NULL,
        city TEXT NOT NULL,
        last_used INTEGER NOT NULL,
        UNIQUE (country_code, country, city)
      ) STRICT;
      CREATE INDEX log_place_last_used ON log_place (last_used);

      CREATE TABLE request_log_entry (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        ip TEXT NOT NULL,
        -- Each text is either an id (a text the writer has seen before) or the text itself (its
        -- first sighting): creating a log_text entry costs ~4 us, so a flood of unique paths or user
        -- agents must not pay it for texts that never come again.
        method_id INTEGER,
        method TEXT,
        path_id INTEGER,
        path TEXT,
        status INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        user_agent_id INTEGER,
        user_agent TEXT,
        referer_id INTEGER,
        referer TEXT,
        place_id INTEGER,
        -- 0 allow, 1 block, 2 limit. BETWEEN, not IN (0, 1, 2): SQLite evaluates an IN list in a
        -- CHECK through a temporary index on every insert, which took a third of the insert's time.
        decision INTEGER NOT NULL CHECK (decision BETWEEN 0 AND 2),
        rule TEXT,
        "user" TEXT
      ) STRICT;

      INSERT OR IGNORE INTO log_text (value, last_used)
        SELECT value, max(ts) FROM (
          SELECT method AS value, ts FROM request_log
          UNION ALL SELECT path, ts FROM request_log
          UNION ALL SELECT user_agent, ts FROM request_log WHERE user_agent IS NOT NULL
          UNION ALL SELECT referer, ts FROM request_log WHERE referer IS NOT NULL
        ) GROUP BY value;
      INSERT OR IGNORE INTO log_place (country_code, country, city, last_used)
        SELECT coalesce(country_code, ''), coalesce(country, ''), coalesce(city, ''), max(ts) FROM request_log
        WHERE country_code IS NOT NULL OR country IS NOT NULL OR city IS NOT NULL
        GROUP BY 1, 2, 3;
      INSERT INTO request_log_entry
        (id, ts, ip, method_id, path_id, status, duration_ms, user_agent_id, referer_id, place_id, decision, rule, "user")
        SELECT l.id, l.ts, l.ip,
          (SELECT id FROM log_text WHERE value = l.method),
          (SELECT id FROM log_text WHERE value = l.path),
          l.status, l.duration_ms,
          (SELECT id FROM log_text WHERE value = l.user_agent),
          (SELECT id FROM log_text WHERE value = l.referer),
          (SELECT id FROM log_place WHERE country_code = coalesce(l.country_code, '')
            AND country = coalesce(l.country, '') AND city = coalesce(l.city, '')),
          CASE l.decision WHEN 'allow' THEN 0 WHEN 'block' THEN 1 ELSE 2 END,
          l.rule, l."user"
        FROM request_log l ORDER BY l.id;
      DROP TABLE request_log;
      -- (ts, ip): see version 1. Appending on ts stays cheap; ip filters scan this index.
      CREATE INDEX request_log_entry_ts_ip ON request_log_entry (ts, ip);

      -- What readers see: the version 1 table's columns. LEFT JOINs, so that a row never vanishes.
      CREATE VIEW request_log AS
        SELECT e.id, e.ts, e.ip, coalesce(m.value, e.method) AS method, coalesce(p.value, e.path) AS path,
          e.status, e.duration_ms, coalesce(ua.value, e.user_agent) AS user_agent, coalesce(rf.value, e.referer) AS referer,
          nullif(pl.country_code, '') AS country_code, nullif(pl.country, '') AS country, nullif(pl.city, '') AS city,
          CASE e.decision WHEN 0 THEN 'allow' WHEN 1 THEN 'block' ELSE 'limit' END AS decision,
          e.rule, e."user"
        FROM request_log_entry e
        LEFT JOIN log_text m ON m.id = e.method_id
        LEFT JOIN log_text p ON p.id = e.path_id
        LEFT JOIN log_text ua ON ua.id = e.user_agent_id
        LEFT JOIN log_text rf ON rf.id = e.referer_id
        LEFT JOIN log_place pl ON pl.id = e.place_id;
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
