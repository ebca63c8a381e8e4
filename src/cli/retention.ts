import { parseDuration } from "../core/duration.ts";
import { IpwardError } from "../core/errors.ts";
import { normalizeIp } from "../core/ip.ts";
import { withStore } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs } from "./io.ts";

/** `ipward purge [--older-than 90d]`: deletes request-log rows older than the retention period. */
export const purgeCommand: Command = {
  name: "purge",
  summary: "delete request-log rows older than --older-than (default: retention.days)",
  usage: "ipward purge [--older-than 90d] [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values } = parseCommandArgs("purge", args, { ...DATA_OPTIONS, "older-than": { type: "string" }, json: { type: "boolean" } });
    return withStore(values, io, (store, config) => {
      const olderThan = values["older-than"] ?? `${config.retention.days}d`;
      const cutoff = Date.now() - parseDuration(olderThan, "--older-than");
      const removed = store.purgeLogs(cutoff);
      const before = new Date(cutoff).toISOString();
      io.stdout(values.json ? `${JSON.stringify({ removed, before })}\n` : `purged ${removed} log rows older than ${before}\n`);
      return 0;
    });
  },
};

/** `ipward forget <ip>`: erases every log row, suspicious record and rule about one address (GDPR erasure). */
export const forgetCommand: Command = {
  name: "forget",
  summary: "erase every row about an address (log rows, suspicious records, its rules)",
  usage: "ipward forget <ip> [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseCommandArgs("forget", args, { ...DATA_OPTIONS, json: { type: "boolean" } }, 1);
    if (positionals[0] === undefined) throw new IpwardError("usage", "forget: missing <ip>");
    const ip = normalizeIp(positionals[0]);
    if (ip === null) throw new IpwardError("invalid_ip", `forget: invalid IP address "${positionals[0]}"`);
    return withStore(values, io, (store) => {
      const removed = store.forgetIp(ip);
      io.stdout(values.json ? `${JSON.stringify({ ip, removed })}\n` : `forgot ${ip}: ${removed} rows removed\n`);
      return 0;
    });
  },
};
