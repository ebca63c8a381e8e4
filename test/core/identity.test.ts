import { describe, expect, test } from "bun:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { createJwtVerifier } from "../../src/core/identity.ts";

const SECRET = "correct horse battery staple";
const key = new TextEncoder().encode(SECRET);
/** 2026-01-01T00:00:00Z, in seconds as JWT times are. */
const T0 = 1_767_225_600;

/** A fake clock the test moves by hand. */
function manualClock(seconds: number) {
  const clock = { ms: seconds * 1_000, now: () => clock.ms };
  return clock;
}

async function sign(claims: Record<string, unknown>, options: { secret?: Uint8Array; alg?: string; exp?: number; nbf?: number } = {}) {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? "HS256" }).setIssuedAt(T0);
  if (options.exp !== undefined) jwt = jwt.setExpirationTime(options.exp);
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign(options.secret ?? key);
}

describe("createJwtVerifier", () => {
  test("a valid HS256 token yields its sub and tier", async () => {
    const verify = createJwtVerifier(SECRET, { clock: manualClock(T0) });
    const token = await sign({ sub: "alice", tier: "premium" }, { exp: T0 + 3_600 });
    expect(await verify(`Bearer ${token}`)).toEqual({ sub: "alice", tier: "premium" });
    expect(await verify(`bearer   ${token}`)).toEqual({ sub: "alice", tier: "premium" });
  });

  test("tier is null when absent or not a string", async () => {
    const verify = createJwtVerifier(SECRET, { clock: manualClock(T0) });
    expect(await verify(`Bearer ${await sign({ sub: "bob" })}`)).toEqual({ sub: "bob", tier: null });
    expect(await verify(`Bearer ${await sign({ sub: "bob", tier: 3 })}`)).toEqual({ sub: "bob", tier: null });
  });

  test("refuses: wrong secret, alg none, other HMAC algorithms, garbage, no sub, other schemes", async () => {
    const verify = createJwtVerifier(SECRET, { clock: manualClock(T0) });
    const wrongSecret = await sign({ sub: "mallory" }, { secret: new TextEncoder().encode("guess") });
    const none = new UnsecuredJWT({ sub: "mallory" }).encode();
    const hs512 = await sign({ sub: "mallory" }, { alg: "HS512", secret: new Uint8Array(64).fill(7) });
    const hs512SameSecret = await sign({ sub: "mallory" }, { alg: "HS512" });
    const noSub = await sign({ tier: "premium" });
    const good = await sign({ sub: "alice" });
    for (const header of [
      `Bearer ${wrongSecret}`,
      `Bearer ${none}`,
      `Bearer ${hs512}`,
      `Bearer ${hs512SameSecret}`,
      `Bearer ${noSub}`,
      "Bearer not.a.jwt",
      "Bearer ",
      "Bearer",
      `Basic ${good}`,
      good,
      "",
      `Bearer ${good}x`,
      `Bearer ${good.slice(0, -2)}`,
      `Bearer ${"a".repeat(10_000)}`,
    ]) {
      expect(await verify(header)).toBeNull();
    }
    expect(await verify(null)).toBeNull();
  });

  test("exp and nbf are honoured, also for tokens already cached", async () => {
    const clock = manualClock(T0);
    const verify = createJwtVerifier(SECRET, { clock });
    const expiring = `Bearer ${await sign({ sub: "carol" }, { exp: T0 + 10 })}`;
    expect(await verify(expiring)).toEqual({ sub: "carol", tier: null });
    clock.ms = (T0 + 9) * 1_000 + 999;
    expect(await verify(expiring)).toEqual({ sub: "carol", tier: null });
    clock.ms = (T0 + 10) * 1_000;
    expect(await verify(expiring)).toBeNull();

    const early = `Bearer ${await sign({ sub: "dave" }, { nbf: T0 + 100 })}`;
    expect(await verify(early)).toBeNull();
    clock.ms = (T0 + 100) * 1_000;
    expect(await verify(early)).toEqual({ sub: "dave", tier: null });
  });

  test("an expired token is null", async () => {
    const verify = createJwtVerifier(SECRET, { clock: manualClock(T0) });
    expect(await verify(`Bearer ${await sign({ sub: "erin" }, { exp: T0 - 1 })}`)).toBeNull();
  });

  test("a cache smaller than the number of users still answers every token correctly", async () => {
    const verify = createJwtVerifier(SECRET, { clock: manualClock(T0), cacheSize: 4 });
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => sign({ sub: `user${i}` })));
    for (let round = 0; round < 2; round++) {
      for (const [i, token] of tokens.entries()) expect(await verify(`Bearer ${token}`)).toEqual({ sub: `user${i}`, tier: null });
    }
  });

  test("without a secret every request is anonymous", async () => {
    const token = await sign({ sub: "alice" });
    expect(await createJwtVerifier(null)(`Bearer ${token}`)).toBeNull();
    expect(await createJwtVerifier("")(`Bearer ${token}`)).toBeNull();
  });
});
