import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type RunningNginx, startNginx } from "../support/nginx.ts";
import { eventually, type RunningServer, runIpward, startServer, tempDir } from "../support/process.ts";
import { freePort, startUpstream, type Upstream } from "../support/upstream.ts";

/**
 * nginx (Debian's package) in front of an application, asking ipward about every request with
 * auth_request — the configuration the README gives, with ports filled in.
 *
 * The client address: nginx passes `$proxy_add_x_forwarded_for` (the incoming chain plus its own
 * peer, `$remote_addr`) and ipward walks it right to left through its trusted proxies (loopback by
 * default): nginx's socket (127.0.0.1) is trusted, `$remote_addr` is the first untrusted entry, so
 * that is the client. Here the test plays a trusted load balancer on loopback that names the
 * client in X-Forwarded-For; facing the internet, `$remote_addr` is the client itself and anything
 * it wrote in X-Forwarded-For is never reached. nginx needs no `real_ip` module for this.
 */
const nginxHttpBlock = (appPort: number, ipwardPort: number) => `
  upstream app { server 127.0.0.1:${appPort}; keepalive 16; }
  upstream ipward { server 127.0.0.1:${ipwardPort}; keepalive 16; }

  server {
    listen 127.0.0.1:{{port}};

    location / {
      auth_request /_ipward_check;
      # Carry ipward's answer headers to the client (add_header skips empty values).
      auth_request_set $ipward_status $upstream_status;
      auth_request_set $ipward_retry_after $upstream_http_retry_after;
      auth_request_set $ipward_ratelimit $upstream_http_ratelimit;
      auth_request_set $ipward_ratelimit_policy $upstream_http_ratelimit_policy;
      add_header RateLimit $ipward_ratelimit always;
      add_header RateLimit-Policy $ipward_ratelimit_policy always;
      # auth_request turns any answer but 2xx/401/403 into 500: give 429 back its status.
      error_page 403 = @ipward_blocked;
      error_page 500 = @ipward_refused;

      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }

    location = /_ipward_check {
      internal;
      proxy_pass http://ipward/_ipward/check;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }

    location @ipward_blocked {
      default_type application/problem+json;
      return 403 '{"type":"https://ipward.dev/problems/blocked","title":"Forbidden","status":403}';
    }

    location @ipward_refused {
      if ($ipward_status = 429) {
        add_header Retry-After $ipward_retry_after always;
        add_header RateLimit $ipward_ratelimit always;
        add_header RateLimit-Policy $ipward_ratelimit_policy always;
        return 429;
      }
      return 500;
    }
  }
`;

const data = tempDir("ipward-e2e-nginx-");
let upstream: Upstream;
let ipward: RunningServer;
let nginx: RunningNginx;

beforeAll(async () => {
  upstream = startUpstream();
  ipward = await startServer(["--data-dir", data.path]);
  const port = await freePort();
  nginx = await startNginx(port, nginxHttpBlock(upstream.port, ipward.port).replaceAll("{{port}}", String(port)));
});
afterAll(async () => {
  await nginx?.stop();
  await ipward?.stop();
  await upstream?.stop();
  data.cleanup();
});

const viaNginx = (path: string, clientIp: string | null, init: RequestInit = {}) =>
  fetch(`${nginx.url}${path}`, { ...init, headers: clientIp === null ? {} : { "x-forwarded-for": clientIp } });
const ipwardCli = (...args: string[]) => runIpward([...args, "--data-dir", data.path]);

/** ipward's log rows for `ip`, once at least `count` are committed (the server writes in batches). */
async function logRows(ip: string, count: number): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[] = [];
  await eventually(
    async () => {
      const result = await ipwardCli("logs", "--ip", ip, "--json");
      rows = JSON.parse(result.stdout) as Record<string, unknown>[];
      return rows.length >= count;
    },
    5_000,
    `${count} log rows for ${ip}`,
  );
  return rows;
}

describe("nginx auth_request → /_ipward/check", () => {
  test("a clean IP passes: the application answers, ipward logs the original request", async () => {
    const before = upstream.seen.length;
    const response = await viaNginx("/shop/items?page=2", "203.0.113.10");
    expect(response.status).toBe(200);
    expect(((await response.json()) as { target: string }).target).toBe("/shop/items?page=2");
    expect(upstream.seen.length).toBe(before + 1);

    const [row] = await logRows("203.0.113.10", 1);
    expect(row).toMatchObject({ ip: "203.0.113.10", method: "GET", path: "/shop/items", status: 200, decision: "allow" });
  });

  test("a blocked IP gets 403 and the application never sees the request", async () => {
    expect((await ipwardCli("block-ip", "198.51.100.0/24", "--reason", "nginx e2e")).code).toBe(0);
    await eventually(async () => (await viaNginx("/", "198.51.100.20")).status === 403, 2_000, "the block to reach the server");

    const before = upstream.seen.length;
    const response = await viaNginx("/admin?x=1", "198.51.100.21", { method: "DELETE" });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 403, title: "Forbidden" });
    expect(upstream.seen.length).toBe(before);

    const [row] = await logRows("198.51.100.21", 1);
    expect(row).toMatchObject({ method: "DELETE", path: "/admin", status: 403, decision: "block", rule: "198.51.100.0/24" });
    // A neighbour outside the range still passes.
    expect((await viaNginx("/", "198.51.101.21")).status).toBe(200);
  });

  test("rate limits: RateLimit headers reach the client, the sixth login is 429 with Retry-After and not forwarded", async () => {
    const before = upstream.seen.length;
    const statuses: number[] = [];
    let first: Response | null = null;
    let last: Response | null = null;
    for (let i = 0; i < 6; i++) {
      const response = await viaNginx("/api/login", "203.0.113.77", { method: "POST", body: `attempt=${i}` });
      statuses.push(response.status);
      await response.arrayBuffer();
      first ??= response;
      last = response;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(first!.headers.get("ratelimit-policy")).toBe('"login";q=5;w=60');
    expect(first!.headers.get("ratelimit")).toMatch(/^"login";r=4;t=\d+$/);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(upstream.seen.length).toBe(before + 5);
    expect(upstream.seen.at(-1)).toMatchObject({ method: "POST", body: "attempt=4" });

    const rows = await logRows("203.0.113.77", 6);
    expect(rows[0]).toMatchObject({ method: "POST", path: "/api/login", status: 429, decision: "limit", rule: "login" });
    expect(rows.slice(1).every((r) => r.status === 200 && r.decision === "allow")).toBe(true);
  });

  test("without a forwarding hop in front of nginx, the client is nginx's peer ($remote_addr)", async () => {
    const response = await viaNginx("/direct", null);
    expect(response.status).toBe(200);
    const rows = await logRows("127.0.0.1", 1);
    expect(rows.some((r) => r.path === "/direct" && r.status === 200)).toBe(true);
  });
});
