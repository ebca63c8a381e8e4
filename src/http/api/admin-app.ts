/**
 * The admin surface under the prefix: the JSON API (`/api/…`), the one-time setup page (`/setup`)
 * and the admin UI (`/` and `/assets/…`, served by the UI's own routes). It is served on the public
 * listener, or — with `admin.listen` — only on a listener of its own, the public one then answering
 * 404 for it. Requests to it never reach the pipeline, so they are not logged as traffic nor seen by
 * detection.
 */
import type { Server } from "bun";
import { Elysia, type AnyElysia } from "elysia";
import { AdminAuth } from "../../auth/admin-auth.ts";
import type { Clock, CounterStore, GeoReader } from "../../core/ports.ts";
import type { DetectionStore, Responder } from "../../core/detection/index.ts";
import { IpwardError } from "../../core/errors.ts";
import type { TrustFn } from "../../core/ip.ts";
import { openAdminStore } from "../../store/admin-store.ts";
import type { SqlDriver, SqliteStore } from "../../store/sqlite-store.ts";
import { openStatsStore } from "../../store/stats-store.ts";
import type { FetchHandler } from "../gateway.ts";
import { errorToProblem, problemResponse } from "../responses.ts";
import { authenticator } from "./authenticate.ts";
import { boundedBodyParser } from "./body.ts";
import type { AdminDeps } from "./deps.ts";
import { ipRoutes } from "./ip-routes.ts";
import { logsRoutes } from "./logs-routes.ts";
import { openApiDocument } from "./openapi.ts";
import { problemAnswerer } from "./problems.ts";
import { rememberSocketAddress } from "./request-origin.ts";
import { ruleRoutes } from "./rule-routes.ts";
import { sessionRoutes, signInRoutes } from "./session-routes.ts";
import { setupPage } from "./setup-page.ts";
import { statsRoutes } from "./stats-routes.ts";
import { suspiciousRoutes } from "./suspicious-routes.ts";
import { tokenRoutes } from "./token-routes.ts";

/** The API and the setup page as one Elysia app under `deps.prefix`. */
export function adminApp(deps: AdminDeps) {
  let document: Record<string, unknown> | null = null;
  const api = new Elysia({ prefix: "/api" })
    .use(signInRoutes(deps))
    .get(
      "/openapi.json",
      function openApi() {
        document ??= openApiDocument(app.routes, `${deps.prefix}/api`);
        return document;
      },
      { detail: { tags: ["meta"], summary: "This document (OpenAPI 3.1)", security: [] } },
    )
    // Every route below needs a session (with its CSRF token to change anything) or an API token.
    .onTransform(authenticator(deps.auth, deps.trust))
    .use(sessionRoutes(deps))
    .use(logsRoutes(deps))
    .use(statsRoutes(deps))
    .use(ruleRoutes("block", deps))
    .use(ruleRoutes("allow", deps))
    .use(suspiciousRoutes(deps))
    .use(ipRoutes(deps))
    .use(tokenRoutes(deps));
  const app = new Elysia({ name: "ipward-admin", prefix: deps.prefix, seed: deps.prefix })
    .onError(problemAnswerer(deps.log))
    .onParse(boundedBodyParser())
    .use(setupPage(deps))
    .use(api);
  return app;
}

export interface AdminSurfaceOptions {
  prefix: string;
  /** config `admin.listen` is set: the admin surface is served by `listenerHandler` only. */
  separateListener: boolean;
  /** The database file; the admin surface opens its own connections for accounts and statistics. */
  dbPath: string;
  driver: SqlDriver;
  store: SqliteStore;
  trust: TrustFn;
  /** Sign-in attempt counters (the rate limiter's store). */
  attempts: CounterStore;
  suspicious: Pick<DetectionStore, "listSuspicious" | "getSuspicious">;
  responder: Pick<Responder, "blockRecord" | "dismissRecord">;
  geo: GeoReader | null;
  clock: Clock;
  log: (message: string) => void;
  /** The admin UI's routes (`<prefix>/` and `<prefix>/assets/…`), when it is part of this build. */
  ui?: AnyElysia;
}

