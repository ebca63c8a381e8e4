import type { WebSocketHandler } from "bun";
import type { Config } from "./config/schema.ts";
import { RuleSet } from "./core/decisions.ts";
import { createJwtVerifier } from "./core/identity.ts";
import { compileTrust, type TrustFn } from "./core/ip.ts";
import { Metrics, type MetricsSources } from "./core/metrics.ts";
import { Pipeline } from "./core/pipeline.ts";
import { type Clock, systemClock } from "./core/ports.ts";
import { RateLimiter } from "./core/rate-limit.ts";
import { createDetection, type Detection, detectionSettings, listedBy } from "./core/detection/index.ts";
import { parseDuration } from "./core/duration.ts";
import { type GeoService, openGeo } from "./geo/index.ts";
import { type AdminSurface, createAdminSurface } from "./http/api/admin-app.ts";
import { adminUi } from "./http/admin-ui.ts";
import { applianceApp } from "./http/appliance.ts";
import { demoApp } from "./http/demo-app.ts";
import { createForwardAuth } from "./http/forward-auth.ts";
import { createGateway, type FetchHandler } from "./http/gateway.ts";
import { createMetricsHandler } from "./http/metrics.ts";
import { createProxy } from "./http/proxy.ts";
import { createCounterStore, type LimiterStore } from "./limiter/index.ts";
import { loadDriver, runtimeDriverName } from "./store/drivers.ts";
import { LogWriter } from "./store/log-writer.ts";
import { openDetectionStore, type SqliteDetectionStore } from "./store/detection-store.ts";
import { DetectionThread } from "./store/detection-thread.ts";
import { type JobScheduler, scheduleJobs } from "./jobs/schedule.ts";
import { defaultDbPath, openStore, type SqlDriver, type SqliteStore } from "./store/sqlite-store.ts";

export interface CreateAppOptions {
  config: Config;
  clock?: Clock;
  /** Where operational messages go (default: stderr). */
  log?: (message: string) => void;
  /** SQLite binding; default: the running runtime's own (bun:sqlite under Bun, node:sqlite under Deno). */
  driver?: SqlDriver;
  /** The protected application; default: the demo app (or the upstream proxy when configured). */
  application?: (request: Request) => Response | Promise<Response>;
}

/** The pipeline and what it runs on, without an HTTP surface: shared by the server and the Elysia plugin. */
export interface IpwardCore {
  config: Config;
  /** The SQLite binding every store of this instance opens its connection with. */
  driver: SqlDriver;
  store: SqliteStore;
  logWriter: LogWriter;
  geo: GeoService | null;
  limiterStore: LimiterStore;
  rules: RuleSet;
  trust: TrustFn;
  pipeline: Pipeline;
  detection: Detection;
  detectionStore: SqliteDetectionStore;
  /** Prometheus counters, already observing the pipeline; `metrics.detection(rule)` counts a detection. */
  metrics: Metrics;
  /** What /_ipward/metrics reads at scrape time. */
  metricsSources: MetricsSources;
  /** Unix ms at which the core was built. */
  startedAt: number;
  /** Reloads what can change without a restart (geo data; SIGHUP). */
  reload(): Promise<void>;
  /** Drains the request log and releases every resource. */
  close(): Promise<void>;
}

/** A fully wired ipward instance, not yet listening. */
export interface IpwardApp extends IpwardCore {
  /** The Bun.serve fetch handler: pipeline, then the application (demo app or upstream proxy); the appliance routes under the prefix. */
  fetch: FetchHandler;
  /** The Bun.serve WebSocket handler in proxy mode (upgrades pass through to the upstream); null otherwise. */
  websocket: WebSocketHandler<unknown> | null;
  /** The admin API, setup page and UI (accounts, sessions, the setup link). */
  admin: AdminSurface;
  /** The fetch handler of the `admin.listen` listener (the admin surface only). */
  adminFetch: FetchHandler;
}

