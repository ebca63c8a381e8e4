/**
 * The admin surface in a real `ipward serve` process: the setup link on stderr, a second listener
 * for admin.listen, and nothing secret in what the server prints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, type RunningServer, startServer, tempDir } from "../../support/process.ts";

const data = tempDir("ipward-admin-e2e-");
let server: RunningServer;
let adminUrl: string;
const secrets: string[] = [];

beforeAll(async () => {
  server = await startServer(["--data-dir", data.path], { env: { IPWARD_ADMIN_LISTEN: "127.0.0.1:0" } });
  await eventually(() => /no admin account yet/.test(server.stderr()), 5_000, "the setup link");
  adminUrl = /admin listening on (http:\/\/127\.0\.0\.1:\d+)\/_ipward\//.exec(server.stderr())?.[1] as string;
});
afterAll(async () => {
  await server.stop();
  data.cleanup();
});

function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString(), redirect: "manual" };
}

describe("ipward serve with admin.listen", () => {
  test("prints a setup link on the admin listener, which creates the first account", async () => {
    expect(adminUrl).toBeDefined();
    expect(adminUrl).not.toBe(server.url);
    const link = new RegExp(`${adminUrl}/_ipward/setup\\?token=([A-Za-z0-9_-]+)`).exec(server.stderr());
    expect(link).not.toBeNull();
    const page = await fetch(link?.[0] as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Username");

    const password = "first-admin-Pa55word";
    secrets.push(password);
    const created = await fetch(`${adminUrl}/_ipward/setup`, form({ token: link?.[1] as string, username: "ops", password }));
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe("/_ipward/");
  });

  test("the API answers on the admin listener only", async () => {
    expect((await fetch(`${server.url}/_ipward/api/openapi.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/_ipward/health`)).status).toBe(200);
    expect((await fetch(`${adminUrl}/_ipward/api/openapi.json`)).status).toBe(200);
  });

  test("passwords, session cookies, CSRF and API tokens never appear in the server's output", async () => {
    const wrong = "not-the-Pa55word-at-all";
    secrets.push(wrong);
    const refused = await fetch(`${adminUrl}/_ipward/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "ops", password: wrong }) });
    expect(refused.status).toBe(401);

    const signIn = await fetch(`${adminUrl}/_ipward/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "ops", password: secrets[0] }) });
    expect(signIn.status).toBe(200);
    const { csrf_token } = (await signIn.json()) as { csrf_token: string };
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";", 1)[0];
    secrets.push(cookie.slice("ipward_session=".length), csrf_token);

    const created = await fetch(`${adminUrl}/_ipward/api/tokens`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf_token, "content-type": "application/json" },
      body: JSON.stringify({ name: "deploy" }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    secrets.push(token);
    const blocked = await fetch(`${adminUrl}/_ipward/api/blocks`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ target: "198.51.100.23", reason: "e2e" }),
    });
    expect(blocked.status).toBe(201);
    await eventually(async () => (await fetch(`${server.url}/`, { headers: { "x-forwarded-for": "198.51.100.23" } })).status === 403, 2_000, "the block");

    expect(await server.stop()).toBe(0);
    const output = server.stderr();
    expect(output).toContain("draining the request log");
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
