import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GeoReader } from "../core/ports.ts";
import { BackgroundInterval } from "../core/time.ts";
import { loadBundledDatabases } from "./bundled.ts";
import { chooseDatabases, DataDirDatabases, familiesOfFileName } from "./data-dir.ts";
import { errorMessage, type DatabasePair, type GeoDatabaseInfo } from "./mmdb-database.ts";
import { MmdbGeo } from "./mmdb-geo.ts";

export type { GeoDatabaseInfo } from "./mmdb-database.ts";

/** Geolocation with its database lifecycle: reload on demand (SIGHUP) and on data-dir changes. */
export interface GeoService extends GeoReader {
  /** Re-reads the data dir and switches databases if a better one appeared or one went away. */
  reload(): Promise<void>;
  /** The database in use for each family, for `ipward check`. */
  databaseInfo(): GeoDatabaseInfo[];
  /** Stops watching the data dir. */
  close(): void;
}

export interface OpenGeoOptions {
  dataDir: string;
  /** Cached answers kept in process (config `geo.cache_size`); 0 disables the cache. */
  cacheSize?: number;
  /** Where problems and database switches are reported. */
  log?: (message: string) => void;
  /** Watch the data dir for new database files (default true; one-shot CLI commands turn it off). */
  watch?: boolean;
}

export const DEFAULT_GEO_CACHE_SIZE = 50_000;

/** How often the data dir is checked for new or changed database files. */
const WATCH_INTERVAL_MS = 1_000;

/** Opens the bundled databases, prefers newer ones from the data dir, and watches it for changes. */
export async function openGeo(options: OpenGeoOptions): Promise<GeoService> {
  const log = options.log ?? ((message: string) => console.error(message));
  const bundled = await loadBundledDatabases();
  const dataDirDatabases = new DataDirDatabases(options.dataDir, log);

  const pick = async (): Promise<DatabasePair> => {
    const { chosen, unused } = chooseDatabases(bundled, await dataDirDatabases.scan());
    for (const { database, winner } of unused) {
      log(
        `geo: ignoring ${database.source}: built ${day(database.buildEpoch)}, ` +
          `not newer than ${winner.source === "bundled" ? "the bundled database" : winner.source} (built ${day(winner.buildEpoch)})`,
      );
    }
    return chosen;
  };

  let databases = await pick();
  announce(undefined, databases, log);
  const geo = new MmdbGeo(databases, options.cacheSize ?? DEFAULT_GEO_CACHE_SIZE, log);

  let reloading: Promise<void> = Promise.resolve();
  const switchDatabases = async (): Promise<void> => {
    const next = await pick();
    if (next[4] === databases[4] && next[6] === databases[6]) return;
    announce(databases, next, log);
    databases = next;
    geo.use(next);
  };
  // Reloads run one after another, and a failed one does not stop the next.
  const reload = (): Promise<void> => (reloading = reloading.then(switchDatabases, switchDatabases));

  const watcher = options.watch === false ? undefined : watchDataDir(options.dataDir, reload, log);

  return {
    lookup: (ip) => geo.lookup(ip),
    reload,
    databaseInfo: () => geo.databaseInfo(),
    close: () => watcher?.close(),
  };
}

interface DataDirWatcher {
  close(): void;
}

/**
 * Calls `reload` when a database file in `dataDir` appears, changes or goes away; never keeps the
 * process alive. It polls (names, sizes and mtimes of the database files, once a second) rather
 * than using fs.watch, because the data dir also holds the SQLite WAL: a watcher woke ~1,500 times
 * a second under load just to ignore WAL events.
 */
function watchDataDir(dataDir: string, reload: () => Promise<void>, log: (message: string) => void): DataDirWatcher {
  let last = databaseFilesSignature(dataDir);
  let reloading = false;
  const poller = new BackgroundInterval(() => {
    const now = databaseFilesSignature(dataDir);
    if (now === last || reloading) return;
    last = now;
    reloading = true;
    reload()
      .catch((error: unknown) => log(`geo: reload failed: ${errorMessage(error)}`))
      .finally(() => {
        reloading = false;
      });
  });
  poller.start(WATCH_INTERVAL_MS);
  return {
    close() {
      poller.stop();
    },
  };
}

/** A string that changes whenever a database file in `dataDir` is added, removed or rewritten. */
function databaseFilesSignature(dataDir: string): string {
  try {
    return readdirSync(dataDir)
      .filter((name) => familiesOfFileName(name) !== undefined)
      .sort()
      .map((name) => {
        const stat = statSync(join(dataDir, name), { throwIfNoEntry: false });
        return stat ? `${name}:${stat.size}:${stat.mtimeMs}` : name;
      })
      .join("|");
  } catch {
    return "";
  }
}

/** Logs which data-dir database each family switched to (switching back to bundled included). */
function announce(previous: DatabasePair | undefined, next: DatabasePair, log: (message: string) => void): void {
  for (const family of [4, 6] as const) {
    const database = next[family];
    if (previous === undefined ? database.source === "bundled" : previous[family] === database) continue;
    const source = database.source === "bundled" ? "the bundled database" : database.source;
    log(`geo: IPv${family} lookups now use ${source} (built ${day(database.buildEpoch)})`);
  }
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
