/**
 * Admin authentication without HTTP: accounts, sign-in (rate-limited per client IP and per
 * username), cookie sessions with a CSRF token, API tokens, and the one-time setup link of a fresh
 * install. Secrets (passwords, cookie values, tokens) are only ever hashed, compared or returned to
 * their owner — never logged.
 */
import { Deadlines } from "../core/deadlines.ts";
import { IpwardError } from "../core/errors.ts";
import { maskIp, parseIp } from "../core/ip.ts";
import type { Clock, CounterStore } from "../core/ports.ts";
import type { AdminSession, AdminStore, ApiTokenRecord } from "../store/admin-store.ts";
import { createAccount } from "./accounts.ts";
import { verifyDecoy, verifyPassword } from "./passwords.ts";
import { randomSecret, secretsEqual, sha256Hex } from "./secrets.ts";

/** Who made an authenticated API request. */
export type Principal =
  | { kind: "session"; session: AdminSession }
  | { kind: "token"; token: ApiTokenRecord };

/** A new session: the cookie value goes to the browser once, the session row keeps its hash. */
export interface SignedIn {
  cookieValue: string;
  session: AdminSession;
}

export interface SignInLimit {
  attempts: number;
  windowMs: number;
}

export interface AdminAuthOptions {
  store: AdminStore;
  /** Counters for sign-in attempts (the rate limiter's store: shared through Redis when configured). */
  attempts: CounterStore;
  clock: Clock;
  /** Idle lifetime of a session; each use pushes the expiry this far ahead. Default 12 h. */
  sessionTtlMs?: number;
  /** Failed sign-ins allowed per client IP and, separately, per username. Default 5 per 15 min. */
  signInLimit?: SignInLimit;
  /** How long a setup link stays valid. Default 24 h. */
  setupTtlMs?: number;
}

export const API_TOKEN_PREFIX = "ipw_";
const HOUR = 3_600_000;
const DEFAULT_SIGN_IN_LIMIT: SignInLimit = { attempts: 5, windowMs: 15 * 60_000 };
/** Sliding expiry is written at most this often per session, not on every request. */
const EXTEND_EVERY_MS = 60_000;
/** last_used_at of a token is written at most this often. */
const TOUCH_EVERY_MS = 60_000;
/** Longer cookie or token values are not ours; they are refused without hashing. */
const MAX_SECRET_LENGTH = 128;
const FAILED_SIGN_IN = "invalid username or password";
/** Locked sign-in keys remembered at most; the oldest go first beyond it. */
const MAX_LOCKS = 10_000;

/** Accounts, sessions, API tokens and the setup link of one ipward instance. */
export class AdminAuth {
  private readonly store: AdminStore;
  private readonly clock: Clock;
  private readonly sessionTtlMs: number;
  private readonly signInLimit: SignInLimit;
  private readonly setupTtlMs: number;
  private setup: { token: string; expiresAt: number } | null = null;
  /** Sign-in budgets spent (by client IP or username) → when attempts are taken again. */
  private readonly lockedUntil = new Deadlines(MAX_LOCKS);

  constructor(private readonly options: AdminAuthOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.sessionTtlMs = options.sessionTtlMs ?? 12 * HOUR;
    this.signInLimit = options.signInLimit ?? DEFAULT_SIGN_IN_LIMIT;
    this.setupTtlMs = options.setupTtlMs ?? 24 * HOUR;
  }

  /**
   * Checks a username and password. A wrong password and an unknown user fail alike, in the same
   * time ("unauthorized"). Failures count against the client IP's and the username's budget; once
   * either is spent, attempts are refused before any password is checked ("rate_limited" with
   * `retry_after_s`). Successful sign-ins cost nothing, so an admin is not locked out by signing in.
   */
  async signIn(username: string, password: string, clientIp: string): Promise<SignedIn> {
    const keys = [`ip:${attemptKeyOfIp(clientIp)}`, `user:${username}`];
    const now = this.clock.now();
    for (const key of keys) this.refuseIfLocked(key, now);
    const user = this.store.findUser(username);
    const valid = user ? await verifyPassword(password, user.password_hash) : await verifyDecoy(password);
    if (user && valid) return this.openSession(user.id, user.username);
    let refusedUntil = 0;
    for (const key of keys) refusedUntil = Math.max(refusedUntil, await this.countFailure(key, now));
    if (refusedUntil > 0) throw rateLimited(refusedUntil - now);
    throw new IpwardError("unauthorized", FAILED_SIGN_IN);
  }

  /** The live session a cookie value belongs to (its expiry pushed ahead), or null. */
  session(cookieValue: string): AdminSession | null {
    if (cookieValue.length === 0 || cookieValue.length > MAX_SECRET_LENGTH) return null;
    const now = this.clock.now();
    const session = this.store.liveSession(sha256Hex(cookieValue), now);
    if (session === null) return null;
    const expiresAt = now + this.sessionTtlMs;
    if (expiresAt - session.expires_at >= EXTEND_EVERY_MS) {
      this.store.extendSession(session.id, expiresAt);
      session.expires_at = expiresAt;
    }
    return session;
  }

