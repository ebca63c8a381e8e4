/**
 * The admin UI: `<prefix>/` (index.html) and `<prefix>/assets/<file>`, served by ordinary Elysia
 * routes (not Elysia's HTML-bundle static routes, which break with hooks).
 *
 * Where the files come from — `buildUi()` of ui/build.ts, one interface for both ways ipward runs:
 * - From a checkout (`bun src/main.ts serve`, `npm start`): ui/main.ts is bundled in memory by
 *   Bun.build (browser target, minified) on the first request for the UI, once per process, so
 *   there is nothing to build by hand and an edit under ui/ shows after a restart.
 * - In the single binary (`bun run build`): build.ts bundles the UI into dist/ui/ and compiles the
 *   binary with a plugin that replaces ui/build.ts by a generated module importing each of those
 *   files `with { type: "file" }`. The files are then embedded in the executable and read from its
 *   /$bunfs; src/, ui/ and node_modules are not needed at run time.
 * - On Deno (src/deno.ts) there is no Bun.build: the UI routes answer 503 problem+json saying so,
 *   and the API under the same prefix works as usual.
 *
 * index.html is written here, so that the asset paths and the API address follow the configured
 * prefix, and says whether the request carried a session cookie: without one the UI shows the
 * sign-in form at once rather than asking GET /session for a certain 401. Asset names carry a content hash and are cached for a year; index.html is never cached.
 * Every answer carries a strict Content-Security-Policy: same-origin scripts, styles, images and
 * API calls only, no inline script, no framing.
 */
import { gzipSync } from "node:zlib";
import { Elysia } from "elysia";
import { problem } from "../core/problem.ts";
import { buildUi, type UiBundle, type UiFile } from "../../ui/build.ts";
import { readCookie, SESSION_COOKIE } from "./api/session-cookie.ts";
import { problemResponse } from "./responses.ts";

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

/** An asset ready to serve: its bytes, and a gzip copy when that is smaller. */
interface ServedAsset {
  type: string;
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer> | null;
}

/** Replaced in index.html by "present" or "absent": whether the request carried a session cookie. */
const SESSION_COOKIE_MARK = "{{session-cookie}}";

interface ServedUi {
  index: string;
  assets: Map<string, ServedAsset>;
}

/** Routes of the admin UI under `prefix` (e.g. `/_ipward`); the API is expected at `<prefix>/api`. */
export function adminUi(prefix: string) {
  let served: Promise<ServedUi> | undefined;
  const load = () => {
    served ??= prepare(prefix).catch((error: unknown) => {
      served = undefined;
      throw error;
    });
    return served;
  };

  return new Elysia({ name: "ipward-admin-ui", prefix, seed: prefix })
    .get("/", async function adminUiIndex({ request }) {
      const ui = await load().catch(unavailable);
      if (ui instanceof Response) return ui;
      const cookie = readCookie(request, SESSION_COOKIE) === null ? "absent" : "present";
      return new Response(ui.index.replace(SESSION_COOKIE_MARK, cookie), {
        headers: { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
      });
    })
    .get("/assets/:name", async function adminUiAsset({ params, request }) {
      const ui = await load().catch(unavailable);
      if (ui instanceof Response) return ui;
      const asset = ui.assets.get(params.name);
      if (!asset) return problemResponse(problem(404, "not-found", "Not Found", `There is no UI asset named ${params.name}.`));
      const headers: Record<string, string> = {
        ...SECURITY_HEADERS,
        "content-type": asset.type,
        "cache-control": "public, max-age=31536000, immutable",
        vary: "accept-encoding",
      };
      if (asset.gzip && /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
        return new Response(asset.gzip, { headers: { ...headers, "content-encoding": "gzip" } });
      }
      return new Response(asset.body, { headers });
    });
}

/** The UI could not be built (e.g. running on Deno, which has no Bun.build): say so instead of a bare 500. */
function unavailable(error: unknown): Response {
  const reason = error instanceof Error ? error.message : String(error);
  return problemResponse(problem(503, "ui-unavailable", "Service Unavailable", `The admin UI is not available: ${reason}. The API is.`));
}

async function prepare(prefix: string): Promise<ServedUi> {
  const bundle = await buildUi();
  const assets = new Map<string, ServedAsset>();
  let icon = "";
  for (const file of bundle.files) {
    if (file.name === bundle.icon) icon = `data:${file.type};base64,${Buffer.from(await file.body.arrayBuffer()).toString("base64")}`;
    else assets.set(file.name, await serveable(file));
  }
  return { index: indexHtml(prefix, bundle, icon), assets };
}

async function serveable(file: UiFile): Promise<ServedAsset> {
  const body = new Uint8Array(await file.body.arrayBuffer());
  const gzip = file.type.startsWith("text/") || file.type.startsWith("image/svg") ? new Uint8Array(gzipSync(body, { level: 9 })) : null;
  return { type: file.type, body, gzip: gzip && gzip.length < body.length ? gzip : null };
}

/**
 * The icon is inlined (a few hundred bytes): one request fewer, and no favicon fetch, which the
 * browser makes outside the page and which playwright-core under Bun sometimes reports out of order.
 */
function indexHtml(prefix: string, bundle: UiBundle, icon: string): string {
  const asset = (name: string) => escapeHtml(`${prefix}/assets/${name}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="ipward-api" content="${escapeHtml(`${prefix}/api`)}">
<meta name="ipward-session-cookie" content="${SESSION_COOKIE_MARK}">
<title>ipward</title>
<link rel="icon" href="${escapeHtml(icon)}">
${bundle.stylesheets.map((name) => `<link rel="stylesheet" href="${asset(name)}">`).join("\n")}
<script type="module" src="${asset(bundle.script)}"></script>
</head>
<body>
<ipward-app></ipward-app>
<noscript><p>The ipward admin needs JavaScript.</p></noscript>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
