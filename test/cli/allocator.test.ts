import { describe, expect, test } from "bun:test";
import { allocatorReexecution, type ProcessStart, startsServer } from "../../src/cli/allocator.ts";

const fromSource = (args: string[], env: Record<string, string | undefined> = { PATH: "/usr/bin" }, execArgv: string[] = []): ProcessStart => ({
  argv: ["/opt/bun", "/srv/ipward/src/main.ts", ...args],
  execArgv,
  execPath: "/opt/bun",
  env,
  compiled: false,
});

describe("startsServer: the invocations runCli dispatches to serve", () => {
  test.each([[[]], [["serve"]], [["serve", "--port", "0"]], [["--port", "9000"]], [["-c", "ipward.toml"]]])("%j serves", (args) => {
    expect(startsServer(args)).toBe(true);
  });
  test.each([[["block-ip", "1.2.3.4"]], [["logs"]], [["version"]], [["--help"]], [["-h"]], [["--version"]], [["-v"]], [["help", "serve"]]])("%j does not", (args) => {
    expect(startsServer(args)).toBe(false);
  });
});

describe("allocatorReexecution", () => {
  test("the server from source restarts as bun, its flags, the script and the same arguments, with purging off", () => {
    const start = fromSource(["serve", "--port", "8080"], { PATH: "/usr/bin", IPWARD_REDIS_URL: "redis://127.0.0.1:6379", UNSET: undefined }, ["--smol"]);
    expect(allocatorReexecution(start)).toEqual({
      file: "/opt/bun",
      args: ["/opt/bun", "--smol", "/srv/ipward/src/main.ts", "serve", "--port", "8080"],
      env: { PATH: "/usr/bin", IPWARD_REDIS_URL: "redis://127.0.0.1:6379", MIMALLOC_PURGE_DELAY: "-1" },
    });
  });

  test("the single binary restarts as itself with ipward's arguments only", () => {
    const start: ProcessStart = { argv: ["bun", "/$bunfs/root/ipward", "--data-dir", "/var/lib/ipward"], execArgv: [], execPath: "/usr/local/bin/ipward", env: {}, compiled: true };
    expect(allocatorReexecution(start)).toEqual({
      file: "/usr/local/bin/ipward",
      args: ["/usr/local/bin/ipward", "--data-dir", "/var/lib/ipward"],
      env: { MIMALLOC_PURGE_DELAY: "-1" },
    });
  });

  test("nothing to do once the variable is set: by the first start, or by the operator", () => {
    expect(allocatorReexecution(fromSource(["serve"], { MIMALLOC_PURGE_DELAY: "-1" }))).toBeNull();
    expect(allocatorReexecution(fromSource(["serve"], { MIMALLOC_PURGE_DELAY: "10" }))).toBeNull();
  });

  test("one-shot commands start once, with the allocator's defaults", () => {
    expect(allocatorReexecution(fromSource(["block-ip", "198.51.100.0/24"]))).toBeNull();
    expect(allocatorReexecution(fromSource(["--version"]))).toBeNull();
  });
});
