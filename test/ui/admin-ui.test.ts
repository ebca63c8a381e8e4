import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { adminUi } from "../../src/http/admin-ui.ts";

const ui = adminUi("/_ipward").compile();
const get = (path: string, headers: Record<string, string> = {}) => ui.fetch(new Request(`http://localhost${path}`, { headers }));

/** The asset paths index.html links, in order: stylesheets, script. */
async function linkedAssets(): Promise<string[]> {
  const html = await (await get("/_ipward/")).text();
  return [...html.matchAll(/(?:href|src)="(\/_ipward\/assets\/[^"]+)"/g)].map((match) => match[1]);
}

describe("admin UI routes", () => {
  test("index.html: no cache, strict CSP, no inline script, API address under the prefix", async () => {
    const response = await get("/_ipward/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");

    const html = await response.text();
    expect(html).toContain('<meta name="ipward-api" content="/_ipward/api">');
    expect(html).toContain("<ipward-app></ipward-app>");
    // Every <script> loads a file; none carries code of its own.
    for (const script of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(script[1]).toMatch(/src="\/_ipward\/assets\//);
      expect(script[2].trim()).toBe("");
    }
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
  });

  test("the icon is inlined as a data: URI (allowed by img-src), so the page needs no favicon request", async () => {
    const html = await (await get("/_ipward/")).text();
    const icon = /<link rel="icon" href="data:image\/svg\+xml;base64,([^"]+)">/.exec(html)?.[1];
    expect(icon).toBeDefined();
    expect(Buffer.from(icon!, "base64").toString("utf8")).toStartWith("<svg");
  });

  test("the prefix without its slash serves the same page", async () => {
    const response = await get("/_ipward");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<ipward-app>");
  });

  test("index.html says whether the request carried a session cookie (so a signed-out visit skips a certain 401)", async () => {
    expect(await (await get("/_ipward/")).text()).toContain('<meta name="ipward-session-cookie" content="absent">');
    const withCookie = await get("/_ipward/", { cookie: "other=1; ipward_session=abc" });
    expect(await withCookie.text()).toContain('<meta name="ipward-session-cookie" content="present">');
  });

  test("every linked asset is served, cached for a year, gzip-compressed when asked", async () => {
    const assets = await linkedAssets();
    expect(assets.map((path) => path.slice(path.lastIndexOf(".")))).toEqual([".css", ".js"]);
    for (const path of assets) {
      const plain = await get(path);
      expect(plain.status).toBe(200);
      expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(plain.headers.get("content-encoding")).toBeNull();
      const body = new Uint8Array(await plain.arrayBuffer());

      const compressed = await get(path, { "accept-encoding": "gzip, br" });
      expect(compressed.headers.get("content-type")).toBe(plain.headers.get("content-type"));
      if (compressed.headers.get("content-encoding") === "gzip") {
        expect(gunzipSync(new Uint8Array(await compressed.arrayBuffer()))).toEqual(Buffer.from(body));
      }
    }
    const script = await get(assets[1], { "accept-encoding": "gzip" });
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("content-encoding")).toBe("gzip");
  });

  test("the script is self-contained: no external URLs to load, no source map", async () => {
    const assets = await linkedAssets();
    const script = await (await get(assets[1])).text();
    expect(script).toContain("ipward-app");
    expect(script).not.toMatch(/\bimport\s*\(\s*["']https?:|from\s*["']https?:|sourceMappingURL/);
  });

  test("an unknown asset is a problem+json 404", async () => {
    const response = await get("/_ipward/assets/missing.js");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 404, title: "Not Found" });
  });

  test("another prefix moves the page, its assets and the API address with it", async () => {
    const other = adminUi("/guard").compile();
    const html = await (await other.fetch(new Request("http://localhost/guard/"))).text();
    expect(html).toContain('<meta name="ipward-api" content="/guard/api">');
    const script = /src="(\/guard\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await other.fetch(new Request(`http://localhost${script}`))).status).toBe(200);
  });
});
