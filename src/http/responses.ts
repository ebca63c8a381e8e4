import { type ErrorCode, IpwardError } from "../core/errors.ts";
import { type Problem, problem } from "../core/problem.ts";

const PROBLEM_HEADERS = { "content-type": "application/problem+json" };

/** Serialises a problem body as an RFC 9457 response, with extra headers. */
export function problemResponse(body: Problem, headers: Record<string, string> | null = null): Response {
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: headers ? { ...PROBLEM_HEADERS, ...headers } : PROBLEM_HEADERS,
  });
}

const STATUS_BY_CODE: Record<ErrorCode, [number, string]> = {
  invalid_ip: [400, "Bad Request"],
  invalid_input: [400, "Bad Request"],
  unprocessable: [422, "Unprocessable Content"],
  invalid_config: [400, "Bad Request"],
  usage: [400, "Bad Request"],
  not_found: [404, "Not Found"],
  conflict: [409, "Conflict"],
  unauthorized: [401, "Unauthorized"],
  forbidden: [403, "Forbidden"],
  csrf: [403, "Forbidden"],
  rate_limited: [429, "Too Many Requests"],
  payload_too_large: [413, "Content Too Large"],
  upstream_unavailable: [502, "Bad Gateway"],
  port_in_use: [500, "Internal Server Error"],
  internal: [500, "Internal Server Error"],
};

/** The one place that maps errors to HTTP problem responses. */
export function errorToProblem(error: unknown): Problem {
  if (error instanceof IpwardError) {
    const [status, title] = STATUS_BY_CODE[error.code];
    return problem(status, error.code.replaceAll("_", "-"), title, error.message, extensionsOf(error.details));
  }
  return problem(500, "internal", "Internal Server Error", "An unexpected error occurred.");
}

const PROBLEM_MEMBERS = new Set(["type", "title", "status", "detail", "instance"]);

/** An error's details as problem extension members (RFC 9457 §3.2), never overriding the standard ones. */
function extensionsOf(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  return Object.fromEntries(Object.entries(details).filter(([name]) => !PROBLEM_MEMBERS.has(name)));
}
