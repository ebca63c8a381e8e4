import { accessSync, constants, existsSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { IpwardError } from "../core/errors.ts";
import { openGeo } from "../geo/index.ts";
import { loadDriver, runtimeDriverName } from "../store/drivers.ts";
import { SCHEMA_VERSION, schemaVersion } from "../store/migrations.ts";
import { defaultDbPath } from "../store/sqlite-store.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs } from "./io.ts";

export type CheckStatus = "ok" | "warn" | "fail";

/** One line of `ipward check`; also its `--json` element. */
export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
}

/** GeoLite2's licence asks for data no older than this. */
const GEO_MAX_AGE_DAYS = 30;
const DAY_MS = 86_400_000;
const REDIS_TIMEOUT_MS = 2_000;

const CHECK_OPTIONS = {
  ...DATA_OPTIONS,
  host: { type: "string" },
  port: { type: "string" },
  redis: { type: "string" },
  json: { type: "boolean" },
} as const;

/**
 * `ipward check [--json]`: diagnostics before (or beside) `serve`. Exit 0 when every check is ok
 * or only warns, 1 when one fails.
 */
export const checkCommand: Command = {
  name: "check",
  summary: "diagnostics: config, data dir, database, Redis, geo data age, port",
  usage: "ipward check [--json] [--data-dir DIR] [--config FILE] [--host H] [--port N] [--redis URL]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("check", args, CHECK_OPTIONS);
    const { config: configPath, json, ...flags } = values;
    const results: CheckResult[] = [];
    const report = (result: CheckResult) => {
      results.push(result);
      if (!json) io.stdout(`${result.status.padEnd(4)}  ${result.check.padEnd(9)}  ${result.message}\n`);
    };

    let config: Config | null = null;
    try {
      config = loadConfig({ flags, configPath, env: io.env, cwd: io.cwd });
      report({ check: "config", status: "ok", message: describeConfigSource(configPath ?? io.env.IPWARD_CONFIG, io.cwd) });
    } catch (error) {
      report({ check: "config", status: "fail", message: messageOf(error) });
    }
    if (config !== null) {
      const dataDir = resolve(io.cwd, config.data_dir);
      const dataDirResult = checkDataDir(dataDir);
      report(dataDirResult);
      report(await checkDatabase(defaultDbPath(dataDir)));
      report(await checkRedis(config));
      for (const result of await checkGeo(config, dataDir)) report(result);
      report(await checkPort("port", config.host, config.port));
      if (config.admin.listen !== null) {
        const at = config.admin.listen.lastIndexOf(":");
        const host = config.admin.listen.slice(0, at).replace(/^\[(.*)\]$/, "$1");
        report(await checkPort("admin", host, Number(config.admin.listen.slice(at + 1))));
      }
    }

    if (json) io.stdout(`${JSON.stringify(results, null, 2)}\n`);
    return results.some((result) => result.status === "fail") ? 1 : 0;
  },
};

function describeConfigSource(explicit: string | undefined, cwd: string): string {
  if (explicit) return `valid (${resolve(cwd, explicit)})`;
  const local = resolve(cwd, "ipward.toml");
  return existsSync(local) ? `valid (${local})` : "valid (defaults, environment and flags; no ipward.toml)";
}

