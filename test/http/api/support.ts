import { join } from "node:path";
import { createAccount } from "../../../src/auth/accounts.ts";
import { openAdminStore } from "../../../src/store/admin-store.ts";
import { openBunSqlite } from "../../../src/store/bun-sqlite.ts";
import { ManualClock, type TestApp, testApp } from "../../support/app.ts";

export const API = "/_ipward/api";
export const ADMIN = { username: "alice", password: "correct horse battery staple" };

/** How a scenario request authenticates. */
export type AuthMode = "none" | "cookie" | "cookie-no-csrf" | "bearer";

export interface CallOptions {
  auth?: AuthMode;
  /** An object is sent as JSON, a string as text/plain. */
  body?: unknown;
  headers?: Record<string, string>;
  socketIp?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** An app with an admin account, signed in with a cookie session and holding an API token. */
export interface ApiHarness {
  t: TestApp;
  clock: ManualClock;
  cookie: string;
  csrf: string;
  token: string;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

/** Creates an admin account directly in the data dir's database (as `ipward admin create` does). */
export async function createAdmin(dataDir: string, username = ADMIN.username, password = ADMIN.password, now = Date.now()): Promise<void> {
  const store = openAdminStore(join(dataDir, "ipward.db"), { driver: openBunSqlite });
  try {
    await createAccount(store, username, password, now);
  } finally {
    store.close();
  }
}

/** Sends a request to a test app and reads the answer. */
export async function send(t: TestApp, method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; socketIp?: string } = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (typeof init.body === "string") {
    body = init.body;
    headers["content-type"] ??= "text/plain";
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await t.request(path, { method, headers, body, socketIp: init.socketIp });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The cookie pair (`ipward_session=…`) of a Set-Cookie header. */
export function cookieOf(setCookie: string | null): string {
  if (setCookie === null) throw new Error("no Set-Cookie header");
  return setCookie.split(";", 1)[0];
}

/** Builds an app with an admin, signs in and creates an API token. */
export async function apiHarness(config: Record<string, unknown> = {}): Promise<ApiHarness> {
  const clock = new ManualClock();
  const t = await testApp(config, clock);
  await createAdmin(t.dataDir, ADMIN.username, ADMIN.password, clock.now());
  const signIn = await send(t, "POST", `${API}/session`, { body: ADMIN });
  if (signIn.status !== 200) throw new Error(`sign-in failed: ${signIn.status} ${signIn.text}`);
  const harness: ApiHarness = {
    t,
    clock,
    cookie: cookieOf(signIn.headers.get("set-cookie")),
    csrf: signIn.json.csrf_token,
    token: "",
    call(method, path, { auth = "cookie", body, headers = {}, socketIp } = {}) {
      const authHeaders: Record<string, string> = {};
      if (auth === "cookie" || auth === "cookie-no-csrf") authHeaders.cookie = harness.cookie;
      if (auth === "cookie") authHeaders["x-csrf-token"] = harness.csrf;
      if (auth === "bearer") authHeaders.authorization = `Bearer ${harness.token}`;
      return send(t, method, path.startsWith("/") ? path : `${API}/${path}`, { body, socketIp, headers: { ...authHeaders, ...headers } });
    },
    close: () => t.close(),
  };
  const created = await harness.call("POST", "tokens", { body: { name: "scenarios" } });
  if (created.status !== 201) throw new Error(`token creation failed: ${created.status} ${created.text}`);
  harness.token = created.json.token;
  return harness;
}
