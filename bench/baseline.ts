import { Elysia } from "elysia";

/**
 * The benchmark baseline: a bare Elysia app on the same Bun, serving the same demo `GET /`
 * response as ipward with nothing in front. Usage: `bun bench/baseline.ts <port>`.
 */
const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write(`usage: bun bench/baseline.ts <port> (got ${JSON.stringify(process.argv[2])})\n`);
  process.exit(2);
}

/** Normalises an IPv4-mapped IPv6 socket address (`::ffff:1.2.3.4`) to plain IPv4, as ipward does. */
function plainIp(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

const app = new Elysia()
  .get("/", function welcome({ request, server }) {
    const socket = server?.requestIP(request);
    return {
      message: "Welcome to the IP Tracking System",
      ip: socket ? plainIp(socket.address) : null,
      country: null,
      city: null,
    };
  })
  .listen({ hostname: "127.0.0.1", port });

function stop() {
  app.stop().finally(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
