import { openMigratedDatabase, StatementCache } from "./connection.ts";
import type { SqlDatabase } from "./sql-database.ts";
import type { SqlDriver } from "./sqlite-store.ts";

/** A time range in ms: `since` inclusive, `until` exclusive. */
export interface TimeRange {
  since: number;
  until: number;
}

/** Requests of one series bucket starting at `ts`. */
export interface SeriesPoint {
  ts: number;
  requests: number;
  blocked: number;
  limited: number;
}

/** Traffic figures of a time range, as the dashboard shows them. */
export interface TrafficStats {
  totals: { requests: number; blocked: number; limited: number; unique_ips: number };
  /** Every bucket of the range, empty ones included, oldest first. */
  series: SeriesPoint[];
  top_countries: { country_code: string; country: string | null; requests: number }[];
  top_ips: { ip: string; requests: number; country_code: string | null }[];
  top_paths: { path: string; requests: number }[];
  /** "2xx", "4xx", … in order; classes without requests are left out. */
  status_mix: { status_class: string; requests: number }[];
}

/** What the request log holds about one address. */
export interface IpCounts {
  requests: number;
  blocked: number;
  limited: number;
  first_seen: number | null;
  last_seen: number | null;
}

/** How many entries each "top" list has. */
export const TOP_LIMIT = 10;

// Every query filters on ts first so that SQLite walks the (ts, ip) index over the range only.
// They read request_log_entry, not the request_log view: grouping on ids and looking up only the
// groups' texts beats resolving every row's texts. decision: 1 block, 2 limit (migrations.ts).
// Numbers bound by node:sqlite arrive as REAL: the casts keep the bucket division an integer one.
const RANGE = "FROM request_log_entry WHERE ts >= ?1 AND ts < ?2";
const SERIES = `SELECT (ts / CAST(?3 AS INTEGER)) * CAST(?3 AS INTEGER) AS ts, count(*) AS requests,
  sum(decision = 1) AS blocked, sum(decision = 2) AS limited ${RANGE} GROUP BY 1`;
const UNIQUE_IPS = `SELECT count(DISTINCT ip) AS n ${RANGE}`;
const TOP_COUNTRIES = `SELECT place.country_code, max(nullif(place.country, '')) AS country, sum(placed.requests) AS requests
  FROM (SELECT place_id, count(*) AS requests ${RANGE} AND place_id IS NOT NULL GROUP BY place_id) AS placed
  JOIN log_place AS place ON place.id = placed.place_id
  WHERE place.country_code != ''
  GROUP BY place.country_code ORDER BY requests DESC, place.country_code LIMIT CAST(?3 AS INTEGER)`;
const TOP_IPS = `SELECT top.ip, top.requests, (SELECT nullif(country_code, '') FROM log_place WHERE id = top.place_id) AS country_code
  FROM (SELECT ip, count(*) AS requests, max(place_id) AS place_id ${RANGE}
    GROUP BY ip ORDER BY requests DESC, ip LIMIT CAST(?3 AS INTEGER)) AS top
  ORDER BY top.requests DESC, top.ip`;
// A path is an id or, on its first sighting by a writer, the text itself (see migrations.ts).
const TOP_PATHS = `SELECT coalesce(text.value, counted.path) AS path, sum(counted.requests) AS requests
  FROM (SELECT path_id, path, count(*) AS requests ${RANGE} GROUP BY path_id, path) AS counted
  LEFT JOIN log_text AS text ON text.id = counted.path_id
  GROUP BY 1 ORDER BY requests DESC, 1 LIMIT CAST(?3 AS INTEGER)`;
const STATUS_MIX = `SELECT status / 100 AS class, count(*) AS requests ${RANGE} GROUP BY 1 ORDER BY 1`;
const IP_COUNTS = `SELECT count(*) AS requests, coalesce(sum(decision = 1), 0) AS blocked,
  coalesce(sum(decision = 2), 0) AS limited, min(ts) AS first_seen, max(ts) AS last_seen
  FROM request_log_entry WHERE ip = ?`;

/** Aggregates over the request log (dashboard figures, per-address counts) on its own connection. */
export class StatsStore {
  private readonly statements: StatementCache;

  constructor(private readonly db: SqlDatabase) {
    this.statements = new StatementCache(db);
  }

  /**
   * Totals, a series in buckets of `bucketMs` (aligned to multiples of it since the epoch, so hourly
   * buckets start on the hour, UTC), the top countries, IPs and paths, and the status classes.
   * All figures come from one read snapshot, so they agree with each other.
   */
  trafficStats(range: TimeRange, bucketMs: number): TrafficStats {
    return this.snapshot(() => {
      const { since, until } = range;
      const counted = new Map<number, SeriesPoint>();
      for (const point of this.statements.get(SERIES).all<SeriesPoint>(since, until, bucketMs)) counted.set(point.ts, point);
      const series: SeriesPoint[] = [];
      const totals = { requests: 0, blocked: 0, limited: 0, unique_ips: 0 };
      for (let ts = Math.floor(since / bucketMs) * bucketMs; ts < until; ts += bucketMs) {
        const point = counted.get(ts) ?? { ts, requests: 0, blocked: 0, limited: 0 };
        series.push(point);
        totals.requests += point.requests;
        totals.blocked += point.blocked;
        totals.limited += point.limited;
      }
      totals.unique_ips = this.statements.get(UNIQUE_IPS).get<{ n: number }>(since, until)?.n ?? 0;
      return {
        totals,
        series,
        top_countries: this.statements.get(TOP_COUNTRIES).all(since, until, TOP_LIMIT),
        top_ips: this.statements.get(TOP_IPS).all(since, until, TOP_LIMIT),
        top_paths: this.statements.get(TOP_PATHS).all(since, until, TOP_LIMIT),
        status_mix: this.statements
          .get(STATUS_MIX)
          .all<{ class: number; requests: number }>(since, until)
          .map((row) => ({ status_class: `${row.class}xx`, requests: row.requests })),
      };
    });
  }

  /** Request counts and first/last sighting of one address (all of retention). */
  ipCounts(ip: string): IpCounts {
    return this.statements.get(IP_COUNTS).get<IpCounts>(ip) ?? { requests: 0, blocked: 0, limited: 0, first_seen: null, last_seen: null };
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  /** Runs reads in one deferred (read) transaction: a consistent view without taking the write lock. */
  private snapshot<T>(read: () => T): T {
    this.db.exec("BEGIN DEFERRED");
    try {
      return read();
    } finally {
      this.db.exec("COMMIT");
    }
  }
}

/** Opens the statistics store on its own connection to the database file. */
export function openStatsStore(path: string, options: { driver: SqlDriver }): StatsStore {
  return new StatsStore(openMigratedDatabase(path, options.driver));
}
