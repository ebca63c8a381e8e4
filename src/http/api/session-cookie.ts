/** Name of the admin session cookie. */
export const SESSION_COOKIE = "ipward_session";

/** The value of cookie `name` in the request's Cookie header, or null. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (header === null) return null;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals !== -1 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return null;
}

export interface CookieScope {
  /** The appliance prefix: the cookie is sent to nothing else. */
  path: string;
  /** Whether the client is on https (then the cookie is Secure). */
  secure: boolean;
}

/**
 * Set-Cookie for a new session. No Max-Age: the browser forgets it when it closes, and the server
 * ends it after 12 h without use whatever the browser does.
 */
export function sessionCookie(value: string, scope: CookieScope): string {
  return `${SESSION_COOKIE}=${value}; ${attributes(scope)}`;
}

/** Set-Cookie that removes the session cookie. */
export function clearedSessionCookie(scope: CookieScope): string {
  return `${SESSION_COOKIE}=; ${attributes(scope)}; Max-Age=0`;
}

function attributes({ path, secure }: CookieScope): string {
  return `HttpOnly; SameSite=Strict; Path=${path}${secure ? "; Secure" : ""}`;
}
