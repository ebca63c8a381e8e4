import type { SqlDriver } from "./sqlite-store.ts";

/** Which SQLite binding to use: bun:sqlite under Bun, node:sqlite elsewhere (Deno). */
export type DriverName = "bun" | "node";

/** The binding native to the running runtime. */
export function runtimeDriverName(): DriverName {
  return "Bun" in globalThis ? "bun" : "node";
}

/**
 * Loads a driver on demand, so that modules shared by both runtimes never import bun:sqlite
 * statically. Literal import paths keep both adapters visible to `bun build`.
 */
export async function loadDriver(name: DriverName): Promise<SqlDriver> {
  if (name === "bun") return (await import("./bun-sqlite.ts")).openBunSqlite;
  return (await import("./node-sqlite.ts")).openNodeSqlite;
}