  /** Ends the session of a cookie value (nothing happens for an unknown one). */
  signOut(cookieValue: string): void {
    if (cookieValue.length === 0 || cookieValue.length > MAX_SECRET_LENGTH) return;
    this.store.deleteSession(sha256Hex(cookieValue));
  }

  /** The API token a bearer credential names, or null; records when it was used. */
  token(bearer: string): ApiTokenRecord | null {
    if (!bearer.startsWith(API_TOKEN_PREFIX) || bearer.length > MAX_SECRET_LENGTH) return null;
    const token = this.store.findToken(sha256Hex(bearer));
    if (token === null) return null;
    const now = this.clock.now();
    if (token.last_used_at === null || now - token.last_used_at >= TOUCH_EVERY_MS) {
      this.store.touchToken(token.id, now);
      token.last_used_at = now;
    }
    return token;
  }

  /** Creates an API token; the secret is returned here once and only its hash is kept. */
  createToken(name: string): { record: ApiTokenRecord; secret: string } {
    const secret = randomSecret(32, API_TOKEN_PREFIX);
    return { record: this.store.createToken(name, sha256Hex(secret), this.clock.now()), secret };
  }

  /** Every API token (without secrets). */
  listTokens(): ApiTokenRecord[] {
    return this.store.listTokens();
  }

  /** Revokes a token at once; false when there is none with this id. */
  revokeToken(id: number): boolean {
    return this.store.deleteToken(id);
  }

  /** Whether at least one admin account exists. */
  hasAdmin(): boolean {
    return this.store.countUsers() > 0;
  }

  /**
   * The secret of the one-time setup link while no admin account exists (the same one until it is
   * used or expires), else null.
   */
  setupToken(): string | null {
    if (this.hasAdmin()) return null;
    const now = this.clock.now();
    if (this.setup === null || this.setup.expiresAt <= now) {
      this.setup = { token: randomSecret(24), expiresAt: now + this.setupTtlMs };
    }
    return this.setup.token;
  }

  /** Whether `token` is the current, unexpired setup secret and no admin exists yet. */
  isSetupToken(token: string): boolean {
    const setup = this.setup;
    return setup !== null && setup.expiresAt > this.clock.now() && secretsEqual(token, setup.token) && !this.hasAdmin();
  }

  /**
   * Creates the first admin account through the setup link, which is then used up, and signs it in.
   * The link is taken before the (slow) hashing so that two submissions cannot both use it; it is
   * given back if the account cannot be created (a bad username or password).
   */
  async completeSetup(token: string, username: string, password: string): Promise<SignedIn> {
    if (!this.isSetupToken(token)) {
      throw new IpwardError("forbidden", "this setup link is invalid, expired or already used; run `ipward admin create <user>` instead");
    }
    const setup = this.setup;
    this.setup = null;
    try {
      const user = await createAccount(this.store, username, password, this.clock.now());
      return this.openSession(user.id, user.username);
    } catch (error) {
      this.setup = setup;
      throw error;
    }
  }

  private openSession(userId: number, username: string): SignedIn {
    const now = this.clock.now();
    this.store.deleteExpiredSessions(now);
    const cookieValue = randomSecret(32);
    const session: AdminSession = {
      id: sha256Hex(cookieValue),
      user_id: userId,
      username,
      csrf: randomSecret(32),
      created_at: now,
      expires_at: now + this.sessionTtlMs,
    };
    this.store.createSession(session);
    return { cookieValue, session };
  }

  private refuseIfLocked(key: string, now: number): void {
    const until = this.lockedUntil.get(key);
    if (until === undefined) return;
    if (until > now) throw rateLimited(until - now);
    this.lockedUntil.delete(key);
  }

  /**
   * Counts a failed sign-in against one budget. When it spends the budget, the key is locked here
   * until the window lets a failure count again; returns the lock's end when this failure itself was
   * over budget (another instance spent it, through Redis), else 0.
   */
  private async countFailure(key: string, now: number): Promise<number> {
    const { attempts, windowMs } = this.signInLimit;
    const hit = await this.options.attempts.hit(`admin-sign-in:${key}`, attempts, windowMs, now);
    if (hit.allowed && hit.remaining > 0) return 0;
    const until = now + Math.max(hit.allowed ? hit.resetMs : hit.retryAfterMs, 1000);
    this.lockedUntil.set(key, until, now);
    return hit.allowed ? 0 : until;
  }
}

function rateLimited(waitMs: number): IpwardError {
  const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
  return new IpwardError("rate_limited", `too many failed sign-in attempts; try again in ${retryAfter} s`, { retry_after_s: retryAfter });
}

/** IPv6 clients are counted by their /64, as the rate limiter does: one host usually owns a whole /64. */
function attemptKeyOfIp(ip: string): string {
  const parsed = parseIp(ip);
  return parsed === null ? ip : maskIp(parsed, parsed.family === 6 ? 64 : 32);
}
