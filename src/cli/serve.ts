import { createApp } from "../app.ts";
import { loadConfig } from "../config/load.ts";
import { parseAdminListen } from "../http/api/admin-app.ts";
import { type ListenOptions, listen } from "../http/serve.ts";
import type { SqlDriver } from "../store/sqlite-store.ts";
import { type CliIo, type Command, parseCommandArgs } from "./io.ts";

const SERVE_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "data-dir": { type: "string" },
  config: { type: "string" },
  upstream: { type: "string" },
  redis: { type: "string" },
  "trust-proxy": { type: "string" },
} as const;

/** What serve needs from the runtime: Bun's listener and SQLite by default; src/deno.ts installs Deno's. */
export interface ServeRuntime {
  listen(options: ListenOptions): { readonly port: number | undefined; stop(): Promise<void> };
  /** Default: the running runtime's own binding. */
  driver?: SqlDriver;
}

let runtime: ServeRuntime = { listen };

/** Makes `serve` run on another runtime's listener and SQLite driver (the Deno entry). */
export function useServeRuntime(next: ServeRuntime): void {
  runtime = next;
}

export const serveCommand: Command = {
  name: "serve",
  summary: "run the server (default command)",
  usage:
    "ipward serve [--host 127.0.0.1] [--port 8080] [--data-dir ./data] [--config ipward.toml]\n" +
    "             [--upstream http://127.0.0.1:3000] [--redis redis://127.0.0.1:6379] [--trust-proxy loopback]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("serve", args, SERVE_OPTIONS);
    const { config: configPath, ...flags } = values;
    const config = loadConfig({ flags, configPath, env: io.env, cwd: io.cwd });
    const app = await createApp({ config, driver: runtime.driver });
    let server;
    try {
      server = runtime.listen({ host: config.host, port: config.port, fetch: app.fetch, websocket: app.websocket ?? undefined });
    } catch (error) {
      await app.close();
      throw error;
    }
    // Signals are handled from here on: a supervisor may send SIGTERM as soon as it reads the
    // "listening" line, and the default action would end the process without draining the log.
    let adminServer: ReturnType<ServeRuntime["listen"]> | null = null;
    let stopping = false;
    let stopped!: (code: number) => void;
    const exitCode = new Promise<number>((resolve) => {
      stopped = resolve;
    });
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      io.stderr(`ipward: ${signal}: draining the request log and stopping\n`);
      await server.stop();
      await adminServer?.stop();
      // A log that cannot be drained must not leave a stopped server hanging on: say so and exit 1.
      const closed = await app.close().then(
        () => 0,
        (error: unknown) => {
          io.stderr(`ipward: ${signal}: closing failed: ${error instanceof Error ? error.message : String(error)}\n`);
          return 1;
        },
      );
      stopped(closed);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGHUP", () => {
      io.stderr("ipward: SIGHUP: reloading\n");
      void app.reload();
    });

    const mode = config.upstream ? `proxy to ${config.upstream}` : "demo app";
    io.stderr(`ipward: listening on http://${hostForUrl(config.host)}:${server.port} (${mode}), data in ${config.data_dir}\n`);
    let adminBase = `http://${hostForUrl(config.host)}:${server.port}`;
    if (config.admin.listen !== null) {
      try {
        const address = parseAdminListen(config.admin.listen, config.host);
        adminServer = runtime.listen({ host: address.host, port: address.port, fetch: app.adminFetch });
        adminBase = `http://${hostForUrl(address.host)}:${adminServer.port}`;
      } catch (error) {
        await server.stop();
        await app.close();
        throw error;
      }
      io.stderr(`ipward: admin listening on ${adminBase}${config.prefix}/ (admin.listen; not served on the public port)\n`);
    }
    const setupUrl = app.admin.setupUrl(adminBase);
    if (setupUrl !== null) {
      io.stderr(`ipward: no admin account yet: create the first one at ${setupUrl} (one use, valid 24 h), or run "ipward admin create <user>"\n`);
    }
    return exitCode;
  },
};

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
