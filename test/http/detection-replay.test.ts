/**
 * Detection through the real HTTP pipeline: attackers of each kind and forty ordinary visitors
 * browse a small shop behind ipward; exactly the attackers are flagged, with reasons.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../support/process.ts";
import { ManualClock, type TestApp, testApp } from "../support/app.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A tiny shop: known pages answer 200, /admin redirects, logins fail without the right password. */
async function shop(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method === "POST" && pathname.replace(/\/$/, "") === "/api/login") {
    const body = await request.text();
    return new Response(null, { status: body.includes("password=right") ? 200 : 401 });
  }
  if (pathname === "/admin") return new Response(null, { status: 302, headers: { location: "/login" } });
  const known = /^\/(|products|about|contact|cart|login|search|blog\/[\w-]+|products\/\d+|items\/\d+|static\/app\.(js|css))$/;
  return new Response(known.test(pathname) ? "ok" : "not found", { status: known.test(pathname) ? 200 : 404 });
}

function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const ATTACKERS = {
  scanner: "198.51.100.10",
  bruteForcer: "198.51.100.20",
  crawler: "198.51.100.30",
  scraper: "198.51.100.40",
  prober: "198.51.100.50",
};

interface Hit {
  at: number;
  ip: string;
  path: string;
  method?: string;
  body?: string;
  userAgent?: string;
}

function traffic(t0: number): Hit[] {
  const random = prng(42);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pages = ["/", "/products", "/about", "/contact", "/cart", "/blog/summer-sale", "/static/app.js", "/static/app.css", "/search?q=red+shoes"];
  const hits: Hit[] = [];
  for (let i = 0; i < 40; i++) {
    const ip = `192.0.2.${100 + i}`;
    let at = t0 + between(0, 30) * MINUTE;
    const visit: Omit<Hit, "at" | "ip">[] = [];
    for (let n = between(10, 40); n > 0; n--) visit.push({ path: random() < 0.4 ? `/products/${between(1, 5000)}` : pages[between(0, pages.length - 1)] });
    visit.push({ path: "/login" }, { path: "/api/login", method: "POST", body: between(0, 2) === 0 ? "password=wrong" : "password=right" });
    visit.push({ path: "/admin" });
    for (let n = between(1, 4); n > 0; n--) visit.push({ path: ["/favicon.ico", "/old-promo", "/apple-touch-icon.png"][between(0, 2)] });
    for (const step of visit) hits.push({ at: (at += between(2, 45) * 1000), ip, userAgent: BROWSER, ...step });
  }
  ["/.env", "/.git/config", "/wp-config.php.bak", "/.aws/credentials", "/backup.sql", "/.htpasswd"].forEach((path, n) =>
    hits.push({ at: t0 + 12 * MINUTE + n * 3000, ip: ATTACKERS.scanner, path, userAgent: BROWSER }),
  );
  for (let n = 0; n < 30; n++) hits.push({ at: t0 + 20 * MINUTE + n * 1500, ip: ATTACKERS.bruteForcer, path: "/api/login", method: "POST", body: `password=guess${n}`, userAgent: "python-requests/2.32" });
  for (let n = 0; n < 150; n++) hits.push({ at: t0 + n * 23_000, ip: ATTACKERS.crawler, path: pages[n % pages.length], userAgent: "ShopCrawler/2.1" });
  for (let n = 1; n <= 40; n++) hits.push({ at: t0 + 5 * MINUTE + n * 25_000, ip: ATTACKERS.scraper, path: `/items/${n}`, userAgent: BROWSER });
  ["/search?q=1%27+OR+%271%27%3D%271", "/products?id=1+UNION+SELECT+password+FROM+users--", "/download?file=../../../../etc/passwd", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E"].forEach((path, n) =>
    hits.push({ at: t0 + 33 * MINUTE + n * 7000, ip: ATTACKERS.prober, path, userAgent: BROWSER }),
  );
  return hits.sort((a, b) => a.at - b.at);
}

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function send(app: TestApp, clock: ManualClock, hit: Hit): Promise<number> {
  clock.time = hit.at;
  const response = await app.request(hit.path, {
    method: hit.method ?? "GET",
    body: hit.body,
    socketIp: "127.0.0.1",
    headers: { "x-forwarded-for": hit.ip, "user-agent": hit.userAgent ?? BROWSER },
  });
  await response.arrayBuffer();
  return response.status;
}

const rulesOf = async (app: TestApp, ip: string) => (await app.app.detectionStore.listSuspicious({ ip })).map((r) => r.rule).sort();

