import { type Clock, systemClock } from "../ports.ts";
import { BackgroundInterval } from "../time.ts";
import { geoAnomalyRule } from "./geo-anomaly.ts";
import { DEFAULT_LOG_WINDOW_LIMITS, LogWindow, type LogWindowLimits } from "./log-window.ts";
import type { DetectionStore, Finding } from "./ports.ts";
import { probingRule } from "./probing.ts";
import { scrapingRule } from "./scraping.ts";
import { type DetectionSettings, describeWindow, MINUTE_MS, windowStart } from "./settings.ts";
import { highVolumeRule, sensitivePathsRule } from "./volume.ts";

/** What a scheduled rule sees when it runs. */
export interface RuleContext {
  /** The request log of the window, folded. */
  window: LogWindow;
  /** How reasons name the window: "the last hour". */
  windowText: string;
}

/** A scheduled rule: its tunables as plain data plus an evaluator over the folded window. */
export interface ScheduledRule {
  readonly name: string;
  evaluate(context: RuleContext): Finding[];
}

/** The seed's two rules plus probing, scraping and geographic anomalies, tuned by the config. */
export function scheduledRules(settings: DetectionSettings): ScheduledRule[] {
  return [
    highVolumeRule({ threshold: settings.requestsPerWindow }),
    sensitivePathsRule({ threshold: settings.sensitivePerWindow, paths: settings.sensitivePaths }),
    probingRule({ distinctPaths: settings.probeDistinctPaths }),
    scrapingRule({ sequence: settings.scrapeSequence }),
    geoAnomalyRule({ countries: settings.geoCountries }),
  ];
}

export interface ScheduledDetectorOptions {
  store: DetectionStore;
  rules: ScheduledRule[];
  windowMs: number;
  /** Normalised sensitive paths (see `normalizeSensitivePaths`). */
  sensitivePaths: readonly string[];
  clock?: Clock;
  /** Rows read per query; the event loop gets a turn between reads (default 1,000). */
  readRows?: number;
  limits?: LogWindowLimits;
  /** Told when a background refresh (after `start`) fails. */
  onError?: (error: unknown) => void;
}

/** Outcome of one scheduled pass. */
export interface ScheduledRun {
  /** Window start (inclusive, on a whole minute) and end, in ms. */
  since: number;
  until: number;
  findings: Finding[];
  /** Rows read from the log by this run (those logged since the previous refresh). */
  rowsRead: number;
  durationMs: number;
}

/**
 * The scheduled detector as the server drives it: folded here (`ScheduledDetector`) or on a thread
 * of its own (src/store/detection-thread.ts). `now` defaults to the detector's clock.
 */
export interface ScheduledDetection {
  /** Folds the rows logged since the previous refresh; resolves with how many were read. */
  refresh(now?: number): Promise<number>;
  /** Evaluates every rule over the window ending at `now`, after folding what is new. */
  detect(now?: number): Promise<ScheduledRun>;
  /** Refreshes now and then every `intervalMs` (default one minute), without keeping the process alive. */
  start(intervalMs?: number): void;
  stop(): void;
}

/** Calls a detector's `refresh()` now and then every interval, until stopped (see ScheduledDetection.start). */
export class RefreshTimer {
  private readonly interval: BackgroundInterval;

  constructor(
    private readonly detection: Pick<ScheduledDetection, "refresh">,
    private readonly onError?: (error: unknown) => void,
  ) {
    this.interval = new BackgroundInterval(() => this.tick());
  }

  start(intervalMs: number): void {
    this.tick();
    this.interval.start(intervalMs);
  }

  stop(): void {
    this.interval.stop();
  }

  private tick(): void {
    this.detection.refresh().catch((error) => this.onError?.(error));
  }
}

/**
 * Rows read and folded between two turns of the event loop, for a detector on a thread that has
 * other work: at about 0.9 µs a row a chunk holds that thread up for about 1 ms (20,000 rows held
 * requests up for 18 ms once a minute when the server folded on its request thread). The server's
 * detection thread reads in larger steps.
 */
const DEFAULT_READ_ROWS = 1_000;

