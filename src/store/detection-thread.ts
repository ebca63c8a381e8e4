import { RefreshTimer, type ScheduledDetection, type ScheduledRun } from "../core/detection/scheduled.ts";
import { type DetectionSettings, MINUTE_MS } from "../core/detection/settings.ts";
import { type Clock, systemClock } from "../core/ports.ts";
import { type DriverName, runtimeDriverName } from "./drivers.ts";
import type { DetectionWorkerReply, DetectionWorkerRequest } from "./detection-worker.ts";

export interface DetectionThreadOptions {
  /** The SQLite file (see defaultDbPath). */
  path: string;
  settings: DetectionSettings;
  clock?: Clock;
  /** SQLite binding; default: the runtime's own. */
  driver?: DriverName;
  /** How much nicer than the process the thread runs (0–19; default 10). */
  niceness?: number;
  /** Where the worker script is; only a build that relocates it needs this. */
  workerUrl?: URL | string;
  /** Longest close() waits for the call in progress before ending the thread (default 1 s). */
  closeGraceMs?: number;
  /** Told when a background refresh (after `start`) fails, and when the worker dies. */
  onError?: (error: unknown) => void;
}

/** Bun's Worker can stop holding the process open; Deno's cannot (hence optional). */
type RefWorker = Worker & { ref?(): void; unref?(): void };

type Call = { type: "refresh" | "detect"; now: number } | { type: "close" };

interface PendingCall {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * The scheduled detector on a worker thread (src/store/detection-worker.ts) with a SQLite
 * connection of its own. Folding the request log costs about 0.9 µs a row, every row, once a
 * minute: on the request thread that was the largest cost ipward added under sustained load, and
 * a backlog (the first fold after a start reads the whole window) held requests up in bursts.
 * The thread runs at a lower priority, so a busy machine gives it what the requests leave.
 */
export class DetectionThread implements ScheduledDetection {
  private readonly clock: Clock;
  private readonly worker: RefWorker;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private failure: Error | null = null;
  private readonly refresher: RefreshTimer;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: DetectionThreadOptions) {
    this.clock = options.clock ?? systemClock;
    this.refresher = new RefreshTimer(this, options.onError);
    // In the compiled binary this resolves beside the main module, in the embedded file system
    // (build.ts lists the worker as an entrypoint named "[name].[ext]"). type "module": Deno
    // refuses classic workers.
    this.worker = new Worker(options.workerUrl ?? new URL("./detection-worker.ts", import.meta.url), { type: "module" });
    this.worker.unref?.();
    this.worker.onmessage = (event: MessageEvent<DetectionWorkerReply>) => this.settle(event.data);
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.fail(new Error(`detection worker failed: ${event.message}`));
    };
    const opened = this.post({
      type: "open",
      id: this.nextId++,
      path: options.path,
      driver: options.driver ?? runtimeDriverName(),
      settings: options.settings,
      niceness: options.niceness ?? 10,
    });
    // A failed open fails every later call with the same message (the worker keeps it): report it once.
    opened.catch((error) => options.onError?.(error));
  }

  refresh(now = this.clock.now()): Promise<number> {
    return this.call({ type: "refresh", now }) as Promise<number>;
  }

  detect(now = this.clock.now()): Promise<ScheduledRun> {
    return this.call({ type: "detect", now }) as Promise<ScheduledRun>;
  }

  start(intervalMs = MINUTE_MS): void {
    this.refresher.start(intervalMs);
  }

  stop(): void {
    this.refresher.stop();
  }

  /**
   * Stops refreshing and ends the thread: it closes its connection once the call in progress is
   * done, or is ended after `closeGraceMs` (a first fold of a large window takes seconds, and the
   * thread only reads, so cutting it short loses nothing). Calls still owed are rejected.
   */
  close(): Promise<void> {
    this.stop();
    if (!this.closing) {
      const closed = this.failure ? Promise.resolve() : this.call({ type: "close" }).then(() => undefined, () => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeGraceMs ?? 1_000);
      });
      this.closing = Promise.race([closed, grace]).then(() => {
        clearTimeout(timer);
        this.fail(new Error("the detection thread is closed"), false);
      });
    }
    return this.closing;
  }

  private call(call: Call): Promise<unknown> {
    if (this.closing) return Promise.reject(new Error("the detection thread is closed"));
    if (this.failure) return Promise.reject(this.failure);
    return this.post({ ...call, id: this.nextId++ });
  }

  private post(request: DetectionWorkerRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // The worker holds the process open only while it owes an answer.
      if (this.pending.size === 0) this.worker.ref?.();
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private settle(reply: DetectionWorkerReply): void {
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref?.();
    if (reply.ok) call.resolve(reply.result);
    else call.reject(new Error(reply.error));
  }

  /** Ends the worker: fails what it owes and every later call (and reports why, unless closing). */
  private fail(error: Error, report = true): void {
    if (this.failure) return;
    this.failure = error;
    this.stop();
    this.worker.terminate();
    const owed = [...this.pending.values()];
    this.pending.clear();
    for (const call of owed) call.reject(error);
    if (report) this.options.onError?.(error);
  }
}
