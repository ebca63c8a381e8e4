import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { openBunSqlite } from "../store/bun-sqlite.ts";
import { defaultDbPath, openStore, type SqliteStore } from "../store/sqlite-store.ts";
import type { CliIo } from "./io.ts";

/** The configuration a data command sees: same precedence as serve, with --data-dir / --config. */
export function commandConfig(values: { "data-dir"?: string; config?: string }, io: CliIo): Config {
  return loadConfig({
    flags: values["data-dir"] === undefined ? {} : { "data-dir": values["data-dir"] },
    configPath: values.config,
    env: io.env,
    cwd: io.cwd,
  });
}

/** Runs `work` with the data dir's store open, closing it afterwards. */
export async function withStore<T>(
  values: { "data-dir"?: string; config?: string },
  io: CliIo,
  work: (store: SqliteStore, config: Config) => T | Promise<T>,
): Promise<T> {
  const config = commandConfig(values, io);
  const store = openStore(defaultDbPath(config.data_dir), { driver: openBunSqlite });
  try {
    return await work(store, config);
  } finally {
    store.close();
  }
}
