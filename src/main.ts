#!/usr/bin/env bun
import { allocatorReexecution, PURGE_DELAY_VARIABLE } from "./cli/allocator.ts";
import type { CliIo } from "./cli/io.ts";

const reexecution = allocatorReexecution({
  argv: process.argv,
  execArgv: process.execArgv,
  execPath: process.execPath,
  env: process.env,
  // The single binary runs its entry from Bun's embedded file system.
  compiled: import.meta.path.startsWith("/$bunfs/"),
});
if (reexecution) {
  try {
    process.execve?.(reexecution.file, reexecution.args, reexecution.env);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`ipward: could not restart with ${PURGE_DELAY_VARIABLE}=-1 (${reason}); serving with the allocator's defaults\n`);
  }
}

// Loaded only now, so that the restart above does not first load the whole CLI for nothing.
const { runCli } = await import("./cli/index.ts");
const { promptSecret } = await import("./cli/prompt.ts");

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
