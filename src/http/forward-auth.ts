import type { Pipeline, RequestFacts, Verdict } from "../core/pipeline.ts";
import { problemResponse } from "./responses.ts";

/** A handler given the request and the address of the socket it came on. */
export type SocketHandler = (request: Request, socketAddress: string) => Response | Promise<Response>;

/**
 * The forward-auth endpoint (`/_ipward/check`) for nginx `auth_request`, Caddy `forward_auth` and
 * Traefik `forwardAuth`. It puts the ORIGINAL request, as the proxy describes it in headers,
 * through the pipeline and answers 200 (allow, with RateLimit headers on limited routes), 403 or
 * 429 (problem+json, Retry-After), then logs the original request with that status.
 *
 * The socket peer is the proxy: it must be trusted (`trust_proxy`) for X-Forwarded-For (or, when
 * that is absent, X-Real-IP) to name the client, exactly as for proxied traffic.
 */
export function createForwardAuth(pipeline: Pipeline): SocketHandler {
  return function forwardAuth(request, socketAddress) {
    const started = performance.now();
    const facts = originalRequest(request, socketAddress);
    const pending = pipeline.evaluate(facts);
    return pending instanceof Promise ? pending.then((verdict) => answer(verdict, facts, started)) : answer(pending, facts, started);
  };

  function answer(verdict: Verdict, facts: RequestFacts, started: number): Response {
    const response = verdict.refusal ? problemResponse(verdict.refusal, verdict.headers) : allowed(verdict);
    pipeline.record(verdict, facts, response.status, performance.now() - started);
    return response;
  }
}

/** 200 with the RateLimit headers of a limited route and what ipward learned, for `auth_request_set` / `authResponseHeaders`. */
function allowed(verdict: Verdict): Response {
  const headers: Record<string, string> = verdict.headers ? { ...verdict.headers } : {};
  headers["x-ipward-client-ip"] = verdict.ip;
  if (verdict.geo?.country_code) headers["x-ipward-country"] = verdict.geo.country_code;
  return new Response(null, { status: 200, headers });
}

/** The facts of the request the proxy is asking about, read from the headers it sets. */
export function originalRequest(request: Request, socketAddress: string): RequestFacts {
  const headers = request.headers;
  const uri = headers.get("x-original-uri") ?? headers.get("x-forwarded-uri") ?? "/";
  const { path, query } = splitUri(uri);
  return {
    socketAddress,
    forwardedFor: headers.get("x-forwarded-for") ?? headers.get("x-real-ip"),
    method: (headers.get("x-original-method") ?? headers.get("x-forwarded-method") ?? request.method).toUpperCase(),
    path,
    query,
    authorization: headers.get("authorization"),
    userAgent: headers.get("user-agent"),
    referer: headers.get("referer"),
  };
}

/** Matches path forms a rule or the log should treat as one (`/api/./login`, `\`, `%2e`, absolute URIs). */
const NEEDS_URL_PARSING = /\/\.|\\|%2e|^[^/]/i;

/**
 * Splits a request URI into path and query. Paths are resolved as WHATWG URLs (as the request line
 * of a direct request is), so that `/api/./login` cannot slip past a rule on `/api/login`.
 */
function splitUri(uri: string): { path: string; query: string } {
  const queryStart = uri.indexOf("?");
  const rawPath = queryStart === -1 ? uri : uri.slice(0, queryStart);
  const query = queryStart === -1 ? "" : uri.slice(queryStart + 1);
  if (!NEEDS_URL_PARSING.test(rawPath)) return { path: rawPath, query };
  try {
    const url = new URL(uri, "http://ipward.invalid");
    return { path: url.pathname, query: url.search.slice(1) };
  } catch {
    return { path: "/", query };
  }
}
