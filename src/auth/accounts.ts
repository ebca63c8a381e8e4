import { validatePassword, validateUsername } from "../core/admin-account.ts";
import type { AdminStore, AdminUser } from "../store/admin-store.ts";
import { hashPassword } from "./passwords.ts";

/** Creates an admin account after checking the username and the password's length. */
export async function createAccount(store: AdminStore, username: string, password: string, now: number): Promise<AdminUser> {
  validateUsername(username);
  validatePassword(password);
  return store.createUser(username, await hashPassword(password), now);
}

/** Sets a new password (length checked); every session of the account ends. */
export async function changePassword(store: AdminStore, username: string, password: string): Promise<void> {
  validatePassword(password);
  store.setPassword(username, await hashPassword(password));
}
