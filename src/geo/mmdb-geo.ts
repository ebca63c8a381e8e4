import { ipScope, type ParsedIp, parseIp } from "../core/ip.ts";
import type { GeoInfo, GeoReader } from "../core/ports.ts";
import { BoundedCache } from "./bounded-cache.ts";
import { errorMessage, type DatabasePair, type GeoDatabase, type GeoDatabaseInfo } from "./mmdb-database.ts";
import { geoInfoFromRecord } from "./record-shape.ts";

/**
 * GeoReader over MaxMind-format databases, one per address family, with a bounded in-process
 * cache of answers. Private, loopback and reserved addresses resolve to null without touching a
 * database.
 *
 * Answers are cached per database record, not per address: a record answers for a whole network,
 * so the ~20 000 records that 131 072 random clients land on all stay cached, where a cache keyed
 * by address missed on every one of them. Finding the record is a walk of the search tree over the
 * address's parsed bytes (see treeSearch).
 */
export class MmdbGeo implements GeoReader {
  /** Answers by record, per family (the families may use different databases). */
  private readonly answers: { 4: BoundedCache<number, GeoInfo | null>; 6: BoundedCache<number, GeoInfo | null> };
  private databases: DatabasePair;
  private readonly failedDatabases = new WeakSet<GeoDatabase>();

  constructor(
    databases: DatabasePair,
    cacheSize: number,
    private readonly log: (message: string) => void,
  ) {
    this.databases = databases;
    this.answers = { 4: new BoundedCache(cacheSize), 6: new BoundedCache(cacheSize) };
  }

  /** Location of `ip` (text or parsed), or null when it is private/reserved, invalid or not in the database. */
  lookup(ip: string | ParsedIp): GeoInfo | null {
    const parsed = typeof ip === "string" ? parseIp(ip) : ip;
    if (parsed === null || ipScope(parsed) !== "unicast") return null;
    const database = this.databases[parsed.family];
    try {
      const record = database.search(parsed);
      if (record < 0) return null;
      const answers = this.answers[parsed.family];
      let info = answers.get(record);
      if (info === undefined) {
        info = decode(database, record, parsed);
        answers.set(record, info);
      }
      return info;
    } catch (error) {
      // A file damaged past the checks done at open: answer "unknown" rather than fail the request.
      if (!this.failedDatabases.has(database)) {
        this.failedDatabases.add(database);
        this.log(`geo: lookup of ${parsed.text} failed in ${database.source}: ${errorMessage(error)}`);
      }
      return null;
    }
  }

  /** Switches to other databases and forgets every cached answer. */
  use(databases: DatabasePair): void {
    this.databases = databases;
    this.answers[4].clear();
    this.answers[6].clear();
  }

  /** The database in use for each family. */
  databaseInfo(): GeoDatabaseInfo[] {
    return ([4, 6] as const).map((family) => ({
      family,
      source: this.databases[family].source,
      buildEpoch: this.databases[family].buildEpoch,
    }));
  }
}

/** The answer of `record`, where `ip` landed; runs once per record while it stays cached. */
function decode(database: GeoDatabase, record: number, ip: ParsedIp): GeoInfo | null {
  const mapped = geoInfoFromRecord(database.decode(record, ip));
  return mapped === null ? null : Object.freeze(mapped);
}
