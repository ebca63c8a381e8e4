import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { eventually, type RunningServer, runIpward, startServer, tempDir } from "../support/process.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const ENFORCED_WITHIN_MS = 1_000;

const status = async (server: RunningServer, ip: string, path = "/", method = "GET") => {
  const response = await fetch(`${server.url}${path}`, { method, headers: { "x-forwarded-for": ip } });
  await response.arrayBuffer();
  return response.status;
};

describe("instances with their own data dirs, sharing Redis", () => {
  const dirs = [tempDir("ipward-multi-a-"), tempDir("ipward-multi-b-")];
  const prefix = `ipward-test-multi-${process.pid}-${Date.now()}:`;
  const redis = createClient({ url: REDIS_URL });
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    await redis.connect();
    const env = { IPWARD_REDIS_KEY_PREFIX: prefix };
    [a, b] = await Promise.all(dirs.map((dir) => startServer(["--data-dir", dir.path, "--redis", REDIS_URL], { env })));
    // Both listen on the rule channel before the first change is made.
    await eventually(async () => {
      const counts = (await redis.sendCommand(["PUBSUB", "NUMSUB", `${prefix}decisions`])) as [string, number];
      return Number(counts[1]) === 2;
    }, 5_000, "both instances to subscribe");
  });

  afterAll(async () => {
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(keys);
    await redis.close();
    for (const dir of dirs) dir.cleanup();
  });

  test("a block made with the CLI on A's data dir is enforced by B within 1 s; an unblock on B reaches A", async () => {
    expect(await status(b, "198.51.100.9")).toBe(200);
    const blocked = await runIpward(["block-ip", "198.51.100.0/24", "--reason", "seen on A", "--data-dir", dirs[0].path]);
    expect(blocked.code).toBe(0);
    const elapsed = await eventually(async () => (await status(b, "198.51.100.9")) === 403, ENFORCED_WITHIN_MS, "B to enforce A's block");
    expect(elapsed).toBeLessThan(ENFORCED_WITHIN_MS);
    expect(await status(a, "198.51.100.9")).toBe(403);

    // B wrote the block into its own SQLite, with A's reason; the source stays the original one.
    const onB = JSON.parse((await runIpward(["blocks", "--json", "--data-dir", dirs[1].path])).stdout) as Record<string, unknown>[];
    expect(onB).toEqual([expect.objectContaining({ target: "198.51.100.0/24", reason: "seen on A", source: "cli" })]);

    expect((await runIpward(["unblock-ip", "198.51.100.0/24", "--data-dir", dirs[1].path])).code).toBe(0);
    await eventually(async () => (await status(a, "198.51.100.9")) === 200, ENFORCED_WITHIN_MS, "A to drop the block removed on B");
    expect(await status(b, "198.51.100.9")).toBe(200);
  });

  test("allowlist and country rules travel too, and nothing echoes back and forth", async () => {
    let published = 0;
    const listener = redis.duplicate();
    await listener.connect();
    await listener.subscribe(`${prefix}decisions`, () => void published++);
    try {
      expect((await runIpward(["allow-ip", "8.8.4.4", "--data-dir", dirs[1].path])).code).toBe(0);
      expect((await runIpward(["block-country", "US", "--data-dir", dirs[1].path])).code).toBe(0);
      await eventually(async () => (await status(a, "8.8.8.8")) === 403, ENFORCED_WITHIN_MS, "A to enforce B's country block");
      // The allow rule came along: this US address passes on A.
      expect(await status(a, "8.8.4.4")).toBe(200);
      const allows = JSON.parse((await runIpward(["allows", "--json", "--data-dir", dirs[0].path])).stdout) as { target: string }[];
      expect(allows.map((rule) => rule.target)).toEqual(["8.8.4.4"]);
      // A few polls later: each change was published once, by B, and A republished nothing.
      await Bun.sleep(600);
      expect(published).toBeLessThanOrEqual(2);
    } finally {
      await listener.close();
      await runIpward(["unblock-country", "US", "--data-dir", dirs[1].path]);
    }
  });

  test("rate limits are shared: 5 logins across both, the 6th on either is 429", async () => {
    const ip = "203.0.113.77";
    const spread = [a, b, a, b, a];
    const statuses = [];
    for (const server of spread) statuses.push(await status(server, ip, "/api/login", "POST"));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await status(b, ip, "/api/login", "POST")).toBe(429);
    expect(await status(a, ip, "/api/login", "POST")).toBe(429);
  });
});

describe("instances on one host sharing a data dir (SQLite only)", () => {
  const data = tempDir("ipward-multi-shared-");
  let first: RunningServer;
  let second: RunningServer;

  beforeAll(async () => {
    [first, second] = await Promise.all([startServer(["--data-dir", data.path]), startServer(["--data-dir", data.path])]);
  });

  afterAll(async () => {
    expect(await Promise.all([first.stop(), second.stop()])).toEqual([0, 0]);
    data.cleanup();
  });

  test("a CLI block is enforced by both within 1 s", async () => {
    expect((await runIpward(["block-ip", "203.0.113.50", "--data-dir", data.path])).code).toBe(0);
    const elapsed = await eventually(
      async () => (await status(first, "203.0.113.50")) === 403 && (await status(second, "203.0.113.50")) === 403,
      ENFORCED_WITHIN_MS,
      "both servers to enforce the block",
    );
    expect(elapsed).toBeLessThan(ENFORCED_WITHIN_MS);
  });
});
