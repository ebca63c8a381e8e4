import type { Server } from "bun";
import type { Pipeline, RequestFacts, Verdict } from "../core/pipeline.ts";
import { problem } from "../core/problem.ts";
import { attachVerdict } from "./request-context.ts";
import { problemResponse } from "./responses.ts";

export type FetchHandler = (request: Request, server: Server<unknown>) => Response | Promise<Response>;

export interface GatewayOptions {
  pipeline: Pipeline;
  /** Path prefix of the appliance's own surface (health, API, admin UI, forward auth). */
  prefix: string;
  /** Serves requests under the prefix; they bypass the pipeline. */
  appliance: FetchHandler;
  /** The protected application: the demo app or the upstream proxy. */
  application: (request: Request, verdict: Verdict, facts: RequestFacts) => Response | Promise<Response>;
  /** Handlers of exact paths under the prefix that need the socket (forward auth, metrics); they skip the appliance router. */
  routes?: Record<string, FetchHandler>;
  /**
   * Prepares a WebSocket upgrade the pipeline allowed (proxy mode): resolves with what to pass to
   * `server.upgrade`, or with a response (502) to answer instead. Without it, upgrade requests go
   * to `application` like any other.
   */
  upgrade?: (request: Request, verdict: Verdict, facts: RequestFacts) => Promise<WebSocketUpgrade | Response>;
}

/** What `server.upgrade` needs to accept a WebSocket, and how to undo the preparation if it cannot. */
export interface WebSocketUpgrade {
  data: unknown;
  headers: Record<string, string>;
  abort(): void;
}

/** Builds the Bun.serve fetch handler that puts every request through the pipeline before the application. */
export function createGateway({ pipeline, prefix, appliance, application, routes = {}, upgrade }: GatewayOptions): FetchHandler {
  const prefixSlash = `${prefix}/`;
  const rawRoutes = new Map(Object.entries(routes));
  // Each header read costs a lookup in Bun's header map (about 20 ns): skip the one nothing reads.
  const readsAuthorization = pipeline.readsAuthorization;

  return function gateway(request, server) {
    const started = performance.now();
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    const path = queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
    if (path === prefix || path.startsWith(prefixSlash)) return (rawRoutes.get(path) ?? appliance)(request, server);

    const headers = request.headers;
    const facts: RequestFacts = {
      socketAddress: server.requestIP(request)?.address ?? "",
      forwardedFor: headers.get("x-forwarded-for"),
      method: request.method,
      path,
      query: queryStart === -1 ? "" : url.slice(queryStart + 1),
      authorization: readsAuthorization ? headers.get("authorization") : null,
      userAgent: headers.get("user-agent"),
      referer: headers.get("referer"),
    };
    const pending = pipeline.evaluate(facts);
    return pending instanceof Promise
      ? pending.then((verdict) => respond(request, server, facts, verdict, started))
      : respond(request, server, facts, pending, started);
  };

  function respond(request: Request, server: Server<unknown>, facts: RequestFacts, verdict: Verdict, started: number): Response | Promise<Response> {
    if (verdict.refusal) {
      const refused = problemResponse(verdict.refusal, verdict.headers);
      pipeline.record(verdict, facts, refused.status, performance.now() - started);
      return refused;
    }
    if (upgrade !== undefined && request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return upgrade(request, verdict, facts).then(
        (prepared) => switchProtocols(request, server, prepared, facts, verdict, started),
        (error) => finish(failure(error), facts, verdict, started),
      );
    }
    attachVerdict(request, verdict);
    let answered: Response | Promise<Response>;
    try {
      answered = application(request, verdict, facts);
    } catch (error) {
      answered = Promise.reject(error);
    }
    if (answered instanceof Promise) {
      return answered.then(
        (response) => finish(response, facts, verdict, started),
        (error) => finish(failure(error), facts, verdict, started),
      );
    }
    return finish(answered, facts, verdict, started);
  }

  function switchProtocols(
    request: Request,
    server: Server<unknown>,
    prepared: WebSocketUpgrade | Response,
    facts: RequestFacts,
    verdict: Verdict,
    started: number,
  ): Response {
    if (prepared instanceof Response) return finish(prepared, facts, verdict, started);
    if (!server.upgrade(request, { data: prepared.data, headers: verdict.headers ? { ...prepared.headers, ...verdict.headers } : prepared.headers })) {
      prepared.abort();
      return finish(problemResponse(problem(400, "bad-upgrade", "Bad Request", "The WebSocket upgrade request is invalid.")), facts, verdict, started);
    }
    pipeline.record(verdict, facts, 101, performance.now() - started);
    // Bun ignores what an upgraded request's handler returns; this 101 keeps the handler's type
    // (and is the shape Deno's upgradeWebSocket hands back).
    return new Response(null, { status: 101 });
  }

  function finish(response: Response, facts: RequestFacts, verdict: Verdict, started: number): Response {
    const out = verdict.headers ? withHeaders(response, verdict.headers) : response;
    pipeline.record(verdict, facts, out.status, performance.now() - started);
    return out;
  }
}

function failure(error: unknown): Response {
  console.error("ipward: application error:", error);
  return problemResponse(problem(500, "internal", "Internal Server Error", "The application failed to answer."));
}

/** Adds headers to a response, copying it when its headers are immutable (as fetch() responses are). */
function withHeaders(response: Response, extra: Record<string, string>): Response {
  try {
    setAll(response.headers, extra);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    setAll(copy.headers, extra);
    return copy;
  }
}

/** Sets every header of `extra` (a loop over the keys: Object.entries allocated an array per pair). */
function setAll(headers: Headers, extra: Record<string, string>): void {
  for (const name in extra) headers.set(name, extra[name]!);
}
