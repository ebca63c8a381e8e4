import { IpwardError } from "../core/errors.ts";
import { toCsv } from "../core/csv.ts";
import { normalizeIp } from "../core/ip.ts";
import { parseTimeOrAgo } from "../core/time.ts";
import { toLogJson } from "../store/json.ts";
import { withStore } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs, printRows } from "./io.ts";

const LOGS_OPTIONS = {
  ...DATA_OPTIONS,
  ip: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
  csv: { type: "boolean" },
} as const;

const ALL_COLUMNS = [
  "ts", "ip", "method", "path", "status", "duration_ms", "user_agent", "referer",
  "country_code", "country", "city", "decision", "rule",
];
const TABLE_COLUMNS = ["ts", "ip", "method", "path", "status", "decision", "rule", "country_code", "city"];

/** Reads a positive whole number option. */
export function parseLimit(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new IpwardError("invalid_input", `invalid ${flag} "${text}": expected a whole number of at least 1`);
  }
  return Number(text);
}

export const logsCommand: Command = {
  name: "logs",
  summary: "query the request log, newest first",
  usage: "ipward logs [--ip IP] [--since 1h|2026-01-01T00:00:00Z] [--limit 100] [--json|--csv] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("logs", args, LOGS_OPTIONS);
    if (values.json && values.csv) throw new IpwardError("usage", "logs: choose one of --json and --csv");
    const ip = values.ip === undefined ? undefined : normalizeIp(values.ip);
    if (ip === null) throw new IpwardError("invalid_ip", `logs: invalid --ip "${values.ip}": expected an IPv4 or IPv6 address`);
    const since = values.since === undefined ? undefined : parseTimeOrAgo(values.since, Date.now(), "--since");
    const limit = values.limit === undefined ? 100 : parseLimit(values.limit, "--limit");

    return withStore(values, io, (store) => {
      const rows = store.queryLogs({ ip, since, limit }).map(toLogJson);
      if (values.csv) io.stdout(toCsv(rows, ALL_COLUMNS));
      else printRows(io, rows, values.json === true, TABLE_COLUMNS);
      return 0;
    });
  },
};
