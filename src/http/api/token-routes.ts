import { Elysia, t } from "elysia";
import { IpwardError } from "../../core/errors.ts";
import type { ApiTokenRecord } from "../../store/admin-store.ts";
import { isoTime } from "../../store/json.ts";
import type { AdminDeps } from "./deps.ts";
import { IdParams, ItemsOf, NewTokenJson, TokenJson } from "./schemas.ts";

const tags = ["tokens"];

function toTokenJson(token: ApiTokenRecord) {
  return {
    id: token.id,
    name: token.name,
    created_at: isoTime(token.created_at),
    last_used_at: token.last_used_at === null ? null : isoTime(token.last_used_at),
  };
}

/** API tokens for scripts: list (never the secret), create (the secret is shown once), revoke. */
export function tokenRoutes({ auth }: AdminDeps) {
  return new Elysia()
    .get(
      "/tokens",
      function listTokens() {
        return { items: auth.listTokens().map(toTokenJson) };
      },
      { response: { 200: ItemsOf(TokenJson) }, detail: { tags, summary: "API tokens (names and use, never the secrets)" } },
    )
    .post(
      "/tokens",
      function createToken({ body, set }) {
        const { record, secret } = auth.createToken(body.name);
        set.status = 201;
        set.headers["cache-control"] = "no-store";
        return { id: record.id, name: record.name, created_at: isoTime(record.created_at), token: secret };
      },
      {
        body: t.Object({ name: t.String({ minLength: 1, maxLength: 100 }) }),
        response: { 201: NewTokenJson },
        detail: { tags, summary: "Create an API token; its secret is in this response only (stored as SHA-256)" },
      },
    )
    .delete(
      "/tokens/:id",
      function revokeToken({ params }) {
        if (!auth.revokeToken(params.id)) throw new IpwardError("not_found", `no API token ${params.id}`);
        return new Response(null, { status: 204 });
      },
      { params: IdParams, detail: { tags, summary: "Revoke an API token", responses: { 204: { description: "Revoked" } } } },
    );
}