/** The admin surface, ready to mount on the public listener or on the admin listener. */
export interface AdminSurface {
  auth: AdminAuth;
  /** The appliance handler of the public listener: the admin surface (404 with a separate listener), else `appliance`. */
  publicHandler(appliance: FetchHandler): FetchHandler;
  /** The whole handler of the `admin.listen` listener: the admin surface, `appliance` for the prefix's other routes, else 404. */
  listenerHandler(appliance: FetchHandler): FetchHandler;
  /** The one-time setup link under `baseUrl` (`http://host:port`) while no admin account exists, else null. */
  setupUrl(baseUrl: string): string | null;
  close(): void;
}

/** Builds the admin surface over its own connections to the database. */
export function createAdminSurface(options: AdminSurfaceOptions): AdminSurface {
  const { prefix } = options;
  const adminStore = openAdminStore(options.dbPath, { driver: options.driver });
  const stats = openStatsStore(options.dbPath, { driver: options.driver });
  const auth = new AdminAuth({ store: adminStore, attempts: options.attempts, clock: options.clock });
  // Built on the first admin request: registering the API's routes and schemas costs ~3-5 ms of
  // start-up that most starts (and every start behind admin.listen's firewall) never need.
  let api: ReturnType<ReturnType<typeof adminApp>["compile"]> | null = null;
  let ui: ReturnType<NonNullable<AdminSurfaceOptions["ui"]>["compile"]> | null = null;

  /** Which part of the surface serves a path under the prefix, if any. */
  function partOf(path: string): "api" | "ui" | null {
    const rest = path.slice(prefix.length);
    if (rest === "/setup" || rest === "/api" || rest.startsWith("/api/")) return "api";
    if (rest === "" || rest === "/" || rest.startsWith("/assets/")) return "ui";
    return null;
  }

  function serve(part: "api" | "ui", request: Request, server: Server<unknown>): Response | Promise<Response> {
    rememberSocketAddress(request, server.requestIP(request)?.address);
    if (part === "api") return (api ??= adminApp({ ...options, auth, stats }).compile()).fetch(request);
    if (!options.ui) return notFound(`the admin UI is not part of this build; the API is at ${prefix}/api`);
    return (ui ??= options.ui.compile()).fetch(request);
  }

  return {
    auth,
    publicHandler(appliance) {
      return function publicAppliance(request, server) {
        const part = partOf(pathOf(request));
        if (part === null) return appliance(request, server);
        if (options.separateListener) return notFound("the admin surface is served on the admin.listen address only");
        return serve(part, request, server);
      };
    },
    listenerHandler(appliance) {
      return function adminListener(request, server) {
        const path = pathOf(request);
        if (path !== prefix && !path.startsWith(`${prefix}/`)) return notFound(`this listener serves ${prefix}/ only`);
        const part = partOf(path);
        return part === null ? appliance(request, server) : serve(part, request, server);
      };
    },
    setupUrl(baseUrl) {
      const token = auth.setupToken();
      return token === null ? null : `${baseUrl}${prefix}/setup?token=${token}`;
    },
    close() {
      adminStore.close();
      stats.close();
    },
  };
}

function pathOf(request: Request): string {
  const url = request.url;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const queryStart = url.indexOf("?", pathStart);
  return queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
}

function notFound(detail: string): Response {
  return problemResponse(errorToProblem(new IpwardError("not_found", detail)));
}

/** Reads `admin.listen`: "host:port", "[ipv6]:port", or ":port" (on `defaultHost`). */
export function parseAdminListen(text: string, defaultHost: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new IpwardError("invalid_config", `invalid admin.listen "${text}": expected host:port, e.g. 127.0.0.1:9090 or [::1]:9090`, { key: "admin.listen" });
  }
  return { host: match[1] ?? (match[2] || defaultHost), port };
}
