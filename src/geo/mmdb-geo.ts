import { ipScope, parseIp } from "../core/ip.ts";
import type { GeoInfo, GeoReader } from "../core/ports.ts";
import { BoundedCache } from "./bounded-cache.ts";
import { errorMessage, type DatabasePair, type GeoDatabase, type GeoDatabaseInfo } from "./mmdb-database.ts";
import { geoInfoFromRecord } from "./record-shape.ts";

/**
 * GeoReader over MaxMind-format databases, one per address family, with a bounded in-process
 * cache of answers (misses included). Private, loopback and reserved addresses resolve to null
 * without touching a database.
 */
export class MmdbGeo implements GeoReader {
  private readonly cache: BoundedCache<string, GeoInfo | null>;
  private databases: DatabasePair;
  private readonly failedDatabases = new WeakSet<GeoDatabase>();
  /** GeoInfo per decoded record: the reader returns the same object for addresses sharing a record. */
  private readonly infoByRecord = new WeakMap<object, GeoInfo | null>();

  constructor(
    databases: DatabasePair,
    cacheSize: number,
    private readonly log: (message: string) => void,
  ) {
    this.databases = databases;
    this.cache = new BoundedCache(cacheSize);
  }

  /** Location of `ip`, or null when it is private/reserved, invalid or not in the database. */
  lookup(ip: string): GeoInfo | null {
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached;
    const info = this.resolve(ip);
    this.cache.set(ip, info);
    return info;
  }

  /** Switches to other databases and forgets every cached answer. */
  use(databases: DatabasePair): void {
    this.databases = databases;
    this.cache.clear();
  }

  /** The database in use for each family. */
  databaseInfo(): GeoDatabaseInfo[] {
    return ([4, 6] as const).map((family) => ({
      family,
      source: this.databases[family].source,
      buildEpoch: this.databases[family].buildEpoch,
    }));
  }

  private resolve(text: string): GeoInfo | null {
    const ip = parseIp(text);
    if (ip === null || ipScope(ip) !== "unicast") return null;
    const database = this.databases[ip.family];
    try {
      const record = database.reader.get(ip.text);
      if (record === null || typeof record !== "object") return null;
      let info = this.infoByRecord.get(record);
      if (info === undefined) {
        const mapped = geoInfoFromRecord(record);
        info = mapped === null ? null : Object.freeze(mapped);
        this.infoByRecord.set(record, info);
      }
      return info;
    } catch (error) {
      // A file damaged past the checks done at open: answer "unknown" rather than fail the request.
      if (!this.failedDatabases.has(database)) {
        this.failedDatabases.add(database);
        this.log(`geo: lookup of ${ip.text} failed in ${database.source}: ${errorMessage(error)}`);
      }
      return null;
    }
  }
}
