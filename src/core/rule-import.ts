/**
 * Block/allow list import (API `POST /blocks/import`, and the format `export` writes): a plain list
 * with one target per line, or a JSON array of rule objects. Parsing never stops at a bad line; it
 * reports which lines were skipped and why.
 */
import { parseRuleTarget, type RuleTarget } from "./decisions.ts";
import { parseDuration } from "./duration.ts";
import { IpwardError } from "./errors.ts";
import type { DecisionRule, RuleKind } from "./ports.ts";

/** One rule to import. `line` is the 1-based line (text) or array position (JSON). */
export interface ImportEntry extends RuleTarget {
  line: number;
  reason: string | null;
  expires_at: number | null;
}

/** A line that was not imported. */
export interface ImportSkip {
  line: number;
  value: string;
  error: string;
}

export interface ParsedImport {
  entries: ImportEntry[];
  skipped: ImportSkip[];
}

export interface ImportOptions {
  /** Target kinds the list accepts (allowlists take no countries). */
  kinds: readonly RuleKind[];
  now: number;
}

/**
 * Reads the plain format: `target [reason]` per line, where the reason may be written as a
 * `# comment`. Blank lines and lines starting with `#` are ignored.
 */
export function parseImportText(text: string, options: ImportOptions): ParsedImport {
  const parsed: ParsedImport = { entries: [], skipped: [] };
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [value] = line.split(/\s/, 1);
    const rest = line.slice(value.length).trim().replace(/^#\s*/, "");
    collect(parsed, index + 1, value, () => ({ ...checkedTarget(value, options.kinds), reason: rest === "" ? null : rest, expires_at: null }));
  });
  return parsed;
}

/**
 * Reads the JSON format: an array of rule objects `{target, reason?, expires_at?, duration?}` (what
 * `export?format=json` writes) or of plain target strings. Rules already expired are skipped.
 */
export function parseImportJson(items: readonly unknown[], options: ImportOptions): ParsedImport {
  const parsed: ParsedImport = { entries: [], skipped: [] };
  items.forEach((item, index) => {
    collect(parsed, index + 1, describeItem(item), () => importedRule(item, options));
  });
  return parsed;
}

function collect(parsed: ParsedImport, line: number, value: string, read: () => Omit<ImportEntry, "line">): void {
  try {
    parsed.entries.push({ line, ...read() });
  } catch (error) {
    parsed.skipped.push({ line, value, error: error instanceof Error ? error.message : String(error) });
  }
}

/** What a skipped JSON item is reported as: its target when it has one. */
function describeItem(item: unknown): string {
  if (typeof item === "string") return item;
  const target = typeof item === "object" && item !== null ? (item as { target?: unknown }).target : undefined;
  return typeof target === "string" ? target : JSON.stringify(item) ?? String(item);
}

function importedRule(item: unknown, options: ImportOptions): Omit<ImportEntry, "line"> {
  if (typeof item === "string") return { ...checkedTarget(item, options.kinds), reason: null, expires_at: null };
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new IpwardError("invalid_input", "expected a target string or an object with a \"target\"");
  }
  const rule = item as Partial<Record<keyof DecisionRule | "duration", unknown>>;
  if (typeof rule.target !== "string") throw new IpwardError("invalid_input", "missing \"target\"");
  if (rule.reason !== undefined && rule.reason !== null && typeof rule.reason !== "string") {
    throw new IpwardError("invalid_input", "\"reason\" must be a string");
  }
  const target = checkedTarget(rule.target, options.kinds);
  let expiresAt: number | null = null;
  if (typeof rule.duration === "string") {
    expiresAt = options.now + parseDuration(rule.duration, "duration");
  } else if (rule.duration !== undefined && rule.duration !== null) {
    throw new IpwardError("invalid_input", "\"duration\" must be a string such as \"4h\"");
  } else if (typeof rule.expires_at === "string") {
    expiresAt = Date.parse(rule.expires_at);
    if (Number.isNaN(expiresAt)) throw new IpwardError("invalid_input", `invalid expires_at "${rule.expires_at}": not an ISO 8601 time`);
    if (expiresAt <= options.now) throw new IpwardError("invalid_input", `already expired at ${rule.expires_at}`);
  } else if (rule.expires_at !== undefined && rule.expires_at !== null) {
    throw new IpwardError("invalid_input", "\"expires_at\" must be an ISO 8601 time or null");
  }
  return { ...target, reason: typeof rule.reason === "string" && rule.reason !== "" ? rule.reason : null, expires_at: expiresAt };
}

/** Parses a target and checks that the list takes its kind. */
export function checkedTarget(text: string, kinds: readonly RuleKind[]): RuleTarget {
  const target = parseRuleTarget(text);
  if (!kinds.includes(target.kind)) {
    throw new IpwardError("invalid_ip", `"${text}" is a ${target.kind === "country" ? "country code" : target.kind}; this list takes ${kinds.join(", ")} targets`, {
      value: text,
    });
  }
  return target;
}

/** Writes rules in the plain format: `target # reason` per line. */
export function formatImportText(rules: readonly Pick<DecisionRule, "target" | "reason">[]): string {
  return rules.map((rule) => (rule.reason ? `${rule.target} # ${rule.reason.replaceAll(/[\r\n]+/g, " ")}` : rule.target)).map((line) => `${line}\n`).join("");
}
