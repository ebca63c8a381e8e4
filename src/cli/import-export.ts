import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { IpwardError } from "../core/errors.ts";
import type { RuleKind } from "../core/ports.ts";
import { formatImportText, type ImportSkip, type ParsedImport, parseImportJson, parseImportText } from "../core/rule-import.ts";
import { isoTime, toRuleJson } from "../store/json.ts";
import { withStore } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs, printRows } from "./io.ts";

const BLOCK_KINDS: readonly RuleKind[] = ["ip", "cidr", "country"];

const IMPORT_OPTIONS = { ...DATA_OPTIONS, partial: { type: "boolean" }, json: { type: "boolean" } } as const;
const EXPORT_OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const;

/** What `import-blocks --json` prints. */
interface ImportReport {
  imported: number;
  created: number;
  updated: number;
  invalid: ImportSkip[];
}

/**
 * `ipward import-blocks <file|->`: a plain list (`target [reason]` per line, `#` comments) or the
 * JSON array `export-blocks --json` prints. All or nothing by default: one invalid entry and
 * nothing is imported (exit 2, each bad line reported). `--partial` imports the valid entries and
 * still exits 2 when some were invalid, so scripts notice.
 */
export const importBlocksCommand: Command = {
  name: "import-blocks",
  summary: "import blocks from a plain list or JSON (all or nothing unless --partial)",
  usage: "ipward import-blocks <file|-> [--partial] [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseCommandArgs("import-blocks", args, IMPORT_OPTIONS, 1);
    const source = positionals[0];
    if (source === undefined || source === "") throw new IpwardError("usage", "import-blocks: missing <file> (or - for stdin)");
    const text = source === "-" ? await io.readStdin() : readSource(resolve(io.cwd, source), source);
    const now = Date.now();
    const parsed = parseBlocks(text, now);
    const where = source === "-" ? "stdin" : source;
    for (const skip of parsed.skipped) {
      io.stderr(`ipward: import-blocks: ${where}:${skip.line}: ${skip.value === "" ? "" : `"${skip.value}": `}${skip.error}\n`);
    }
    if (parsed.skipped.length > 0 && !values.partial) {
      io.stderr(
        `ipward: import-blocks: nothing imported: ${parsed.skipped.length} invalid ${plural(parsed.skipped.length, "entry", "entries")}` +
          ` (fix ${parsed.skipped.length === 1 ? "it" : "them"}, or pass --partial to import the ${parsed.entries.length} valid ones)\n`,
      );
      return 2;
    }

    const report = await withStore(values, io, (store) => {
      const existing = new Set(store.listRules("block", now).map((rule) => rule.target));
      const seen = new Set<string>();
      for (const entry of parsed.entries) {
        store.addRule({ list: "block", target: entry.target, kind: entry.kind, reason: entry.reason, expires_at: entry.expires_at, source: "import", created_at: now });
        seen.add(entry.target);
      }
      const created = [...seen].filter((target) => !existing.has(target)).length;
      return { imported: seen.size, created, updated: seen.size - created, invalid: parsed.skipped } satisfies ImportReport;
    });
    if (values.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.stdout(`imported ${report.imported} ${plural(report.imported, "block", "blocks")} (${report.created} new, ${report.updated} updated)\n`);
    }
    return parsed.skipped.length > 0 ? 2 : 0;
  },
};

/** `ipward export-blocks [--json]`: the active blocks, in a form `import-blocks` reads back. */
export const exportBlocksCommand: Command = {
  name: "export-blocks",
  summary: "export active blocks as a plain list (or --json, which keeps expiry times)",
  usage: "ipward export-blocks [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("export-blocks", args, EXPORT_OPTIONS);
    return withStore(values, io, (store) => {
      const now = Date.now();
      const rules = store.listRules("block", now);
      if (values.json) {
        printRows(io, rules.map(toRuleJson), true, []);
      } else {
        const expiring = rules.filter((rule) => rule.expires_at !== null).length;
        io.stdout(
          `# ipward blocks exported ${isoTime(now)}: ${rules.length} ${plural(rules.length, "rule", "rules")}` +
            (expiring > 0 ? `; ${expiring} expire, which this format does not keep (use --json)` : "") +
            "\n" +
            formatImportText(rules),
        );
      }
      return 0;
    });
  },
};

/** JSON when the text is a JSON array, the plain list otherwise. */
function parseBlocks(text: string, now: number): ParsedImport {
  const options = { kinds: BLOCK_KINDS, now };
  if (!text.trimStart().startsWith("[")) return parseImportText(text, options);
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch (error) {
    throw new IpwardError("invalid_input", `import-blocks: the input starts with "[" but is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(items)) throw new IpwardError("invalid_input", "import-blocks: expected a JSON array of blocks");
  return parseImportJson(items, options);
}

function readSource(path: string, shown: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new IpwardError("invalid_input", `import-blocks: cannot read "${shown}": ${why}`);
  }
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
