import type { LogRow, LogSink, LogSinkStats } from "../core/ports.ts";
import { type DriverName, runtimeDriverName } from "./drivers.ts";
import { type EncodedLogBatch, LogBatchEncoder } from "./log-batch.ts";
import { LogBatchInserter } from "./log-batch-inserter.ts";
import type { LogWorkerReply, LogWorkerRequest } from "./log-writer-worker.ts";

export interface LogWriterOptions {
  /** The SQLite file (see defaultDbPath). */
  path: string;
  /** Rows per batch; a full batch is sent at once (config log.batch_size, default 250). */
  batchSize?: number;
  /** Longest a row waits before its batch is sent (config log.flush_ms, default 50). */
  flushMs?: number;
  /** Rows waiting (unsent plus uncommitted) beyond which new rows are dropped (config log.buffer_size). */
  bufferSize?: number;
  /** Insert on this thread instead of a Worker (Deno, and tests of the SQL). */
  inline?: boolean;
  /** SQLite binding; default: the runtime's own. */
  driver?: DriverName;
  /** Where the worker script is; only a build that relocates it needs this. */
  workerUrl?: URL | string;
  /** Told about failed batches and a dead worker; default prints to stderr. */
  onError?: (error: Error) => void;
}

/** Where batches go: a Worker or an inserter on this thread. Replies come back in send order. */
interface BatchTarget {
  send(seq: number, batch: EncodedLogBatch): void;
  close(): Promise<void>;
}

interface FlushWaiter {
  seq: number;
  error?: Error;
  resolve(): void;
  reject(error: Error): void;
}

type BatchDone = (seq: number, error?: Error) => void;

/**
 * The request log sink (SPEC §2.6). `write` encodes the row into the open batch (log-batch.ts:
 * numbers and symbols, no objects kept); batches leave every `flushMs` or at `batchSize` rows and
 * are inserted by a Worker with its own connection, one transaction per batch. Beyond
 * `bufferSize` waiting rows, new rows are counted as dropped: the request path is never blocked.
 */
export class LogWriter implements LogSink {
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly bufferSize: number;
  private readonly onError: (error: Error) => void;
  private readonly target: BatchTarget;
  private readonly encoder: LogBatchEncoder;
  /** Batches sent and not yet answered, oldest first. */
  private readonly inFlight: { seq: number; rows: number }[] = [];
  private inFlightRows = 0;
  private waiters: FlushWaiter[] = [];
  private nextSeq = 1;
  private written = 0;
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | undefined;
  private broken: Error | undefined;

  constructor(options: LogWriterOptions) {
    this.batchSize = options.batchSize ?? 250;
    this.flushMs = options.flushMs ?? 50;
    this.bufferSize = options.bufferSize ?? 100_000;
    this.onError = options.onError ?? ((error) => console.error(`ipward: request log: ${error.message}`));
    this.encoder = new LogBatchEncoder(this.batchSize);
    const driver = options.driver ?? runtimeDriverName();
    const done: BatchDone = (seq, error) => this.batchDone(seq, error);
    this.target = options.inline
      ? inlineTarget(options.path, driver, done)
      : workerTarget(options.path, driver, options.workerUrl, done, (error) => this.workerDied(error));
  }

  write(row: LogRow): void {
    const { encoder } = this;
    if (this.closing || this.broken || encoder.size + this.inFlightRows >= this.bufferSize) {
      this.dropped++;
      return;
    }
    encoder.add(row);
    // A full batch leaves at once: sending is a transfer of its buffer, not a copy.
    if (encoder.size === this.batchSize) this.sendPending();
    else if (encoder.size === 1) this.arm(this.flushMs);
  }

  /** Resolves once every row written so far is committed; rejects if one of their batches failed. */
  flush(): Promise<void> {
    this.sendPending();
    if (this.inFlight.length === 0) return this.broken ? Promise.reject(this.broken) : Promise.resolve();
    const seq = this.nextSeq - 1;
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Flushes, then closes the connection and ends the worker. Rows written afterwards are dropped. */
  close(): Promise<void> {
    this.closing ??= this.flush().finally(() => this.target.close());
    return this.closing;
  }

  stats(): LogSinkStats {
    return { buffered: this.encoder.size + this.inFlightRows, written: this.written, dropped: this.dropped };
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.sendPending(), ms);
  }

