import { afterAll, expect, test } from "bun:test";
import { environmentOf, startServer, tempDir } from "../support/process.ts";

const data = tempDir("ipward-e2e-allocator-");
afterAll(() => data.cleanup());

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
