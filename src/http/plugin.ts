import { Elysia, StatusMap } from "elysia";
import { buildCore, type IpwardCore } from "../app.ts";
import { validateConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { RequestFacts, Verdict } from "../core/pipeline.ts";
import type { Clock, Decision, GeoInfo } from "../core/ports.ts";
import { problemResponse } from "./responses.ts";

/** Any part of the ipward.toml configuration; what is left out takes its default. */
export type IpwardConfigInput = DeepPartial<Config>;

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface IpwardPluginOptions {
  clock?: Clock;
  /** Where operational messages go (default: stderr). */
  log?: (message: string) => void;
}

/** What the pipeline found out about a request, as route handlers see it (`context.ipward`). */
export interface IpwardRequestInfo {
  /** The client IP, resolved through trusted proxies. */
  ip: string;
  geo: GeoInfo | null;
  decision: Decision;
  /** The JWT subject when a user-keyed rate limit looked at the Authorization header. */
  user: string | null;
}

interface RequestState {
  core: IpwardCore;
  facts: RequestFacts;
  verdict: Verdict;
  started: number;
  info: IpwardRequestInfo;
}

/**
 * The ipward pipeline as an Elysia plugin: every request of the app that uses it is checked against
 * the allow/block lists and rate limits (refusals are answered 403/429 problem+json before routing),
 * geolocated, and logged with its real status. Handlers read `ipward: { ip, geo, decision, user }`.
 *
 * `config` has the shape of ipward.toml (validated, defaults applied; bad values throw at once).
 * Stores open in the background; requests arriving before they are ready wait for them.
 * `await plugin.ready` gives the components (rules, store, metrics); `await plugin.close()` (or the
 * app's stop) drains the request log and releases them.
 */
export function ipward(config: IpwardConfigInput = {}, options: IpwardPluginOptions = {}) {
  const validated = validateConfig(config as Record<string, unknown>, "ipward() options");
  const ready = buildCore({ config: validated, clock: options.clock, log: options.log });
  let core: IpwardCore | null = null;
  ready.then(
    (built) => (core = built),
    // Surfaced by every request (500) and by `ready`; handled here so that it is not reported twice.
    () => {},
  );
  const states = new WeakMap<Request, RequestState>();
  let closing: Promise<void> | null = null;

  function evaluate(built: IpwardCore, request: Request, socketAddress: string, headersOut: Record<string, unknown>): Response | undefined | Promise<Response | undefined> {
    const started = performance.now();
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    const headers = request.headers;
    const facts: RequestFacts = {
      socketAddress,
      forwardedFor: headers.get("x-forwarded-for"),
      method: request.method,
      path: queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart),
      query: queryStart === -1 ? "" : url.slice(queryStart + 1),
      authorization: headers.get("authorization"),
      userAgent: headers.get("user-agent"),
      referer: headers.get("referer"),
    };
    const decide = (verdict: Verdict): Response | undefined => {
      if (verdict.refusal) {
        const refused = problemResponse(verdict.refusal, verdict.headers);
        // Answers from onRequest skip onAfterResponse: log the refusal here.
        built.pipeline.record(verdict, facts, refused.status, performance.now() - started);
        return refused;
      }
      if (verdict.headers) Object.assign(headersOut, verdict.headers);
      states.set(request, {
        core: built,
        facts,
        verdict,
        started,
        info: { ip: verdict.ip, geo: verdict.geo, decision: verdict.decision, user: verdict.user },
      });
      return undefined;
    };
    const pending = built.pipeline.evaluate(facts);
    return pending instanceof Promise ? pending.then(decide) : decide(pending);
  }

  const plugin = new Elysia({ name: "ipward" })
    .onRequest(function ipwardEvaluate({ request, server, set }) {
      const socketAddress = server?.requestIP(request)?.address ?? "";
      return core
        ? evaluate(core, request, socketAddress, set.headers)
        : ready.then((built) => evaluate(built, request, socketAddress, set.headers));
    })
    .resolve({ as: "global" }, function ipwardContext({ request }) {
      const state = states.get(request);
      if (!state) throw new Error("ipward: this request did not go through the ipward plugin's onRequest hook");
      return { ipward: state.info };
    })
    .onAfterResponse({ as: "global" }, function ipwardRecord({ request, set, responseValue }) {
      const state = states.get(request);
      if (!state) return;
      states.delete(request);
      const status =
        responseValue instanceof Response
          ? responseValue.status
          : typeof set.status === "number"
            ? set.status
            : (StatusMap[set.status as keyof typeof StatusMap] ?? 200);
      state.core.pipeline.record(state.verdict, state.facts, status, performance.now() - state.started);
    })
    .onStop(function ipwardStop() {
      return close();
    });

  /** Drains the request log and releases stores, timers and connections (idempotent). */
  function close(): Promise<void> {
    closing ??= ready.then(
      async (built) => {
        // Elysia runs onAfterResponse in a setImmediate after the answer is out: let those queued
        // by requests already answered record their rows before the log closes.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await built.close();
      },
      () => undefined,
    );
    return closing;
  }

  return Object.assign(plugin, { ready, close });
}
