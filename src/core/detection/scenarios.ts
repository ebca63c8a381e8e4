import { formatDuration } from "../duration.ts";
import type { DetectionSettings, ScenarioName, ScenarioSettings } from "./settings.ts";

/** The parts of a finished request the real-time scenarios look at. */
export interface ObservedRequest {
  method: string;
  /** Path as received, without the query string. */
  path: string;
  /** Query string without "?", empty when none. */
  query: string;
  status: number;
  userAgent: string | null;
}

/**
 * A real-time scenario: tunables (threshold, window) plus a matcher. `match` returns the evidence
 * to quote in the reason (the offending path, user agent, …) or null, and must be cheap for
 * ordinary requests: each matcher bails out on a character test before running its full pattern.
 */
export interface Scenario {
  readonly name: ScenarioName;
  readonly threshold: number;
  readonly windowMs: number;
  match(request: ObservedRequest): string | null;
  /** The reason stored with a finding of `hits` matching requests, the last one being `evidence`. */
  describe(hits: number, evidence: string): string;
}

const EVIDENCE_MAX = 160;

/** Evidence fit for a reason: control characters removed, at most EVIDENCE_MAX characters. */
function quote(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "");
  return clean.length > EVIDENCE_MAX ? `${clean.slice(0, EVIDENCE_MAX - 1)}…` : clean;
}

function withQuery(path: string, query: string): string {
  return query === "" ? path : `${path}?${query}`;
}

function counted(hits: number, one: string, many: string): string {
  return `${hits} ${hits === 1 ? one : many}`;
}

/** Entries a scenario's per-path (or per-user-agent) memo holds before it is cleared whole. */
export const MEMO_SIZE = 4096;
/** Longer keys are not memoised, so that a memo holds at most MEMO_SIZE × this many characters. */
export const MEMO_KEY_MAX = 512;

/**
 * `compute` with its results remembered per key. Most traffic repeats a few paths and user agents,
 * and remembering the answer costs one Map lookup where the patterns cost several regex runs
 * (about 300 ns per ordinary browser request). Bounded: the memo is emptied when it is full, and
 * keys longer than MEMO_KEY_MAX are computed every time.
 */
export function memoise<T>(compute: (key: string) => T): (key: string) => T {
  const results = new Map<string, T>();
  return function memoised(key: string): T {
    let result = results.get(key);
    if (result === undefined) {
      result = compute(key);
      if (key.length > MEMO_KEY_MAX) return result;
      if (results.size >= MEMO_SIZE) results.clear();
      results.set(key, result);
    }
    return result;
  };
}

/** Percent-decodes, tolerating malformed sequences and invalid UTF-8 (decoded byte-wise then). */
export function percentDecode(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  }
}

/** Decoded twice, so that double-encoded payloads (%2527 → %27 → ') show; "+" is a space in queries. */
export function decodeForInspection(text: string, isQuery: boolean): string {
  const spaced = isQuery && text.includes("+") ? text.replaceAll("+", " ") : text;
  return percentDecode(percentDecode(spaced));
}

// ---------------------------------------------------------------------------------------------
// sensitive_file

/** Files no public site serves: secrets, VCS metadata, backups, server internals. Any answer counts. */
export const SECRET_FILE = new RegExp(
  `(?:^|/)(?:${[
    String.raw`\.env(?:\.[\w-]+)*`,
    String.raw`\.(?:git|svn|hg|bzr)(?:/.*)?`,
    String.raw`\.ds_store`,
    String.raw`\.ht(?:passwd|access)`,
    String.raw`\.(?:aws|ssh)(?:/.*)?`,
    String.raw`\.docker/config\.json`,
    String.raw`\.(?:npmrc|pypirc|netrc|bash_history|zsh_history|git-credentials|s3cfg|pgpass|my\.cnf)`,
    String.raw`\.vscode/sftp\.json`,
    String.raw`\.idea/workspace\.xml`,
    String.raw`id_(?:rsa|dsa|ecdsa|ed25519)(?:\.pub)?`,
    String.raw`wp-config\.php(?:\.\w+|~)?`,
    String.raw`[\w.-]+\.(?:php|asp|aspx|jsp|conf|config|cfg|ini|ya?ml|json|xml|env|sql|db|sqlite)(?:\.(?:bak|old|orig|save|swp|backup|tmp|dist)|~)`,
    String.raw`(?:backup|backups|dump|db|database|data|site|www|mysql|sql|wordpress)\.(?:sql|sql\.gz|sql\.zip|tar|tar\.gz|tgz|zip|rar|7z|bak)`,
    String.raw`server-(?:status|info)`,
    String.raw`phpinfo\.php`,
    String.raw`actuator/(?:env|heapdump|configprops|threaddump|mappings)`,
    String.raw`vendor/phpunit/.*eval-stdin\.php`,
  ].join("|")})$`,
  "i",
);

/**
 * Fingerprints of software the site may not run (WordPress, phpMyAdmin, CGI, router panels). They
 * count only when answered with an error, so that a WordPress site's own users are not flagged.
 */
