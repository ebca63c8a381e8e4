import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runIpward, startServer, tempDir } from "../support/process.ts";

const data = tempDir("ipward-e2e-drain-");
afterAll(() => data.cleanup());

test("3,000 requests then SIGTERM leave exactly 3,000 rows; blocked ones say block", async () => {
  expect((await runIpward(["block-ip", "203.0.113.0/24", "--data-dir", data.path])).code).toBe(0);
  const server = await startServer(["--data-dir", data.path]);
  const statuses: number[] = [];
  for (let batch = 0; batch < 30; batch++) {
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        const ip = n % 10 === 0 ? `203.0.113.${n % 250}` : `198.18.${Math.floor(n / 250)}.${n % 250}`;
        return fetch(`${server.url}/?n=${n}`, { headers: { "x-forwarded-for": ip, "user-agent": "drain-test" } });
      }),
    );
    for (const response of responses) {
      statuses.push(response.status);
      await response.arrayBuffer();
    }
  }
  expect(await server.stop("SIGTERM")).toBe(0);
  expect(statuses.filter((s) => s === 403)).toHaveLength(300);

  const db = new Database(join(data.path, "ipward.db"), { readonly: true });
  const count = (where: string) => (db.query(`SELECT count(*) AS n FROM request_log WHERE ${where}`).get() as { n: number }).n;
  expect(count("1")).toBe(3000);
  expect(count("decision = 'block' AND status = 403 AND ip LIKE '203.0.113.%'")).toBe(300);
  expect(count("decision = 'allow' AND status = 200 AND path = '/'")).toBe(2700);
  db.close();

  const logs = await runIpward(["logs", "--ip", "203.0.113.10", "--json", "--data-dir", data.path]);
  expect(logs.code).toBe(0);
  const rows = JSON.parse(logs.stdout) as Record<string, unknown>[];
  expect(rows.length).toBeGreaterThan(0);
  expect(rows[0]).toMatchObject({ ip: "203.0.113.10", method: "GET", path: "/", status: 403, decision: "block", rule: "203.0.113.0/24", user_agent: "drain-test" });
});

test("SIGTERM sent the moment the server says it listens still drains and exits 0", async () => {
  // Handlers used to be installed after the admin set-up line: a SIGTERM in between killed the
  // process with the signal's default action (exit 143 in 4 of 6 tries).
  const codes: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = await startServer(["--data-dir", data.path]);
    codes.push(await server.stop("SIGTERM"));
  }
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});
