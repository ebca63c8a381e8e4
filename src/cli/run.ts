import { IpwardError, isIpwardError } from "../core/errors.ts";
import type { CliIo, Command } from "./io.ts";

/** Exit codes of SPEC §5, mapped in this one place: 2 for usage and validation errors, else 1. */
export function exitCodeFor(error: unknown): number {
  return isIpwardError(error, "usage", "invalid_ip", "invalid_input", "unprocessable", "invalid_config") ? 2 : 1;
}

/** Runs one command, printing a failure as `ipward: <message>` and turning it into the exit code. */
export async function runCommand(command: Command | undefined, name: string, args: string[], io: CliIo, help: (command: Command) => Promise<number>): Promise<number> {
  try {
    if (!command) throw new IpwardError("usage", `unknown command "${name}" (run "ipward help")`);
    if (args.includes("--help") || args.includes("-h")) return await help(command);
    return await command.run(args, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`ipward: ${isIpwardError(error) ? message : `unexpected error: ${message}`}\n`);
    return exitCodeFor(error);
  }
}