describe("detection over replayed HTTP traffic", () => {
  test("five attackers flagged 5/5 with reasons, forty ordinary visitors 0/40; the scanner in real time", async () => {
    const t0 = Date.UTC(2026, 10, 25, 10, 0, 0);
    const clock = new ManualClock(t0);
    t = await testApp({}, clock, shop);
    const hits = traffic(t0);
    const scannerDone = hits.findLastIndex((h) => h.ip === ATTACKERS.scanner);

    for (const hit of hits.slice(0, scannerDone + 1)) await send(t, clock, hit);
    const app = t;
    await eventually(async () => (await rulesOf(app, ATTACKERS.scanner)).includes("sensitive_file"), 1_000, "a real-time finding");

    for (const hit of hits.slice(scannerDone + 1)) await send(t, clock, hit);
    await t.app.logWriter.flush();
    await t.app.detection.responder.flush();
    clock.time = t0 + HOUR;
    const run = await t.app.detection.runScheduled();
    expect(run.findings.length).toBeGreaterThan(0);

    expect(await rulesOf(t, ATTACKERS.scanner)).toContain("sensitive_file");
    expect(await rulesOf(t, ATTACKERS.bruteForcer)).toContain("login_bruteforce");
    expect(await rulesOf(t, ATTACKERS.crawler)).toEqual(["high_volume"]);
    expect(await rulesOf(t, ATTACKERS.scraper)).toEqual(["scraping"]);
    const prober = await rulesOf(t, ATTACKERS.prober);
    expect(prober.some((rule) => rule === "injection" || rule === "path_traversal")).toBe(true);

    const records = await t.app.detectionStore.listSuspicious({ limit: 1000 });
    for (const record of records) expect(record.reason).toMatch(/\d/);
    const flagged = new Set(records.map((r) => r.ip));
    expect([...flagged].filter((ip) => !Object.values(ATTACKERS).includes(ip))).toEqual([]);
    expect(Object.values(ATTACKERS).filter((ip) => flagged.has(ip))).toHaveLength(5);
    expect(t.app.store.listRules("block", clock.now())).toEqual([]);
  });

  test("auto_block: a flagged IP gets 403 within 1 s; a second offence doubles the block", async () => {
    const clock = new ManualClock();
    t = await testApp({ detection: { auto_block: true } }, clock, shop);
    const probe = async () => {
      for (const path of ["/.env", "/.git/config", "/.aws/credentials"]) await send(t!, clock, { at: clock.time, ip: "203.0.113.66", path });
    };
    await probe();
    const app = t;
    const elapsed = await eventually(async () => (await send(app, clock, { at: clock.time, ip: "203.0.113.66", path: "/" })) === 403, 1_000, "the automatic block");
    expect(elapsed).toBeLessThan(1_000);
    const [first] = t.app.store.listRules("block", clock.now());
    expect(first).toMatchObject({ target: "203.0.113.66", source: "detection" });
    expect(first.expires_at! - first.created_at).toBe(4 * HOUR);

    clock.advance(4 * HOUR + MINUTE);
    t.app.rules.refreshIfChanged();
    expect(await send(t, clock, { at: clock.time, ip: "203.0.113.66", path: "/" })).toBe(200);
    await probe();
    await eventually(async () => (await send(app, clock, { at: clock.time, ip: "203.0.113.66", path: "/" })) === 403, 1_000, "the second block");
    const [second] = t.app.store.listRules("block", clock.now());
    expect(second.expires_at! - clock.now()).toBeGreaterThan(7 * HOUR);
    expect(second.expires_at! - clock.now()).toBeLessThanOrEqual(8 * HOUR);
  });

  test("dry_run blocks nothing and says what it would have done", async () => {
    const clock = new ManualClock();
    const messages: string[] = [];
    t = await testApp({ detection: { auto_block: true, dry_run: true } }, clock, shop);
    for (const path of ["/.env", "/.git/config", "/.aws/credentials"]) await send(t, clock, { at: clock.time, ip: "203.0.113.77", path });
    await t.app.detection.responder.flush();
    const start = clock.time;
    for (let n = 0; n < 120; n++) await send(t, clock, { at: start + n * 1000, ip: "203.0.113.78", path: "/" });
    await t.app.logWriter.flush();
    clock.advance(2 * MINUTE);
    const run = await t.app.detection.runScheduled();
    messages.push(...run.actions.map((a) => a.message));
    expect(messages).toContain("would block 203.0.113.78 for 4h (rule high_volume)");
    expect(t.app.store.listRules("block", clock.now())).toEqual([]);
    expect(await t.app.detectionStore.listSuspicious()).toEqual([]);
    expect(await send(t, clock, { at: clock.time, ip: "203.0.113.77", path: "/" })).toBe(200);
  });

  test("allowlisted IPs are never flagged", async () => {
    const clock = new ManualClock();
    t = await testApp({ detection: { auto_block: true } }, clock, shop);
    t.app.store.addRule({ list: "allow", target: "203.0.113.88", kind: "ip", reason: "office", expires_at: null, source: "cli" });
    t.app.rules.refreshIfChanged();
    for (const path of ["/.env", "/.git/config", "/.aws/credentials", "/.htpasswd"]) await send(t, clock, { at: clock.time, ip: "203.0.113.88", path });
    await t.app.detection.responder.flush();
    expect(await t.app.detectionStore.listSuspicious()).toEqual([]);
    expect(await send(t, clock, { at: clock.time, ip: "203.0.113.88", path: "/" })).toBe(200);
  });
});
