import { describe, expect, test } from "bun:test";
import { apiHarness, cookieOf } from "./support.ts";

// One app at a time: each test builds and closes its own.
describe("session lifetime", () => {
  test("a session lasts 12 h after its last use (sliding), then it is over", async () => {
    const session = await apiHarness();
    try {
      session.clock.advance(11 * 3_600_000);
      expect((await session.call("GET", "session")).status).toBe(200);
      session.clock.advance(11 * 3_600_000);
      expect((await session.call("GET", "session")).status).toBe(200);
      session.clock.advance(12 * 3_600_000 + 1);
      const expired = await session.call("GET", "session");
      expect(expired.status).toBe(401);
      expect(expired.text).toContain("expired");
      expect((await session.call("GET", "session", { auth: "bearer" })).status).toBe(200);
    } finally {
      await session.close();
    }
  });

  test("signing out ends the session and clears the cookie", async () => {
    const session = await apiHarness();
    try {
      const out = await session.call("DELETE", "session");
      expect(out.status).toBe(204);
      expect(out.headers.get("set-cookie")).toBe("ipward_session=; HttpOnly; SameSite=Strict; Path=/_ipward; Max-Age=0");
      expect((await session.call("GET", "session")).status).toBe(401);
      expect(cookieOf(out.headers.get("set-cookie"))).toBe("ipward_session=");
    } finally {
      await session.close();
    }
  });
});
