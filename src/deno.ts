/**
 * The Deno entry: `deno run -A src/deno.ts [serve] [--port 8080 …]` (`npm run start:deno -- …`)
 * runs the same server as `ipward serve`, on Deno.serve and node:sqlite. Only `serve` runs here:
 * the other commands belong to the ipward binary (or `bun src/main.ts`).
 * Nothing reachable from this file may import bun:* (test/architecture.test.ts checks).
 */
import type { CliIo } from "./cli/io.ts";
import { runCommand } from "./cli/run.ts";
import { serveCommand, useServeRuntime } from "./cli/serve.ts";
import { listenDeno } from "./http/deno-serve.ts";
import { openNodeSqlite } from "./store/node-sqlite.ts";

const io: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdin.isTTY),
};

useServeRuntime({ listen: listenDeno, driver: openNodeSqlite });

const args = process.argv.slice(2);
const [first] = args;
let code: number;
if (first !== undefined && first !== "serve" && !first.startsWith("-")) {
  io.stderr(`ipward: under Deno only "serve" runs; run "${first}" with the ipward binary or "bun src/main.ts"\n`);
  code = 2;
} else {
  const serveArgs = first === "serve" ? args.slice(1) : args;
  code = await runCommand(serveCommand, "serve", serveArgs, io, async () => {
    io.stdout(`${serveCommand.usage}\n\n${serveCommand.summary}\n`);
    return 0;
  });
}
// `serve` resolves only once the server has drained and stopped, so exiting here is always safe.
process.exit(code);
