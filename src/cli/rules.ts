import { parseRuleTarget } from "../core/decisions.ts";
import { parseDuration } from "../core/duration.ts";
import { IpwardError } from "../core/errors.ts";
import type { RuleKind, RuleList } from "../core/ports.ts";
import { toRuleJson } from "../store/json.ts";
import { withStore } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs, printRows } from "./io.ts";

// The block/allow commands differ only in list, accepted target kinds and wording, so one
// factory makes them all rather than seven near-identical files.

const ADD_OPTIONS = { ...DATA_OPTIONS, reason: { type: "string" }, duration: { type: "string" }, json: { type: "boolean" } } as const;
const REMOVE_OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const;
const LIST_OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const;
const RULE_COLUMNS = ["id", "target", "kind", "reason", "created_at", "expires_at", "source"];

interface TargetSpec {
  /** The word in messages: "IP or CIDR", "country code". */
  noun: string;
  kinds: RuleKind[];
}

const IP_TARGET: TargetSpec = { noun: "IP or CIDR", kinds: ["ip", "cidr"] };
const COUNTRY_TARGET: TargetSpec = { noun: "country code", kinds: ["country"] };

function requireTarget(command: string, text: string | undefined, spec: TargetSpec) {
  if (text === undefined || text.trim() === "") throw new IpwardError("usage", `${command}: missing ${spec.noun}`);
  const parsed = parseRuleTarget(text);
  if (!spec.kinds.includes(parsed.kind)) {
    throw new IpwardError("invalid_ip", `${command}: "${text}" is not an ${spec.noun}`);
  }
  return parsed;
}

function addCommand(name: string, list: RuleList, spec: TargetSpec, verb: string): Command {
  return {
    name,
    summary: `${verb} ${spec.kinds.includes("country") ? "a country" : "an IP or CIDR range"} (permanent unless --duration)`,
    usage: `ipward ${name} <${spec.noun.replaceAll(" ", "-").toLowerCase()}> [--reason TEXT] [--duration 4h] [--json] [--data-dir DIR]`,
    async run(args: string[], io: CliIo) {
      const { values, positionals } = parseCommandArgs(name, args, ADD_OPTIONS, 1);
      const { kind, target } = requireTarget(name, positionals[0], spec);
      const durationMs = values.duration === undefined ? null : parseDuration(values.duration, "--duration");
      return withStore(values, io, (store) => {
        const now = Date.now();
        const rule = store.addRule({
          list,
          target,
          kind,
          reason: values.reason ?? null,
          expires_at: durationMs === null ? null : now + durationMs,
          source: "cli",
          created_at: now,
        });
        if (values.json) io.stdout(`${JSON.stringify(toRuleJson(rule), null, 2)}\n`);
        else io.stdout(`${verb}ed ${target}${rule.expires_at ? ` until ${new Date(rule.expires_at).toISOString()}` : ""}\n`);
        return 0;
      });
    },
  };
}

function removeCommand(name: string, list: RuleList, spec: TargetSpec, done: string): Command {
  return {
    name,
    summary: `remove ${list === "allow" ? "an" : "a"} ${list} rule`,
    usage: `ipward ${name} <${spec.noun.replaceAll(" ", "-").toLowerCase()}> [--data-dir DIR]`,
    async run(args: string[], io: CliIo) {
      const { values, positionals } = parseCommandArgs(name, args, REMOVE_OPTIONS, 1);
      const { target } = requireTarget(name, positionals[0], spec);
      return withStore(values, io, (store) => {
        const removed = store.removeRule(list, target);
        if (values.json) io.stdout(`${JSON.stringify({ target, removed })}\n`);
        if (removed === 0) {
          io.stderr(`ipward: ${name}: no ${list} rule for ${target}\n`);
          return 1;
        }
        if (!values.json) io.stdout(`${done} ${target}\n`);
        return 0;
      });
    },
  };
}

function listCommand(name: string, list: RuleList): Command {
  return {
    name,
    summary: `list active ${list} rules`,
    usage: `ipward ${name} [--json] [--data-dir DIR]`,
    async run(args: string[], io: CliIo) {
      const { values } = parseCommandArgs(name, args, LIST_OPTIONS);
      return withStore(values, io, (store) => {
        const rows = store.listRules(list, Date.now()).map(toRuleJson);
        printRows(io, rows, values.json === true, RULE_COLUMNS);
        return 0;
      });
    },
  };
}

export const ruleCommands: Command[] = [
  addCommand("block-ip", "block", IP_TARGET, "block"),
  removeCommand("unblock-ip", "block", IP_TARGET, "unblocked"),
  listCommand("blocks", "block"),
  addCommand("allow-ip", "allow", IP_TARGET, "allow"),
  removeCommand("unallow-ip", "allow", IP_TARGET, "removed allow rule for"),
  listCommand("allows", "allow"),
  addCommand("block-country", "block", COUNTRY_TARGET, "block"),
  removeCommand("unblock-country", "block", COUNTRY_TARGET, "unblocked"),
];
