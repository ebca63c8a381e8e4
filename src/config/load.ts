import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Kind, type TObject, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parse as parseToml } from "smol-toml";
import { IpwardError } from "../core/errors.ts";
import { parseDuration } from "../core/duration.ts";
import { compileTrust } from "../core/ip.ts";
import { type Config, ConfigSchema } from "./schema.ts";

/** Options of `serve` given on the command line; each maps to one config key. */
export const FLAG_KEYS = {
  host: "host",
  port: "port",
  "data-dir": "data_dir",
  upstream: "upstream",
  redis: "redis.url",
  "trust-proxy": "trust_proxy",
} as const;

export type ConfigFlags = Partial<Record<keyof typeof FLAG_KEYS, string>>;

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  /** Explicit config file (`--config`); when absent, IPWARD_CONFIG or ./ipward.toml if it exists. */
  configPath?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

type Tree = Record<string, unknown>;

/** Loads the configuration: flags > IPWARD_* environment > ipward.toml > defaults, then validates it. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const layers: Tree[] = [];
  const file = configFilePath(options.configPath ?? env.IPWARD_CONFIG, cwd);
  if (file) layers.push(readTomlFile(file));
  layers.push(envLayer(env));
  layers.push(flagLayer(options.flags ?? {}));

  const merged = layers.reduce<Tree>((acc, layer) => deepMerge(acc, layer), {});
  return validateConfig(merged, file ?? "configuration");
}

/** Validates a raw config tree (as parsed from TOML) against the schema and fills in defaults. */
export function validateConfig(raw: Tree, origin = "configuration"): Config {
  const unknown = findUnknownKeys(ConfigSchema, raw, "");
  if (unknown.length > 0) {
    throw new IpwardError("invalid_config", `unknown config key "${unknown[0]}" (in ${origin})`, { key: unknown[0] });
  }
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw)) as Config;
  const firstError = Value.Errors(ConfigSchema, withDefaults).First();
  if (firstError) {
    const key = firstError.path.replace(/^\//, "").replaceAll("/", ".");
    const value = JSON.stringify(firstError.value);
    throw new IpwardError("invalid_config", `invalid value ${value} for config key "${key}": ${firstError.message}`, { key });
  }
  checkSemantics(withDefaults);
  return withDefaults;
}

/** Checks that typebox cannot express: parsable durations, proxy specs, URLs, unique rule names. */
function checkSemantics(config: Config): void {
  const fail = (key: string, message: string) => {
    throw new IpwardError("invalid_config", `invalid value for config key "${key}": ${message}`, { key });
  };
  try {
    compileTrust(config.trust_proxy);
  } catch (e) {
    fail("trust_proxy", (e as Error).message);
  }
  if (config.upstream !== null && !/^https?:\/\/[^/\s]+/i.test(config.upstream)) {
    fail("upstream", `"${config.upstream}" is not an http(s) URL`);
  }
  if (config.redis.url !== null && !/^rediss?:\/\//i.test(config.redis.url)) {
    fail("redis.url", "expected a redis:// or rediss:// URL");
  }
  if (config.admin.listen !== null && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(config.admin.listen)) {
    fail("admin.listen", `"${config.admin.listen}" is not host:port`);
  }
  const names = new Set<string>();
  config.rate_limit.rules.forEach((rule, i) => {
    if (names.has(rule.name)) fail(`rate_limit.rules[${i}].name`, `duplicate rule name "${rule.name}"`);
    names.add(rule.name);
  });
  if (parseDuration(config.detection.block_duration) > parseDuration(config.detection.max_block_duration)) {
    fail("detection.block_duration", "longer than detection.max_block_duration");
  }
}

function configFilePath(explicit: string | undefined, cwd: string): string | null {
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new IpwardError("invalid_config", `config file "${explicit}" does not exist`);
    return path;
  }
  const fallback = resolve(cwd, "ipward.toml");
  return existsSync(fallback) ? fallback : null;
}

