/**
 * Password hashing: argon2id through Bun.password (PHC strings; Bun picks the parameters and
 * `verify` reads them back from the hash, so stronger defaults later still verify old hashes).
 */

/** Hashes a password with argon2id. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Whether `password` matches a stored hash. */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return Bun.password.verify(password, hash);
}

let decoyHash: Promise<string> | null = null;

/**
 * Verifies against a throwaway hash, so that signing in as an unknown user costs as much time as a
 * wrong password for a real one (no user enumeration by timing). Always false.
 */
export async function verifyDecoy(password: string): Promise<false> {
  decoyHash ??= hashPassword(crypto.randomUUID());
  await Bun.password.verify(password, await decoyHash);
  return false;
}
