import type { ParsedIp } from "../core/ip.ts";

/**
 * Bits resolved by one table lookup before the walk: the address's first two bytes (a 256 KiB
 * table per family). The tree's top levels are the same few nodes for every address; skipping them
 * halved the walk for random addresses.
 */
const JUMP_BITS = 16;

/** What a search needs from a database's metadata (the maxmind reader's `metadata` has these fields). */
export interface TreeShape {
  nodeCount: number;
  recordSize: number;
  ipVersion: number;
}

/**
 * Finds where an address's record is in a MaxMind DB search tree: the record value (greater than
 * the node count; the maxmind reader's "data pointer"), or -1 when the address is not in the tree.
 */
export type TreeSearch = (ip: ParsedIp) => number;

/**
 * A search over the tree of `db` that walks the address's bytes as already parsed by ipward, with
 * plain byte reads. maxmind's own `get` re-parses the address text and reads every node through
 * Buffer#readUIntBE: about 0.85 µs per lookup against 0.08 µs for this search (131 072 random
 * public addresses on the bundled databases).
 * Follows the MaxMind DB format 2.0 (24, 28 and 32-bit records; IPv4 in an IPv6 tree under ::/96).
 */
export function treeSearch(db: Uint8Array, shape: TreeShape): TreeSearch {
  const { nodeCount, recordSize } = shape;
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32) throw new Error(`unsupported record size ${recordSize}`);
  const nodeBytes = recordSize / 4;

  /** The left (bit 0) or right (bit 1) record of node `node`. */
  function child(node: number, bit: number): number {
    const offset = node * nodeBytes;
    if (recordSize === 24) {
      const at = offset + bit * 3;
      return (db[at]! << 16) | (db[at + 1]! << 8) | db[at + 2]!;
    }
    if (recordSize === 28) {
      // The middle byte holds the top four bits of both records: high nibble left, low nibble right.
      const high = bit === 0 ? (db[offset + 3]! & 0xf0) << 20 : (db[offset + 3]! & 0x0f) << 24;
      const at = offset + bit * 4;
      return high | (db[at]! << 16) | (db[at + 1]! << 8) | db[at + 2]!;
    }
    const at = offset + bit * 4;
    return ((db[at]! << 24) | (db[at + 1]! << 16) | (db[at + 2]! << 8) | db[at + 3]!) >>> 0;
  }

  // IPv4 addresses sit under ::/96 of an IPv6 tree: 96 left turns from the root.
  let ipv4Start = 0;
  if (shape.ipVersion === 6) {
    for (let depth = 0; depth < 96 && ipv4Start < nodeCount; depth++) ipv4Start = child(ipv4Start, 0);
  }

  /** Where the first JUMP_BITS bits lead from `start`, for every value of those bits. */
  function jumpTable(start: number): Uint32Array {
    const table = new Uint32Array(1 << JUMP_BITS);
    const fill = (node: number, depth: number, prefix: number): void => {
      if (depth === JUMP_BITS || node >= nodeCount) {
        // A record (or "not found") above JUMP_BITS answers every address below it.
        const span = JUMP_BITS - depth;
        table.fill(node, prefix << span, (prefix + 1) << span);
        return;
      }
      fill(child(node, 0), depth + 1, prefix * 2);
      fill(child(node, 1), depth + 1, prefix * 2 + 1);
    };
    fill(start, 0, 0);
    return table;
  }
  // Built on first use: a database may answer one family only.
  let v4Jumps: Uint32Array | undefined;
  let v6Jumps: Uint32Array | undefined;

  return function searchTree(ip: ParsedIp): number {
    const bytes = ip.bytes;
    const jumps = bytes.length === 4 ? (v4Jumps ??= jumpTable(ipv4Start)) : (v6Jumps ??= jumpTable(0));
    const bitCount = bytes.length * 8;
    let node = jumps[(bytes[0]! << 8) | bytes[1]!]!;
    for (let depth = JUMP_BITS; depth < bitCount && node < nodeCount; depth++) {
      node = child(node, (bytes[depth >>> 3]! >>> (7 - (depth & 7))) & 1);
    }
    return node > nodeCount ? node : -1;
  };
}
