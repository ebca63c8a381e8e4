/**
 * A replayed hour of traffic through both detectors and the responder (real SQLite): five kinds of
 * attackers and a shared account among forty ordinary visitors. Every attacker must be flagged
 * with a reason giving the numbers; no visitor may be.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createDetection, type Detection, type DetectionAction } from "../../../src/core/detection/index.ts";
import type { LogRow } from "../../../src/core/ports.ts";
import { openBunSqlite } from "../../../src/store/bun-sqlite.ts";
import { type Databases, HOUR, ManualClock, MINUTE, type Observed, openDatabases, request, settings, T0 } from "./fixtures.ts";

/** mulberry32: the same hour of traffic on every run. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20260115);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

const ATTACKERS = {
  scanner: "198.51.100.10",
  bruteForcer: "198.51.100.20",
  crawler: "198.51.100.30",
  scraper: "198.51.100.40",
  prober: "198.51.100.50",
} as const;
const SHARED_ACCOUNT = ["192.0.2.61", "192.0.2.62", "192.0.2.63"];

const BROWSERS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
];
const COUNTRIES = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "SE"];
const SEARCHES = ["red+shoes", "O%27Brien+jacket", "rock+%26+roll+tee", "caf%C3%A9+mug", "100%25+cotton", "gift+under+%2430", "don%27t+panic+towel"];
const PAGES = ["/", "/products", "/products?category=shoes&page=2", "/about", "/contact", "/cart", "/checkout", "/blog/2024/05/summer-sale", "/blog/how-we-ship", "/static/app.js", "/static/app.css", "/images/hero.jpg", "/api/cart", "/account"];
const NOT_FOUND = ["/favicon.ico", "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png", "/old-promo", "/products/999999"];

/** One ordinary visit: browsing, a search, a login, an /admin look, a few 404s. */
function visitor(i: number): Observed[] {
  const ip = `192.0.2.${100 + i}`;
  const country = pick(COUNTRIES);
  const userAgent = pick(BROWSERS);
  const user = i % 3 === 0 ? `visitor-${i}` : null;
  const start = T0 + between(0, 40) * MINUTE;
  const targets: [string, Partial<LogRow>][] = [];
  const pages = between(10, 40);
  for (let n = 0; n < pages; n++) {
    const r = random();
    if (r < 0.35) targets.push([`/products/${between(1, 5000)}`, {}]);
    else if (r < 0.45) targets.push([`/search?q=${pick(SEARCHES)}`, {}]);
    else targets.push([pick(PAGES), {}]);
  }
  targets.splice(between(0, targets.length), 0, ["/login", {}], ["/api/login", { method: "POST", status: between(0, 3) === 0 ? 401 : 200 }]);
  targets.splice(between(0, targets.length), 0, ["/admin", { status: 302 }]);
  for (let n = between(1, 4); n > 0; n--) targets.splice(between(0, targets.length), 0, [pick(NOT_FOUND), { status: 404 }]);
  let ts = start;
  return targets.map(([target, overrides]) => {
    ts += between(2, 45) * 1000;
    return request(ip, target, ts, { user_agent: userAgent, country_code: country, user, status: 200, ...overrides });
  });
}

