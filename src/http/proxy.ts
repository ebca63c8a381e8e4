import type { WebSocketHandler, WebSocketOptions } from "bun";
import { IpwardError } from "../core/errors.ts";
import { normalizeIp, parseIp, type TrustFn } from "../core/ip.ts";
import type { RequestFacts, Verdict } from "../core/pipeline.ts";
import { errorToProblem, problemResponse } from "./responses.ts";

/** Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "host"];
/** Set by the WebSocket client itself when it opens the upstream connection. */
const WEBSOCKET_HANDSHAKE = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"];

/** What the gateway hands to `server.upgrade` once the upstream WebSocket is open. */
export interface WebSocketUpgrade {
  data: ProxiedSocket;
  headers: Record<string, string>;
  /** Closes the upstream side when the client upgrade could not be completed. */
  abort(): void;
}

/** State of one proxied WebSocket: the upstream connection and what it sent before the client side opened. */
export interface ProxiedSocket {
  upstream: WebSocket;
  early: (string | ArrayBuffer)[];
}

/** How long the upstream may take to accept a WebSocket before the client gets a 502. */
const WEBSOCKET_CONNECT_TIMEOUT_MS = 10_000;

/** Options Bun's fetch supports that its type declarations (1.4) leave out. */
interface UpstreamRequestInit extends BunFetchRequestInit {
  /** Send the request body as a stream while the response may already arrive. */
  duplex: "half";
  /** false: hand the body through as received, so Content-Encoding still describes it. */
  decompress: boolean;
}

/** Bun's WebSocket client takes headers too; the DOM typings this project compiles with only know protocols. */
const UpstreamWebSocket = WebSocket as unknown as new (url: string, options: WebSocketOptions) => WebSocket;

export interface ProxyOptions {
  /** http(s) URL of the application; a path in it is prepended to every request path. */
  upstream: string;
  /** Trusted-proxy rule: only a trusted peer's X-Forwarded-Proto / X-Forwarded-Host are kept. */
  trust: TrustFn;
}

/** The reverse proxy of `--upstream` mode: the application behind the pipeline. */
export interface UpstreamProxy {
  /** Forwards an allowed request and streams the answer back; 502 problem+json when the upstream is unreachable. */
  forward(request: Request, verdict: Verdict, facts: RequestFacts): Promise<Response>;
  /** Opens the upstream WebSocket for an allowed upgrade request; a 502 response when it cannot be opened. */
  connectWebSocket(request: Request, verdict: Verdict, facts: RequestFacts): Promise<WebSocketUpgrade | Response>;
  /** The Bun.serve `websocket` handler that pipes client and upstream sockets together. */
  websocket: WebSocketHandler<ProxiedSocket>;
}

