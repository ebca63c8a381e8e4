import type { Server, WebSocketHandler } from "bun";
import { IpwardError } from "../core/errors.ts";
import type { FetchHandler } from "./gateway.ts";
import { problemResponse } from "./responses.ts";
import { problem } from "../core/problem.ts";

export interface ListenOptions {
  host: string;
  port: number;
  fetch: FetchHandler;
  /** Largest request body accepted, in bytes. */
  maxRequestBodySize?: number;
  /** WebSocket handler for upgrades the fetch handler accepts (proxy mode). */
  websocket?: WebSocketHandler<unknown>;
}

/**
 * Starts listening. Unlike Elysia's listen(), the port is not shared (reusePort off), so a second
 * instance on a taken port fails loudly instead of binding silently beside the first.
 */
export function listen({ host, port, fetch, maxRequestBodySize, websocket }: ListenOptions): Server<unknown> {
  try {
    const options = {
      hostname: host,
      port,
      reusePort: false,
      maxRequestBodySize,
      fetch,
      error(error: Error) {
        console.error("ipward: request failed:", error);
        return problemResponse(problem(500, "internal", "Internal Server Error", "The request could not be handled."));
      },
    };
    return websocket ? Bun.serve({ ...options, websocket }) : Bun.serve(options);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(String(error))) {
      throw new IpwardError("port_in_use", `cannot listen on ${host}:${port}: the port is already in use`);
    }
    throw error;
  }
}