function attacks(): Observed[] {
  const out: Observed[] = [];
  const files = ["/.env", "/.git/config", "/.git/HEAD", "/wp-config.php.bak", "/backup.sql", "/.aws/credentials", "/config.php.bak", "/.DS_Store", "/server-status", "/phpmyadmin/", "/wp-login.php", "/.htpasswd", "/id_rsa", "/admin/.env", "/api/.env"];
  const scannerPaths = [...files, ...Array.from({ length: 15 }, (_, n) => `/cgi-bin/probe${n}.cgi`)];
  scannerPaths.forEach((path, n) => out.push(request(ATTACKERS.scanner, path, T0 + 12 * MINUTE + n * 3000, { status: 404, country_code: "NL", user_agent: BROWSERS[0] })));
  for (let n = 0; n < 40; n++) {
    const limited = n >= 5;
    out.push(
      request(ATTACKERS.bruteForcer, "/api/login", T0 + 20 * MINUTE + n * 4000, {
        method: "POST",
        status: limited ? 429 : 401,
        decision: limited ? "limit" : "allow",
        rule: limited ? "login" : null,
        country_code: "BR",
        user_agent: "python-requests/2.32.3",
      }),
    );
  }
  for (let n = 0; n < 150; n++) {
    out.push(request(ATTACKERS.crawler, pick(PAGES), T0 + n * 23_000, { country_code: "US", user_agent: "Mozilla/5.0 (compatible; ShopCrawler/2.1)" }));
  }
  for (let n = 1; n <= 60; n++) {
    out.push(request(ATTACKERS.scraper, `/items/${n}`, T0 + 5 * MINUTE + n * 25_000, { status: n % 17 === 0 ? 404 : 200, country_code: "SG", user_agent: BROWSERS[2] }));
  }
  const payloads = [
    "/search?q=1%27+OR+%271%27%3D%271",
    "/products?id=1+UNION+SELECT+username,password+FROM+users--",
    "/download?file=../../../../etc/passwd",
    "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
    "/products?id=1+AND+SLEEP(5)",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
  ];
  payloads.forEach((target, n) => out.push(request(ATTACKERS.prober, target, T0 + 33 * MINUTE + n * 7000, { status: 400, country_code: "RU", user_agent: BROWSERS[1] })));
  SHARED_ACCOUNT.forEach((ip, n) => {
    for (let k = 0; k < 5; k++) out.push(request(ip, "/api/cart", T0 + (10 + n * 15 + k) * MINUTE, { user: "carol", country_code: ["DE", "US", "VN"][n], user_agent: BROWSERS[n] }));
  });
  return out;
}

const visitors = Array.from({ length: 40 }, (_, i) => visitor(i));
const traffic = [...visitors.flat(), ...attacks()].sort((a, b) => a.row.ts - b.row.ts);
const visitorIps = visitors.map((visit) => visit[0].row.ip);

