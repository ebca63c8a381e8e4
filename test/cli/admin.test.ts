import { Database } from "bun:sqlite";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { cli } from "../support/cli.ts";
import { runIpward, tempDir } from "../support/process.ts";
import { ManualClock, testApp } from "../support/app.ts";

const PASSWORD = "tr0ub4dor&3-horse";
let data: ReturnType<typeof tempDir>;
beforeEach(() => {
  data = tempDir("ipward-cli-admin-");
});
afterEach(() => data.cleanup());

const admin = (args: string[], stdin?: string) => cli(["admin", ...args, "--data-dir", data.path], { stdin });

function passwordHashOf(username: string): string | undefined {
  const db = new Database(join(data.path, "ipward.db"), { readonly: true });
  try {
    return (db.query("SELECT password_hash FROM admin_user WHERE username = ?").get(username) as { password_hash: string } | null)?.password_hash;
  } finally {
    db.close();
  }
}

describe("ipward admin", () => {
  test("create stores an argon2id hash of the first stdin line and never prints the password", async () => {
    const created = await admin(["create", "alice"], `${PASSWORD}\nignored second line\n`);
    expect(created).toMatchObject({ code: 0, stdout: "created admin user alice\n", stderr: "" });
    const hash = passwordHashOf("alice") as string;
    expect(hash).toStartWith("$argon2id$");
    expect(await Bun.password.verify(PASSWORD, hash)).toBe(true);

    const listed = await admin(["list", "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([{ id: 1, username: "alice", created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) }]);
    expect(listed.stdout + created.stdout + created.stderr).not.toContain(PASSWORD);
  });

  const usageCases: [string, string[], string | undefined, string][] = [
    ["no subcommand", [], undefined, "missing subcommand"],
    ["an unknown subcommand", ["delete", "alice"], PASSWORD, 'unknown subcommand "delete"'],
    ["no username", ["create"], PASSWORD, "missing <user>"],
    ["an invalid username", ["create", "ali/ce"], PASSWORD, 'invalid username "ali/ce"'],
    ["no password on stdin", ["create", "alice"], "", "no password"],
    ["a password under 10 characters", ["create", "alice"], "short\n", "at least 10 characters"],
    ["an unknown flag", ["create", "alice", "--role", "x"], PASSWORD, "--role"],
    ["passwd of an unknown user", ["passwd", "nobody"], PASSWORD, 'no admin user "nobody"'],
  ];
  for (const [name, args, stdin, message] of usageCases) {
    test(`exits 2 naming the problem: ${name}`, async () => {
      const result = await admin(args, stdin);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    });
  }

  test("create of an existing user exits 2 saying it already exists, and keeps the old password", async () => {
    expect((await admin(["create", "alice"], PASSWORD)).code).toBe(0);
    const again = await admin(["create", "alice"], "another-password-1\n");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('admin user "alice" already exists');
    expect(await Bun.password.verify(PASSWORD, passwordHashOf("alice") as string)).toBe(true);
  });

  test("passwd changes the password and signs the user out everywhere", async () => {
    const t = await testApp({ data_dir: data.path }, new ManualClock());
    try {
      expect((await admin(["create", "alice"], PASSWORD)).code).toBe(0);
      const signIn = await t.request("/_ipward/api/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice", password: PASSWORD }) });
      const cookie = (signIn.headers.get("set-cookie") ?? "").split(";", 1)[0];
      expect((await t.request("/_ipward/api/session", { headers: { cookie } })).status).toBe(200);

      const changed = await admin(["passwd", "alice"], "a-brand-new-password\n");
      expect(changed).toMatchObject({ code: 0, stdout: "changed the password of alice; its sessions were signed out\n" });
      expect((await t.request("/_ipward/api/session", { headers: { cookie } })).status).toBe(401);
      const oldPassword = await t.request("/_ipward/api/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice", password: PASSWORD }), socketIp: "192.0.2.20" });
      expect(oldPassword.status).toBe(401);
      const newPassword = await t.request("/_ipward/api/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice", password: "a-brand-new-password" }), socketIp: "192.0.2.21" });
      expect(newPassword.status).toBe(200);
    } finally {
      await t.close();
    }
  });

  test("as a real process, reading the password from piped stdin", async () => {
    const created = await runIpward(["admin", "create", "bob", "--data-dir", data.path], { stdin: `${PASSWORD}\n` });
    expect(created).toMatchObject({ code: 0, stdout: "created admin user bob\n" });
    expect(created.stderr).not.toContain(PASSWORD);
    expect(await Bun.password.verify(PASSWORD, passwordHashOf("bob") as string)).toBe(true);
    const duplicate = await runIpward(["admin", "create", "bob", "--data-dir", data.path], { stdin: `${PASSWORD}\n` });
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain("already exists");
  });

  test("help lists the admin command", async () => {
    const help = await cli(["help"]);
    expect(help.stdout).toMatch(/admin\s+admin accounts/);
  });
});
