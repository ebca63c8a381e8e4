/**
 * The log writer's worker thread: owns its own SQLite connection and inserts each batch in one
 * transaction, so inserts never run on the thread that serves requests.
 * A compiled binary must list this file as an extra entrypoint (see build.ts).
 */
import type { DriverName } from "./drivers.ts";
import type { EncodedLogBatch } from "./log-batch.ts";
import { LogBatchInserter } from "./log-batch-inserter.ts";

/** Messages from the LogWriter to the worker, in order: open, batch…, close. */
export type LogWorkerRequest =
  | { type: "open"; path: string; driver: DriverName }
  /** The batch's number buffer is transferred, not copied. */
  | { type: "batch"; seq: number; batch: EncodedLogBatch }
  | { type: "close" };

/** Replies, in request order: one `done` per batch, then `closed`. */
export type LogWorkerReply = { type: "done"; seq: number; error?: string } | { type: "closed" };

declare const self: Worker;

let inserter: LogBatchInserter | undefined;

function reply(message: LogWorkerReply): void {
  self.postMessage(message);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

self.onmessage = function onLogWorkerRequest(event: MessageEvent<LogWorkerRequest>) {
  const request = event.data;
  if (request.type === "open") {
    inserter = new LogBatchInserter(request.path, request.driver);
  } else if (request.type === "batch") {
    const { seq } = request;
    if (!inserter) {
      reply({ type: "done", seq, error: "log worker received a batch before open" });
      return;
    }
    inserter.insertEncoded(request.batch).then(
      () => reply({ type: "done", seq }),
      (error: unknown) => reply({ type: "done", seq, error: errorMessage(error) }),
    );
  } else {
    const closing = inserter ? inserter.close() : Promise.resolve();
    closing.then(
      () => reply({ type: "closed" }),
      () => reply({ type: "closed" }),
    );
  }
};
