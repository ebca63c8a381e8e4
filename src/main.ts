#!/usr/bin/env bun
import { runCli } from "./cli/index.ts";
import type { CliIo } from "./cli/io.ts";
import { promptSecret } from "./cli/prompt.ts";

const io: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdin.isTTY),
  promptSecret,
};

// `serve` resolves only once the server has drained and stopped, so exiting here is always safe.
process.exit(await runCli(process.argv.slice(2), io));
