import type { Server } from "bun";
import { createServer } from "node:net";
import { createApp, type IpwardApp } from "../../src/app.ts";
import { validateConfig } from "../../src/config/load.ts";
import { listen } from "../../src/http/serve.ts";
import { tempDir } from "./process.ts";

/** One request as the upstream application received it. */
export interface SeenRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  target: string;
  headers: Record<string, string>;
  body: string;
}

export interface Upstream {
  url: string;
  port: number;
  /** Requests received so far (WebSocket handshakes included), oldest first. */
  seen: SeenRequest[];
  /** WebSocket connections accepted on /ws, oldest first; `closed` resolves with how each ended. */
  sockets: { closed: Promise<{ code: number; reason: string }> }[];
  /** Opens the gate the streaming routes wait on. */
  release(): void;
  /** Resolves when /upload has read its first chunk. */
  firstUploadChunk: Promise<void>;
  stop(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * A small application on a free loopback port: `/echo` reports what it got, `/status/<n>` answers
 * that status with extra headers, `/redirect` answers 302, `/gzip` a gzip body, `/stream` and
 * `/upload` stream in two halves around a gate the test opens, `/ws` echoes WebSocket messages.
 */
export function startUpstream(): Upstream {
  const seen: SeenRequest[] = [];
  const sockets: Upstream["sockets"] = [];
  const closers = new WeakMap<object, (how: { code: number; reason: string }) => void>();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let firstChunk!: () => void;
  const firstUploadChunk = new Promise<void>((resolve) => (firstChunk = resolve));

  const server: Server<{ protocol: string }> = Bun.serve<{ protocol: string }>({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request, srv) {
      const url = new URL(request.url);
      const target = `${url.pathname}${url.search}`;
      const record: SeenRequest = { method: request.method, target, headers: Object.fromEntries(request.headers), body: "" };
      seen.push(record);
      if (url.pathname === "/ws") {
        const protocol = request.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim() ?? "";
        const headers: Record<string, string> = protocol ? { "sec-websocket-protocol": protocol } : {};
        return srv.upgrade(request, { data: { protocol }, headers }) ? undefined : new Response("no upgrade", { status: 400 });
      }
      if (url.pathname === "/upload") {
        const reader = request.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          record.body += new TextDecoder().decode(value);
          firstChunk();
        }
        return Response.json({ received: record.body });
      }
      record.body = await request.text();
      if (url.pathname.startsWith("/status/")) {
        const headers = new Headers({ "x-upstream": "yes", "keep-alive": "timeout=5", "content-type": "text/plain" });
        headers.append("set-cookie", "a=1; Path=/");
        headers.append("set-cookie", "b=2; Path=/");
        return new Response(`status ${url.pathname.slice(8)}`, { status: Number(url.pathname.slice(8)), headers });
      }
      if (url.pathname === "/redirect") return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
      if (url.pathname === "/gzip") {
        return new Response(Bun.gzipSync(encoder.encode("compressed text ".repeat(20))), {
          headers: { "content-encoding": "gzip", "content-type": "text/plain" },
        });
      }
      if (url.pathname === "/stream") {
        let step = 0;
        return new Response(
          new ReadableStream({
            async pull(controller) {
              step++;
              if (step === 1) controller.enqueue(encoder.encode("first half;"));
              else if (step === 2) {
                await gate;
                controller.enqueue(encoder.encode("second half"));
              } else controller.close();
            },
          }),
          { headers: { "content-type": "text/plain" } },
        );
      }
      return Response.json(record, { headers: { "x-upstream": "yes" } });
    },
    websocket: {
      open(ws) {
        sockets.push({ closed: new Promise((resolve) => closers.set(ws, resolve)) });
      },
      close(ws, code, reason) {
        closers.get(ws)?.({ code, reason });
      },
      message(ws, message) {
        ws.send(typeof message === "string" ? `echo:${message}` : message);
        if (message === "close-please") ws.close(4001, "asked to");
      },
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    seen,
    sockets,
    release,
    firstUploadChunk,
    stop: () => server.stop(true),
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface ListeningApp {
  app: IpwardApp;
  url: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

/** A full ipward app (real SQLite in a temp dir) listening on a free loopback port, as `ipward serve` runs it. */
export async function listeningApp(rawConfig: Record<string, unknown> = {}): Promise<ListeningApp> {
  const dir = tempDir("ipward-listening-");
  const config = validateConfig({ data_dir: dir.path, ...rawConfig });
  const app = await createApp({ config, log: () => {} });
  const server = listen({ host: "127.0.0.1", port: 0, fetch: app.fetch, websocket: app.websocket ?? undefined });
  return {
    app,
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    dataDir: dir.path,
    async close() {
      await server.stop(true);
      await app.close();
      dir.cleanup();
    },
  };
}
