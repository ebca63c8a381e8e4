import { Reader, type Response } from "maxmind";
import { type ParsedIp, parseIp } from "../core/ip.ts";
import { BoundedCache } from "./bounded-cache.ts";
import { type TreeSearch, treeSearch } from "./mmdb-tree.ts";

export type IpFamily = 4 | 6;

/** Where a database came from: the copy embedded in ipward, or a file path in the data dir. */
export type DatabaseSource = "bundled" | string;

/** One opened MaxMind-format database and the address families it answers. */
export interface GeoDatabase {
  reader: Reader<Response>;
  /** Finds an already parsed address in the search tree (a record to decode with `decode`, or -1). */
  search: TreeSearch;
  /** The data of `record`, which `search` found for `ip`. */
  decode(record: number, ip: ParsedIp): Response | null;
  source: DatabaseSource;
  buildEpoch: Date;
  families: readonly IpFamily[];
}

/** The database answering each address family. */
export interface DatabasePair {
  4: GeoDatabase;
  6: GeoDatabase;
}

/** What `ipward check` reports about each family's database. */
export interface GeoDatabaseInfo {
  family: IpFamily;
  source: DatabaseSource;
  buildEpoch: Date;
}

const DATA_SECTION_SEPARATOR = 16;
/** Decoded data-section entries kept per database (cities, countries: a few MB at most). */
const RECORD_CACHE_SIZE = 50_000;

/**
 * Opens a database from its bytes and checks it is usable for `families`.
 * Throws an Error saying what is wrong when the bytes are not a usable MaxMind DB.
 */
export function openDatabase(bytes: Buffer, source: DatabaseSource, families: readonly IpFamily[]): GeoDatabase {
  let reader: Reader<Response>;
  try {
    // Decoded records are cached by their offset: many addresses share one city record, and
    // decoding is most of an uncached lookup's cost.
    reader = new Reader<Response>(bytes, { cache: new BoundedCache<number, unknown>(RECORD_CACHE_SIZE) });
  } catch (error) {
    throw new Error(`not a MaxMind DB file (${errorMessage(error)})`);
  }
  const { metadata } = reader;
  if (metadata.binaryFormatMajorVersion !== 2) {
    throw new Error(`unsupported MaxMind DB format version ${metadata.binaryFormatMajorVersion}`);
  }
  if (metadata.ipVersion !== 4 && metadata.ipVersion !== 6) {
    throw new Error(`unsupported ip_version ${metadata.ipVersion}`);
  }
  if (!(metadata.nodeCount > 0) || metadata.searchTreeSize + DATA_SECTION_SEPARATOR > bytes.length) {
    throw new Error("search tree is larger than the file (truncated?)");
  }
  if (families.includes(6) && metadata.ipVersion === 4) {
    throw new Error("it is an IPv4-only database, so it cannot answer IPv6 lookups");
  }
  if (!(metadata.buildEpoch instanceof Date) || Number.isNaN(metadata.buildEpoch.getTime())) {
    throw new Error("its metadata has no valid build_epoch");
  }
  try {
    // Walk the tree and decode one record per family so a damaged file fails here, not on a request.
    if (families.includes(4)) reader.get("8.8.8.8");
    if (families.includes(6)) reader.get("2001:4860:4860::8888");
  } catch (error) {
    throw new Error(`damaged search tree or data section (${errorMessage(error)})`);
  }
  const search = treeSearch(bytes, metadata);
  return { reader, search, decode: recordDecoder(reader, search, families), source, buildEpoch: metadata.buildEpoch, families };
}

/** The maxmind reader's (TypeScript-private) decoder of a data pointer, the value `search` returns. */
type PointerReader = { resolveDataPointer?: (pointer: number) => Response };

/**
 * Decodes a record at the pointer the search found: maxmind's `get` would parse the address text
 * and walk the tree again first, about two thirds of an uncached lookup. That entry point is
 * private to the maxmind reader, so it is used only when it is there and gives `get`'s answer for
 * a known address of each family; otherwise decoding goes through `get`.
 */
function recordDecoder(reader: Reader<Response>, search: TreeSearch, families: readonly IpFamily[]): GeoDatabase["decode"] {
  const viaText = (_record: number, ip: ParsedIp) => reader.get(ip.text);
  const resolve = (reader as unknown as PointerReader).resolveDataPointer;
  if (typeof resolve !== "function") return viaText;
  const direct = (record: number) => resolve.call(reader, record) as Response | null;
  const probes = families.map((family) => parseIp(family === 4 ? "8.8.8.8" : "2001:4860:4860::8888")!);
  try {
    for (const ip of probes) {
      const record = search(ip);
      if (record >= 0 && JSON.stringify(direct(record)) !== JSON.stringify(reader.get(ip.text))) return viaText;
    }
  } catch {
    return viaText;
  }
  return direct;
}

/** Human-readable message of a thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
