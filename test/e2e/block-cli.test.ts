import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, type RunningServer, runIpward, startServer, tempDir } from "../support/process.ts";

const data = tempDir("ipward-e2e-block-");
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(["--data-dir", data.path]);
});
afterAll(async () => {
  await server.stop();
  data.cleanup();
});

const from = (ip: string) => fetch(`${server.url}/`, { headers: { "x-forwarded-for": ip } });
const ipward = (...args: string[]) => runIpward([...args, "--data-dir", data.path]);

describe("block-ip against a running server", () => {
  test("a CLI block reaches the running server within 1 s, unblock restores", async () => {
    expect((await from("198.51.100.9")).status).toBe(200);

    const blocked = await ipward("block-ip", "198.51.100.0/24", "--reason", "x");
    expect(blocked).toMatchObject({ code: 0 });
    expect(blocked.stdout).toContain("198.51.100.0/24");
    const elapsed = await eventually(async () => (await from("198.51.100.9")).status === 403, 1_000, "the block to apply");
    expect(elapsed).toBeLessThan(1_000);

    const refused = await from("198.51.100.9");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ status: 403, title: "Forbidden" });
    expect((await from("198.51.101.9")).status).toBe(200);

    expect((await ipward("unblock-ip", "198.51.100.0/24")).code).toBe(0);
    await eventually(async () => (await from("198.51.100.9")).status === 200, 1_000, "the unblock to apply");
  });

  test("IPv6 prefixes block the whole range", async () => {
    expect((await ipward("block-ip", "2001:db8:abcd::/48", "--reason", "v6 range")).code).toBe(0);
    await eventually(async () => (await from("2001:db8:abcd:12::1")).status === 403, 1_000, "the v6 block");
    expect((await from("2001:db8:abce::1")).status).toBe(200);
    expect((await ipward("unblock-ip", "2001:DB8:ABCD:0::/48")).code).toBe(0);
  });

  test("blocks --json lists active blocks with the contract's fields", async () => {
    await ipward("block-ip", "192.0.2.1", "--reason", "json test", "--duration", "4h");
    const listed = await ipward("blocks", "--json");
    expect(listed.code).toBe(0);
    const rules = JSON.parse(listed.stdout) as Record<string, unknown>[];
    const rule = rules.find((r) => r.target === "192.0.2.1")!;
    expect(rule).toMatchObject({ kind: "ip", reason: "json test", source: "cli" });
    expect(Object.keys(rule).sort()).toEqual(["created_at", "expires_at", "id", "kind", "reason", "source", "target"]);
    expect(Date.parse(rule.expires_at as string) - Date.parse(rule.created_at as string)).toBe(4 * 3600_000);
  });

  test.each([
    [["block-ip", "999.1.1.1"], "999.1.1.1"],
    [["block-ip", "10.0.0.0/33"], "10.0.0.0/33"],
    [["block-ip", "not-an-ip"], "not-an-ip"],
    [["block-ip", ""], "missing"],
    [["block-ip"], "missing"],
    [["block-ip", "US"], "US"],
    [["block-ip", "1.2.3.4", "--duration", "soon"], "soon"],
    [["unblock-ip", "1.2.3.999"], "1.2.3.999"],
    [["logs", "--ip", "nope"], "nope"],
  ])("%j exits 2 and names the bad value", async (args, named) => {
    const result = await ipward(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
  });
});