export const ABSENT_APP_FILE = new RegExp(
  `(?:^|/)(?:${[
    String.raw`wp-login\.php`,
    String.raw`wp-admin(?:/.*)?`,
    String.raw`wp-includes/.*`,
    String.raw`xmlrpc\.php`,
    String.raw`(?:phpmyadmin|pma|myadmin|mysqladmin|dbadmin)(?:/.*)?`,
    String.raw`adminer(?:-[\d.]+)?\.php`,
    String.raw`cgi-bin/.*`,
    String.raw`hnap1`,
    String.raw`boaform/.*`,
    String.raw`manager/html`,
    String.raw`solr/admin(?:/.*)?`,
    String.raw`autodiscover/autodiscover\.xml`,
  ].join("|")})/?$`,
  "i",
);

/** Characters without which no SECRET_FILE / ABSENT_APP_FILE pattern can match. */
const FILE_HINT = /[._-]|cgi|hnap|boaform|manager|solr|actuator|pma|admin/i;

/** What a path asks for: a secret file (always counts), an absent app's file (counts on errors), or neither. */
type FileKind = "secret" | "absent_app" | "ordinary";

function fileKind(path: string): FileKind {
  if (!FILE_HINT.test(path)) return "ordinary";
  if (SECRET_FILE.test(path)) return "secret";
  return ABSENT_APP_FILE.test(path) ? "absent_app" : "ordinary";
}

