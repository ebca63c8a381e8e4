import { changePassword, createAccount } from "../auth/accounts.ts";
import { validateUsername } from "../core/admin-account.ts";
import { IpwardError, isIpwardError } from "../core/errors.ts";
import { type AdminStore, openAdminStore } from "../store/admin-store.ts";
import { openBunSqlite } from "../store/bun-sqlite.ts";
import { isoTime } from "../store/json.ts";
import { defaultDbPath } from "../store/sqlite-store.ts";
import { commandConfig } from "./data.ts";
import { type CliIo, type Command, DATA_OPTIONS, parseCommandArgs, printRows } from "./io.ts";

const OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const;
const SUBCOMMANDS = "create <user>, passwd <user> or list";

/**
 * `ipward admin create <user>` / `admin passwd <user>` / `admin list`: admin accounts of the web
 * admin and API. The password is the first line of stdin, or is asked for (twice, not echoed) when
 * stdin is a terminal; it is never printed. `passwd` signs the account out everywhere.
 */
export const adminCommand: Command = {
  name: "admin",
  summary: "admin accounts: create <user>, passwd <user>, list",
  usage:
    "ipward admin create <user> [--data-dir DIR]   (password: first line of stdin, or a prompt on a terminal)\n" +
    "ipward admin passwd <user> [--data-dir DIR]\n" +
    "ipward admin list [--json] [--data-dir DIR]",
  async run(args: string[], io: CliIo) {
    const [subcommand, ...rest] = args;
    if (subcommand === undefined || subcommand.startsWith("-")) throw new IpwardError("usage", `admin: missing subcommand (${SUBCOMMANDS})`);
    const name = `admin ${subcommand}`;
    if (subcommand === "list") {
      const { values } = parseCommandArgs(name, rest, OPTIONS);
      return withAdminStore(values, io, (store) => {
        const users = store.listUsers().map((user) => ({ ...user, created_at: isoTime(user.created_at) }));
        printRows(io, users, values.json === true, ["id", "username", "created_at"]);
        return 0;
      });
    }
    if (subcommand !== "create" && subcommand !== "passwd") {
      throw new IpwardError("usage", `admin: unknown subcommand "${subcommand}" (${SUBCOMMANDS})`);
    }
    const { values, positionals } = parseCommandArgs(name, rest, DATA_OPTIONS, 1);
    const username = positionals[0];
    if (username === undefined) throw new IpwardError("usage", `${name}: missing <user>`);
    validateUsername(username);
    return withAdminStore(values, io, async (store) => {
      const exists = store.findUser(username) !== null;
      if (subcommand === "create" && exists) throw new IpwardError("invalid_input", `${name}: admin user "${username}" already exists`);
      if (subcommand === "passwd" && !exists) throw new IpwardError("invalid_input", `${name}: no admin user "${username}"`);
      const password = await readNewPassword(io, name);
      if (subcommand === "create") {
        try {
          await createAccount(store, username, password, Date.now());
        } catch (error) {
          if (isIpwardError(error, "conflict")) throw new IpwardError("invalid_input", `${name}: admin user "${username}" already exists`);
          throw error;
        }
        io.stdout(`created admin user ${username}\n`);
      } else {
        await changePassword(store, username, password);
        io.stdout(`changed the password of ${username}; its sessions were signed out\n`);
      }
      return 0;
    });
  },
};

async function withAdminStore<T>(values: { "data-dir"?: string; config?: string }, io: CliIo, work: (store: AdminStore) => T | Promise<T>): Promise<T> {
  const config = commandConfig(values, io);
  const store = openAdminStore(defaultDbPath(config.data_dir), { driver: openBunSqlite });
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

/** The new password: asked twice on a terminal, else the first line of stdin. */
async function readNewPassword(io: CliIo, command: string): Promise<string> {
  if (io.isTTY && io.promptSecret) {
    const password = await io.promptSecret("Password: ");
    if ((await io.promptSecret("Repeat the password: ")) !== password) {
      throw new IpwardError("invalid_input", `${command}: the two passwords differ`);
    }
    return password;
  }
  const line = (await io.readStdin()).split(/\r?\n/, 1)[0] ?? "";
  if (line === "") throw new IpwardError("usage", `${command}: no password: give it as the first line of stdin, or run in a terminal to be asked`);
  return line;
}
