import { Elysia, t } from "elysia";
import { MIN_PASSWORD_LENGTH } from "../../core/admin-account.ts";
import { IpwardError } from "../../core/errors.ts";
import type { AdminDeps } from "./deps.ts";
import { originMatches, requestOrigin } from "./request-origin.ts";
import { sessionCookie } from "./session-cookie.ts";

// The token travels in the URL, so the page sends no Referer and loads nothing from anywhere.
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
};

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,sans-serif;--fg:#1b1f24;--bg:#f6f7f9;--card:#fff;--line:#c9ced6;--accent:#2557d6;--bad:#b42318}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--bg:#111418;--card:#1b2027;--line:#3a4250;--accent:#7aa2ff;--bad:#ff8a80}}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg)}
main{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:2rem;width:min(24rem,calc(100vw - 3rem))}
h1{font-size:1.35rem;margin:0 0 .5rem}p{line-height:1.45}label{display:block;font-weight:600;margin:1rem 0 .3rem}
input{box-sizing:border-box;width:100%;padding:.55rem .6rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:6px}
input:focus-visible,button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.hint{font-size:.875rem;opacity:.8;margin:.3rem 0 0}.error{color:var(--bad);font-weight:600}
button{margin-top:1.5rem;width:100%;padding:.65rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:6px;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#111418}}`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, status: number, headers: Record<string, string> = {}): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · ipward</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
  return new Response(html, { status, headers: { ...PAGE_HEADERS, ...headers } });
}

function setupForm(action: string, token: string, username: string, error: string | null, status: number): Response {
  return page(
    "Create the admin account",
    `<h1>Create the admin account</h1>
<p>No one can sign in to this ipward yet. Choose the first administrator's username and password.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required maxlength="64" value="${escapeHtml(username)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_LENGTH}" aria-describedby="password-hint">
<p class="hint" id="password-hint">At least ${MIN_PASSWORD_LENGTH} characters.</p>
<button type="submit">Create account and sign in</button>
</form>`,
    status,
  );
}

function unavailable(signInPath: string, hasAdmin: boolean): Response {
  return hasAdmin
    ? page("Setup done", `<h1>Setup is done</h1><p>An admin account exists. <a href="${escapeHtml(signInPath)}">Sign in</a>.</p>`, 404)
    : page(
        "Setup link not valid",
        "<h1>This setup link is not valid</h1><p>It is wrong, has expired (links last 24 hours) or was already used. Restart ipward for a new link, or run <code>ipward admin create &lt;user&gt;</code>.</p>",
        403,
      );
}

/**
 * The one-time setup page of a fresh install (GET shows the form, POST creates the first admin and
 * signs it in). Server-rendered and self-contained: no scripts, no external assets.
 */
export function setupPage({ auth, trust, prefix }: AdminDeps) {
  const action = `${prefix}/setup`;
  const home = `${prefix}/`;
  return new Elysia()
    .get(
      "/setup",
      function showSetup({ query }) {
        const token = query.token ?? "";
        if (!auth.isSetupToken(token)) return unavailable(home, auth.hasAdmin());
        return setupForm(action, token, "", null, 200);
      },
      { query: t.Object({ token: t.Optional(t.String()) }) },
    )
    .post(
      "/setup",
      async function completeSetup({ body, request }) {
        const origin = requestOrigin(request, trust);
        if (!originMatches(request, origin)) throw new IpwardError("csrf", "cross-origin request refused: the Origin header does not match this host");
        const { token = "", username = "", password = "" } = body ?? {};
        if (!auth.isSetupToken(token)) return unavailable(home, auth.hasAdmin());
        try {
          const { cookieValue } = await auth.completeSetup(token, username.trim(), password);
          return new Response(null, {
            status: 303,
            headers: { location: home, "set-cookie": sessionCookie(cookieValue, { path: prefix, secure: origin.secure }), "cache-control": "no-store" },
          });
        } catch (error) {
          if (error instanceof IpwardError && (error.code === "invalid_input" || error.code === "conflict")) {
            return setupForm(action, token, username, error.message, 422);
          }
          throw error;
        }
      },
      {
        body: t.Union([
          t.Object({ token: t.Optional(t.String()), username: t.Optional(t.String()), password: t.Optional(t.String()) }),
          t.Null(),
        ]),
      },
    );
}
