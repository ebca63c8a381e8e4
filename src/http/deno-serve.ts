/**
 * The listener under Deno: Deno.serve with the app's fetch handler. The gateway asks the server
 * for the socket address (`server.requestIP(request)`, Bun's shape); Deno hands it to the handler
 * instead, so each request gets a small stand-in server that answers with it.
 */
import type { Server } from "bun";
import { IpwardError } from "../core/errors.ts";
import { problem } from "../core/problem.ts";
import type { ListenOptions } from "./serve.ts";
import { problemResponse } from "./responses.ts";

/** The few Deno APIs used here (the project's type checker runs with Bun's types). */
interface DenoNetAddr {
  transport: string;
  hostname: string;
  port: number;
}
interface DenoHttpServer {
  addr: DenoNetAddr;
  shutdown(): Promise<void>;
}
interface DenoServeOptions {
  hostname: string;
  port: number;
  onListen?(addr: DenoNetAddr): void;
  onError?(error: unknown): Response | Promise<Response>;
}
declare const Deno: {
  serve(options: DenoServeOptions, handler: (request: Request, info: { remoteAddr: DenoNetAddr }) => Response | Promise<Response>): DenoHttpServer;
  errors: { AddrInUse: new (...args: never[]) => Error };
};

/** A running listener, as `serve` uses it. */
export interface ListeningServer {
  readonly port: number | undefined;
  stop(): Promise<void>;
}

/** Starts Deno.serve on host:port; a taken port is IpwardError("port_in_use"), as under Bun. */
export function listenDeno({ host, port, fetch }: ListenOptions): ListeningServer {
  let server: DenoHttpServer;
  try {
    server = Deno.serve(
      {
        hostname: host,
        port,
        onListen() {},
        onError(error) {
          console.error("ipward: request failed:", error);
          return problemResponse(problem(500, "internal", "Internal Server Error", "The request could not be handled."));
        },
      },
      function denoRequest(request, info) {
        return fetch(request, socketOf(info.remoteAddr));
      },
    );
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new IpwardError("port_in_use", `cannot listen on ${host}:${port}: the port is already in use`);
    }
    throw error;
  }
  return {
    port: server.addr.port,
    stop: () => server.shutdown(),
  };
}

/**
 * The part of Bun's Server the handlers use: the client's socket address. WebSocket pass-through
 * (proxy mode) needs Bun's server; here `upgrade` declines, as Bun's does for a request it cannot upgrade.
 */
function socketOf(remote: DenoNetAddr): Server<unknown> {
  const address = { address: remote.hostname, family: remote.hostname.includes(":") ? "IPv6" : "IPv4", port: remote.port };
  return { requestIP: () => address, upgrade: () => false } as unknown as Server<unknown>;
}
