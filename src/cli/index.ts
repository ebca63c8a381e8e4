import { IpwardError } from "../core/errors.ts";
import { VERSION } from "../version.ts";
import type { CliIo, Command } from "./io.ts";
import { adminCommand } from "./admin.ts";
import { startsServer } from "./allocator.ts";
import { checkCommand } from "./check.ts";
import { exportBlocksCommand, importBlocksCommand } from "./import-export.ts";
import { logsCommand } from "./logs.ts";
import { lookupCommand } from "./lookup.ts";
import { detectCommand } from "./detect.ts";
import { suspiciousCommand } from "./suspicious.ts";
import { forgetCommand, purgeCommand } from "./retention.ts";
import { ruleCommands } from "./rules.ts";
import { runCommand } from "./run.ts";
import { serveCommand } from "./serve.ts";
import { systemdCommand } from "./systemd.ts";

const versionCommand: Command = {
  name: "version",
  summary: "print the version",
  usage: "ipward version",
  async run(_args, io) {
    io.stdout(`ipward ${VERSION}\n`);
    return 0;
  },
};

const helpCommand: Command = {
  name: "help",
  summary: "list commands, or show one command's usage",
  usage: "ipward help [command]",
  async run(args, io) {
    const topic = args[0] ? COMMANDS.get(args[0]) : undefined;
    if (args[0] && !topic) throw new IpwardError("usage", `help: unknown command "${args[0]}"`);
    io.stdout(topic ? `${topic.usage}\n\n${topic.summary}\n` : overview());
    return 0;
  },
};

const COMMANDS = new Map<string, Command>(
  [serveCommand, ...ruleCommands, importBlocksCommand, exportBlocksCommand, logsCommand, lookupCommand, detectCommand, suspiciousCommand, purgeCommand, forgetCommand, checkCommand, systemdCommand, adminCommand, versionCommand, helpCommand].map((c) => [c.name, c]),
);

function overview(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((n) => n.length));
  const lines = [...COMMANDS.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `ipward ${VERSION} — IP tracking and protection\n\nUsage: ipward <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun "ipward help <command>" for a command's options.\n`;
}

/** Runs `ipward <args>` and resolves with the process exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const help = (topic: Command) => helpCommand.run([topic.name], io);
  if (startsServer(args)) return runCommand(serveCommand, "serve", args[0] === "serve" ? args.slice(1) : args, io, help);
  const [name = "", ...rest] = args;
  if (name === "--help" || name === "-h") return helpCommand.run([], io);
  if (name === "--version" || name === "-v") return versionCommand.run([], io);
  return runCommand(COMMANDS.get(name), name, rest, io, help);
}
