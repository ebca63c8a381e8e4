import { Elysia, t } from "elysia";
import { parseDuration } from "../../core/duration.ts";
import { IpwardError } from "../../core/errors.ts";
import { normalizeIp } from "../../core/ip.ts";
import type { RuleSource } from "../../core/ports.ts";
import { toRuleJson, toSuspiciousJson } from "../../store/json.ts";
import { principalOf, ruleSourceOf } from "./authenticate.ts";
import type { AdminDeps } from "./deps.ts";
import { IdParams, Int, RuleJson, SuspiciousJson } from "./schemas.ts";

const tags = ["suspicious"];
const MAX_PAGE = 500;

const BlockOptions = t.Object({
  duration: t.Optional(t.Union([t.String({ description: "Block length, e.g. 4h; omitted or null = permanent" }), t.Null()])),
  reason: t.Optional(t.Union([t.String({ maxLength: 500 }), t.Null()])),
});

const BlockOutcome = t.Object({ suspicious: SuspiciousJson, rule: RuleJson });

/** GET /suspicious and the operator's actions on records: block, dismiss, and both in bulk. */
export function suspiciousRoutes({ suspicious, responder }: AdminDeps) {
  function durationOf(text: string | null | undefined): number | null {
    return text === undefined || text === null || text === "" ? null : parseDuration(text, "duration");
  }

  async function block(id: number, durationMs: number | null, reason: string | null | undefined, source: RuleSource) {
    const { record, rule } = await responder.blockRecord(id, { source, durationMs, reason: reason || undefined });
    return { suspicious: toSuspiciousJson(record), rule: toRuleJson(rule) };
  }

  return new Elysia()
    .get(
      "/suspicious",
      async function listSuspicious({ query }) {
        const ip = query.ip === undefined ? undefined : normalizeIp(query.ip);
        if (ip === null) throw new IpwardError("invalid_ip", `invalid ip "${query.ip}": expected an IPv4 or IPv6 address`, { value: query.ip });
        const limit = query.limit ?? 100;
        const offset = query.offset ?? 0;
        const records = await suspicious.listSuspicious({ status: query.status, ip, limit: limit + 1, offset });
        return {
          items: records.slice(0, limit).map(toSuspiciousJson),
          next_offset: records.length > limit ? offset + limit : null,
        };
      },
      {
        query: t.Object({
          status: t.Optional(
            t.Union([t.Literal("open"), t.Literal("blocked"), t.Literal("dismissed")], { error: "status must be open, blocked or dismissed" }),
          ),
          ip: t.Optional(t.String()),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100, error: `limit must be a whole number from 1 to ${MAX_PAGE}` })),
          offset: t.Optional(t.Integer({ minimum: 0, default: 0, error: "offset must be a whole number of at least 0" })),
        }),
        response: { 200: t.Object({ items: t.Array(SuspiciousJson), next_offset: t.Union([Int(), t.Null()]) }) },
        detail: { tags, summary: "Suspicious IP records (all statuses unless status is given), most recently seen first" },
      },
    )
    .post(
      "/suspicious/:id/block",
      function blockSuspicious({ params, body, request }) {
        return block(params.id, durationOf(body?.duration), body?.reason, ruleSourceOf(principalOf(request)));
      },
      {
        params: IdParams,
        body: t.Optional(BlockOptions),
        response: { 200: BlockOutcome },
        detail: { tags, summary: "Block the record's IP (permanent unless duration) and mark the record blocked" },
      },
    )
    .post(
      "/suspicious/:id/dismiss",
      async function dismissSuspicious({ params }) {
        return toSuspiciousJson(await responder.dismissRecord(params.id));
      },
      { params: IdParams, response: { 200: SuspiciousJson }, detail: { tags, summary: "Dismiss the record (a later detection opens a new one)" } },
    )
    .post(
      "/suspicious/bulk",
      async function bulkSuspicious({ body, request }) {
        const source = ruleSourceOf(principalOf(request));
        const durationMs = durationOf(body.duration);
        const items = [];
        const errors = [];
        for (const id of body.ids) {
          try {
            items.push(body.action === "block" ? (await block(id, durationMs, body.reason, source)).suspicious : toSuspiciousJson(await responder.dismissRecord(id)));
          } catch (error) {
            if (!(error instanceof IpwardError)) throw error;
            errors.push({ id, error: error.message });
          }
        }
        return { items, errors };
      },
      {
        body: t.Object({
          ids: t.Array(Int(), { minItems: 1, maxItems: 1000 }),
          action: t.Union([t.Literal("block"), t.Literal("dismiss")]),
          ...BlockOptions.properties,
        }),
        response: { 200: t.Object({ items: t.Array(SuspiciousJson), errors: t.Array(t.Object({ id: Int(), error: t.String() })) }) },
        detail: { tags, summary: "Block or dismiss many records; records that fail (unknown id) are reported in errors" },
      },
    );
}
