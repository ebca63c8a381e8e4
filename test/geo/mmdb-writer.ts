/**
 * Writes small MaxMind DB files (format 2.0; 24-bit records unless asked for 28 or 32) for tests, so that data-dir
 * precedence, both record shapes and reloads can be checked with known answers.
 * Networks must not overlap. In an IPv6 database, IPv4 networks go under ::/96 as MaxMind's do.
 */
import { parseIp } from "../../src/core/ip.ts";

export type MmdbValue = string | number | bigint | boolean | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbFile {
  ipVersion: 4 | 6;
  databaseType: string;
  buildEpoch: Date;
  /** CIDR → record, e.g. `{ "8.8.8.0/24": { country_code: "FR" } }`. */
  networks: Record<string, MmdbValue>;
  /** Bits per tree record (default 24). */
  recordSize?: 24 | 28 | 32;
}

interface TreeNode {
  id: number;
  children: [TreeNode | number | null, TreeNode | number | null];
}

/** Encodes `file` as the bytes of a .mmdb file. */
export function writeMmdb(file: MmdbFile): Uint8Array {
  const root: TreeNode = { id: 0, children: [null, null] };
  const data: number[] = [];
  for (const [cidr, record] of Object.entries(file.networks)) {
    const bits = networkBits(cidr, file.ipVersion);
    insert(root, bits, data.length);
    data.push(...encode(record));
  }
  const nodes = numberNodes(root);
  const nodeCount = nodes.length;
  const recordValue = (child: TreeNode | number | null): number =>
    child === null ? nodeCount : typeof child === "number" ? nodeCount + 16 + child : child.id;
  const recordSize = file.recordSize ?? 24;
  const tree: number[] = [];
  for (const node of nodes) tree.push(...nodeBytes(recordValue(node.children[0]), recordValue(node.children[1]), recordSize));

  const metadata = encode({
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: BigInt(Math.floor(file.buildEpoch.getTime() / 1000)),
    database_type: file.databaseType,
    description: { en: "ipward test database" },
    ip_version: file.ipVersion,
    languages: ["en"],
    node_count: nodeCount,
    record_size: recordSize,
  });
  const marker = [0xab, 0xcd, 0xef, ...new TextEncoder().encode("MaxMind.com")];
  return Uint8Array.from([...tree, ...new Array<number>(16).fill(0), ...data, ...marker, ...metadata]);
}

/** One tree node: two records; 28-bit ones share a middle byte holding their top nibbles (left's first). */
function nodeBytes(left: number, right: number, recordSize: 24 | 28 | 32): number[] {
  if (recordSize === 28) {
    const middle = ((Math.floor(left / 2 ** 24) & 0x0f) << 4) | (Math.floor(right / 2 ** 24) & 0x0f);
    return [...uintBytes(left % 2 ** 24, 3), middle, ...uintBytes(right % 2 ** 24, 3)];
  }
  const width = recordSize / 8;
  return [...uintBytes(left, width), ...uintBytes(right, width)];
}

function networkBits(cidr: string, ipVersion: 4 | 6): number[] {
  const [address = "", prefixText = ""] = cidr.split("/");
  const ip = parseIp(address);
  if (ip === null) throw new Error(`bad network ${cidr}`);
  if (ip.family === 6 && ipVersion === 4) throw new Error(`${cidr} does not fit an IPv4 database`);
  const bits: number[] = ip.family === 4 && ipVersion === 6 ? new Array<number>(96).fill(0) : [];
  const prefix = Number(prefixText);
  for (let i = 0; i < prefix; i++) bits.push((ip.bytes[i >> 3]! >> (7 - (i & 7))) & 1);
  return bits;
}

function insert(root: TreeNode, bits: number[], dataOffset: number): void {
  let node = root;
  bits.forEach((bit, depth) => {
    const side = bit as 0 | 1;
    if (depth === bits.length - 1) {
      node.children[side] = dataOffset;
      return;
    }
    let next = node.children[side];
    if (next === null) {
      next = { id: -1, children: [null, null] };
      node.children[side] = next;
    }
    if (typeof next === "number") throw new Error("overlapping networks");
    node = next;
  });
}

/** Numbers nodes breadth-first from the root (node 0). */
function numberNodes(root: TreeNode): TreeNode[] {
  const nodes: TreeNode[] = [];
  const queue = [root];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    node.id = nodes.length;
    nodes.push(node);
    for (const child of node.children) if (child !== null && typeof child === "object") queue.push(child);
  }
  return nodes;
}

const TYPE = { string: 2, double: 3, uint32: 6, map: 7, uint64: 9, array: 11, boolean: 14 } as const;

function encode(value: MmdbValue): number[] {
  if (typeof value === "string") {
    const bytes = [...new TextEncoder().encode(value)];
    return [...control(TYPE.string, bytes.length), ...bytes];
  }
  if (typeof value === "boolean") return control(TYPE.boolean, value ? 1 : 0);
  if (typeof value === "bigint") {
    const bytes = bigintBytes(value);
    return [...control(TYPE.uint64, bytes.length), ...bytes];
  }
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      const bytes = value === 0 ? [] : uintBytes(value, Math.ceil(Math.log2(value + 1) / 8));
      return [...control(TYPE.uint32, bytes.length), ...bytes];
    }
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value);
    return [...control(TYPE.double, 8), ...new Uint8Array(view.buffer)];
  }
  if (Array.isArray(value)) return [...control(TYPE.array, value.length), ...value.flatMap(encode)];
  const entries = Object.entries(value);
  return [...control(TYPE.map, entries.length), ...entries.flatMap(([key, item]) => [...encode(key), ...encode(item)])];
}

/** Control byte(s): type in the top 3 bits (or an extended-type byte), then the size. */
function control(type: number, size: number): number[] {
  const extended = type > 7;
  const head = extended ? 0 : type << 5;
  const typeByte = extended ? [type - 7] : [];
  if (size < 29) return [head | size, ...typeByte];
  if (size < 285) return [head | 29, ...typeByte, size - 29];
  if (size < 65_821) return [head | 30, ...typeByte, ...uintBytes(size - 285, 2)];
  return [head | 31, ...typeByte, ...uintBytes(size - 65_821, 3)];
}

function uintBytes(value: number, length: number): number[] {
  return Array.from({ length }, (_, i) => Math.floor(value / 256 ** (length - 1 - i)) % 256);
}

function bigintBytes(value: bigint): number[] {
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return bytes;
}
