import type { Server } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ManualClock, type TestApp, testApp } from "../../support/app.ts";
import { ADMIN, API, createAdmin, send } from "./support.ts";

let t: TestApp;

beforeAll(async () => {
  t = await testApp({ admin: { listen: "127.0.0.1:0" } }, new ManualClock());
  await createAdmin(t.dataDir);
});
afterAll(() => t.close());

/** A request to the admin listener's handler, as if from `socketIp`. */
async function onAdminListener(path: string, init: RequestInit = {}, socketIp = "127.0.0.1"): Promise<Response> {
  const server = { requestIP: () => ({ address: socketIp, family: "IPv4", port: 40000 }) };
  return t.app.adminFetch(new Request(`http://127.0.0.1:9090${path}`, init), server as unknown as Server<unknown>);
}

describe("admin.listen set: the admin surface moves to its own listener", () => {
  test("the public port answers 404 for the API, the setup page and the UI", async () => {
    for (const path of [`${API}/openapi.json`, `${API}/session`, "/_ipward/setup", "/_ipward/", "/_ipward", "/_ipward/assets/app.js"]) {
      const response = await send(t, "GET", path);
      expect(`${path} ${response.status}`).toBe(`${path} 404`);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
    expect((await send(t, "POST", `${API}/session`, { body: ADMIN })).status).toBe(404);
  });

  test("the public port keeps the appliance's other routes and the protected app", async () => {
    expect((await send(t, "GET", "/_ipward/health")).status).toBe(200);
    expect((await send(t, "GET", "/")).status).toBe(200);
  });

  test("the admin listener serves the API (sign-in included) and health, and nothing outside the prefix", async () => {
    expect((await onAdminListener(`${API}/openapi.json`)).status).toBe(200);
    const signIn = await onAdminListener(`${API}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ADMIN) });
    expect(signIn.status).toBe(200);
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";", 1)[0];
    expect((await onAdminListener(`${API}/stats`, { headers: { cookie } })).status).toBe(200);
    expect((await onAdminListener("/_ipward/health")).status).toBe(200);
    const outside = await onAdminListener("/");
    expect(outside.status).toBe(404);
    expect(await outside.text()).toContain("this listener serves /_ipward/ only");
  });
});
