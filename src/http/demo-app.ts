import { Elysia } from "elysia";
import { verdictOf } from "./request-context.ts";

/** The built-in sample application of demo mode (SPEC §1): the seed's three endpoints. */
export function demoApp() {
  return new Elysia({ name: "ipward-demo" })
    .get("/", function welcome({ request }) {
      const verdict = verdictOf(request);
      return {
        message: "Welcome to the IP Tracking System",
        ip: verdict?.ip ?? null,
        country: verdict?.geo?.country ?? null,
        city: verdict?.geo?.city ?? null,
      };
    })
    .post("/api/login", function login({ request }) {
      return { message: "Login endpoint", ip: verdictOf(request)?.ip ?? null };
    })
    .post("/api/action", function action({ request }) {
      const verdict = verdictOf(request);
      return { message: "Action performed", user: verdict?.user ?? null, ip: verdict?.ip ?? null };
    });
}
