import { IpwardError, isIpwardError } from "../core/errors.ts";
import { ipScope, parseIp } from "../core/ip.ts";
import { openGeo } from "../geo/index.ts";
import { parseCommandArgs } from "./io.ts";

/** What the lookup command needs from the CLI: output streams (text written as given) and the data dir. */
export interface LookupIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  dataDir: string;
}

/** One lookup answer; field names are the contract of `ipward lookup --json` and the API. */
export interface LookupResult {
  ip: string;
  country_code: string | null;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}

/**
 * `ipward lookup <ip> [--json]`: geolocation of one address. Returns the exit status: 0, or 2 for a
 * usage error or an invalid address, 1 for a runtime failure (message on stderr either way).
 */
export async function lookupCommand(args: string[], io: LookupIo): Promise<number> {
  try {
    await runLookup(args, io);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`ipward: ${message}\n`);
    return isIpwardError(error, "usage", "invalid_ip") ? 2 : 1;
  }
}

/** The lookup itself; throws IpwardError("usage" | "invalid_ip") for bad input. */
export async function runLookup(args: string[], io: LookupIo): Promise<void> {
  const { values, positionals } = parseCommandArgs("lookup", args, { json: { type: "boolean" } }, 1);
  const ipText = positionals[0];
  if (ipText === undefined) throw new IpwardError("usage", "lookup: missing <ip> (usage: ipward lookup <ip> [--json])");
  const ip = parseIp(ipText);
  if (ip === null) throw new IpwardError("invalid_ip", `lookup: invalid IP address "${ipText}"`, { value: ipText });
  const geo = await openGeo({ dataDir: io.dataDir, cacheSize: 0, log: (message) => io.stderr(`${message}\n`), watch: false });
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
  io.stdout(values.json ? `${JSON.stringify(result)}\n` : formatHuman(result, ipScope(ip)));
}

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
