/**
 * The single binary on a machine with nothing else: dist/ipward copied alone into an empty
 * directory and run with a minimal environment (PATH=/usr/bin:/bin, HOME=that directory).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, environmentOf, eventually, ROOT, type RunningServer, runIpward, startServer, tempDir } from "../support/process.ts";

const DIST = join(ROOT, "dist", "ipward");
/** What the binary is built from: rebuilt when any of it is newer than dist/ipward. */
const INPUTS = ["src", "ui", "build.ts", "package.json"].map((name) => join(ROOT, name));

function newestInput(path: string): number {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestInput(join(path, name))));
}

function ensureBuilt(): void {
  if (existsSync(DIST) && statSync(DIST).mtimeMs > Math.max(...INPUTS.map(newestInput))) return;
  const build = Bun.spawnSync([BUN, join(ROOT, "build.ts")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`bun build.ts failed:\n${build.stdout}${build.stderr}`);
}

const empty = tempDir("ipward-binary-");
const binary = join(empty.path, "ipward");
/** The minimal environment: no Bun, no node_modules, no HOME with caches. */
const env = { PATH: "/usr/bin:/bin", HOME: empty.path };
const ipward = (...args: string[]) => runIpward(args, { binary, cwd: empty.path, env });
let server: RunningServer;

beforeAll(async () => {
  ensureBuilt();
  expect(readdirSync(empty.path)).toEqual([]);
  copyFileSync(DIST, binary);
  server = await startServer([], { binary, cwd: empty.path, env });
}, 60_000);

afterAll(async () => {
  if (server.process.exitCode === null) server.process.kill("SIGKILL");
  empty.cleanup();
});

const from = (ip: string, path = "/") => fetch(`${server.url}${path}`, { headers: { "x-forwarded-for": ip } });

describe("dist/ipward alone in an empty directory", () => {
  test("serve answers the demo, geolocated from the embedded GeoLite data", async () => {
    const response = await from("8.8.8.8");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ message: "Welcome to the IP Tracking System", ip: "8.8.8.8", country: "United States" });
    expect(existsSync(join(empty.path, "data", "ipward.db"))).toBe(true);
  });

  test("serve restarted itself in place with mimalloc's purging off (src/cli/allocator.ts)", () => {
    expect(environmentOf(server.process.pid).MIMALLOC_PURGE_DELAY).toBe("-1");
  });

  test("the appliance's own routes: health, and the embedded admin UI", async () => {
    const health = await fetch(`${server.url}/_ipward/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const ui = await fetch(`${server.url}/_ipward/`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get("content-type")).toContain("text/html");
  });

  test("./ipward block-ip reaches the running server within 1 s", async () => {
    const blocked = await ipward("block-ip", "198.51.100.0/24");
    expect(blocked).toMatchObject({ code: 0, stderr: "" });
    const elapsed = await eventually(async () => (await from("198.51.100.9")).status === 403, 1_000, "the block to apply");
    expect(elapsed).toBeLessThan(1_000);
  });

  test("./ipward logs --json prints the requests, written by the embedded log worker", async () => {
    let rows: { ip: string; status: number; decision: string; country_code: string | null }[] = [];
    await eventually(async () => {
      const logs = await ipward("logs", "--json");
      rows = logs.code === 0 ? JSON.parse(logs.stdout) : [];
      return rows.some((row) => row.decision === "block");
    }, 2_000, "the blocked request in the log");
    expect(rows).toContainEqual(expect.objectContaining({ ip: "8.8.8.8", status: 200, decision: "allow", country_code: "US" }));
    expect(rows).toContainEqual(expect.objectContaining({ ip: "198.51.100.9", status: 403, decision: "block" }));
    expect(server.stderr()).not.toContain("log worker failed");
  });

  test("./ipward systemd starts the binary itself, and the unit verifies", async () => {
    const { code, stdout } = await ipward("systemd");
    expect(code).toBe(0);
    expect(stdout).toContain(`\nExecStart=${binary} serve --data-dir /var/lib/ipward\n`);
    const tool = Bun.spawnSync(["sh", "-c", "command -v systemd-analyze"]);
    if (tool.exitCode !== 0) {
      console.log("note: systemd-analyze is not installed (Debian package systemd); verify skipped");
      return;
    }
    const unit = join(empty.path, "ipward.service");
    writeFileSync(unit, stdout);
    const verified = Bun.spawnSync(["systemd-analyze", "verify", unit], { stdout: "pipe", stderr: "pipe" });
    expect({ code: verified.exitCode, output: `${verified.stdout}${verified.stderr}` }).toEqual({ code: 0, output: "" });
  });

  test("./ipward check: the running server's data dir is healthy; the port it holds is reported in use", async () => {
    const ok = await ipward("check", "--port", "0");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok +database +.*integrity ok/m);
    expect(ok.stdout).toMatch(/^warn +geo_ipv4 /m);
    const taken = await ipward("check", "--port", String(server.port));
    expect(taken.code).toBe(1);
    expect(taken.stdout).toContain(`port ${server.port} is in use`);
  });

  test("SIGTERM: drains and exits 0", async () => {
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(server.stderr()).toContain("SIGTERM: draining the request log");
  });
});