/**
 * Runs the scheduled rules over the look-back window ending now.
 *
 * Aggregating the whole window in SQL at each run does not scale (SQLite groups by sorting: a
 * GROUP BY ip over 10 million rows takes ~3 s, per rule). Instead the detector keeps the window
 * folded in memory (`LogWindow`) and reads request_log by id, only the rows logged since it last
 * read: call `refresh` every minute (or `start()`), and a run has one minute of rows left to read.
 * The first refresh of a process reads the whole window, and so does the first after an erasure.
 */
export class ScheduledDetector implements ScheduledDetection {
  private readonly clock: Clock;
  private readonly readRows: number;
  private window: LogWindow | null = null;
  /** Highest request_log id folded into `window`. */
  private watermark = 0;
  /** The store's erasure count when `window` was started. */
  private erasures = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly refresher: RefreshTimer;

  constructor(private readonly options: ScheduledDetectorOptions) {
    this.clock = options.clock ?? systemClock;
    this.readRows = options.readRows ?? DEFAULT_READ_ROWS;
    this.refresher = new RefreshTimer(this, options.onError);
  }

  /** Start (inclusive, on a whole minute) of the window of a run at `now`. */
  since(now: number): number {
    return windowStart(now, this.options.windowMs);
  }

  /** Reads the rows logged since the previous refresh into the window ending at `now`; returns how many. */
  refresh(now = this.clock.now()): Promise<number> {
    return this.serialised(() => this.fold(now));
  }

  /** Evaluates every rule over the window ending at `now`, after reading what is new. */
  detect(now = this.clock.now()): Promise<ScheduledRun> {
    return this.serialised(async () => {
      const started = performance.now();
      const rowsRead = await this.fold(now);
      const context: RuleContext = { window: this.window!, windowText: describeWindow(this.options.windowMs) };
      const findings: Finding[] = [];
      for (const rule of this.options.rules) {
        findings.push(...rule.evaluate(context));
        // Each rule walks the whole window (0.1–0.4 s for 10M rows): let requests through between them.
        await yieldToEventLoop();
      }
      return { since: this.since(now), until: now, findings, rowsRead, durationMs: performance.now() - started };
    });
  }

  /**
   * Refreshes now (the first read covers the whole window, in the background) and then every
   * `intervalMs` (default one minute); the timer does not keep the process alive.
   */
  start(intervalMs = MINUTE_MS): void {
    this.refresher.start(intervalMs);
  }

  stop(): void {
    this.refresher.stop();
  }

  /** Erases an address from the folded window (it is still in any row read later). */
  forget(ip: string): void {
    this.window?.forget(ip);
  }

  /** Addresses and users the folded window holds. */
  size(): { ips: number; users: number } {
    return this.window?.size ?? { ips: 0, users: 0 };
  }

  private async fold(now: number): Promise<number> {
    const { store } = this.options;
    const since = this.since(now);
    const fromMinute = since / MINUTE_MS;
    // An erasure (by any process) removed rows this window has folded: it is read again without them.
    const erasures = await store.erasures();
    if (!this.window || fromMinute < this.window.fromMinute || erasures !== this.erasures) {
      this.erasures = erasures;
      this.window = new LogWindow(fromMinute, this.options.sensitivePaths, this.options.limits ?? DEFAULT_LOG_WINDOW_LIMITS);
      const first = await store.firstLogIdSince(since);
      this.watermark = first === null ? await store.lastLogId() : first - 1;
    } else {
      this.window.expire(fromMinute);
    }
    const window = this.window;
    const target = await store.lastLogId();
    let read = 0;
    while (this.watermark < target) {
      const through = Math.min(this.watermark + this.readRows, target);
      const rows = await store.readLogs(this.watermark, through, window.fromMinute * MINUTE_MS);
      for (const row of rows) window.add(row);
      read += rows.length;
      this.watermark = through;
      if (through < target) await yieldToEventLoop();
    }
    return read;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }
}

/** Lets waiting requests run. setImmediate where the runtime has it: setTimeout(0) waits ~1 ms. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
