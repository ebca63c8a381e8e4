import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli } from "../support/cli.ts";
import { BUN, MAIN, ROOT, runIpward, startServer, tempDir } from "../support/process.ts";

const dir = tempDir("ipward-check-");
afterAll(() => dir.cleanup());

interface CheckLine {
  check: string;
  status: "ok" | "warn" | "fail";
  message: string;
}

/** A port nothing listens on right now. */
function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const { port } = server;
  server.stop(true);
  return port!;
}

async function check(dataDir: string, ...args: string[]) {
  const result = await cli(["check", "--json", "--data-dir", dataDir, ...args], { cwd: dir.path });
  const lines = result.stdout === "" ? [] : (JSON.parse(result.stdout) as CheckLine[]);
  return { ...result, lines, byName: (name: string) => lines.find((line) => line.check === name) };
}

describe("ipward check", () => {
  test("a fresh machine passes with warnings about the old bundled geo data, exit 0", async () => {
    const dataDir = join(dir.path, "fresh");
    const port = freePort();
    const text = await cli(["check", "--data-dir", dataDir, "--port", String(port)], { cwd: dir.path });
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines.map((line) => line.split(/\s+/, 2))).toEqual([
      ["ok", "config"],
      ["ok", "data_dir"],
      ["ok", "database"],
      ["ok", "redis"],
      ["warn", "geo_ipv4"],
      ["warn", "geo_ipv6"],
      ["ok", "port"],
    ]);
    expect(text.stdout).toContain(`${dataDir} does not exist yet`);
    expect(text.stdout).toMatch(/geo_ipv4 +bundled database built \d{4}-\d{2}-\d{2}, \d+ days old/);
    expect(text.stdout).toContain(`127.0.0.1:${port} is free`);
  });

  test("--json prints one array of {check, status, message}", async () => {
    const { code, lines } = await check(join(dir.path, "json"), "--port", "0");
    expect(code).toBe(0);
    expect(lines.length).toBeGreaterThanOrEqual(7);
    for (const line of lines) expect(Object.keys(line).sort()).toEqual(["check", "message", "status"]);
  });

  test("an existing database: integrity ok and its schema version", async () => {
    const dataDir = join(dir.path, "existing");
    expect((await runIpward(["block-ip", "192.0.2.1", "--data-dir", dataDir])).code).toBe(0);
    const { code, byName } = await check(dataDir, "--port", "0");
    expect(code).toBe(0);
    expect(byName("database")).toMatchObject({ status: "ok", message: expect.stringMatching(/integrity ok, schema version \d+$/) });
    expect(byName("data_dir")).toMatchObject({ status: "ok", message: `${dataDir} is writable` });
  });

  test("a damaged database file fails the check, exit 1", async () => {
    const dataDir = join(dir.path, "damaged");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "ipward.db"), "this is not a SQLite database, just some text that is long enough".repeat(100));
    const { code, byName } = await check(dataDir, "--port", "0");
    expect(code).toBe(1);
    expect(byName("database")?.status).toBe("fail");
  });

  test("a data dir that is a file fails", async () => {
    const file = join(dir.path, "plain-file");
    writeFileSync(file, "");
    expect((await check(file, "--port", "0")).byName("data_dir")).toMatchObject({ status: "fail", message: `${file} is not a directory` });
    expect((await check(join(file, "sub"), "--port", "0")).byName("data_dir")).toMatchObject({ status: "fail", message: expect.stringContaining("is not a directory") });
  });

  test("a data dir the service account cannot write fails", async () => {
    const setpriv = Bun.spawnSync(["sh", "-c", "command -v setpriv"]);
    if (process.getuid?.() !== 0 || setpriv.exitCode !== 0) {
      console.log("note: needs root and setpriv to run check as another user; skipped");
      return;
    }
    const dataDir = join(dir.path, "root-owned");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    chmodSync(dir.path, 0o755);
    const child = Bun.spawnSync(
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BUN, MAIN, "check", "--data-dir", dataDir, "--port", "0"],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin", HOME: "/" } },
    );
    expect(child.exitCode).toBe(1);
    expect(child.stdout.toString()).toMatch(new RegExp(`fail +data_dir +${dataDir} is not writable`));
  });

  test("a taken port fails with 'port N is in use', exit 1", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, reusePort: false, fetch: () => new Response() });
    try {
      const { code, byName } = await check(join(dir.path, "port"), "--port", String(taken.port));
      expect(code).toBe(1);
      expect(byName("port")).toMatchObject({ status: "fail", message: expect.stringContaining(`port ${taken.port} is in use`) });
    } finally {
      taken.stop(true);
    }
  });

  test("Redis: PONG when reachable; unreachable fails without printing the password", async () => {
    const up = await check(join(dir.path, "redis"), "--port", "0", "--redis", "redis://127.0.0.1:6379");
    expect(up.code).toBe(0);
    expect(up.byName("redis")).toMatchObject({ status: "ok", message: expect.stringContaining("answered PONG") });

    const down = await check(join(dir.path, "redis"), "--port", "0", "--redis", `redis://ipward:s3cret@127.0.0.1:${freePort()}`);
    expect(down.code).toBe(1);
    expect(down.byName("redis")?.status).toBe("fail");
    expect(down.stdout).not.toContain("s3cret");
  });

  test("an invalid config fails the first check and stops there, exit 1", async () => {
    const config = join(dir.path, "bad.toml");
    writeFileSync(config, "prot = 8080\n");
    const { code, lines } = await check(join(dir.path, "bad"), "--config", config);
    expect(code).toBe(1);
    expect(lines).toEqual([{ check: "config", status: "fail", message: expect.stringContaining('unknown config key "prot"') }]);
  });
});

describe("serve on a taken port", () => {
  test("a second server on the same port exits 1 saying the port is in use; the first keeps serving", async () => {
    const data = join(dir.path, "two-servers");
    const first = await startServer(["--data-dir", data]);
    try {
      const second = await runIpward(["serve", "--port", String(first.port), "--data-dir", data]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`127.0.0.1:${first.port}`);
      expect(second.stderr).toContain("already in use");
      expect((await fetch(`${first.url}/`)).status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });
});
