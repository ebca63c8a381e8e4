import type { Config } from "./config/schema.ts";
import { RuleSet } from "./core/decisions.ts";
import { createJwtVerifier } from "./core/identity.ts";
import { compileTrust } from "./core/ip.ts";
import { Pipeline } from "./core/pipeline.ts";
import { type Clock, systemClock } from "./core/ports.ts";
import { RateLimiter } from "./core/rate-limit.ts";
import { createDetection, type Detection, detectionSettings, listedBy } from "./core/detection/index.ts";
import { parseDuration } from "./core/duration.ts";
import { type GeoService, openGeo } from "./geo/index.ts";
import { applianceApp } from "./http/appliance.ts";
import { demoApp } from "./http/demo-app.ts";
import { createGateway, type FetchHandler } from "./http/gateway.ts";
import { createCounterStore, type LimiterStore } from "./limiter/index.ts";
import { openBunSqlite } from "./store/bun-sqlite.ts";
import { LogWriter } from "./store/log-writer.ts";
import { openDetectionStore, type SqliteDetectionStore } from "./store/detection-store.ts";
import { type JobScheduler, scheduleJobs } from "./jobs/schedule.ts";
import { defaultDbPath, openStore, type SqliteStore } from "./store/sqlite-store.ts";

export interface CreateAppOptions {
  config: Config;
  clock?: Clock;
  /** Where operational messages go (default: stderr). */
  log?: (message: string) => void;
  /** The protected application; default: the demo app (or the upstream proxy when configured). */
  application?: (request: Request) => Response | Promise<Response>;
}

/** A fully wired ipward instance, not yet listening. */
export interface IpwardApp {
  config: Config;
  store: SqliteStore;
  logWriter: LogWriter;
  geo: GeoService | null;
  limiterStore: LimiterStore;
  rules: RuleSet;
  pipeline: Pipeline;
  detection: Detection;
  detectionStore: SqliteDetectionStore;
  /** The Bun.serve fetch handler: pipeline, then the demo app; the appliance routes under the prefix. */
  fetch: FetchHandler;
  /** Reloads what can change without a restart (geo data; SIGHUP). */
  reload(): Promise<void>;
  /** Drains the request log and releases every resource. */
  close(): Promise<void>;
}

/** The composition root: builds stores, limiter, geo and the HTTP handler from the configuration. */
export async function createApp({ config, clock = systemClock, log = defaultLog, application }: CreateAppOptions): Promise<IpwardApp> {
  const dbPath = defaultDbPath(config.data_dir);
  const store = openStore(dbPath, { driver: openBunSqlite, clock });
  const logWriter = new LogWriter({
    path: dbPath,
    batchSize: config.log.batch_size,
    flushMs: config.log.flush_ms,
    bufferSize: config.log.buffer_size,
  });
  const geo = config.geo.enabled ? await openGeo({ dataDir: config.data_dir, cacheSize: config.geo.cache_size, log }) : null;
  const limiterStore = await createCounterStore({
    redisUrl: config.redis.url,
    keyPrefix: config.redis.key_prefix,
    timeoutMs: config.redis.timeout_ms,
    maxKeys: config.rate_limit.memory_max_keys,
    log,
  });
  const limiter = config.rate_limit.enabled
    ? new RateLimiter(config.rate_limit.rules, limiterStore, { ipv6Prefix: config.rate_limit.ipv6_prefix })
    : null;
  const rules = new RuleSet(store, { clock, onError: (error) => log(`reloading rules failed, keeping the previous ones: ${error}`) });
  rules.start(250);

  const pipeline = new Pipeline({
    trust: compileTrust(config.trust_proxy),
    rules,
    geo,
    limiter,
    identity: config.auth.jwt_secret ? createJwtVerifier(config.auth.jwt_secret) : null,
    log: logWriter,
    clock,
    storeQueryString: config.log.query_string,
    storeUserAgent: config.privacy.store_user_agent,
    anonymizeIp: config.privacy.anonymize_ip,
  });

  const detectionStore = openDetectionStore(dbPath, { driver: openBunSqlite });
  const detection = createDetection({
    settings: detectionSettings(config.detection),
    store: detectionStore,
    decisions: store,
    ...listedBy(rules, clock),
    clock,
    onAction: (action) => log(`detection: ${action.message}`),
    onError: (error) => log(`detection failed: ${error instanceof Error ? error.message : error}`),
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
  const appliance = applianceApp(config.prefix, {
    startedAt,
    logStats: () => logWriter.stats(),
    limiterState: () => limiterStore.state(),
    ruleCounts: () => ({ block: rules.block.size, allow: rules.allow.size }),
  }).compile();
  const demo = application ? null : demoApp().compile();

  const fetch = createGateway({
    pipeline,
    prefix: config.prefix,
    appliance: (request) => appliance.fetch(request),
    application: application ?? ((request) => demo!.fetch(request)),
  });

  return {
    config,
    store,
    logWriter,
    geo,
    limiterStore,
    rules,
    pipeline,
    detection,
    detectionStore,
    fetch,
    async reload() {
      await geo?.reload();
      rules.refreshIfChanged();
    },
    async close() {
      jobs.stop();
      detection.scheduled.stop();
      rules.stop();
      await logWriter.close();
      await detection.responder.close();
      detectionStore.close();
      await limiterStore.close();
      geo?.close();
      store.close();
    },
  };
}

function defaultLog(message: string): void {
  console.error(`ipward: ${message}`);
}
