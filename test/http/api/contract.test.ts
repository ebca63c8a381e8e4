import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { API, type ApiHarness, apiHarness, send } from "./support.ts";

/** Every route of the admin API; the OpenAPI document must list exactly these. */
const ROUTES = [
  "POST /session",
  "GET /openapi.json",
  "GET /session",
  "DELETE /session",
  "GET /logs",
  "GET /logs.csv",
  "GET /stats",
  ...["blocks", "allows"].flatMap((list) => [
    `GET /${list}`,
    `POST /${list}`,
    `DELETE /${list}/{id}`,
    `POST /${list}/bulk`,
    `POST /${list}/bulk-delete`,
    `POST /${list}/import`,
    `GET /${list}/export`,
  ]),
  "GET /suspicious",
  "POST /suspicious/{id}/block",
  "POST /suspicious/{id}/dismiss",
  "POST /suspicious/bulk",
  "GET /ips/{ip}",
  "GET /tokens",
  "POST /tokens",
  "DELETE /tokens/{id}",
];
const PUBLIC = new Set(["POST /session", "GET /openapi.json"]);

let h: ApiHarness;
let document: any;

beforeAll(async () => {
  h = await apiHarness();
  document = (await send(h.t, "GET", `${API}/openapi.json`)).json;
});
afterAll(() => h.close());

function operations(): { route: string; operation: any }[] {
  return Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path.slice(API.length)}`, operation })),
  );
}

/** A concrete URL for a documented path. */
function concrete(route: string): [string, string] {
  const [method, path] = route.split(" ");
  return [method, `${API}${path.replace("{id}", "1").replace("{ip}", "192.0.2.1")}`];
}

describe("OpenAPI document", () => {
  test("lists every route, each once", () => {
    expect(operations().map((o) => o.route).sort()).toEqual([...ROUTES].sort());
  });

  test("marks exactly the public routes as needing no credentials", () => {
    for (const { route, operation } of operations()) {
      expect(route + (operation.security?.length === 0 ? " public" : "")).toBe(route + (PUBLIC.has(route) ? " public" : ""));
    }
    expect(document.components.securitySchemes.session).toMatchObject({ type: "apiKey", in: "cookie", name: "ipward_session" });
    expect(document.components.securitySchemes.token).toMatchObject({ type: "http", scheme: "bearer" });
  });

  test("schemas come from the route definitions: bodies, parameters, responses and problems", () => {
    const byRoute = Object.fromEntries(operations().map((o) => [o.route, o.operation]));
    expect(byRoute["POST /blocks"].requestBody.content["application/json"].schema.required).toEqual(["target"]);
    expect(Object.keys(byRoute["POST /blocks/import"].requestBody.content).sort()).toEqual(["application/json", "text/plain"]);
    expect(byRoute["GET /logs.csv"].responses["200"].content).toHaveProperty(["text/csv"]);
    const limit = byRoute["GET /logs"].parameters.find((p: { name: string }) => p.name === "limit");
    expect(limit).toEqual({ name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 } });
    expect(byRoute["DELETE /blocks/{id}"].parameters).toEqual([{ name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } }]);
    const log = byRoute["GET /logs"].responses["200"].content["application/json"].schema.properties.items.items;
    expect(Object.keys(log.properties)).toEqual([
      "ts", "ip", "method", "path", "status", "duration_ms", "user_agent", "referer", "country_code", "country", "city", "decision", "rule",
    ]);
    expect(byRoute["GET /stats"].responses["200"].content["application/json"].schema.required).toContain("top_countries");
    expect(byRoute["POST /blocks"].responses["201"]).toBeDefined();
    for (const status of ["401", "403", "413", "422"]) {
      expect(byRoute["POST /blocks"].responses[status].content["application/problem+json"].schema).toEqual({ $ref: "#/components/schemas/Problem" });
    }
    expect(byRoute["POST /session"].responses["429"]).toBeDefined();
    expect(JSON.stringify(document)).not.toContain('"error":"');
  });
});

describe("authentication", () => {
  test("every protected route answers 401 problem+json without credentials", async () => {
    const protectedRoutes = ROUTES.filter((route) => !PUBLIC.has(route));
    for (const route of protectedRoutes) {
      const [method, path] = concrete(route);
      const result = await send(h.t, method, path, { body: method === "POST" ? {} : undefined });
      expect(`${route} ${result.status}`).toBe(`${route} 401`);
      expect(result.headers.get("content-type")).toBe("application/problem+json");
      expect(result.headers.get("www-authenticate")).toBe('Bearer realm="ipward"');
    }
  });

  test("…and with a cookie that is not a session, or a token that is not one", async () => {
    const forged: Record<string, string>[] = [{ cookie: "ipward_session=forged" }, { authorization: "Bearer ipw_forged" }, { authorization: `Basic ${btoa("alice:x")}` }];
    for (const headers of forged) {
      expect((await send(h.t, "GET", `${API}/logs`, { headers })).status).toBe(401);
    }
  });
});

describe("the admin's own requests", () => {
  test("never reach the request log nor detection", async () => {
    for (let i = 0; i < 30; i++) await h.call("GET", "/_ipward/api/logs?path=/.env");
    await h.call("GET", "/_ipward/api/ips/..%2F..%2Fetc%2Fpasswd");
    await h.call("POST", "session", { auth: "none", body: { username: "x", password: "' OR 1=1 --" } });
    await h.t.app.logWriter.flush();
    await h.t.app.detection.responder.flush();
    expect(h.t.app.store.queryLogs({ limit: 1000 })).toEqual([]);
    expect(await h.t.app.detectionStore.listSuspicious()).toEqual([]);
  });
});
