import { Elysia, t } from "elysia";
import { parseDuration } from "../../core/duration.ts";
import { IpwardError } from "../../core/errors.ts";
import type { RuleKind, RuleList, RuleSource } from "../../core/ports.ts";
import { checkedTarget, formatImportText, parseImportJson, parseImportText } from "../../core/rule-import.ts";
import { toRuleJson } from "../../store/json.ts";
import { principalOf, ruleSourceOf } from "./authenticate.ts";
import type { AdminDeps } from "./deps.ts";
import { BulkRulesBody, IdParams, IdsBody, ImportBody, ImportReport, Int, ItemsOf, NewRuleBody, RuleJson } from "./schemas.ts";

interface ListSpec {
  list: RuleList;
  /** The resource name under /api. */
  resource: string;
  kinds: RuleKind[];
  /** What a target is, in messages and docs. */
  noun: string;
}

const LISTS: Record<RuleList, ListSpec> = {
  block: { list: "block", resource: "blocks", kinds: ["ip", "cidr", "country"], noun: "IP, CIDR or country code" },
  allow: { list: "allow", resource: "allows", kinds: ["ip", "cidr"], noun: "IP or CIDR" },
};

/**
 * One rule list's resource (`/blocks` or `/allows`): list, create, delete, bulk create and delete,
 * import and export. Rules created here carry source "admin" (session) or "api" (token); imported
 * ones "import".
 */
export function ruleRoutes(list: RuleList, { store, clock }: AdminDeps) {
  const { resource, kinds, noun } = LISTS[list];
  const tags = [resource];

  function addRule(target: string, reason: string | null | undefined, duration: string | null | undefined, source: RuleSource) {
    const parsed = checkedTarget(target, kinds);
    const durationMs = duration === undefined || duration === null || duration === "" ? null : parseDuration(duration, "duration");
    const now = clock.now();
    return store.addRule({
      list,
      ...parsed,
      reason: reason === undefined || reason === "" ? null : reason,
      expires_at: durationMs === null ? null : now + durationMs,
      source,
      created_at: now,
    });
  }

  return new Elysia()
    .get(
      `/${resource}`,
      function listRules() {
        return { items: store.listRules(list, clock.now()).map(toRuleJson) };
      },
      { response: { 200: ItemsOf(RuleJson) }, detail: { tags, summary: `Active ${list} rules, oldest first` } },
    )
    .post(
      `/${resource}`,
      function createRule({ body, request, set }) {
        const rule = addRule(body.target, body.reason, body.duration, ruleSourceOf(principalOf(request)));
        set.status = 201;
        return toRuleJson(rule);
      },
      {
        body: NewRuleBody,
        response: { 201: RuleJson },
        detail: { tags, summary: `Add a ${list} rule for an ${noun} (replaces the rule of the same target); an invalid target is a 400 naming it` },
      },
    )
    .delete(
      `/${resource}/:id`,
      function deleteRule({ params }) {
        if (store.removeRuleById(list, params.id) === 0) throw new IpwardError("not_found", `no ${list} rule ${params.id}`);
        return new Response(null, { status: 204 });
      },
      { params: IdParams, detail: { tags, summary: `Remove a ${list} rule`, responses: { 204: { description: "Removed" } } } },
    )
    .post(
      `/${resource}/bulk`,
      function createRules({ body, request, set }) {
        const invalid: { value: string; error: string }[] = [];
        for (const target of body.targets) {
          try {
            checkedTarget(target, kinds);
          } catch (error) {
            invalid.push({ value: target, error: (error as Error).message });
          }
        }
        if (invalid.length > 0) {
          const more = invalid.length > 1 ? ` (and ${invalid.length - 1} more invalid targets)` : "";
          throw new IpwardError("invalid_ip", `${invalid[0].error}${more}; nothing was added`, { errors: invalid });
        }
        const source = ruleSourceOf(principalOf(request));
        set.status = 201;
        return { items: body.targets.map((target) => toRuleJson(addRule(target, body.reason, body.duration, source))) };
      },
      {
        body: BulkRulesBody,
        response: { 201: ItemsOf(RuleJson) },
        detail: { tags, summary: `Add ${list} rules for many targets at once (all or nothing: any invalid target is a 400 listing them)` },
      },
    )
    .post(
      `/${resource}/bulk-delete`,
      function deleteRules({ body }) {
        let deleted = 0;
        for (const id of body.ids) deleted += store.removeRuleById(list, id);
        return { deleted };
      },
      { body: IdsBody, response: { 200: t.Object({ deleted: Int() }) }, detail: { tags, summary: `Remove many ${list} rules by id` } },
    )
    .post(
      `/${resource}/import`,
      function importRules({ body }) {
        const now = clock.now();
        const parsed = typeof body === "string" ? parseImportText(body, { kinds, now }) : parseImportJson(body, { kinds, now });
        for (const entry of parsed.entries) {
          store.addRule({ list, target: entry.target, kind: entry.kind, reason: entry.reason, expires_at: entry.expires_at, source: "import", created_at: now });
        }
        return { imported: parsed.entries.length, skipped: parsed.skipped };
      },
      {
        body: ImportBody,
        response: { 200: ImportReport },
        detail: { tags, summary: `Import ${list} rules from a plain list (text/plain) or JSON; bad lines are skipped and reported` },
      },
    )
    .get(
      `/${resource}/export`,
      function exportRules({ query }) {
        const rules = store.listRules(list, clock.now());
        const text = query.format === "text";
        return new Response(text ? formatImportText(rules) : JSON.stringify(rules.map(toRuleJson), null, 2), {
          headers: {
            "content-type": text ? "text/plain; charset=utf-8" : "application/json",
            "content-disposition": `attachment; filename="ipward-${resource}.${text ? "txt" : "json"}"`,
          },
        });
      },
      {
        query: t.Object({
          format: t.Optional(t.Union([t.Literal("json"), t.Literal("text")], { default: "json", error: "format must be json or text" })),
        }),
        response: { 200: t.Union([t.Array(RuleJson), t.String({ contentMediaType: "text/plain" })]) },
        detail: { tags, summary: `Active ${list} rules as a download: JSON (re-importable) or the plain list` },
      },
    );
}
