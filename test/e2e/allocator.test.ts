import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { startServer, tempDir } from "../support/process.ts";

const data = tempDir("ipward-e2e-allocator-");
afterAll(() => data.cleanup());

/** The environment of a running process, as the kernel holds it (after any execve). */
function environmentOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
}

test("the server runs with mimalloc's purging off, in the process that was started (same pid)", async () => {
  const server = await startServer(["--data-dir", data.path]);
  try {
    expect(environmentOf(server.process.pid).MIMALLOC_PURGE_DELAY).toBe("-1");
    expect((await fetch(server.url)).status).toBe(200);
  } finally {
    expect(await server.stop("SIGTERM")).toBe(0);
  }
});

test("an operator's MIMALLOC_PURGE_DELAY is kept", async () => {
  const server = await startServer(["--data-dir", data.path], { env: { MIMALLOC_PURGE_DELAY: "25" } });
  try {
    expect(environmentOf(server.process.pid).MIMALLOC_PURGE_DELAY).toBe("25");
  } finally {
    expect(await server.stop("SIGTERM")).toBe(0);
  }
});
