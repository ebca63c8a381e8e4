/**
 * The OpenAPI 3.1 document of the admin API, generated from the routes Elysia holds (their typebox
 * schemas are JSON Schema already), so it cannot drift from what the server validates.
 */
import { OptionalKind, type TSchema } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import { VERSION } from "../../version.ts";
import { SESSION_COOKIE } from "./session-cookie.ts";

type Json = Record<string, unknown>;
type Route = AnyElysia["routes"][number];

interface Detail {
  summary?: string;
  description?: string;
  tags?: string[];
  /** `[]` marks a public route. */
  security?: unknown[];
  responses?: Record<string, Json>;
}

const PROBLEM_REF = { $ref: "#/components/schemas/Problem" };
const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Bad request: a malformed value (named in detail)",
  401: "Not signed in, or the API token is invalid or revoked",
  403: "CSRF: X-CSRF-Token missing or wrong, or a cross-origin request",
  404: "No such resource",
  409: "Conflict",
  413: "Body larger than 1 MiB",
  422: "The body does not match the schema",
  429: "Too many attempts (see Retry-After)",
};

/** Builds the document for the routes under `apiPrefix`. */
export function openApiDocument(routes: readonly Route[], apiPrefix: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    if (!route.path.startsWith(`${apiPrefix}/`)) continue;
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route, path);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "ipward admin API",
      version: VERSION,
      description:
        "Sign in with POST /session (HttpOnly session cookie; send the returned csrf_token as X-CSRF-Token on every " +
        "POST, PUT, PATCH and DELETE), or send an API token as Authorization: Bearer <token>. Errors are RFC 9457 " +
        "application/problem+json. Times are ISO 8601 UTC.",
    },
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema) },
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: "Set by POST /session; state-changing requests also need X-CSRF-Token" },
        token: { type: "http", scheme: "bearer", description: "An API token from POST /tokens (ipw_…)" },
      },
    },
    security: [{ session: [] }, { token: [] }],
  };
}

const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "detail"],
  properties: { type: { type: "string" }, title: { type: "string" }, status: { type: "integer" }, detail: { type: "string" } },
  additionalProperties: true,
};

function operation(route: Route, path: string): Json {
  const hooks = route.hooks as { body?: TSchema; query?: TSchema; params?: TSchema; response?: Record<string, TSchema>; detail?: Detail };
  const detail = hooks.detail ?? {};
  const isPublic = Array.isArray(detail.security) && detail.security.length === 0;
  const parameters = [...parametersOf(hooks.params, "path"), ...parametersOf(hooks.query, "query")];
  const op: Json = {
    operationId: operationId(route.method, path),
    summary: detail.summary,
    ...(detail.description ? { description: detail.description } : {}),
    tags: detail.tags ?? [],
    ...(isPublic ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
  };
  if (hooks.body) {
    op.requestBody = { required: !(OptionalKind in hooks.body), content: contentOf(hooks.body) };
  }
  const responses: Record<string, Json> = {};
  for (const [status, schema] of Object.entries(hooks.response ?? {})) {
    responses[status] = { description: status.startsWith("2") ? "OK" : "Error", content: contentOf(schema) };
  }
  for (const [status, response] of Object.entries(detail.responses ?? {})) responses[status] = { ...responses[status], ...response };
  const problems = new Set<number>();
  if (parameters.length > 0 || hooks.body) problems.add(400);
  if (!isPublic) problems.add(401);
  if (!isPublic && route.method !== "GET") problems.add(403);
  if (hooks.params) problems.add(404);
  if (hooks.body) [413, 422].forEach((status) => problems.add(status));
  if (isPublic && route.method === "POST") [403, 429].forEach((status) => problems.add(status));
  for (const status of [...problems].sort()) {
    responses[status] ??= { description: PROBLEM_DESCRIPTIONS[status], content: { "application/problem+json": { schema: PROBLEM_REF } } };
  }
  op.responses = responses;
  return op;
}

function operationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((word) => word !== "" && word !== "ipward" && word !== "api");
  return method.toLowerCase() + words.map((word) => word[0].toUpperCase() + word.slice(1)).join("");
}

function parametersOf(schema: TSchema | undefined, where: "path" | "query"): Json[] {
  if (!schema?.properties) return [];
  const required = new Set<string>(schema.required ?? []);
  return Object.entries(schema.properties as Record<string, TSchema>).map(([name, property]) => {
    const clean = jsonSchema(property);
    const description = clean.description;
    delete clean.description;
    return { name, in: where, required: where === "path" || required.has(name), ...(description ? { description } : {}), schema: clean };
  });
}

/**
 * Media types of a body or response schema: a union's string members are text (text/plain, or the
 * schema's contentMediaType such as text/csv), the rest JSON.
 */
function contentOf(schema: TSchema): Record<string, Json> {
  const members: TSchema[] = schema.anyOf && schema.anyOf.some(isText) ? schema.anyOf : [schema];
  const content: Record<string, Json> = {};
  const json = members.filter((member) => !isText(member));
  for (const text of members.filter(isText)) content[text.contentMediaType as string] = { schema: jsonSchema(text) };
  if (json.length > 0) content["application/json"] = { schema: jsonSchema(json.length === 1 ? json[0] : { anyOf: json }) };
  return content;
}

function isText(schema: TSchema): boolean {
  return schema.type === "string" && typeof schema.contentMediaType === "string";
}

const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf"]);
const SCHEMA_VALUES = new Set(["items", "not", "additionalProperties"]);

/**
 * Plain JSON Schema: typebox's symbols dropped, Elysia's `error` messages removed, and Elysia's
 * coercing numbers (`anyOf: [numeric string, integer]`, for query and path values, which are text
 * on the wire anyway) written as the number they stand for.
 */
export function jsonSchema(schema: unknown): Json {
  const source = schema as Json;
  const anyOf = source.anyOf as Json[] | undefined;
  if (anyOf && anyOf.length === 2 && anyOf.some(isNumericString)) {
    const { anyOf: _union, error: _error, default: fallback, ...outer } = source;
    const number = anyOf.find((member) => !isNumericString(member)) as Json;
    return jsonSchema({ ...outer, ...number, ...(fallback === undefined ? {} : { default: fallback }) });
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === "error" && typeof value === "string") continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(Object.entries(value as Json).map(([name, property]) => [name, jsonSchema(property)]));
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map((member) => jsonSchema(member));
    } else if (SCHEMA_VALUES.has(key) && typeof value === "object" && value !== null) {
      out[key] = jsonSchema(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function isNumericString(schema: Json): boolean {
  return schema.type === "string" && (schema.format === "integer" || schema.format === "numeric");
}
