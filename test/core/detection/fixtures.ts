import { parseIp } from "../../../src/core/ip.ts";
import type { RequestFacts, Verdict } from "../../../src/core/pipeline.ts";
import type { Clock, LogRow } from "../../../src/core/ports.ts";
import { validateConfig } from "../../../src/config/load.ts";
import { type DetectionSettings, detectionSettings } from "../../../src/core/detection/settings.ts";
import { openDetectionStore, type SqliteDetectionStore } from "../../../src/store/detection-store.ts";
import { openStore, type SqlDriver, type SqliteStore } from "../../../src/store/sqlite-store.ts";
import { logRow, T0, tempDir } from "../../store/fixtures.ts";

export { logRow, T0 };

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
}

/** Detection settings from a raw `detection` config section (defaults for the rest). */
export function settings(detection: Record<string, unknown> = {}): DetectionSettings {
  return detectionSettings(validateConfig({ detection }).detection);
}

/** A real database in a temp dir: the main store (logs, rules) and detection's own connection. */
export interface Databases {
  /** The SQLite file, for connections of other threads. */
  path: string;
  store: SqliteStore;
  detection: SqliteDetectionStore;
  insert(rows: LogRow[]): void;
  close(): void;
}

export function openDatabases(driver: SqlDriver): Databases {
  const temp = tempDir();
  const store = openStore(temp.dbPath, { driver });
  const detection = openDetectionStore(temp.dbPath, { driver });
  return {
    path: temp.dbPath,
    store,
    detection,
    insert: (rows) => store.insertLogBatch(rows),
    close() {
      detection.close();
      store.close();
      temp.cleanup();
    },
  };
}

/** The verdict the pipeline gives an ordinary request from `ip`. */
export function verdictFor(ip: string, overrides: Partial<Verdict> = {}): Verdict {
  return {
    ip,
    parsedIp: parseIp(ip),
    geo: null,
    decision: "allow",
    rule: null,
    allowlisted: false,
    user: null,
    headers: null,
    refusal: null,
    time: 0,
    ...overrides,
  };
}

/** One request as the pipeline reports it to observers: the logged row, the verdict and the facts. */
export interface Observed {
  row: LogRow;
  verdict: Verdict;
  facts: Pick<RequestFacts, "path" | "query" | "userAgent">;
}

/** A request from `ip` to `target` ("/path?query") at `ts`; the row's path has no query. */
export function request(
  ip: string,
  target: string,
  ts: number,
  overrides: Partial<LogRow> & { verdict?: Partial<Verdict> } = {},
): Observed {
  const mark = target.indexOf("?");
  const path = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? "" : target.slice(mark + 1);
  const { verdict, ...rowOverrides } = overrides;
  const row = logRow({
    ts,
    ip,
    path,
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    ...rowOverrides,
  });
  return {
    row,
    verdict: verdictFor(ip, { decision: row.decision, ...verdict }),
    facts: { path, query, userAgent: row.user_agent },
  };
}
