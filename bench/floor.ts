import { join } from "node:path";
import { clientBehind, compileTrust, type ParsedIp, parseIp } from "../src/core/ip.ts";
import type { GeoInfo } from "../src/core/ports.ts";
import { openGeo } from "../src/geo/index.ts";
import { LogWriter } from "../src/store/log-writer.ts";

/**
 * The floor of the pipeline benchmarks (`bun bench/run.ts --floor`): the least work the same-ip and
 * random-xff scenarios demand, on a plain Bun.serve with nothing else — no Elysia, no rules, no
 * limiter, no detection, no metrics, one route. Per request it reads the socket address and path, walks
 * X-Forwarded-For with ipward's default trust (loopback), looks the client up with ipward's
 * geolocation, logs the row to SQLite with ipward's LogWriter and answers the demo's JSON.
 * Against the baseline it tells how much of ipward's cost is the work itself and how much is
 * ipward's own; a ratio target below this floor's ratio cannot be met by tuning ipward. The harness
 * starts it with MIMALLOC_PURGE_DELAY=-1, as ipward's serve starts itself (src/cli/allocator.ts).
 * Usage: `bun bench/floor.ts <port> <data-dir>`.
 */
const [portArg, dataDir] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !dataDir) {
  process.stderr.write(`usage: bun bench/floor.ts <port> <data-dir> (got ${JSON.stringify(process.argv.slice(2))})\n`);
  process.exit(2);
}

// The writer's own connection creates and migrates the database, as in ipward.
const logWriter = new LogWriter({ path: join(dataDir, "ipward.db") });
const geo = await openGeo({ dataDir, watch: false });
const trust = compileTrust("loopback");
/** Parsed socket addresses, as the pipeline keeps them (wrk reuses a few connections). */
const sockets = new Map<string, ParsedIp | null>();

function welcome(ip: string, place: GeoInfo | null): Response {
  return Response.json({ message: "Welcome to the IP Tracking System", ip, country: place?.country ?? null, city: place?.city ?? null });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: function floor(request, server) {
    const started = performance.now();
    const address = server.requestIP(request)?.address ?? "";
    let socket = sockets.get(address);
    if (socket === undefined) {
      socket = parseIp(address);
      sockets.set(address, socket);
    }
    if (socket === null) return new Response("no client address", { status: 400 });
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    const path = queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
    const headers = request.headers;
    const client = clientBehind(socket, headers.get("x-forwarded-for"), trust);
    const place = geo.lookup(client);
    const response = welcome(client.text, place);
    logWriter.write({
      ts: Date.now(),
      ip: client.text,
      method: request.method,
      path,
      status: response.status,
      duration_ms: performance.now() - started,
      user_agent: headers.get("user-agent"),
      referer: headers.get("referer"),
      country_code: place?.country_code ?? null,
      country: place?.country ?? null,
      city: place?.city ?? null,
      decision: "allow",
      rule: null,
      user: null,
    });
    return response;
  },
});

async function stop(): Promise<void> {
  await server.stop();
  await logWriter.close();
  geo.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
