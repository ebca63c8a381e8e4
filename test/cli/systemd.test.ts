import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli } from "../support/cli.ts";
import { BUN, MAIN, ROOT, tempDir } from "../support/process.ts";

const dir = tempDir("ipward-systemd-");
afterAll(() => dir.cleanup());

/** The unit's `Key=value` lines as [key, value] pairs, in order (comments and sections left out). */
function directives(unit: string): [string, string][] {
  return unit
    .split("\n")
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
}

const value = (unit: string, key: string) => directives(unit).find(([k]) => k === key)?.[1];

/** `systemd-analyze verify` of a unit file, or null when the tool is not installed. */
function verify(unitText: string): { code: number; output: string } | null {
  const which = Bun.spawnSync(["sh", "-c", "command -v systemd-analyze"]);
  if (which.exitCode !== 0) return null;
  const path = join(dir.path, "ipward.service");
  writeFileSync(path, unitText);
  const result = Bun.spawnSync(["systemd-analyze", "verify", path], { stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode ?? -1, output: `${result.stdout}${result.stderr}` };
}

describe("ipward systemd", () => {
  test("prints a hardened unit that starts this checkout with the service's data dir", async () => {
    const { code, stdout, stderr } = await cli(["systemd"], { cwd: dir.path });
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(value(stdout, "ExecStart")).toBe(`${BUN} ${MAIN} serve --data-dir /var/lib/ipward`);
    expect(directives(stdout)).toEqual(
      expect.arrayContaining([
        ["DynamicUser", "yes"],
        ["StateDirectory", "ipward"],
        ["ReadWritePaths", "/var/lib/ipward"],
        ["NoNewPrivileges", "yes"],
        ["ProtectSystem", "strict"],
        ["ProtectHome", "yes"],
        ["PrivateTmp", "yes"],
        ["PrivateDevices", "yes"],
        ["ProtectKernelTunables", "yes"],
        ["ProtectKernelModules", "yes"],
        ["ProtectControlGroups", "yes"],
        ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"],
        ["LockPersonality", "yes"],
        ["MemoryDenyWriteExecute", "no"],
        ["CapabilityBoundingSet", ""],
        ["Restart", "on-failure"],
        ["ExecReload", "/bin/kill -HUP $MAINPID"],
        ["KillSignal", "SIGTERM"],
        ["TimeoutStopSec", "30"],
        ["WantedBy", "multi-user.target"],
      ]),
    );
    expect(value(stdout, "AmbientCapabilities")).toBeUndefined();
    expect(value(stdout, "User")).toBeUndefined();
    // The reason W+X memory stays allowed is written next to it.
    expect(stdout).toMatch(/# .*JIT.*\nMemoryDenyWriteExecute=no/);
  });

  test("--user runs the service as that account instead of a dynamic one", async () => {
    const { code, stdout } = await cli(["systemd", "--user", "ipward"], { cwd: dir.path });
    expect(code).toBe(0);
    expect(value(stdout, "User")).toBe("ipward");
    expect(value(stdout, "DynamicUser")).toBeUndefined();
    expect(value(stdout, "StateDirectory")).toBe("ipward");
  });

  test("a config on a port below 1024 keeps CAP_NET_BIND_SERVICE and is passed with --config", async () => {
    const config = join(dir.path, "privileged.toml");
    writeFileSync(config, 'host = "0.0.0.0"\nport = 80\n');
    const { code, stdout } = await cli(["systemd", "--config", config, "--data-dir", "/srv/ipward"], { cwd: dir.path });
    expect(code).toBe(0);
    expect(value(stdout, "ExecStart")).toBe(`${BUN} ${MAIN} serve --data-dir /srv/ipward --config ${config}`);
    expect(value(stdout, "AmbientCapabilities")).toBe("CAP_NET_BIND_SERVICE");
    expect(value(stdout, "CapabilityBoundingSet")).toBe("CAP_NET_BIND_SERVICE");
    expect(value(stdout, "ReadWritePaths")).toBe("/srv/ipward");
    expect(value(stdout, "StateDirectory")).toBeUndefined();
  });

  test("the unit passes systemd-analyze verify", async () => {
    for (const args of [["systemd"], ["systemd", "--user", "root"]]) {
      const { stdout } = await cli(args, { cwd: dir.path });
      const verified = verify(stdout);
      if (verified === null) {
        console.log("note: systemd-analyze is not installed (Debian package systemd); verify skipped");
        return;
      }
      expect(verified).toEqual({ code: 0, output: "" });
    }
  });

  test("--install as root writes the unit and prints the next steps", async () => {
    const path = join(dir.path, "installed.service");
    const { code, stdout } = await cli(["systemd", "--install", "--path", path], { cwd: dir.path });
    if (process.getuid?.() !== 0) {
      expect(code).toBe(1);
      return;
    }
    expect(code).toBe(0);
    expect(stdout).toContain(`wrote ${path}`);
    expect(stdout).toContain("systemctl daemon-reload");
    expect(stdout).toContain("systemctl enable --now ipward");
    expect(readFileSync(path, "utf8")).toBe((await cli(["systemd"], { cwd: dir.path })).stdout);
  });

  test("--install refuses with exit 1 and a clear message when not root", async () => {
    const path = join(dir.path, "refused.service");
    const setpriv = Bun.spawnSync(["sh", "-c", "command -v setpriv"]);
    const asNobody = process.getuid?.() === 0 && setpriv.exitCode === 0;
    const command = asNobody ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BUN, MAIN] : [BUN, MAIN];
    const child = Bun.spawnSync([...command, "systemd", "--install", "--path", path], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin", HOME: "/" } });
    if (!asNobody && process.getuid?.() === 0) {
      console.log("note: setpriv is missing, so the non-root refusal cannot be tested as root");
      return;
    }
    expect(child.exitCode).toBe(1);
    expect(child.stderr.toString()).toContain("must run as root");
    expect(existsSync(path)).toBe(false);
  });

  test.each([
    [["systemd", "--user", "bad user"], "bad user"],
    [["systemd", "--data-dir", "relative/dir"], "relative/dir"],
    [["systemd", "--path", "/tmp/x.service"], "--path"],
    [["systemd", "--frobnicate"], "--frobnicate"],
  ])("%j is a usage error naming the bad value", async (args, named) => {
    const { code, stderr } = await cli(args, { cwd: dir.path });
    expect(code).toBe(2);
    expect(stderr).toContain(named);
  });
});
