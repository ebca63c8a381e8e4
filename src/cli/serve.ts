import { createApp } from "../app.ts";
import { loadConfig } from "../config/load.ts";
import { listen } from "../http/serve.ts";
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
    const app = await createApp({ config });
    let server;
    try {
      server = listen({ host: config.host, port: config.port, fetch: app.fetch, websocket: app.websocket ?? undefined });
    } catch (error) {
      await app.close();
      throw error;
    }
    const mode = config.upstream ? `proxy to ${config.upstream}` : "demo app";
    io.stderr(`ipward: listening on http://${hostForUrl(config.host)}:${server.port} (${mode}), data in ${config.data_dir}\n`);

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        io.stderr(`ipward: ${signal}: draining the request log and stopping\n`);
        await server.stop();
        await app.close();
        resolve(0);
      };
      process.on("SIGTERM", () => void stop("SIGTERM"));
      process.on("SIGINT", () => void stop("SIGINT"));
      process.on("SIGHUP", () => {
        io.stderr("ipward: SIGHUP: reloading\n");
        void app.reload();
      });
    });
  },
};

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