function readTomlFile(path: string): Tree {
  const text = readFileSync(path, "utf8");
  try {
    return parseToml(text) as Tree;
  } catch (e) {
    throw new IpwardError("invalid_config", `cannot parse ${path}: ${(e as Error).message}`);
  }
}

/** Every leaf key of the schema with its IPWARD_* variable name and schema. */
function leafKeys(schema: TObject, prefix = ""): { key: string; envName: string; schema: TSchema }[] {
  const out: { key: string; envName: string; schema: TSchema }[] = [];
  for (const [name, child] of Object.entries(schema.properties)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (child[Kind] === "Object") out.push(...leafKeys(child as TObject, key));
    else out.push({ key, envName: `IPWARD_${key.replaceAll(".", "_").toUpperCase()}`, schema: child });
  }
  return out;
}

const LEAVES = leafKeys(ConfigSchema);
const SPECIAL_ENV = new Set(["IPWARD_CONFIG"]);

function envLayer(env: Record<string, string | undefined>): Tree {
  const tree: Tree = {};
  const known = new Set(LEAVES.map((leaf) => leaf.envName));
  for (const name of Object.keys(env)) {
    if (name.startsWith("IPWARD_") && !known.has(name) && !SPECIAL_ENV.has(name)) {
      throw new IpwardError("invalid_config", `unknown environment variable ${name}`, { key: name });
    }
  }
  for (const leaf of LEAVES) {
    const text = env[leaf.envName];
    if (text !== undefined) setPath(tree, leaf.key, coerce(text, leaf.schema, leaf.envName));
  }
  return tree;
}

function flagLayer(flags: ConfigFlags): Tree {
  const tree: Tree = {};
  for (const [flag, text] of Object.entries(flags)) {
    if (text === undefined) continue;
    const key = FLAG_KEYS[flag as keyof typeof FLAG_KEYS];
    const leaf = LEAVES.find((l) => l.key === key)!;
    setPath(tree, key, coerce(text, leaf.schema, `--${flag}`));
  }
  return tree;
}

/** Turns a flag or environment string into the type the schema expects. */
function coerce(text: string, schema: TSchema, origin: string): unknown {
  const kinds = schemaKinds(schema);
  const trimmed = text.trim();
  if (kinds.has("Null") && (trimmed === "" || trimmed === "null")) return null;
  if (kinds.has("Integer") && /^-?\d+$/.test(trimmed)) return Number(trimmed);
  if (kinds.has("Boolean") && /^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === "true";
  if (kinds.has("Array")) {
    if (trimmed.startsWith("[")) {
      try {
        return JSON.parse(trimmed);
      } catch {
        throw new IpwardError("invalid_config", `${origin}: cannot parse JSON list "${text}"`);
      }
    }
    if (!kinds.has("String")) return trimmed.split(",").map((s) => s.trim()).filter(Boolean);
  }
  if (kinds.has("Integer") && !kinds.has("String")) {
    throw new IpwardError("invalid_config", `${origin}: "${text}" is not a whole number`);
  }
  if (kinds.has("Boolean") && !kinds.has("String")) {
    throw new IpwardError("invalid_config", `${origin}: "${text}" is not true or false`);
  }
  return text;
}

function schemaKinds(schema: TSchema): Set<string> {
  if (schema[Kind] === "Union") return new Set((schema.anyOf as TSchema[]).map((s) => s[Kind] as string));
  return new Set([schema[Kind] as string]);
}

function findUnknownKeys(schema: TSchema, value: unknown, prefix: string): string[] {
  if (schema[Kind] !== "Object" || value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const props = (schema as TObject).properties;
  const out: string[] = [];
  for (const [name, child] of Object.entries(value as Tree)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (!(name in props)) out.push(key);
    else out.push(...findUnknownKeys(props[name], child, key));
  }
  return out;
}

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Tree;
  node[parts.at(-1)!] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects = isPlainObject(b) && isPlainObject(v);
    out[k] = bothObjects ? deepMerge(b as Tree, v as Tree) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Tree {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
