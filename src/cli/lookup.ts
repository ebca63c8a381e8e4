import { IpwardError } from "../core/errors.ts";
import { ipScope, parseIp } from "../core/ip.ts";
import { openGeo } from "../geo/index.ts";
import { commandConfig } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs } from "./io.ts";

/** One lookup answer; field names are the contract of `ipward lookup --json` and the API. */
export interface LookupResult {
  ip: string;
  country_code: string | null;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}

/** `ipward lookup <ip> [--json]`: geolocation of one address, from the data dir's or the bundled database. */
export const lookupCommand: Command = {
  name: "lookup",
  summary: "geolocation of an address",
  usage: "ipward lookup <ip> [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parseCommandArgs("lookup", args, { ...DATA_OPTIONS, json: { type: "boolean" } }, 1);
    const ipText = positionals[0];
    if (ipText === undefined) throw new IpwardError("usage", "lookup: missing <ip> (usage: ipward lookup <ip> [--json])");
    const ip = parseIp(ipText);
    if (ip === null) throw new IpwardError("invalid_ip", `lookup: invalid IP address "${ipText}"`, { value: ipText });
    const config = commandConfig(values, io);
    const geo = await openGeo({ dataDir: config.data_dir, cacheSize: 0, log: (message) => io.stderr(`${message}\n`), watch: false });
    const info = geo.lookup(ip.text);
    geo.close();
    const result: LookupResult = {
      ip: ip.text,
      country_code: info?.country_code ?? null,
      country: info?.country ?? null,
      city: info?.city ?? null,
      latitude: info?.latitude ?? null,
      longitude: info?.longitude ?? null,
    };
    io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatHuman(result, ipScope(ip)));
    return 0;
  },
};

function formatHuman(result: LookupResult, scope: string): string {
  const unknown = "-";
  const country =
    result.country_code === null ? unknown : `${result.country ?? result.country_code} (${result.country_code})`;
  const coordinates =
    result.latitude === null || result.longitude === null ? unknown : `${result.latitude}, ${result.longitude}`;
  const rows: [string, string][] = [
    ["IP", result.ip],
    ["Scope", scope === "unicast" ? "public" : `${scope} (not geolocated)`],
    ["Country", country],
    ["City", result.city ?? unknown],
    ["Coordinates", coordinates],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}\n`).join("");
}