/** Builds stores, limiter, geo, rules, detection, jobs, the pipeline and its metrics from the configuration. */
export async function buildCore({ config, clock = systemClock, log = defaultLog, driver: chosenDriver }: Omit<CreateAppOptions, "application">): Promise<IpwardCore> {
  // Reading the geolocation databases (45 MB) runs off the main thread: start it first, so that it
  // overlaps opening the stores and the log writer instead of adding to start-up.
  const geoOpening = config.geo.enabled ? openGeo({ dataDir: config.data_dir, cacheSize: config.geo.cache_size, log }) : null;
  // If a later step throws first, the failure that is reported is that step's, not this one's.
  geoOpening?.catch(() => {});
  // Loaded, not imported: the core must not pull bun:sqlite into the Deno entry.
  const driver = chosenDriver ?? (await loadDriver(runtimeDriverName()));
  const dbPath = defaultDbPath(config.data_dir);
  const store = openStore(dbPath, { driver, clock });
  const logWriter = new LogWriter({
    path: dbPath,
    batchSize: config.log.batch_size,
    flushMs: config.log.flush_ms,
    bufferSize: config.log.buffer_size,
  });
  const limiterStore = await createCounterStore({
    redisUrl: config.redis.url,
    keyPrefix: config.redis.key_prefix,
    timeoutMs: config.redis.timeout_ms,
    reservePercent: config.redis.reserve_percent,
    maxKeys: config.rate_limit.memory_max_keys,
    log,
  });
  const limiter = config.rate_limit.enabled
    ? new RateLimiter(config.rate_limit.rules, limiterStore, { ipv6Prefix: config.rate_limit.ipv6_prefix })
    : null;
  const rules = new RuleSet(store, { clock, onError: (error) => log(`reloading rules failed, keeping the previous ones: ${error}`) });
  rules.start(250);
  // With Redis, rule changes reach every instance, each keeping its own SQLite (imported only then).
  const ruleSync = config.redis.url
    ? (await import("./store/redis-pubsub.ts")).startRuleSync({
        url: config.redis.url,
        keyPrefix: config.redis.key_prefix,
        store,
        onApplied: () => rules.refreshIfChanged(),
        log,
      })
    : null;

  const trust = compileTrust(config.trust_proxy);
  const geo = await geoOpening;
  const pipeline = new Pipeline({
    trust,
    rules,
    geo,
    limiter,
    identity: config.auth.jwt_secret ? createJwtVerifier(config.auth.jwt_secret, { clock }) : null,
    log: logWriter,
    clock,
    storeQueryString: config.log.query_string,
    storeUserAgent: config.privacy.store_user_agent,
    anonymizeIp: config.privacy.anonymize_ip,
  });

  const metrics = new Metrics();
  pipeline.observe(metrics.observer);

  const detectionStore = openDetectionStore(dbPath, { driver });
  const settings = detectionSettings(config.detection);
  const reportDetectionError = (error: unknown) => log(`detection failed: ${error instanceof Error ? error.message : error}`);
  // The scheduled rules fold every logged row: on a thread of their own, off the request thread.
  const detectionThread = config.detection.enabled
    ? new DetectionThread({ path: dbPath, settings, clock, onError: reportDetectionError })
    : null;
  const detection = createDetection({
    settings,
    store: detectionStore,
    decisions: store,
    ...listedBy(rules, clock),
    clock,
    onAction: (action) => {
      if (action.action !== "skip") metrics.detection(action.rule);
      log(`detection: ${action.message}`);
    },
    onError: reportDetectionError,
    scheduled: detectionThread ?? undefined,
  });
  const jobs: JobScheduler = scheduleJobs(
    [
      ...(config.detection.enabled
        ? [{ name: "detection", key: "detection.schedule", pattern: config.detection.schedule, run: () => detection.runScheduled() }]
        : []),
      {
        name: "retention",
        key: "retention.schedule",
        pattern: config.retention.schedule,
        run: () => store.purgeLogs(clock.now() - parseDuration(`${config.retention.days}d`)),
      },
    ],
    log,
  );
  if (config.detection.enabled) {
    detection.scheduled.start();
    detection.responder.start();
    if (detection.realtime) pipeline.observe(detection.realtime.observe);
  }

  const startedAt = Date.now();
  const metricsSources: MetricsSources = {
    startedAt,
    now: () => Date.now(),
    logStats: () => logWriter.stats(),
    limiterStats: () => limiterStore.stats(),
    ruleCounts: () => ({ block: rules.block.size, allow: rules.allow.size }),
  };

  return {
    config,
    driver,
    store,
    logWriter,
    geo,
    limiterStore,
    rules,
    trust,
    pipeline,
    detection,
    detectionStore,
    metrics,
    metricsSources,
    startedAt,
    async reload() {
      await geo?.reload();
      rules.refreshIfChanged();
    },
    async close() {
      jobs.stop();
      detection.scheduled.stop();
      rules.stop();
      await ruleSync?.close();
      await logWriter.close();
      await detection.responder.close();
      await detectionThread?.close();
      detectionStore.close();
      await limiterStore.close();
      geo?.close();
      store.close();
    },
  };
}

/** The composition root: the core plus the HTTP handler (application, appliance routes, forward auth, metrics). */
export async function createApp({ application, ...options }: CreateAppOptions): Promise<IpwardApp> {
  const core = await buildCore(options);
  const { config, pipeline, logWriter, limiterStore, rules } = core;
  const appliance = applianceApp(config.prefix, {
    startedAt: core.startedAt,
    logStats: () => logWriter.stats(),
    limiterState: () => limiterStore.state(),
    ruleCounts: () => ({ block: rules.block.size, allow: rules.allow.size }),
  }).compile();
  const proxy = !application && config.upstream ? createProxy({ upstream: config.upstream, trust: core.trust }) : null;
  const demo = application || proxy ? null : demoApp().compile();
  const forwardAuth = createForwardAuth(pipeline);
  const admin = createAdminSurface({
    prefix: config.prefix,
    separateListener: config.admin.listen !== null,
    dbPath: defaultDbPath(config.data_dir),
    driver: core.driver,
    store: core.store,
    trust: core.trust,
    attempts: limiterStore,
    suspicious: core.detectionStore,
    responder: core.detection.responder,
    geo: core.geo,
    clock: options.clock ?? systemClock,
    log: options.log ?? defaultLog,
    ui: adminUi(config.prefix),
  });
  const applianceFetch: FetchHandler = (request) => appliance.fetch(request);

  const fetch = createGateway({
    pipeline,
    prefix: config.prefix,
    appliance: admin.publicHandler(applianceFetch),
    application: application ?? (proxy ? (request, verdict, facts) => proxy.forward(request, verdict, facts) : (request) => demo!.fetch(request)),
    routes: {
      [`${config.prefix}/check`]: (request, server) => forwardAuth(request, server.requestIP(request)?.address ?? ""),
      [`${config.prefix}/metrics`]: createMetricsHandler(core.metrics, core.metricsSources),
    },
    upgrade: proxy ? (request, verdict, facts) => proxy.connectWebSocket(request, verdict, facts) : undefined,
  });

  return {
    ...core,
    fetch,
    websocket: proxy ? (proxy.websocket as WebSocketHandler<unknown>) : null,
    admin,
    adminFetch: admin.listenerHandler(applianceFetch),
    async close() {
      admin.close();
      await core.close();
    },
  };
}

function defaultLog(message: string): void {
  console.error(`ipward: ${message}`);
}
