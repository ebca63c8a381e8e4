import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A random secret of `bytes` bytes as base64url (43 characters for 32 bytes), with an optional prefix. */
export function randomSecret(bytes = 32, prefix = ""): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

/** SHA-256 of a secret, hex: what is stored instead of session cookies and API tokens. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Compares two secrets in time independent of where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
