import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { eventually, type RunningServer, startServer, tempDir } from "../support/process.ts";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function startRedis(port: number) {
  return Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
}

const login = (server: RunningServer, ip: string) =>
  fetch(`${server.url}/api/login`, { method: "POST", headers: { "x-forwarded-for": ip } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

const limiterState = async (server: RunningServer) => ((await (await fetch(`${server.url}/_ipward/health`)).json()) as { limiter: string }).limiter;

describe("rate limits shared through Redis", () => {
  const dirs = [tempDir("ipward-redis-a-"), tempDir("ipward-redis-b-")];
  let redisPort: number;
  let redis: ReturnType<typeof startRedis>;
  let a: RunningServer;
  let b: RunningServer;
  const prefix = `ipward-test-${process.pid}-${Date.now()}:`;

  beforeAll(async () => {
    redisPort = await freePort();
    redis = startRedis(redisPort);
    const url = `redis://127.0.0.1:${redisPort}`;
    await eventually(async () => {
      try {
        const socket = await Bun.connect({ hostname: "127.0.0.1", port: redisPort, socket: { data() {} } });
        socket.end();
        return true;
      } catch {
        return false;
      }
    }, 5_000, "redis-server to listen");
    const env = { IPWARD_REDIS_KEY_PREFIX: prefix };
    a = await startServer(["--data-dir", dirs[0].path, "--redis", url], { env });
    b = await startServer(["--data-dir", dirs[1].path, "--redis", url], { env });
    await eventually(async () => (await limiterState(a)) === "redis" && (await limiterState(b)) === "redis", 5_000, "both on Redis");
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    redis?.kill();
    for (const dir of dirs) dir.cleanup();
  });

  test("two instances enforce one shared limit", async () => {
    const results = [await login(a, "203.0.113.1"), await login(b, "203.0.113.1"), await login(a, "203.0.113.1"), await login(b, "203.0.113.1"), await login(a, "203.0.113.1")];
    expect(results).toEqual([200, 200, 200, 200, 200]);
    expect(await login(b, "203.0.113.1")).toBe(429);
    expect(await login(a, "203.0.113.1")).toBe(429);
  });

  test("Redis killed mid-test: zero failed requests, limits still enforced from memory; restarted: shared again", async () => {
    redis.kill("SIGKILL");
    await redis.exited;
    const during: number[] = [];
    for (let n = 0; n < 7; n++) during.push(await login(a, "203.0.113.2"));
    expect(during.filter((s) => s >= 500)).toEqual([]);
    expect(during).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(await limiterState(a)).toBe("memory");
    expect(await login(b, "203.0.113.3")).toBe(200);

    redis = startRedis(redisPort);
    await eventually(async () => (await limiterState(a)) === "redis" && (await limiterState(b)) === "redis", 10_000, "both back on Redis");
    const shared = [];
    for (let n = 0; n < 3; n++) shared.push(await login(a, "203.0.113.4"));
    for (let n = 0; n < 2; n++) shared.push(await login(b, "203.0.113.4"));
    shared.push(await login(a, "203.0.113.4"));
    expect(shared).toEqual([200, 200, 200, 200, 200, 429]);
    expect(a.stderr()).toMatch(/redis/i);
  });
});