export function sensitiveFileScenario(settings: ScenarioSettings): Scenario {
  const window = formatDuration(settings.windowMs);
  const kindOf = memoise(fileKind);
  return {
    name: "sensitive_file",
    threshold: settings.threshold,
    windowMs: settings.windowMs,
    match({ path, status }) {
      const kind = kindOf(path);
      if (kind === "secret") return path;
      if (kind === "absent_app" && status >= 400) return path;
      return null;
    },
    describe: (hits, evidence) =>
      `${counted(hits, "request", "requests")} for sensitive files within ${window} (threshold ${settings.threshold}), last: ${quote(evidence)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// path_traversal

/** Encoded dot-dot-slash variants, checked before decoding (overlong UTF-8 and %u forms do not decode). */
const ENCODED_TRAVERSAL =
  /(?:\.\.|%2e%2e|%2e\.|\.%2e|%252e%252e|%c0%ae%c0%ae|%uff0e%uff0e)(?:\/|\\|%2f|%5c|%252f|%255c|%c0%af|%c1%9c|%u2215|%u2216)/i;
/** After decoding: "../" or "..\", a trailing "/..", or a well-known local file being fetched. */
const DECODED_TRAVERSAL =
  /\.\.[/\\]|[/\\]\.\.$|(?:^|[/\\=])(?:etc[/\\](?:passwd|shadow)|(?:windows|winnt)[/\\]win\.ini|boot\.ini|proc[/\\]self[/\\](?:environ|cmdline))/i;

/** Without one of these, neither traversal pattern can match (URL parsing already resolved raw "../"). */
const TRAVERSAL_HINT = /[.%\\]|etc\/|proc\/self/i;

function traversalIn(text: string, isQuery: boolean): boolean {
  if (text === "" || !TRAVERSAL_HINT.test(text)) return false;
  return ENCODED_TRAVERSAL.test(text) || DECODED_TRAVERSAL.test(decodeForInspection(text, isQuery));
}

function traversalInPath(path: string): boolean {
  return traversalIn(path, false);
}

export function pathTraversalScenario(settings: ScenarioSettings): Scenario {
  const window = formatDuration(settings.windowMs);
  // Paths repeat; query strings mostly do not (ids, tokens), so only paths are memoised.
  const inPath = memoise(traversalInPath);
  return {
    name: "path_traversal",
    threshold: settings.threshold,
    windowMs: settings.windowMs,
    match({ path, query }) {
      return inPath(path) || traversalIn(query, true) ? withQuery(path, query) : null;
    },
    describe: (hits, evidence) =>
      `${counted(hits, "path traversal attempt", "path traversal attempts")} within ${window} (threshold ${settings.threshold}), last: ${quote(evidence)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// injection

/** SQL injection: tautologies after a quote, UNION SELECT, time delays, stacked queries, comments. */
export const SQL_INJECTION = new RegExp(
  [
    String.raw`['"\x60]\s*\)*\s*(?:or|and|xor)\b\s*(?:['"\d(]|\w+\s*(?:=|<|>|like\b|is\b))`,
    String.raw`\bunion\b(?:\s|\/\*.*?\*\/|\()+(?:all\s+|distinct\s+)?\(?\s*select\b`,
    String.raw`\b(?:sleep|benchmark|pg_sleep|dbms_pipe\.receive_message)\s*\(`,
    String.raw`\bwaitfor\s+delay\b`,
    String.raw`['";)]\s*(?:--|#|\/\*)`,
    String.raw`\b(?:or|and)\s+(\d+)\s*=\s*\1\b`,
    String.raw`\binformation_schema\b`,
    String.raw`\b(?:extractvalue|updatexml|load_file)\s*\(`,
    String.raw`;\s*(?:drop|delete|insert|update|shutdown|exec)\b`,
    String.raw`\bdrop\s+table\b`,
    String.raw`@@version\b`,
  ].join("|"),
  "i",
);

/** XSS and template/JNDI injection: script tags, javascript: URLs, event handlers. */
export const SCRIPT_INJECTION =
  /<\s*\/?\s*(?:script|iframe|svg|img|body|object|embed|details)\b|(?:java|vb)script\s*:|\bon(?:error|load|mouseover|focus|click|begin|toggle|animationstart)\s*=|document\.(?:cookie|domain)|\$\{jndi:|\{\{.*\}\}/i;

/** Without one of these characters (raw), no injection pattern can be present. */
const INJECTION_HINT = /['"\x60<>;(%+*\s{$\\]/;

function injectionIn(text: string, isQuery: boolean): boolean {
  if (text === "" || !INJECTION_HINT.test(text)) return false;
  const decoded = decodeForInspection(text, isQuery);
  return SQL_INJECTION.test(decoded) || SCRIPT_INJECTION.test(decoded);
}

function injectionInPath(path: string): boolean {
  return injectionIn(path, false);
}

export function injectionScenario(settings: ScenarioSettings): Scenario {
  const window = formatDuration(settings.windowMs);
  // As for traversal: only paths are memoised.
  const inPath = memoise(injectionInPath);
  return {
    name: "injection",
    threshold: settings.threshold,
    windowMs: settings.windowMs,
    match({ path, query }) {
      return inPath(path) || injectionIn(query, true) ? withQuery(path, query) : null;
    },
    describe: (hits, evidence) =>
      `${counted(hits, "request", "requests")} with SQL injection or XSS patterns within ${window} (threshold ${settings.threshold}), last: ${quote(evidence)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// bad_user_agent

/** Vulnerability scanners, brute forcers and mass scanners that announce themselves. */
export const SCANNER_USER_AGENT = new RegExp(
  String.raw`\b(?:${[
    "sqlmap",
    "nikto",
    "nmap",
    "masscan",
    "zgrab",
    "nuclei",
    "dirbuster",
    "gobuster",
    "dirb",
    "wpscan",
    "acunetix",
    "netsparker",
    "w3af",
    "havij",
    "openvas",
    "nessus",
    "jaeles",
    "ffuf",
    "feroxbuster",
    "wfuzz",
    "whatweb",
    "arachni",
    "skipfish",
    "hydra",
    "commix",
    "xsstrike",
    "fimap",
    "zmeu",
    "morfeus",
    "jorgee",
    "l9explore",
    "l9tcpid",
    "muieblackcat",
  ].join("|")})\b`,
  "i",
);

/** Exploit payloads carried in the User-Agent header (Log4Shell, Shellshock, script tags). */
const USER_AGENT_PAYLOAD = /\$\{jndi:|\(\)\s*\{\s*:?\s*;?\s*\}\s*;|<\s*script\b/i;

function isBadUserAgent(userAgent: string): boolean {
  return SCANNER_USER_AGENT.test(userAgent) || USER_AGENT_PAYLOAD.test(userAgent);
}

export function badUserAgentScenario(settings: ScenarioSettings): Scenario {
  const window = formatDuration(settings.windowMs);
  // Browsers send a handful of distinct strings.
  const isBad = memoise(isBadUserAgent);
  return {
    name: "bad_user_agent",
    threshold: settings.threshold,
    windowMs: settings.windowMs,
    match({ userAgent }) {
      return userAgent && isBad(userAgent) ? userAgent : null;
    },
    describe: (hits, evidence) =>
      `${counted(hits, "request", "requests")} from scanner user agent "${quote(evidence)}" within ${window} (threshold ${settings.threshold})`,
  };
}

// ---------------------------------------------------------------------------------------------
// login_bruteforce

/**
 * Every POST to a login path counts, whatever the answer: some applications (WordPress) answer a
 * failed login with 200, and ipward's own 429s on the login limit count as attempts too.
 */
export function loginBruteforceScenario(settings: ScenarioSettings, loginPaths: readonly string[]): Scenario {
  const window = formatDuration(settings.windowMs);
  const paths = new Set(loginPaths);
  return {
    name: "login_bruteforce",
    threshold: settings.threshold,
    windowMs: settings.windowMs,
    match({ method, path, status }) {
      if (method !== "POST") return null;
      const bare = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
      return paths.has(bare) ? `POST ${path} → ${status}` : null;
    },
    describe: (hits, evidence) =>
      `${counted(hits, "login attempt", "login attempts")} within ${window} (threshold ${settings.threshold}), last: ${quote(evidence)}`,
  };
}

/** The enabled scenarios, tuned by the config. */
export function realtimeScenarios(settings: DetectionSettings): Scenario[] {
  const { scenarios } = settings;
  const all: Scenario[] = [
    sensitiveFileScenario(scenarios.sensitive_file),
    pathTraversalScenario(scenarios.path_traversal),
    injectionScenario(scenarios.injection),
    badUserAgentScenario(scenarios.bad_user_agent),
    loginBruteforceScenario(scenarios.login_bruteforce, settings.loginPaths),
  ];
  return all.filter((scenario) => scenarios[scenario.name].enabled);
}