/** The data dir is a writable directory, or can be created. */
export function checkDataDir(dataDir: string): CheckResult {
  const check = "data_dir";
  if (!existsSync(dataDir)) {
    let ancestor = dirname(dataDir);
    while (!existsSync(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    if (!statSync(ancestor).isDirectory()) {
      return { check, status: "fail", message: `${dataDir} cannot be created: ${ancestor} is not a directory` };
    }
    try {
      accessSync(ancestor, constants.W_OK);
      return { check, status: "ok", message: `${dataDir} does not exist yet; serve creates it` };
    } catch {
      return { check, status: "fail", message: `${dataDir} does not exist and cannot be created: ${ancestor} is not writable` };
    }
  }
  if (!statSync(dataDir).isDirectory()) return { check, status: "fail", message: `${dataDir} is not a directory` };
  // access(W_OK) says yes to root on a read-only mount; writing a file is the real test.
  const probe = resolve(dataDir, `.ipward-check-${process.pid}`);
  try {
    writeFileSync(probe, "");
    unlinkSync(probe);
    return { check, status: "ok", message: `${dataDir} is writable` };
  } catch (error) {
    return { check, status: "fail", message: `${dataDir} is not writable: ${messageOf(error)}` };
  }
}

/** PRAGMA integrity_check and the schema version, without migrating or creating anything. */
export async function checkDatabase(path: string): Promise<CheckResult> {
  const check = "database";
  if (!existsSync(path)) return { check, status: "ok", message: `${path} does not exist yet; serve creates it` };
  let db;
  try {
    db = (await loadDriver(runtimeDriverName()))(path);
    db.exec("PRAGMA busy_timeout = 5000");
    const problems = db.prepare("PRAGMA integrity_check").all<{ integrity_check: string }>().map((row) => row.integrity_check);
    const version = schemaVersion(db);
    if (problems.length !== 1 || problems[0] !== "ok") {
      return { check, status: "fail", message: `${path} is damaged: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? "; …" : ""}` };
    }
    if (version > SCHEMA_VERSION) {
      return { check, status: "fail", message: `${path}: schema version ${version} is newer than this ipward supports (${SCHEMA_VERSION}); upgrade ipward` };
    }
    const schema = version === SCHEMA_VERSION ? `schema version ${version}` : `schema version ${version}, migrated to ${SCHEMA_VERSION} when serve starts`;
    return { check, status: "ok", message: `${path}: integrity ok, ${schema}` };
  } catch (error) {
    return { check, status: "fail", message: `cannot read ${path}: ${messageOf(error)}` };
  } finally {
    db?.close();
  }
}

/** PING the configured Redis, within a timeout. */
export async function checkRedis(config: Config): Promise<CheckResult> {
  const check = "redis";
  const url = config.redis.url;
  if (!url) return { check, status: "ok", message: "not configured: rate limits in memory, rules shared through the data dir only" };
  const shown = withoutCredentials(url);
  const { createClient } = await import("redis");
  const client = createClient({ url, socket: { connectTimeout: REDIS_TIMEOUT_MS, reconnectStrategy: false } });
  client.on("error", () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  try {
    const started = performance.now();
    await Promise.race([client.connect(), timeout]);
    const answer = await Promise.race([client.ping(), timeout]);
    return { check, status: "ok", message: `${shown} answered ${answer} in ${(performance.now() - started).toFixed(1)} ms` };
  } catch (error) {
    return { check, status: "fail", message: `${shown} is unreachable: ${messageOf(error)}` };
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
}

/** The URL with any user and password removed: check output ends up in tickets and chats. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "the configured redis.url";
  }
}

/** Which database answers each family, and whether it is older than the licence allows. */
export async function checkGeo(config: Config, dataDir: string, now = Date.now()): Promise<CheckResult[]> {
  if (!config.geo.enabled) return [{ check: "geo", status: "ok", message: "disabled (geo.enabled = false)" }];
  const notes: string[] = [];
  let geo;
  try {
    geo = await openGeo({ dataDir, cacheSize: 0, watch: false, log: (message) => notes.push(message) });
  } catch (error) {
    return [{ check: "geo", status: "fail", message: messageOf(error) }];
  }
  geo.close();
  const results: CheckResult[] = notes
    .filter((note) => note.includes("ignoring"))
    .map((note) => ({ check: "geo", status: "warn", message: note.replace(/^geo: /, "") }));
  for (const info of geo.databaseInfo()) {
    const source = info.source === "bundled" ? "bundled database" : info.source;
    const built = info.buildEpoch.toISOString().slice(0, 10);
    const ageDays = Math.floor((now - info.buildEpoch.getTime()) / DAY_MS);
    const check = `geo_ipv${info.family}`;
    if (ageDays > GEO_MAX_AGE_DAYS) {
      results.push({
        check,
        status: "warn",
        message:
          `${source} built ${built}, ${ageDays} days old (the GeoLite2 licence asks for data under ${GEO_MAX_AGE_DAYS} days): ` +
          `put a newer GeoLite2-City.mmdb or geolite2-city-ipv${info.family}.mmdb in ${dataDir}`,
      });
    } else {
      results.push({ check, status: "ok", message: `${source} built ${built}, ${ageDays} days old` });
    }
  }
  return results;
}

/** Binds host:port for a moment: "in use" is what serve would hit. */
export async function checkPort(check: string, host: string, port: number): Promise<CheckResult> {
  if (port === 0) return { check, status: "ok", message: "port 0: the system picks a free port at start" };
  const outcome = await new Promise<"free" | Error>((settle) => {
    const server = createServer();
    server.once("error", (error) => settle(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => settle("free")));
  });
  if (outcome === "free") return { check, status: "ok", message: `${host}:${port} is free` };
  const code = (outcome as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return { check, status: "fail", message: `port ${port} is in use on ${host} (another ipward, or another server?)` };
  if (code === "EACCES") return { check, status: "fail", message: `port ${port} needs privileges (CAP_NET_BIND_SERVICE or root) on ${host}` };
  if (code === "EADDRNOTAVAIL") return { check, status: "fail", message: `${host} is not an address of this machine` };
  return { check, status: "fail", message: `cannot listen on ${host}:${port}: ${outcome.message}` };
}

function messageOf(error: unknown): string {
  if (error instanceof IpwardError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
