/**
 * Typebox schemas of every admin API body and response: Elysia validates requests (and responses)
 * against them, and the OpenAPI document is generated from them. Field names follow SPEC §5.
 */
import { Type } from "@sinclair/typebox";
import { type TSchema, t } from "elysia";

const nullable = <S extends TSchema>(schema: S) => t.Union([schema, t.Null()]);
/** A strict JSON integer (Elysia's t.Integer also takes numeric strings: right for query and path values only). */
export const Int = Type.Integer;

/** ISO 8601 UTC time, e.g. 2026-11-25T12:00:00.000Z. */
export const Time = t.String({ format: "date-time", description: "ISO 8601 UTC" });

export const Problem = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: Int(),
    detail: t.String(),
  },
  { description: "RFC 9457 problem details (application/problem+json)", additionalProperties: true },
);

export const Decision = t.Union([t.Literal("allow"), t.Literal("block"), t.Literal("limit")]);
export const RuleKind = t.Union([t.Literal("ip"), t.Literal("cidr"), t.Literal("country")]);
export const RuleSource = t.Union([t.Literal("cli"), t.Literal("admin"), t.Literal("api"), t.Literal("detection"), t.Literal("import")]);
export const SuspiciousStatus = t.Union([t.Literal("open"), t.Literal("blocked"), t.Literal("dismissed")]);

export const LogJson = t.Object({
  ts: Time,
  ip: t.String(),
  method: t.String(),
  path: t.String(),
  status: Int(),
  duration_ms: t.Number(),
  user_agent: nullable(t.String()),
  referer: nullable(t.String()),
  country_code: nullable(t.String()),
  country: nullable(t.String()),
  city: nullable(t.String()),
  decision: Decision,
  rule: nullable(t.String()),
});

export const RuleJson = t.Object({
  id: Int(),
  target: t.String({ description: "IP, CIDR or country code, canonical" }),
  kind: RuleKind,
  reason: nullable(t.String()),
  created_at: Time,
  expires_at: nullable(Time),
  source: RuleSource,
});

export const SuspiciousJson = t.Object({
  id: Int(),
  ip: t.String(),
  rule: t.String(),
  reason: nullable(t.String()),
  count: Int(),
  first_seen: Time,
  last_seen: Time,
  status: SuspiciousStatus,
});

export const LookupJson = t.Object({
  ip: t.String(),
  country_code: nullable(t.String()),
  country: nullable(t.String()),
  city: nullable(t.String()),
  latitude: nullable(t.Number()),
  longitude: nullable(t.Number()),
});

export const TokenJson = t.Object({
  id: Int(),
  name: t.String(),
  created_at: Time,
  last_used_at: nullable(Time),
});

export const NewTokenJson = t.Object({
  id: Int(),
  name: t.String(),
  created_at: Time,
  token: t.String({ description: "The secret, shown this once: send it as Authorization: Bearer <token>" }),
});

export const SessionJson = t.Object({
  user: t.String({ description: "The signed-in username, or `token:<name>` for an API token" }),
  csrf_token: nullable(t.String({ description: "Send as X-CSRF-Token on POST, PUT, PATCH and DELETE (null for API tokens)" })),
});

export const SignInBody = t.Object({
  username: t.String({ minLength: 1, maxLength: 128 }),
  password: t.String({ minLength: 1, maxLength: 1024 }),
});

const Duration = t.String({ description: "Block length, e.g. 30m, 4h, 7d; omitted or null = permanent", examples: ["4h"] });
const Reason = t.String({ maxLength: 500 });

export const NewRuleBody = t.Object({
  target: t.String({ minLength: 1, maxLength: 100, description: "IP, CIDR or (blocks only) two-letter country code" }),
  reason: t.Optional(nullable(Reason)),
  duration: t.Optional(nullable(Duration)),
});

export const BulkRulesBody = t.Object({
  targets: t.Array(t.String({ maxLength: 100 }), { minItems: 1, maxItems: 1000 }),
  reason: t.Optional(nullable(Reason)),
  duration: t.Optional(nullable(Duration)),
});

export const IdsBody = t.Object({ ids: t.Array(Int(), { minItems: 1, maxItems: 1000 }) });

export const ImportRuleItem = t.Union([
  t.String(),
  t.Object({
    target: t.String(),
    reason: t.Optional(nullable(t.String())),
    expires_at: t.Optional(nullable(t.String())),
    duration: t.Optional(nullable(t.String())),
  }),
]);

export const ImportBody = t.Union([
  t.String({ contentMediaType: "text/plain", description: "One target per line, optionally followed by a reason or a # comment" }),
  t.Array(ImportRuleItem, { description: "application/json: rule objects (what export?format=json writes) or target strings" }),
]);

export const ImportReport = t.Object({
  imported: Int(),
  skipped: t.Array(t.Object({ line: Int(), value: t.String(), error: t.String() })),
});

export const ItemsOf = <S extends TSchema>(item: S) => t.Object({ items: t.Array(item) });

export const IdParams = t.Object({ id: t.Integer({ minimum: 1, error: "the id must be a positive whole number" }) });