/** Builds the reverse proxy for `options.upstream` (validated by the config loader). */
export function createProxy({ upstream, trust }: ProxyOptions): UpstreamProxy {
  const target = new URL(upstream);
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new IpwardError("invalid_config", `upstream "${upstream}" is not an http(s) URL`);
  }
  const base = `${target.origin}${target.pathname.replace(/\/+$/, "")}`;
  const wsBase = base.replace(/^http/, "ws");

  function upstreamHeaders(request: Request, verdict: Verdict, facts: RequestFacts, dropped: readonly string[]): Headers {
    const incoming = request.headers;
    const headers = new Headers(incoming);
    for (const name of HOP_BY_HOP) headers.delete(name);
    for (const name of dropped) headers.delete(name);
    const connection = incoming.get("connection");
    if (connection !== null) {
      for (const token of connection.split(",")) {
        const name = token.trim().toLowerCase();
        if (name !== "" && name !== "close" && name !== "keep-alive") headers.delete(name);
      }
    }
    for (const name of incoming.keys()) if (name.startsWith("proxy-")) headers.delete(name);
    // Bun's fetch asks for gzip/br when no Accept-Encoding is given; the client asked for none.
    if (!incoming.has("accept-encoding")) headers.set("accept-encoding", "identity");

    const peer = normalizeIp(facts.socketAddress) ?? facts.socketAddress;
    headers.set("x-forwarded-for", facts.forwardedFor ? `${facts.forwardedFor}, ${peer}` : peer);
    headers.set("x-real-ip", verdict.ip);
    const peerTrusted = (incoming.has("x-forwarded-proto") || incoming.has("x-forwarded-host")) && isTrusted(facts.socketAddress);
    if (!peerTrusted || !incoming.has("x-forwarded-proto")) headers.set("x-forwarded-proto", request.url.startsWith("https:") ? "https" : "http");
    if (!peerTrusted || !incoming.has("x-forwarded-host")) {
      const host = incoming.get("host");
      if (host === null) headers.delete("x-forwarded-host");
      else headers.set("x-forwarded-host", host);
    }
    return headers;
  }

  function isTrusted(socketAddress: string): boolean {
    const peer = parseIp(socketAddress);
    return peer !== null && trust(peer, 0);
  }

  function targetPath(facts: RequestFacts): string {
    return facts.query === "" ? facts.path : `${facts.path}?${facts.query}`;
  }

  function forward(request: Request, verdict: Verdict, facts: RequestFacts): Promise<Response> {
    const method = request.method;
    const init: UpstreamRequestInit = {
      method,
      headers: upstreamHeaders(request, verdict, facts, []),
      body: method === "GET" || method === "HEAD" ? null : request.body,
      duplex: "half",
      redirect: "manual",
      decompress: false,
      // The client went away: stop talking to the upstream too.
      signal: request.signal,
    };
    return fetch(`${base}${targetPath(facts)}`, init).then(withoutHopByHop, unavailable);
  }

  async function connectWebSocket(request: Request, verdict: Verdict, facts: RequestFacts): Promise<WebSocketUpgrade | Response> {
    const protocols = (request.headers.get("sec-websocket-protocol") ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
    const headers = upstreamHeaders(request, verdict, facts, WEBSOCKET_HANDSHAKE);
    const socket = new UpstreamWebSocket(`${wsBase}${targetPath(facts)}`, { headers: Object.fromEntries(headers), protocols });
    socket.binaryType = "arraybuffer";
    const state: ProxiedSocket = { upstream: socket, early: [] };
    socket.onmessage = (event) => state.early.push(event.data as string | ArrayBuffer);
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), WEBSOCKET_CONNECT_TIMEOUT_MS);
      const settle = (open: boolean) => {
        clearTimeout(timer);
        resolve(open);
      };
      socket.onopen = () => settle(true);
      socket.onerror = () => settle(false);
      socket.onclose = () => settle(false);
    });
    if (!opened) {
      socket.close();
      return unavailable();
    }
    socket.onerror = null;
    // Closed before the client side opened: `open` sees readyState CLOSED and closes the client.
    socket.onclose = null;
    return {
      data: state,
      headers: socket.protocol ? { "sec-websocket-protocol": socket.protocol } : {},
      abort: () => socket.close(),
    };
  }

  const websocket: WebSocketHandler<ProxiedSocket> = {
    open(client) {
      const state = client.data;
      const { upstream: socket } = state;
      for (const message of state.early) client.send(message);
      state.early = [];
      if (socket.readyState !== WebSocket.OPEN) {
        client.close(1011, "upstream closed");
        return;
      }
      socket.onmessage = (event) => client.send(event.data as string | ArrayBuffer);
      socket.onclose = (event) => client.close(sendableCode(event.code), event.reason);
      socket.onerror = () => client.close(1011, "upstream error");
    },
    message(client, message) {
      const socket = client.data.upstream;
      if (socket.readyState === WebSocket.OPEN) socket.send(message);
    },
    close(client, code, reason) {
      const socket = client.data.upstream;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(sendableCode(code), reason);
    },
  };

  return { forward, connectWebSocket, websocket };
}

/** Drops the upstream's hop-by-hop headers (and those its Connection header names) from its answer. */
function withoutHopByHop(response: Response): Response {
  const headers = response.headers;
  const connection = headers.get("connection");
  for (const name of HOP_BY_HOP) headers.delete(name);
  if (connection !== null) for (const token of connection.split(",")) headers.delete(token.trim());
  return response;
}

/** Close codes 1005/1006/1015 only describe what happened and may not be sent; they become 1000. */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999) ? code : 1000;
}

/** 502 problem+json; the detail does not say where the upstream is. */
function unavailable(): Response {
  return problemResponse(errorToProblem(new IpwardError("upstream_unavailable", "The upstream application did not answer.")));
}
