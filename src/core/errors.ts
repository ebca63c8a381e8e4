/** Stable error codes; the HTTP layer and the CLI each map them in one place. */
export type ErrorCode =
  | "invalid_ip"
  | "invalid_input"
  | "unprocessable"
  | "invalid_config"
  | "usage"
  | "not_found"
  | "conflict"
  | "unauthorized"
  | "forbidden"
  | "csrf"
  | "rate_limited"
  | "payload_too_large"
  | "upstream_unavailable"
  | "port_in_use"
  | "internal";

/** The one error type of ipward: a stable `code` plus a message meant for people. */
export class IpwardError extends Error {
  override readonly name = "IpwardError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** True when `e` is an IpwardError (optionally of one of the given codes). */
export function isIpwardError(e: unknown, ...codes: ErrorCode[]): e is IpwardError {
  return e instanceof IpwardError && (codes.length === 0 || codes.includes(e.code));
}
