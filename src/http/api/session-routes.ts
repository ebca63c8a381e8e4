import { Elysia } from "elysia";
import { IpwardError } from "../../core/errors.ts";
import { principalOf } from "./authenticate.ts";
import type { AdminDeps } from "./deps.ts";
import { originMatches, requestOrigin } from "./request-origin.ts";
import { SessionJson, SignInBody } from "./schemas.ts";
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from "./session-cookie.ts";

/** POST /session: sign in (public). */
export function signInRoutes({ auth, trust, prefix }: AdminDeps) {
  return new Elysia().post(
    "/session",
    async function signIn({ body, request, set }) {
      const origin = requestOrigin(request, trust);
      // A sign-in form posted from another site would log the victim into the attacker's account.
      if (!originMatches(request, origin)) throw new IpwardError("csrf", "cross-origin sign-in refused: the Origin header does not match this host");
      const { cookieValue, session } = await auth.signIn(body.username, body.password, origin.clientIp);
      set.headers["set-cookie"] = sessionCookie(cookieValue, { path: prefix, secure: origin.secure });
      set.headers["cache-control"] = "no-store";
      return { user: session.username, csrf_token: session.csrf };
    },
    {
      body: SignInBody,
      response: { 200: SessionJson },
      detail: {
        tags: ["session"],
        summary: "Sign in: sets the HttpOnly session cookie; at most 5 attempts per 15 min per client IP and per username",
        security: [],
      },
    },
  );
}

/** GET /session (who am I, and the CSRF token) and DELETE /session (sign out). */
export function sessionRoutes({ auth, trust, prefix }: AdminDeps) {
  return new Elysia()
    .get(
      "/session",
      function currentSession({ request, set }) {
        const principal = principalOf(request);
        set.headers["cache-control"] = "no-store";
        return principal.kind === "session"
          ? { user: principal.session.username, csrf_token: principal.session.csrf }
          : { user: `token:${principal.token.name}`, csrf_token: null };
      },
      { response: { 200: SessionJson }, detail: { tags: ["session"], summary: "The signed-in user and the session's CSRF token" } },
    )
    .delete(
      "/session",
      function signOut({ request }) {
        const cookie = readCookie(request, SESSION_COOKIE);
        if (cookie !== null) auth.signOut(cookie);
        const secure = requestOrigin(request, trust).secure;
        return new Response(null, { status: 204, headers: { "set-cookie": clearedSessionCookie({ path: prefix, secure }) } });
      },
      { detail: { tags: ["session"], summary: "Sign out: ends the session and clears the cookie", responses: { 204: { description: "Signed out" } } } },
    );
}
