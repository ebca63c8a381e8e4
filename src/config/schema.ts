import { type Static, Type as T } from "@sinclair/typebox";

const Duration = (def: string, description: string) =>
  T.String({ default: def, pattern: "^(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+$", description });

/** A real-time detection scenario's tunables. */
const Scenario = (threshold: number, window: string) =>
  T.Object(
    {
      enabled: T.Boolean({ default: true }),
      threshold: T.Integer({ default: threshold, minimum: 1, description: "Matching requests that trigger" }),
      window: Duration(window, "Time within which `threshold` matching requests trigger"),
    },
    { additionalProperties: false, default: {} },
  );

export const RateLimitKey = T.Union([T.Literal("ip"), T.Literal("user"), T.Literal("user_or_ip")]);

export const RateLimitRule = T.Object(
  {
    name: T.String({ minLength: 1, description: "Rule name, logged with limited requests" }),
    method: T.String({ default: "*", description: "HTTP method, or * for any" }),
    path: T.String({ minLength: 1, description: "Exact path, prefix ending in /*, or glob with *" }),
    limit: T.Integer({ minimum: 1 }),
    window: Duration("1m", "Sliding window length"),
    key: T.Optional(RateLimitKey),
    tiers: T.Optional(T.Record(T.String(), T.Integer({ minimum: 1 }), { description: "Larger limits selected by the JWT `tier` claim" })),
  },
  { additionalProperties: false },
);

export const ConfigSchema = T.Object(
  {
    host: T.String({ default: "127.0.0.1" }),
    port: T.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
    data_dir: T.String({ default: "./data" }),
    upstream: T.Union([T.String({ description: "http(s) URL of the app to proxy to" }), T.Null()], { default: null }),
    trust_proxy: T.Union([T.String(), T.Array(T.String()), T.Integer({ minimum: 0 }), T.Boolean()], {
      default: "loopback",
      description: "loopback, linklocal, uniquelocal, IPs, CIDRs (list or comma-separated), a hop count, or true/false",
    }),
    prefix: T.String({ default: "/_ipward", pattern: "^/[A-Za-z0-9._~-]+$" }),
    admin: T.Object(
      { listen: T.Union([T.String(), T.Null()], { default: null, description: "host:port for a separate admin listener" }) },
      { additionalProperties: false, default: {} },
    ),
    redis: T.Object(
      {
        url: T.Union([T.String(), T.Null()], { default: null }),
        key_prefix: T.String({ default: "ipward:" }),
        timeout_ms: T.Integer({ default: 50, minimum: 1 }),
        reserve_percent: T.Number({
          default: 1,
          minimum: 0,
          maximum: 50,
          description: "share of a rule's limit one Redis call may count ahead for this instance (0: every hit asks Redis)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: T.Object(
      { jwt_secret: T.Union([T.String(), T.Null()], { default: null }) },
      { additionalProperties: false, default: {} },
    ),
    rate_limit: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        ipv6_prefix: T.Integer({ default: 64, minimum: 1, maximum: 128 }),
        memory_max_keys: T.Integer({ default: 100_000, minimum: 100 }),
        rules: T.Array(RateLimitRule, {
          default: [
            { name: "login", method: "POST", path: "/api/login", limit: 5, window: "1m", key: "ip" },
            { name: "action", method: "POST", path: "/api/action", limit: 10, window: "1m", key: "user_or_ip", tiers: { premium: 100 } },
          ],
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    geo: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        cache_size: T.Integer({ default: 50_000, minimum: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: T.Object(
      {
        query_string: T.Boolean({ default: false, description: "Store the query string with the path" }),
        buffer_size: T.Integer({ default: 100_000, minimum: 100, description: "Rows held before new rows are dropped" }),
        batch_size: T.Integer({ default: 250, minimum: 1 }),
        flush_ms: T.Integer({ default: 50, minimum: 1 }),
      },
      { additionalProperties: false, default: {} },
    ),
    detection: T.Object(
      {
        enabled: T.Boolean({ default: true }),
        schedule: T.String({ default: "0 * * * *", description: "Cron expression of the scheduled run" }),
        window: Duration("1h", "Look-back window of scheduled rules"),
        auto_block: T.Boolean({ default: false }),
        block_duration: Duration("4h", "First automatic block"),
        max_block_duration: Duration("7d", "Cap of the doubling automatic block"),
        dry_run: T.Boolean({ default: false }),
        sensitive_paths: T.Array(T.String(), { default: ["/admin", "/login", "/api/login"] }),
        requests_per_window: T.Integer({ default: 100, minimum: 1, description: "More than this from one IP is flagged" }),
        sensitive_per_window: T.Integer({ default: 10, minimum: 1 }),
        probe_distinct_paths: T.Integer({ default: 20, minimum: 1, description: "Distinct 4xx paths that count as probing" }),
        scrape_sequence: T.Integer({ default: 20, minimum: 2, description: "Sequential numeric paths that count as scraping" }),
        geo_countries: T.Integer({ default: 3, minimum: 2, description: "Countries per user that count as an anomaly" }),
        realtime: T.Boolean({ default: true }),
        realtime_max_ips: T.Integer({
          default: 100_000,
          minimum: 100,
          description: "Addresses tracked by real-time scenarios; the least recently seen are forgotten first",
        }),
        login_paths: T.Array(T.String(), {
          default: ["/login", "/api/login", "/signin", "/auth/login", "/user/login", "/users/sign_in", "/admin/login", "/wp-login.php", "/xmlrpc.php"],
          description: "Paths whose POST requests count towards the login_bruteforce scenario",
        }),
        scenarios: T.Object(
          {
            sensitive_file: Scenario(3, "10m"),
            path_traversal: Scenario(1, "10m"),
            injection: Scenario(2, "10m"),
            bad_user_agent: Scenario(1, "10m"),
            login_bruteforce: Scenario(10, "1m"),
          },
          { additionalProperties: false, default: {}, description: "Real-time scenarios: `threshold` matching requests within `window` trigger" },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: T.Object(
      {
        days: T.Integer({ default: 90, minimum: 1 }),
        schedule: T.String({ default: "17 3 * * *" }),
      },
      { additionalProperties: false, default: {} },
    ),
    privacy: T.Object(
      {
        store_user_agent: T.Boolean({ default: true }),
        anonymize_ip: T.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type RateLimitRuleConfig = Static<typeof RateLimitRule>;
