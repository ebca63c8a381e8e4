/**
 * Password hashing: argon2id through Bun.password (PHC strings; Bun picks the parameters and
 * `verify` reads them back from the hash, so stronger defaults later still verify old hashes).
 */
import { IpwardError } from "../core/errors.ts";

/** Bun's password API; other runtimes (Deno) have no argon2id built in. */
function passwords(): typeof Bun.password {
  if (typeof Bun === "undefined") {
    throw new IpwardError("internal", "admin passwords need argon2id from Bun.password: sign in to ipward running under Bun (or the single binary)");
  }
  return Bun.password;
}

/** Hashes a password with argon2id. */
export function hashPassword(password: string): Promise<string> {
  return passwords().hash(password, { algorithm: "argon2id" });
}

/** Whether `password` matches a stored hash. */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return passwords().verify(password, hash);
}

let decoyHash: Promise<string> | null = null;

/**
 * Verifies against a throwaway hash, so that signing in as an unknown user costs as much time as a
 * wrong password for a real one (no user enumeration by timing). Always false.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoyHash ??= hashPassword(crypto.randomUUID());
  await verifyPassword(password, await decoyHash);
  return false;
}
