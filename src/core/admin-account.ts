import { IpwardError } from "./errors.ts";

/** Shortest password an admin account accepts. */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest password accepted: argon2 takes any length, but hashing megabytes is a cheap denial of service. */
export const MAX_PASSWORD_LENGTH = 1024;

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Checks an admin username: 1–64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit. */
export function validateUsername(username: string): string {
  if (!USERNAME.test(username)) {
    throw new IpwardError(
      "invalid_input",
      `invalid username "${username}": use 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`,
      { field: "username" },
    );
  }
  return username;
}

/** Checks a new password's length (the value itself never appears in the message). */
export function validatePassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new IpwardError("invalid_input", `password too short: at least ${MIN_PASSWORD_LENGTH} characters are required`, {
      field: "password",
    });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new IpwardError("invalid_input", `password too long: at most ${MAX_PASSWORD_LENGTH} characters`, { field: "password" });
  }
  return password;
}
