import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli } from "../support/cli.ts";
import { runIpward, tempDir } from "../support/process.ts";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("ipward-cli-import-");
});
afterEach(() => dir.cleanup());

const dataDir = (name = "data") => join(dir.path, name);
const run = (args: string[], options: { stdin?: string; data?: string } = {}) =>
  cli([...args, "--data-dir", options.data ?? dataDir()], { stdin: options.stdin, cwd: dir.path });

async function blocks(data = dataDir()) {
  const listed = await cli(["blocks", "--json", "--data-dir", data]);
  expect(listed.code).toBe(0);
  return JSON.parse(listed.stdout) as { target: string; kind: string; reason: string | null; expires_at: string | null; source: string }[];
}

const PLAIN_LIST = [
  "# blocklist from the incident on 2026-11-20",
  "",
  "198.51.100.7 credential stuffing",
  "203.0.113.0/24   # scanner range",
  "2001:DB8:ABCD::/48",
  "cn",
  "  192.0.2.1  ",
].join("\n");

describe("import-blocks", () => {
  test("a plain list: targets, optional reasons, comments; canonical targets, source import", async () => {
    const file = join(dir.path, "blocks.txt");
    writeFileSync(file, PLAIN_LIST);
    const result = await run(["import-blocks", file]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe("imported 5 blocks (5 new, 0 updated)\n");
    const imported = await blocks();
    expect(imported.map(({ target, kind, reason, source }) => ({ target, kind, reason, source }))).toEqual([
      { target: "198.51.100.7", kind: "ip", reason: "credential stuffing", source: "import" },
      { target: "203.0.113.0/24", kind: "cidr", reason: "scanner range", source: "import" },
      { target: "2001:db8:abcd::/48", kind: "cidr", reason: null, source: "import" },
      { target: "CN", kind: "country", reason: null, source: "import" },
      { target: "192.0.2.1", kind: "ip", reason: null, source: "import" },
    ]);
  });

  test("- reads stdin; importing again updates instead of duplicating", async () => {
    expect((await run(["import-blocks", "-"], { stdin: "192.0.2.1 first\n" })).stdout).toBe("imported 1 block (1 new, 0 updated)\n");
    expect((await run(["import-blocks", "-"], { stdin: "192.0.2.1 second\n192.0.2.2\n" })).stdout).toBe("imported 2 blocks (1 new, 1 updated)\n");
    expect((await blocks()).map((b) => [b.target, b.reason])).toEqual([
      ["192.0.2.1", "second"],
      ["192.0.2.2", null],
    ]);
  });

  test("one invalid line: each bad line reported with its number, nothing imported, exit 2", async () => {
    const result = await run(["import-blocks", "-"], { stdin: "192.0.2.1\n999.1.1.1 typo\n# fine\n10.0.0.0/33\n192.0.2.2\n" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stdin:2: "999.1.1.1"');
    expect(result.stderr).toContain('stdin:4: "10.0.0.0/33"');
    expect(result.stderr).toContain("nothing imported: 2 invalid entries");
    expect(result.stdout).toBe("");
    expect(await blocks()).toEqual([]);
  });

  test("--partial imports the valid entries and still exits 2", async () => {
    const result = await run(["import-blocks", "-", "--partial", "--json"], { stdin: "192.0.2.1\nnot-an-ip\n192.0.2.2\n" });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      imported: 2,
      created: 2,
      updated: 0,
      invalid: [{ line: 2, value: "not-an-ip", error: expect.stringContaining("not-an-ip") }],
    });
    expect((await blocks()).map((b) => b.target)).toEqual(["192.0.2.1", "192.0.2.2"]);
  });

  test("JSON items: bad ones are reported by position; malformed JSON and missing files are exit 2", async () => {
    const items = await run(["import-blocks", "-"], { stdin: JSON.stringify([{ target: "192.0.2.1" }, { reason: "no target" }, { target: "192.0.2.9", expires_at: "2001-01-01T00:00:00Z" }]) });
    expect(items.code).toBe(2);
    expect(items.stderr).toContain("stdin:2:");
    expect(items.stderr).toContain('stdin:3: "192.0.2.9": already expired');

    const malformed = await run(["import-blocks", "-"], { stdin: '[{"target": "192.0.2.1"' });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("not valid JSON");

    const missing = await run(["import-blocks", "nope.txt"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read "nope.txt": no such file');

    expect((await run(["import-blocks"])).code).toBe(2);
  });
});

describe("export-blocks", () => {
  test("the plain list reads back into the same targets and reasons", async () => {
    await run(["import-blocks", "-"], { stdin: PLAIN_LIST });
    expect((await run(["block-ip", "192.0.2.50", "--duration", "4h", "--reason", "temporary"])).code).toBe(0);
    const exported = await run(["export-blocks"]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^# ipward blocks exported \S+: 6 rules; 1 expire, which this format does not keep \(use --json\)\n/);
    expect(exported.stdout).toContain("198.51.100.7 # credential stuffing\n");
    expect(exported.stdout).toContain("\nCN\n");

    const other = dataDir("other");
    expect((await run(["import-blocks", "-"], { stdin: exported.stdout, data: other })).stdout).toBe("imported 6 blocks (6 new, 0 updated)\n");
    const pick = (list: Awaited<ReturnType<typeof blocks>>) => list.map(({ target, kind, reason }) => ({ target, kind, reason }));
    expect(pick(await blocks(other))).toEqual(pick(await blocks()));
  });

  test("--json is the array blocks --json prints, and imports back with expiry times kept", async () => {
    await run(["block-ip", "192.0.2.50", "--duration", "4h", "--reason", "temporary"]);
    await run(["block-country", "RU"]);
    const exported = await run(["export-blocks", "--json"]);
    expect(JSON.parse(exported.stdout)).toEqual(await blocks());

    const other = dataDir("other");
    const imported = await runIpward(["import-blocks", "-", "--data-dir", other], { stdin: exported.stdout });
    expect(imported).toMatchObject({ code: 0, stdout: "imported 2 blocks (2 new, 0 updated)\n" });
    const copies = await blocks(other);
    expect(copies.map(({ target, kind, reason, expires_at, source }) => ({ target, kind, reason, expires_at, source }))).toEqual(
      (await blocks()).map(({ target, kind, reason, expires_at }) => ({ target, kind, reason, expires_at, source: "import" })),
    );
  });

  test("an empty list exports a header only", async () => {
    const exported = await run(["export-blocks"]);
    expect(exported.stdout).toMatch(/^# ipward blocks exported \S+: 0 rules\n$/);
    expect(JSON.parse((await run(["export-blocks", "--json"])).stdout)).toEqual([]);
  });
});
