import { jwtVerify } from "jose";
import { type Clock, systemClock } from "./ports.ts";

/** Who sent a request, from a verified bearer token. */
export interface Identity {
  /** The JWT `sub` claim: the rate-limit key of `user` rules. */
  sub: string;
  /** The JWT `tier` claim when it is a string: selects a rule's tier limit. */
  tier: string | null;
}

/** Resolves an Authorization header to an identity; null when absent or not valid. Never rejects. */
export type JwtVerifier = (authorizationHeader: string | null) => Promise<Identity | null>;

export interface JwtVerifierOptions {
  clock?: Clock;
  /** Verified tokens remembered at most (the cache is emptied when full). */
  cacheSize?: number;
  /** How long a verified token is remembered at most; never past its `exp`. */
  cacheTtlMs?: number;
}

/** Longer Authorization values are not tokens anyone issues; refuse them before hashing. */
const MAX_TOKEN_LENGTH = 8_192;
const BEARER = /^Bearer +([A-Za-z0-9_.~+/=-]+) *$/i;

interface CachedIdentity {
  identity: Identity;
  /** Epoch ms after which the entry must be verified again. */
  until: number;
}

const NO_IDENTITY: Promise<null> = Promise.resolve(null);

/**
 * Builds the verifier of `Authorization: Bearer <JWT>` headers: HS256 only, signed with `secret`
 * (config auth.jwt_secret), `exp` and `nbf` honoured with no clock tolerance, `sub` required.
 * Anything else — no header, another scheme, bad signature, other algorithms (including `none`),
 * expired, not yet valid, malformed — is null. Without a secret, every request is anonymous.
 * The same token arrives again and again, so verified tokens are cached for a short time (bounded,
 * never beyond their `exp`); invalid ones are not cached, as verifying them is cheap and an attacker
 * could otherwise fill the cache.
 */
export function createJwtVerifier(secret: string | null, options: JwtVerifierOptions = {}): JwtVerifier {
  if (!secret) return () => NO_IDENTITY;
  const key = new TextEncoder().encode(secret);
  const clock = options.clock ?? systemClock;
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  const cache = new Map<string, CachedIdentity>();

  async function verify(token: string, now: number): Promise<Identity | null> {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], currentDate: new Date(now) });
      if (typeof payload.sub !== "string" || payload.sub === "") return null;
      const identity: Identity = Object.freeze({ sub: payload.sub, tier: typeof payload.tier === "string" ? payload.tier : null });
      const until = typeof payload.exp === "number" ? Math.min(payload.exp * 1_000, now + cacheTtlMs) : now + cacheTtlMs;
      // Emptying a full cache is O(1) amortised and keeps memory bounded; it only costs re-verification.
      if (cache.size >= cacheSize) cache.clear();
      cache.set(token, { identity, until });
      return identity;
    } catch {
      return null;
    }
  }

  return function verifyAuthorization(authorizationHeader: string | null): Promise<Identity | null> {
    if (!authorizationHeader || authorizationHeader.length > MAX_TOKEN_LENGTH) return NO_IDENTITY;
    const match = BEARER.exec(authorizationHeader);
    if (!match) return NO_IDENTITY;
    const token = match[1];
    const now = clock.now();
    const cached = cache.get(token);
    if (cached !== undefined) {
      if (now < cached.until) return Promise.resolve(cached.identity);
      cache.delete(token);
    }
    return verify(token, now);
  };
}
