import { parseArgs, type ParseArgsConfig } from "node:util";
import { IpwardError } from "../core/errors.ts";

/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  cwd: string;
  isTTY: boolean;
  /** Asks for a secret on the terminal without echoing it (only when stdin is a terminal). */
  promptSecret?: (prompt: string) => Promise<string>;
}

/** One `ipward <command>`. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every command that reads the data dir understands. */
export const DATA_OPTIONS = {
  "data-dir": { type: "string" },
  config: { type: "string" },
} as const satisfies Options;

/** Parses a command's arguments; unknown flags and missing values become usage errors (exit 2). */
export function parseCommandArgs<const O extends Options>(command: string, args: string[], options: O, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new IpwardError("usage", `${command}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, "")}`);
  }
  if (parsed.positionals.length > positionals) {
    throw new IpwardError("usage", `${command}: unexpected argument "${parsed.positionals[positionals]}"`);
  }
  return parsed;
}

/** Prints rows as JSON (one array) or as an aligned text table. */
export function printRows(io: CliIo, rows: readonly object[], json: boolean, columns: string[]): void {
  if (json) {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    io.stdout("(none)\n");
    return;
  }
  const cells = rows.map((row) => columns.map((c) => {
    const value = (row as Record<string, unknown>)[c];
    return value === null || value === undefined ? "-" : String(value);
  }));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  io.stdout(`${[line(columns), ...cells.map(line)].join("\n")}\n`);
}
