import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";

const dirs: string[] = [];
function tempDir(toml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ipward-config-"));
  dirs.push(dir);
  if (toml !== undefined) writeFileSync(join(dir, "ipward.toml"), toml);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("loadConfig", () => {
  test("defaults match the contract", () => {
    const config = loadConfig({ cwd: tempDir(), env: {} });
    expect(config.host).toBe("127.0.0.1");
    expect(config.port).toBe(8080);
    expect(config.data_dir).toBe("./data");
    expect(config.trust_proxy).toBe("loopback");
    expect(config.prefix).toBe("/_ipward");
    expect(config.retention.days).toBe(90);
    expect(config.detection.auto_block).toBe(false);
    expect(config.detection.block_duration).toBe("4h");
    expect(config.rate_limit.ipv6_prefix).toBe(64);
    expect(config.rate_limit.rules.map((r) => [r.name, r.limit])).toEqual([["login", 5], ["action", 10]]);
  });

  test("precedence: flags > env > file > defaults", () => {
    const cwd = tempDir('port = 9001\nhost = "0.0.0.0"\n[redis]\nurl = "redis://file:6379"\n');
    expect(loadConfig({ cwd, env: {} })).toMatchObject({ port: 9001, host: "0.0.0.0", redis: { url: "redis://file:6379" } });
    const withEnv = loadConfig({ cwd, env: { IPWARD_PORT: "9002", IPWARD_REDIS_URL: "redis://env:6379" } });
    expect(withEnv).toMatchObject({ port: 9002, host: "0.0.0.0", redis: { url: "redis://env:6379" } });
    const withFlags = loadConfig({ cwd, env: { IPWARD_PORT: "9002" }, flags: { port: "9003", redis: "redis://flag:6379" } });
    expect(withFlags).toMatchObject({ port: 9003, redis: { url: "redis://flag:6379" } });
  });

  test("env lists and booleans are converted", () => {
    const config = loadConfig({
      cwd: tempDir(),
      env: { IPWARD_DETECTION_SENSITIVE_PATHS: "/a,/b", IPWARD_DETECTION_AUTO_BLOCK: "true", IPWARD_TRUST_PROXY: "loopback,10.0.0.0/8" },
    });
    expect(config.detection.sensitive_paths).toEqual(["/a", "/b"]);
    expect(config.detection.auto_block).toBe(true);
    expect(config.trust_proxy).toBe("loopback,10.0.0.0/8");
  });

  test("hop count and list forms of trust_proxy", () => {
    expect(loadConfig({ cwd: tempDir("trust_proxy = 2\n"), env: {} }).trust_proxy).toBe(2);
    expect(loadConfig({ cwd: tempDir('trust_proxy = ["loopback", "fc00::/7"]\n'), env: {} }).trust_proxy).toEqual(["loopback", "fc00::/7"]);
  });

  test.each([
    ["unknown top-level key", "prot = 1\n", /unknown config key "prot"/],
    ["unknown nested key", "[redis]\nuri = \"x\"\n", /unknown config key "redis.uri"/],
    ["bad type", 'port = "eighty"\n', /config key "port"/],
    ["out of range", "port = 70000\n", /config key "port"/],
    ["bad duration", '[detection]\nblock_duration = "forever"\n', /config key "detection.block_duration"/],
    ["bad trust entry", 'trust_proxy = "loopback,10.0.0.0/33"\n', /trust_proxy/],
    ["bad upstream", 'upstream = "ftp://x"\n', /upstream/],
    ["duplicate rule names", '[rate_limit]\nrules = [{name="a",path="/x",limit=1},{name="a",path="/y",limit=1}]\n', /duplicate rule name "a"/],
    ["broken TOML", "port = = 1\n", /cannot parse/],
  ])("%s stops start-up with a message naming the key", (_name, toml, message) => {
    expect(() => loadConfig({ cwd: tempDir(toml), env: {} })).toThrow(message);
  });

  test("bad environment values and unknown IPWARD_ variables name the variable", () => {
    expect(() => loadConfig({ cwd: tempDir(), env: { IPWARD_PORT: "http" } })).toThrow(/IPWARD_PORT/);
    expect(() => loadConfig({ cwd: tempDir(), env: { IPWARD_REDIS_URI: "x" } })).toThrow(/IPWARD_REDIS_URI/);
  });

  test("a missing explicit config file is an error", () => {
    expect(() => loadConfig({ cwd: tempDir(), env: {}, configPath: "nope.toml" })).toThrow(/does not exist/);
  });
});
