import type { SuspiciousStatus } from "../core/detection/ports.ts";
import { IpwardError } from "../core/errors.ts";
import { openBunSqlite } from "../store/bun-sqlite.ts";
import { openDetectionStore } from "../store/detection-store.ts";
import { toSuspiciousJson } from "../store/json.ts";
import { defaultDbPath } from "../store/sqlite-store.ts";
import { commandConfig } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs, printRows } from "./io.ts";
import { parseLimit } from "./logs.ts";

const STATUSES: SuspiciousStatus[] = ["open", "blocked", "dismissed"];
const OPTIONS = { ...DATA_OPTIONS, status: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } } as const;

/** `ipward suspicious [--status open] [--json]`: suspicious-IP records, most recently seen first. */
export const suspiciousCommand: Command = {
  name: "suspicious",
  summary: "list suspicious IPs (all statuses unless --status)",
  usage: "ipward suspicious [--status open|blocked|dismissed] [--limit 100] [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("suspicious", args, OPTIONS);
    const status = values.status as SuspiciousStatus | undefined;
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new IpwardError("invalid_input", `suspicious: invalid --status "${values.status}": expected ${STATUSES.join(", ")}`);
    }
    const limit = values.limit === undefined ? 100 : parseLimit(values.limit, "--limit");
    const config = commandConfig(values, io);
    const store = openDetectionStore(defaultDbPath(config.data_dir), { driver: openBunSqlite });
    try {
      const rows = (await store.listSuspicious({ status, limit })).map(toSuspiciousJson);
      printRows(io, rows, values.json === true, ["id", "ip", "rule", "count", "status", "last_seen", "reason"]);
      return 0;
    } finally {
      store.close();
    }
  },
};
