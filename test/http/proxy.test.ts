import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { freePort, type ListeningApp, listeningApp, startUpstream, type Upstream } from "../support/upstream.ts";

let upstream: Upstream;
let ipward: ListeningApp;

beforeAll(async () => {
  upstream = startUpstream();
  ipward = await listeningApp({
    upstream: upstream.url,
    rate_limit: { rules: [{ name: "upload-limit", method: "POST", path: "/limited", limit: 2, window: "1m", key: "ip" }] },
  });
});
afterAll(async () => {
  await ipward.close();
  await upstream.stop();
});

const lastSeen = () => upstream.seen[upstream.seen.length - 1]!;

/** Sends raw bytes (headers fetch() would not let through) and returns the raw answer. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

async function block(target: string) {
  ipward.app.store.addRule({ list: "block", target, kind: "ip", reason: "proxy test", expires_at: null, source: "cli" });
  ipward.app.rules.refreshIfChanged();
}

describe("reverse proxy mode", () => {
  test("forwards method, path, query, body and headers; sets X-Forwarded-* and X-Real-IP; Host becomes the upstream's", async () => {
    const response = await fetch(`${ipward.url}/echo/a%20b/?x=1&y=two&x=3`, {
      method: "PATCH",
      body: "hello upstream",
      headers: { "x-custom": "kept", "content-type": "text/plain", authorization: "Bearer abc", cookie: "sid=1" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-upstream")).toBe("yes");
    const seen = (await response.json()) as { method: string; target: string; headers: Record<string, string>; body: string };
    expect(seen.method).toBe("PATCH");
    expect(seen.target).toBe("/echo/a%20b/?x=1&y=two&x=3");
    expect(seen.body).toBe("hello upstream");
    expect(seen.headers).toMatchObject({
      "x-custom": "kept",
      "content-type": "text/plain",
      authorization: "Bearer abc",
      cookie: "sid=1",
      host: `127.0.0.1:${upstream.port}`,
      "x-forwarded-for": "127.0.0.1",
      "x-real-ip": "127.0.0.1",
      "x-forwarded-proto": "http",
      "x-forwarded-host": `127.0.0.1:${ipward.port}`,
    });
  });

  test("X-Forwarded-For: the socket peer is appended to the incoming chain; X-Real-IP is the resolved client", async () => {
    await fetch(`${ipward.url}/echo`, { headers: { "x-forwarded-for": "203.0.113.9, 10.1.2.3" } });
    // loopback is trusted, 10.1.2.3 is not: the client is 10.1.2.3.
    expect(lastSeen().headers).toMatchObject({ "x-forwarded-for": "203.0.113.9, 10.1.2.3, 127.0.0.1", "x-real-ip": "10.1.2.3" });
    await fetch(`${ipward.url}/echo`, { headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(lastSeen().headers).toMatchObject({ "x-forwarded-for": "203.0.113.9, 127.0.0.1", "x-real-ip": "203.0.113.9" });
  });

  test("a trusted proxy's X-Forwarded-Proto and -Host are kept", async () => {
    await fetch(`${ipward.url}/echo`, { headers: { "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" } });
    expect(lastSeen().headers).toMatchObject({ "x-forwarded-proto": "https", "x-forwarded-host": "shop.example" });
  });

  test("hop-by-hop request headers (and those named by Connection) are not forwarded", async () => {
    const answer = await rawRequest(
      ipward.port,
      "GET /echo HTTP/1.1\r\nHost: app.example\r\nConnection: close, x-hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n" +
        "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Foo: bar\r\nTE: trailers\r\nTrailer: x-sum\r\nUpgrade: h2c\r\nX-End-To-End: yes\r\n\r\n",
    );
    expect(answer).toStartWith("HTTP/1.1 200");
    const headers = lastSeen().headers;
    expect(headers["x-end-to-end"]).toBe("yes");
    for (const name of ["x-hop", "keep-alive", "proxy-authorization", "proxy-foo", "te", "trailer", "upgrade"]) expect(headers[name]).toBeUndefined();
    expect(headers["x-forwarded-host"]).toBe("app.example");
    expect(headers.host).toBe(`127.0.0.1:${upstream.port}`);
  });

  test("status, headers and every Set-Cookie come back; hop-by-hop response headers do not", async () => {
    const response = await fetch(`${ipward.url}/status/418`);
    expect(response.status).toBe(418);
    expect(await response.text()).toBe("status 418");
    expect(response.headers.get("x-upstream")).toBe("yes");
    expect(response.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(response.headers.get("keep-alive")).toBeNull();
  });

  test("redirects are passed back, not followed", async () => {
    const before = upstream.seen.length;
    const response = await fetch(`${ipward.url}/redirect`, { redirect: "manual" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/elsewhere");
    expect(upstream.seen.length).toBe(before + 1);
  });

  test("Content-Encoding passes through untouched (no decompression on the way)", async () => {
    const response = await fetch(`${ipward.url}/gzip`, { headers: { "accept-encoding": "gzip" }, decompress: false } as RequestInit);
    expect(response.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe("compressed text ".repeat(20));
  });

  test("a client that sends no Accept-Encoding is not handed a compressed body", async () => {
    const answer = await rawRequest(ipward.port, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answer).toStartWith("HTTP/1.1 200");
    expect(lastSeen().headers["accept-encoding"]).toBe("identity");
  });

  test("the response body is streamed: the first half arrives before the upstream writes the second", async () => {
    const response = await fetch(`${ipward.url}/stream`);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first half;");
    upstream.release();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe("second half");
  });

  test("the request body is streamed: the upstream reads the first chunk before the client sends the second", async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pulls++;
        if (pulls === 1) controller.enqueue(new TextEncoder().encode("chunk-1,"));
        else if (pulls === 2) {
          await upstream.firstUploadChunk;
          controller.enqueue(new TextEncoder().encode("chunk-2"));
        } else controller.close();
      },
    });
    const response = await fetch(`${ipward.url}/upload`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(await response.json()).toEqual({ received: "chunk-1,chunk-2" });
  });

  test("WebSocket upgrades pass through: subprotocol, echo both ways, close codes", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${ipward.port}/ws?room=1`, ["chat.v2", "chat.v1"]);
    const messages: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (socket.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("WebSocket failed"));
    });
    expect(socket.protocol).toBe("chat.v2");
    const handshake = lastSeen();
    expect(handshake.target).toBe("/ws?room=1");
    expect(handshake.headers["x-forwarded-for"]).toBe("127.0.0.1");
    const received = new Promise<void>((resolve) => {
      socket.onmessage = (event) => {
        messages.push(String(event.data));
        if (messages.length === 2) resolve();
      };
    });
    socket.send("hello");
    socket.send("close-please");
    await received;
    expect(messages).toEqual(["echo:hello", "echo:close-please"]);
    expect(await closed).toEqual({ code: 4001, reason: "asked to" });

    // The client closing reaches the upstream too.
    const second = new WebSocket(`ws://127.0.0.1:${ipward.port}/ws`);
    await new Promise<void>((resolve) => (second.onopen = () => resolve()));
    const upstreamSide = upstream.sockets.at(-1)!;
    second.close(4002, "bye");
    expect(await upstreamSide.closed).toEqual({ code: 4002, reason: "bye" });

    await ipward.app.logWriter.flush();
    const rows = ipward.app.store.queryLogs({ path: "/ws" });
    expect(rows[0]).toMatchObject({ method: "GET", path: "/ws", status: 101, decision: "allow" });
  });

  test("a blocked IP is refused and the upstream sees nothing, for HTTP and WebSocket alike", async () => {
    await block("198.51.100.77");
    const before = upstream.seen.length;
    const response = await fetch(`${ipward.url}/echo`, { method: "POST", body: "x", headers: { "x-forwarded-for": "198.51.100.77" } });
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");

    const socket = new WebSocket(`ws://127.0.0.1:${ipward.port}/ws`, { headers: { "x-forwarded-for": "198.51.100.77" } } as unknown as string[]);
    const outcome = await new Promise<string>((resolve) => {
      socket.onopen = () => resolve("open");
      socket.onerror = () => resolve("refused");
    });
    expect(outcome).toBe("refused");
    expect(upstream.seen.length).toBe(before);

    await ipward.app.logWriter.flush();
    const rows = ipward.app.store.queryLogs({ ip: "198.51.100.77" });
    expect(rows.map((r) => [r.path, r.status, r.decision])).toEqual([
      ["/ws", 403, "block"],
      ["/echo", 403, "block"],
    ]);
  });

  test("a rate-limited request never reaches the upstream", async () => {
    const before = upstream.seen.length;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${ipward.url}/limited`, { method: "POST", body: `n=${i}` })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(upstream.seen.length).toBe(before + 2);
  });
});

describe("upstream URL with a path", () => {
  test("the path is prepended to every request path", async () => {
    const based = await listeningApp({ upstream: `${upstream.url}/base/` });
    try {
      const response = await fetch(`${based.url}/items/7?full=1`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { target: string }).target).toBe("/base/items/7?full=1");
    } finally {
      await based.close();
    }
  });
});

describe("upstream down", () => {
  test("502 problem+json (upstream_unavailable), logged with status 502", async () => {
    const closedPort = await freePort();
    const down = await listeningApp({ upstream: `http://127.0.0.1:${closedPort}` });
    try {
      const response = await fetch(`${down.url}/anything?q=1`);
      expect(response.status).toBe(502);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 502, title: "Bad Gateway" });
      expect(body.type).toEndWith("/upstream-unavailable");
      expect(String(body.detail)).not.toContain(String(closedPort));

      const socket = new WebSocket(`ws://127.0.0.1:${down.port}/ws`);
      expect(await new Promise<string>((resolve) => ((socket.onopen = () => resolve("open")), (socket.onerror = () => resolve("refused"))))).toBe("refused");

      await down.app.logWriter.flush();
      const rows = down.app.store.queryLogs({});
      expect(rows.map((r) => [r.path, r.status, r.decision])).toEqual([
        ["/ws", 502, "allow"],
        ["/anything", 502, "allow"],
      ]);
    } finally {
      await down.close();
    }
  });
});
