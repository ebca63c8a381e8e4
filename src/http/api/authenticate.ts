import type { AdminAuth, Principal } from "../../auth/admin-auth.ts";
import { secretsEqual } from "../../auth/secrets.ts";
import { IpwardError } from "../../core/errors.ts";
import type { TrustFn } from "../../core/ip.ts";
import type { RuleSource } from "../../core/ports.ts";
import { originMatches, requestOrigin } from "./request-origin.ts";
import { readCookie, SESSION_COOKIE } from "./session-cookie.ts";

export const CSRF_HEADER = "x-csrf-token";

const principals = new WeakMap<Request, Principal>();
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Who made this request; set by the authenticate hook before any protected handler runs. */
export function principalOf(request: Request): Principal {
  const principal = principals.get(request);
  if (!principal) throw new IpwardError("unauthorized", "sign in, or send an API token as Authorization: Bearer <token>");
  return principal;
}

/** The `source` recorded on rules a principal creates: "admin" from the UI's session, "api" from a token. */
export function ruleSourceOf(principal: Principal): RuleSource {
  return principal.kind === "session" ? "admin" : "api";
}

/**
 * The hook in front of every protected route, run before the body is validated: a bearer API
 * token, else the session cookie. A cookie-authenticated request that changes state must carry the
 * session's CSRF token in X-CSRF-Token and must not come from another origin; bearer tokens are
 * exempt (a browser never adds them by itself).
 */
export function authenticator(auth: AdminAuth, trust: TrustFn) {
  return function authenticate({ request }: { request: Request }): void {
    const authorization = request.headers.get("authorization");
    if (authorization !== null) {
      const [scheme, credential = ""] = authorization.trim().split(/\s+/, 2);
      const token = scheme.toLowerCase() === "bearer" ? auth.token(credential) : null;
      if (token === null) throw new IpwardError("unauthorized", "the API token is invalid or has been revoked");
      principals.set(request, { kind: "token", token });
      return;
    }
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = cookie === null ? null : auth.session(cookie);
    if (session === null) throw new IpwardError("unauthorized", "sign in first (the session is missing or has expired)");
    if (!SAFE_METHODS.has(request.method)) {
      if (!originMatches(request, requestOrigin(request, trust))) {
        throw new IpwardError("csrf", "cross-origin request refused: the Origin header does not match this host");
      }
      const sent = request.headers.get(CSRF_HEADER);
      if (sent === null || !secretsEqual(sent, session.csrf)) {
        throw new IpwardError("csrf", "missing or wrong X-CSRF-Token header: send the csrf_token of GET /session");
      }
    }
    principals.set(request, { kind: "session", session });
  };
}
