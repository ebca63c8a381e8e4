import { Elysia, type Static, t } from "elysia";
import { toCsv } from "../../core/csv.ts";
import { IpwardError } from "../../core/errors.ts";
import { normalizeIp } from "../../core/ip.ts";
import { parseTimeOrAgo } from "../../core/time.ts";
import { toLogJson } from "../../store/json.ts";
import type { LogCursor, LogQuery, SqliteStore } from "../../store/sqlite-store.ts";
import type { AdminDeps } from "./deps.ts";
import { Decision, LogJson } from "./schemas.ts";

const MAX_PAGE = 1000;
const CSV_PAGE = 1000;
const MAX_CSV_ROWS = 1_000_000;
/** CSV columns: every field of a log row, in the JSON order. */
const CSV_COLUMNS = Object.keys(LogJson.properties);

const filters = {
  ip: t.Optional(t.String({ description: "Client IP (exact)" })),
  country: t.Optional(t.String({ pattern: "^[A-Za-z]{2}$", error: "country must be a two-letter country code", description: "Country code" })),
  path: t.Optional(t.String({ description: "Path (exact)" })),
  status: t.Optional(t.Integer({ minimum: 100, maximum: 599, error: "status must be an HTTP status code from 100 to 599" })),
  decision: t.Optional(t.Union([t.Literal("allow"), t.Literal("block"), t.Literal("limit")], { error: "decision must be allow, block or limit" })),
  since: t.Optional(t.String({ description: "From (inclusive): ISO 8601 time, or a duration back from now such as 1h or 7d" })),
  until: t.Optional(t.String({ description: "To (exclusive): ISO 8601 time, or a duration back from now" })),
};

const LogsQuery = t.Object({
  ...filters,
  limit: t.Optional(t.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100, error: `limit must be a whole number from 1 to ${MAX_PAGE}` })),
  cursor: t.Optional(t.String({ description: "next_cursor of the previous page" })),
});

const CsvQuery = t.Object({
  ...filters,
  limit: t.Optional(t.Integer({ minimum: 1, maximum: MAX_CSV_ROWS, error: `limit must be a whole number from 1 to ${MAX_CSV_ROWS}` })),
});

type Filters = Static<typeof CsvQuery>;

/** GET /logs (a page of rows, newest first, with a cursor to the next) and GET /logs.csv (streamed). */
export function logsRoutes({ store, clock }: AdminDeps) {
  return new Elysia()
    .get(
      "/logs",
      function listLogs({ query }) {
        const limit = query.limit ?? 100;
        const base = logQuery(query, clock.now());
        const rows = store.queryLogs({ ...base, before: query.cursor === undefined ? undefined : decodeCursor(query.cursor), limit: limit + 1 });
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return { items: page.map(toLogJson), next_cursor: rows.length > limit ? encodeCursor({ ts: last.ts, id: last.id }) : null };
      },
      {
        query: LogsQuery,
        response: { 200: t.Object({ items: t.Array(LogJson), next_cursor: t.Union([t.String(), t.Null()]) }) },
        detail: { tags: ["logs"], summary: "Request log rows matching the filters, newest first, one page at a time" },
      },
    )
    .get(
      "/logs.csv",
      function exportLogs({ query }) {
        const stream = csvStream(store, logQuery(query, clock.now()), query.limit ?? MAX_CSV_ROWS);
        return new Response(stream, {
          headers: {
            "content-type": "text/csv; charset=utf-8",
            "content-disposition": 'attachment; filename="ipward-logs.csv"',
            "cache-control": "no-store",
          },
        });
      },
      {
        query: CsvQuery,
        response: { 200: t.String({ contentMediaType: "text/csv" }) },
        detail: { tags: ["logs"], summary: "The rows matching the filters as CSV (streamed, newest first; formula-like cells defused)" },
      },
    );
}

/** Reads the filters shared by /logs and /logs.csv; a bad IP or time is a 400 naming it. */
function logQuery(filters: Filters, now: number): LogQuery {
  let ip: string | undefined;
  if (filters.ip !== undefined) {
    const normalized = normalizeIp(filters.ip);
    if (normalized === null) throw new IpwardError("invalid_ip", `invalid ip "${filters.ip}": expected an IPv4 or IPv6 address`, { value: filters.ip });
    ip = normalized;
  }
  return {
    ip,
    country_code: filters.country?.toUpperCase(),
    path: filters.path,
    status: filters.status,
    decision: filters.decision as Static<typeof Decision> | undefined,
    since: filters.since === undefined ? undefined : parseTimeOrAgo(filters.since, now, "since"),
    until: filters.until === undefined ? undefined : parseTimeOrAgo(filters.until, now, "until"),
  };
}

/** Cursors are opaque to clients: base64url of the last row's position. */
export function encodeCursor(cursor: LogCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(text: string): LogCursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<LogCursor>;
    if (Number.isSafeInteger(cursor.ts) && Number.isSafeInteger(cursor.id)) return { ts: cursor.ts as number, id: cursor.id as number };
  } catch {
    // Reported below like any other malformed cursor.
  }
  throw new IpwardError("invalid_input", "invalid cursor: pass next_cursor from the previous page unchanged");
}

/** CSV of the matching rows, read a page at a time as the client consumes it. */
function csvStream(store: SqliteStore, query: LogQuery, maxRows: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let before: LogCursor | undefined;
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(toCsv([], CSV_COLUMNS)));
    },
    pull(controller) {
      const rows = store.queryLogs({ ...query, before, limit: Math.min(CSV_PAGE, maxRows - sent) });
      if (rows.length > 0) controller.enqueue(encoder.encode(toCsv(rows.map(toLogJson), CSV_COLUMNS, false)));
      sent += rows.length;
      const last = rows[rows.length - 1];
      if (rows.length < CSV_PAGE || sent >= maxRows) controller.close();
      else before = { ts: last.ts, id: last.id };
    },
  });
}
