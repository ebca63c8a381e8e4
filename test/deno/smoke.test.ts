import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { eventually, ROOT, runIpward, tempDir } from "../support/process.ts";

const DENO = join(ROOT, "node_modules", ".bin", "deno");
const data = tempDir("ipward-deno-");
let deno: Subprocess<"ignore", "pipe", "pipe">;
let url: string;
let stderr = "";

/** Starts `deno run -A src/deno.ts serve` on a free port and resolves with its URL once it listens. */
async function startDeno(): Promise<string> {
  deno = Bun.spawn([DENO, "run", "-A", join(ROOT, "src", "deno.ts"), "serve", "--port", "0", "--data-dir", data.path], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? data.path, NO_COLOR: "1" },
  });
  const decoder = new TextDecoder();
  const reader = deno.stderr.getReader();
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deno did not start:\n${stderr}`)), 20_000);
    (async () => {
      let listening = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value, { stream: true });
        const match = /listening on (http:\/\/\S+):(\d+)/.exec(stderr);
        if (match && !listening) {
          listening = true;
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${match[2]}`);
        }
      }
      if (!listening) {
        clearTimeout(timer);
        reject(new Error(`deno exited before listening:\n${stderr}`));
      }
    })();
  });
}

beforeAll(async () => {
  url = await startDeno();
});
afterAll(() => {
  if (deno.exitCode === null) deno.kill("SIGKILL");
  data.cleanup();
});

const from = async (ip: string) => {
  const response = await fetch(`${url}/`, { headers: { "x-forwarded-for": ip } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("the server under Deno (Deno.serve, node:sqlite)", () => {
  test("the demo answers with the client IP and its country", async () => {
    const { status, body } = await from("8.8.8.8");
    expect(status).toBe(200);
    expect(body).toMatchObject({ message: "Welcome to the IP Tracking System", ip: "8.8.8.8", country: "United States" });
  });

  test("a block made by the Bun CLI on the same data dir is enforced within 1 s", async () => {
    expect((await runIpward(["block-ip", "198.51.100.0/24", "--data-dir", data.path])).code).toBe(0);
    const elapsed = await eventually(async () => (await from("198.51.100.9")).status === 403, 1_000, "the Deno server to enforce the block");
    expect(elapsed).toBeLessThan(1_000);
  });

  test("SIGTERM drains the request log into the SQLite file and exits 0", async () => {
    deno.kill("SIGTERM");
    expect(await deno.exited).toBe(0);
    expect(stderr).toContain("SIGTERM: draining the request log");
    const db = new Database(join(data.path, "ipward.db"), { readonly: true });
    try {
      const rows = db.query("SELECT ip, status, decision, country_code FROM request_log ORDER BY id").all();
      expect(rows).toContainEqual({ ip: "8.8.8.8", status: 200, decision: "allow", country_code: "US" });
      expect(rows).toContainEqual({ ip: "198.51.100.9", status: 403, decision: "block", country_code: null });
    } finally {
      db.close();
    }
  });
});