  private sendPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.encoder.take();
    if (batch === null) return;
    const seq = this.nextSeq++;
    this.inFlight.push({ seq, rows: batch.count });
    this.inFlightRows += batch.count;
    this.target.send(seq, batch);
  }

  private batchDone(seq: number, error?: Error): void {
    const batch = this.inFlight.shift();
    if (!batch || batch.seq !== seq) {
      throw new Error(`log batch ${seq} answered out of order (expected ${batch?.seq})`);
    }
    this.inFlightRows -= batch.rows;
    if (error) {
      this.dropped += batch.rows;
      this.onError(error);
      for (const waiter of this.waiters) waiter.error ??= error;
    } else {
      this.written += batch.rows;
    }
    this.settleWaiters(seq);
  }

  /** A dead worker answers nothing more: fail what it held and drop whatever comes later. */
  private workerDied(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    this.onError(error);
    const lost = this.inFlight.splice(0);
    for (const batch of lost) this.dropped += batch.rows;
    this.inFlightRows = 0;
    for (const waiter of this.waiters) waiter.error ??= error;
    this.settleWaiters(Number.POSITIVE_INFINITY);
  }

  private settleWaiters(upToSeq: number): void {
    const settled = this.waiters.filter((waiter) => waiter.seq <= upToSeq);
    if (settled.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.seq > upToSeq);
    for (const waiter of settled) {
      if (waiter.error) waiter.reject(waiter.error);
      else waiter.resolve();
    }
  }
}

function inlineTarget(path: string, driver: DriverName, done: BatchDone): BatchTarget {
  const inserter = new LogBatchInserter(path, driver);
  return {
    send(seq, batch) {
      inserter.insertEncoded(batch).then(
        () => done(seq),
        (error: unknown) => done(seq, asError(error)),
      );
    },
    close: () => inserter.close(),
  };
}

/** Bun's Worker can stop holding the process open; Deno's cannot (hence optional). */
type RefWorker = Worker & { ref?(): void; unref?(): void };

function workerTarget(
  path: string,
  driver: DriverName,
  url: URL | string | undefined,
  done: BatchDone,
  died: (error: Error) => void,
): BatchTarget {
  // In the compiled binary this resolves beside the main module, in the embedded file system; so
  // build.ts lists log-writer-worker.ts as an entrypoint named "[name].[ext]" (.ts maps to its .js).
  // type "module": Deno refuses classic workers; Bun accepts both.
  const worker: RefWorker = url
    ? new Worker(url, { type: "module" })
    : new Worker(new URL("./log-writer-worker.ts", import.meta.url), { type: "module" });
  let outstanding = 0;
  let dead = false;
  let closed: (() => void) | undefined;
  // Held open only while batches are out, so an idle writer never keeps a process alive.
  const hold = (delta: number) => {
    outstanding += delta;
    if (outstanding === 0) worker.unref?.();
    else if (outstanding === delta) worker.ref?.();
  };
  const post = (request: LogWorkerRequest) => worker.postMessage(request);
  worker.unref?.();
  worker.onmessage = function onLogWorkerReply(event: MessageEvent<LogWorkerReply>) {
    const reply = event.data;
    if (reply.type === "closed") {
      closed?.();
      return;
    }
    hold(-1);
    done(reply.seq, reply.error === undefined ? undefined : new Error(reply.error));
  };
  worker.onerror = function onLogWorkerError(event: ErrorEvent) {
    event.preventDefault();
    worker.terminate();
    dead = true;
    outstanding = 0;
    died(new Error(`log worker failed: ${event.message}`));
    closed?.();
  };
  post({ type: "open", path, driver });
  return {
    send(seq, batch) {
      hold(1);
      worker.postMessage({ type: "batch", seq, batch } satisfies LogWorkerRequest, [batch.numbers.buffer]);
    },
    close() {
      if (dead) return Promise.resolve();
      return new Promise<void>((resolve) => {
        closed = () => {
          worker.terminate();
          resolve();
        };
        worker.ref?.();
        post({ type: "close" });
      });
    },
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
