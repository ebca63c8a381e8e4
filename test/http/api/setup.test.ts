import { afterEach, describe, expect, test } from "bun:test";
import { ManualClock, type TestApp, testApp } from "../../support/app.ts";
import { API, cookieOf, createAdmin, send } from "./support.ts";

let t: TestApp;
afterEach(() => t?.close());

function form(fields: Record<string, string>) {
  return { body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
}

async function setupToken(app: TestApp): Promise<string> {
  const link = app.app.admin.setupUrl("http://127.0.0.1:8080");
  expect(link).toStartWith("http://127.0.0.1:8080/_ipward/setup?token=");
  return new URL(link as string).searchParams.get("token") as string;
}

describe("first-run setup link", () => {
  test("shows a labelled form that creates the first admin and signs it in", async () => {
    t = await testApp({}, new ManualClock());
    const token = await setupToken(t);
    expect(await setupToken(t)).toBe(token);

    const page = await send(t, "GET", `/_ipward/setup?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.text).toContain('<label for="username">Username</label>');
    expect(page.text).toContain('<label for="password">Password</label>');
    expect(page.text).toContain('type="password"');
    expect(page.text).not.toMatch(/<script|src=|href="http/);

    const created = await send(t, "POST", "/_ipward/setup", form({ token, username: "root-admin", password: "a long enough secret" }));
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toBe("/_ipward/");
    const session = await send(t, "GET", `${API}/session`, { headers: { cookie: cookieOf(created.headers.get("set-cookie")) } });
    expect(session.json.user).toBe("root-admin");

    expect(t.app.admin.setupUrl("http://127.0.0.1:8080")).toBeNull();
    const again = await send(t, "GET", `/_ipward/setup?token=${token}`);
    expect(again.status).toBe(404);
    expect(again.text).toContain("Setup is done");
    const reuse = await send(t, "POST", "/_ipward/setup", form({ token, username: "intruder", password: "a long enough secret" }));
    expect(reuse.status).toBe(404);
    expect((await send(t, "POST", `${API}/session`, { body: { username: "intruder", password: "a long enough secret" } })).status).toBe(401);
  });

  test("a short password or a bad username shows the form again with the reason, keeping the link", async () => {
    t = await testApp({}, new ManualClock());
    const token = await setupToken(t);
    const short = await send(t, "POST", "/_ipward/setup", form({ token, username: "admin", password: "short" }));
    expect(short.status).toBe(422);
    expect(short.text).toContain("at least 10 characters");
    expect(short.text).toContain('value="admin"');
    expect(short.text).not.toContain("short\"");
    const badName = await send(t, "POST", "/_ipward/setup", form({ token, username: "<script>", password: "long enough password" }));
    expect(badName.status).toBe(422);
    expect(badName.text).toContain("&#60;script&#62;");
    expect(badName.text).not.toContain("<script>");
    expect((await send(t, "POST", "/_ipward/setup", form({ token, username: "admin", password: "long enough password" }))).status).toBe(303);
  });

  test("a wrong token, an expired link and a cross-site post are refused", async () => {
    const clock = new ManualClock();
    t = await testApp({}, clock);
    const token = await setupToken(t);
    expect((await send(t, "GET", "/_ipward/setup?token=wrong")).status).toBe(403);
    expect((await send(t, "GET", "/_ipward/setup")).status).toBe(403);
    const crossSite = await send(t, "POST", "/_ipward/setup", { ...form({ token, username: "admin", password: "long enough password" }), headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" } });
    expect(crossSite.status).toBe(403);
    clock.advance(24 * 3_600_000);
    expect((await send(t, "GET", `/_ipward/setup?token=${token}`)).status).toBe(403);
    const fresh = await setupToken(t);
    expect(fresh).not.toBe(token);
    expect((await send(t, "GET", `/_ipward/setup?token=${fresh}`)).status).toBe(200);
  });

  test("no link once an admin exists (created with the CLI, say)", async () => {
    t = await testApp({}, new ManualClock());
    const token = await setupToken(t);
    await createAdmin(t.dataDir);
    expect(t.app.admin.setupUrl("http://127.0.0.1:8080")).toBeNull();
    expect((await send(t, "GET", `/_ipward/setup?token=${token}`)).status).toBe(404);
  });
});
