import { IpwardError } from "../../core/errors.ts";
import { errorToProblem, problemResponse } from "../responses.ts";

/** The parts of Elysia's ValidationError read here. */
interface ElysiaValidationError {
  /** "body", "query", "params", "response", or "property" for a query or path value Elysia coerced. */
  type: string;
  all: { path?: string; summary?: string; message?: string }[];
  /** The schema's `error` option, when it has one. */
  customError?: unknown;
}

/**
 * The admin surface's error hook: every failure, Elysia's own (unknown route, unparsable body,
 * schema violations) included, answers as RFC 9457 problem+json through errorToProblem. Body
 * schema violations are 422, bad query or path parameters 400. Unexpected errors are logged and
 * answered 500 without detail. Offending values are never echoed: a body may hold a password.
 */
export function problemAnswerer(log: (message: string) => void) {
  return function answerWithProblem({ code, error, request }: { code: string | number; error: unknown; request: Request }): Response {
    const known = asIpwardError(code, error, request);
    if (known === null) log(`admin API: ${request.method} ${new URL(request.url).pathname} failed: ${describe(code, error)}`);
    const body = errorToProblem(known ?? error);
    const headers: Record<string, string> = {};
    if (known?.code === "rate_limited" && typeof known.details?.retry_after_s === "number") {
      headers["retry-after"] = String(known.details.retry_after_s);
    }
    if (known?.code === "unauthorized") headers["www-authenticate"] = 'Bearer realm="ipward"';
    return problemResponse(body, headers);
  };
}

function asIpwardError(code: string | number, error: unknown, request: Request): IpwardError | null {
  if (error instanceof IpwardError) return error;
  if (code === "NOT_FOUND") return new IpwardError("not_found", `no route ${request.method} ${new URL(request.url).pathname}`);
  if (code === "PARSE") {
    // Elysia wraps what the parse hook throws (a body over the limit, bad JSON) as the cause.
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof IpwardError ? cause : new IpwardError("invalid_input", "the request body could not be parsed");
  }
  if (code === "VALIDATION") return validationProblem(error as ElysiaValidationError);
  return null;
}

function validationProblem(error: ElysiaValidationError): IpwardError | null {
  if (error.type === "response") return null;
  // `message`, not `summary`: the summary quotes the offending value.
  const errors = error.all.map((issue) => ({ path: issue.path || "/", message: issue.message ?? "invalid value" }));
  const where = error.type === "body" ? "request body" : error.type === "params" ? "path" : error.type === "query" ? "query" : "parameter";
  const first = errors[0] ?? { path: "/", message: "invalid value" };
  const message = typeof error.customError === "string" ? error.customError : `invalid ${where}: ${first.path} ${first.message}`;
  return new IpwardError(error.type === "body" ? "unprocessable" : "invalid_input", message, { errors });
}

/** A response that breaks its schema is described by paths only: its values may be secrets (a new token). */
function describe(code: string | number, error: unknown): string {
  if (code === "VALIDATION") {
    const paths = (error as ElysiaValidationError).all.map((issue) => `${issue.path || "/"} ${issue.summary ?? ""}`.trim());
    return `the response does not match its schema (${paths.join("; ")})`;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
