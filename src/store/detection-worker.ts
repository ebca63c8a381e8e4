/**
 * The scheduled detector's worker thread: owns a connection of its own, folds the request log into
 * the detection window and evaluates the scheduled rules, so none of that runs on the thread that
 * serves requests. The clock stays with the caller: every request says what time it is.
 * A compiled binary must list this file as an extra entrypoint (see build.ts).
 */
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { ScheduledDetector, type ScheduledRun, scheduledRules } from "../core/detection/scheduled.ts";
import type { DetectionSettings } from "../core/detection/settings.ts";
import { openDetectionStore, type SqliteDetectionStore } from "./detection-store.ts";
import { type DriverName, loadDriver } from "./drivers.ts";

/** Messages to the worker: `open` first, then calls, each answered once with its id. */
export type DetectionWorkerRequest =
  | { type: "open"; id: number; path: string; driver: DriverName; settings: DetectionSettings; niceness: number }
  | { type: "refresh"; id: number; now: number }
  | { type: "detect"; id: number; now: number }
  | { type: "close"; id: number };

export type DetectionWorkerReply =
  | { id: number; ok: true; result: number | ScheduledRun | null }
  | { id: number; ok: false; error: string };

/**
 * Rows read per query. This thread serves no requests, so it reads in larger steps than the
 * detector's default, which exists to give a request thread its turns.
 */
const READ_ROWS = 20_000;

declare const self: Worker;

let store: SqliteDetectionStore | undefined;
let detector: ScheduledDetector | undefined;
/** Why `open` failed: every later call fails with it. */
let openFailure: string | undefined;
/** Requests run one at a time, in arrival order: calls wait for `open`, which loads the driver asynchronously. */
let queue: Promise<unknown> = Promise.resolve();

self.onmessage = function onDetectionWorkerRequest(event: MessageEvent<DetectionWorkerRequest>) {
  const request = event.data;
  queue = queue.then(() => handle(request)).then(
    (result) => self.postMessage({ id: request.id, ok: true, result } satisfies DetectionWorkerReply),
    (error: unknown) => self.postMessage({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies DetectionWorkerReply),
  );
};

async function handle(request: DetectionWorkerRequest): Promise<number | ScheduledRun | null> {
  if (request.type === "open") {
    lowerPriority(request.niceness);
    try {
      store = openDetectionStore(request.path, { driver: await loadDriver(request.driver) });
    } catch (error) {
      openFailure = `detection could not open ${request.path}: ${error instanceof Error ? error.message : error}`;
      throw new Error(openFailure);
    }
    const { settings } = request;
    detector = new ScheduledDetector({
      store,
      rules: scheduledRules(settings),
      windowMs: settings.windowMs,
      sensitivePaths: settings.sensitivePaths,
      readRows: READ_ROWS,
    });
    return null;
  }
  if (request.type === "close") {
    store?.close();
    store = undefined;
    detector = undefined;
    return null;
  }
  if (!detector) throw new Error(openFailure ?? `detection worker received "${request.type}" before open`);
  return request.type === "refresh" ? detector.refresh(request.now) : detector.detect(request.now);
}

/**
 * Makes this thread `niceness` steps nicer than the process (at most 19), so that folding a
 * backlog of millions of rows takes idle CPU rather than the request thread's. Linux only (a
 * thread's id is found through /proc/thread-self); elsewhere the thread keeps the process's.
 */
function lowerPriority(niceness: number): void {
  if (niceness === 0) return;
  try {
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(threadId)) setPriority(threadId, Math.min(19, getPriority(threadId) + niceness));
  } catch {
    // Not Linux, or not allowed: the fold still runs, at the process's priority.
  }
}