describe("replay of an hour of mixed traffic", () => {
  let db: Databases;
  let clock: ManualClock;
  let actions: DetectionAction[];

  beforeEach(() => {
    db = openDatabases(openBunSqlite);
    clock = new ManualClock(T0);
    actions = [];
  });
  afterEach(() => db.close());

  /** Feeds the hour to the real-time detector and the log, then runs the scheduled rules at its end. */
  async function replay(detection: Record<string, unknown>, allowlisted: string[] = []): Promise<Detection> {
    const allow = new Set(allowlisted);
    const wired = createDetection({
      settings: settings(detection),
      store: db.detection,
      decisions: db.store,
      isAllowlisted: (ip) => allow.has(ip),
      isBlocked: () => false,
      clock,
      onAction: (action) => actions.push(action),
    });
    for (const { row, verdict, facts } of traffic) {
      clock.time = row.ts;
      wired.realtime!.observe(row, allow.has(row.ip) ? { ...verdict, allowlisted: true } : verdict, facts);
    }
    db.insert(traffic.map(({ row }) => row));
    await wired.responder.flush();
    clock.time = T0 + HOUR;
    await wired.runScheduled();
    return wired;
  }

  const rulesOf = async (ip: string) => (await db.detection.listSuspicious({ ip })).map((record) => record.rule).sort();

  test("all five attackers and the shared account are flagged with reasons; no ordinary visitor is", async () => {
    await replay({});
    expect(await rulesOf(ATTACKERS.scanner)).toEqual(["probing", "sensitive_file"]);
    expect(await rulesOf(ATTACKERS.bruteForcer)).toEqual(["login_bruteforce", "sensitive_paths"]);
    expect(await rulesOf(ATTACKERS.crawler)).toEqual(["high_volume"]);
    expect(await rulesOf(ATTACKERS.scraper)).toEqual(["scraping"]);
    expect(await rulesOf(ATTACKERS.prober)).toEqual(["injection", "path_traversal"]);
    for (const ip of SHARED_ACCOUNT) expect(await rulesOf(ip)).toEqual(["geo_anomaly"]);

    const reasons = Object.fromEntries((await db.detection.listSuspicious({ limit: 1000 })).map((record) => [`${record.ip} ${record.rule}`, record.reason]));
    expect(reasons[`${ATTACKERS.scanner} probing`]).toBe("30 distinct paths answered 4xx in the last hour (threshold 20)");
    expect(reasons[`${ATTACKERS.scanner} sensitive_file`]).toMatch(/^\d+ requests for sensitive files within 10m \(threshold 3\), last: \//);
    expect(reasons[`${ATTACKERS.bruteForcer} sensitive_paths`]).toBe("40 requests to sensitive paths (/admin, /login, /api/login) in the last hour (threshold 10)");
    expect(reasons[`${ATTACKERS.bruteForcer} login_bruteforce`]).toMatch(/^\d+ login attempts within 1m \(threshold 10\), last: POST \/api\/login → 429$/);
    expect(reasons[`${ATTACKERS.crawler} high_volume`]).toBe("150 requests in the last hour (threshold 100)");
    expect(reasons[`${ATTACKERS.scraper} scraping`]).toBe("60 sequential ids under /items/{n} (1–60) in the last hour (threshold 20)");
    expect(reasons[`${ATTACKERS.prober} injection`]).toMatch(/^\d+ requests with SQL injection or XSS patterns within 10m \(threshold 2\), last: /);
    expect(reasons[`${ATTACKERS.prober} path_traversal`]).toMatch(/^\d path traversal attempts? within 10m \(threshold 1\), last: /);
    expect(reasons[`${SHARED_ACCOUNT[0]} geo_anomaly`]).toBe('user "carol" seen from 3 countries (DE, US, VN) in the last hour (threshold 3)');

    const flaggedVisitors = [];
    for (const ip of visitorIps) if ((await rulesOf(ip)).length > 0) flaggedVisitors.push(ip);
    expect(flaggedVisitors).toEqual([]);
    expect(await db.store.listRules("block", clock.now())).toEqual([]);
  });

  test("auto-block blocks every attacker once, for 4h, and no visitor", async () => {
    await replay({ auto_block: true });
    const blocked = db.store.listRules("block", clock.now());
    expect(blocked.map((rule) => rule.target).sort()).toEqual([...Object.values(ATTACKERS), ...SHARED_ACCOUNT].sort());
    for (const rule of blocked) {
      expect(rule.source).toBe("detection");
      expect(rule.expires_at! - rule.created_at).toBe(4 * HOUR);
    }
    expect(actions.filter((action) => action.action === "block")).toHaveLength(8);
    expect((await db.detection.listSuspicious({ status: "open", limit: 1000 })).length).toBe(0);
  });

  test("a dry run records nothing and lists what it would do", async () => {
    await replay({ auto_block: true, dry_run: true });
    expect(await db.detection.listSuspicious()).toEqual([]);
    expect(db.store.listRules("block", clock.now())).toEqual([]);
    const messages = actions.map((action) => action.message);
    expect(messages).toContain(`would block ${ATTACKERS.crawler} for 4h (rule high_volume)`);
    expect(messages).toContain(`would block ${ATTACKERS.scraper} for 4h (rule scraping)`);
    expect(messages).toContain(`${ATTACKERS.scanner} would already be blocked (rule probing)`);
    expect(actions.every((action) => action.dryRun)).toBe(true);
  });

  test("allowlisted addresses are never flagged", async () => {
    await replay({}, [ATTACKERS.crawler, ATTACKERS.prober]);
    expect(await rulesOf(ATTACKERS.crawler)).toEqual([]);
    expect(await rulesOf(ATTACKERS.prober)).toEqual([]);
    expect(await rulesOf(ATTACKERS.scraper)).toEqual(["scraping"]);
    expect(actions.filter((action) => action.action === "skip").map((action) => action.ip)).toEqual([ATTACKERS.crawler]);
  });
});
