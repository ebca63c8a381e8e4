import { Deadlines } from "../deadlines.ts";
import { formatDuration } from "../duration.ts";
import { IpwardError } from "../errors.ts";
import { type Clock, type DecisionRule, type DecisionStore, type RuleSource, systemClock } from "../ports.ts";
import { BackgroundInterval } from "../time.ts";
import type { CountMode, DetectionStore, Finding, SuspiciousRecord } from "./ports.ts";

/** What the policy makes of findings. */
export interface ResponsePolicy {
  /** Block automatically (otherwise only flag for review). */
  autoBlock: boolean;
  /** Record and block nothing; only say what would happen. */
  dryRun: boolean;
  /** First automatic block; doubled for each earlier automatic block of the same IP. */
  blockDurationMs: number;
  maxBlockDurationMs: number;
}

/**
 * What was done (or, in a dry run, would be done) about one finding:
 * "flag" opened or updated a record; "block" also blocked the IP; "already_blocked" marked the
 * record blocked because a block was already in force; "skip" ignored an allowlisted IP.
 */
export interface DetectionAction {
  action: "flag" | "block" | "already_blocked" | "skip";
  ip: string;
  rule: string;
  reason: string;
  count: number;
  dryRun: boolean;
  /** The suspicious record written (null in a dry run or when skipped). */
  record: SuspiciousRecord | null;
  /** Block length and end, and which automatic block of this IP it is (1 = first); block only. */
  durationMs: number | null;
  expiresAt: number | null;
  offence: number | null;
  /** One line for people: "would block 1.2.3.4 for 4h (rule sensitive_file)". */
  message: string;
}

export interface ResponderOptions {
  store: DetectionStore;
  decisions: Pick<DecisionStore, "addRule">;
  policy: ResponsePolicy;
  /** Allowlisted addresses are never flagged nor blocked. */
  isAllowlisted: (ip: string) => boolean;
  /**
   * Whether a block already covers `ip` (blocks this responder made are remembered besides). An
   * IP already blocked is not blocked again: adding a rule would replace, and could shorten, an
   * operator's block.
   */
  isBlocked: (ip: string) => boolean;
  clock?: Clock;
  /** Told of every action, dry-run ones included (log them). */
  onAction?: (action: DetectionAction) => void;
  /** Told when a queued flush fails; the findings of that flush are lost. */
  onError?: (error: unknown) => void;
}

/** The n-th automatic block (n ≥ 1) lasts base × 2^(n-1), capped at max. */
export function blockDuration(offence: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, offence - 1), maxMs);
}

const REMEMBERED_BLOCKS_MAX = 10_000;

/**
 * Turns findings into suspicious records and, under `autoBlock`, blocks. Real-time findings are
 * queued and written by `flush` (every 200 ms after `start`), coalesced per (ip, rule) so that a
 * flood of matching requests costs one write per flush; scheduled findings are handled at once.
 * All work is serialised, so one IP is never blocked twice by concurrent findings.
 */
export class Responder {
  private readonly clock: Clock;
  private readonly pending = new Map<string, Finding>();
  /** Blocks made here: ip → end. Covers the time before the rule set reloads them. */
  private readonly blockedUntil = new Deadlines(REMEMBERED_BLOCKS_MAX);
  private chain: Promise<unknown> = Promise.resolve();
  private readonly flusher = new BackgroundInterval(() => {
    this.flush().catch((error) => this.options.onError?.(error));
  });

  constructor(private readonly options: ResponderOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Applies the policy to scheduled findings; counts replace those of open records. */
  handle(findings: readonly Finding[], mode: CountMode = "replace"): Promise<DetectionAction[]> {
    return this.serialised(async () => {
      const actions: DetectionAction[] = [];
      for (const finding of findings) actions.push(await this.apply(finding, mode));
      return actions;
    });
  }

  /** Queues a real-time finding (cheap, never throws); written by the next flush, counts adding up. */
  report(finding: Finding): void {
    if (this.options.isAllowlisted(finding.ip)) return;
    const key = `${finding.ip}\u0000${finding.rule}`;
    const queued = this.pending.get(key);
    if (queued) {
      queued.count += finding.count;
      queued.reason = finding.reason;
    } else {
      this.pending.set(key, { ...finding });
    }
  }

  /** Writes the queued real-time findings. */
  flush(): Promise<DetectionAction[]> {
    if (this.pending.size === 0) return Promise.resolve([]);
    const findings = [...this.pending.values()];
    this.pending.clear();
    return this.handle(findings, "add");
  }

  /** Flushes every `intervalMs` (so real-time findings reach storage well within a second). */
  start(intervalMs = 200): void {
    this.flusher.start(intervalMs);
  }

  stop(): void {
    this.flusher.stop();
  }

  /** Stops the timer and writes what is queued. */
  async close(): Promise<void> {
    this.stop();
    await this.flush();
  }

  /**
   * An operator's block of a suspicious record (admin UI, API): adds a block rule from `source`
   * for `durationMs` (null = permanent) and marks the record blocked. Not counted as an offence.
   */
  blockRecord(id: number, options: { source: RuleSource; durationMs: number | null; reason?: string }): Promise<{ record: SuspiciousRecord; rule: DecisionRule }> {
    return this.serialised(async () => {
      const { store, decisions } = this.options;
      const record = await store.getSuspicious(id);
      if (!record) throw new IpwardError("not_found", `no suspicious record ${id}`);
      const now = this.clock.now();
      const expiresAt = options.durationMs === null ? null : now + options.durationMs;
      const rule = decisions.addRule({
        list: "block",
        target: record.ip,
        kind: "ip",
        reason: options.reason ?? `${record.rule}: ${record.reason ?? "suspicious"}`,
        expires_at: expiresAt,
        source: options.source,
        created_at: now,
      });
      this.blockedUntil.set(record.ip, expiresAt ?? Number.POSITIVE_INFINITY, now);
      const updated = await store.setSuspiciousStatus(id, "blocked");
      return { record: updated ?? record, rule };
    });
  }

  /** An operator's dismissal: the record is closed; a later detection opens a new one. */
  dismissRecord(id: number): Promise<SuspiciousRecord> {
    return this.serialised(async () => {
      const record = await this.options.store.setSuspiciousStatus(id, "dismissed");
      if (!record) throw new IpwardError("not_found", `no suspicious record ${id}`);
      return record;
    });
  }

  private async apply(finding: Finding, mode: CountMode): Promise<DetectionAction> {
    const { store, decisions, policy, isAllowlisted } = this.options;
    const now = this.clock.now();
    const base = { ip: finding.ip, rule: finding.rule, reason: finding.reason, count: finding.count, dryRun: policy.dryRun };
    const none = { record: null, durationMs: null, expiresAt: null, offence: null };
    if (isAllowlisted(finding.ip)) {
      return this.tell({ ...base, ...none, action: "skip", message: `skipped ${finding.ip}: allowlisted (rule ${finding.rule})` });
    }
    const flagMessage = `${policy.dryRun ? "would flag" : "flagged"} ${finding.ip} (rule ${finding.rule}): ${finding.reason}`;
    if (!policy.autoBlock) {
      const record = policy.dryRun ? null : await store.upsertSuspicious(finding, now, mode);
      return this.tell({ ...base, ...none, record, action: "flag", message: flagMessage });
    }
    if (this.isBlocked(finding.ip, now)) {
      let record: SuspiciousRecord | null = null;
      if (!policy.dryRun) {
        const open = await store.upsertSuspicious(finding, now, mode);
        record = await store.setSuspiciousStatus(open.id, "blocked");
      }
      const state = policy.dryRun ? "would already be blocked" : "is already blocked";
      return this.tell({ ...base, ...none, record, action: "already_blocked", message: `${finding.ip} ${state} (rule ${finding.rule})` });
    }
    const offence = (await store.offencesOf(finding.ip)) + 1;
    const durationMs = blockDuration(offence, policy.blockDurationMs, policy.maxBlockDurationMs);
    const expiresAt = now + durationMs;
    let record: SuspiciousRecord | null = null;
    if (!policy.dryRun) {
      const open = await store.upsertSuspicious(finding, now, mode);
      decisions.addRule({
        list: "block",
        target: finding.ip,
        kind: "ip",
        reason: `${finding.rule}: ${finding.reason}`,
        expires_at: expiresAt,
        source: "detection",
        created_at: now,
      });
      record = await store.setSuspiciousStatus(open.id, "blocked", offence);
    }
    // Remembered in a dry run too, so that a second finding about the same IP reads as it would for real.
    this.blockedUntil.set(finding.ip, expiresAt, now);
    const length = formatDuration(durationMs);
    const message = policy.dryRun
      ? `would block ${finding.ip} for ${length} (rule ${finding.rule})`
      : `blocked ${finding.ip} for ${length} (rule ${finding.rule}, offence ${offence})`;
    return this.tell({ ...base, record, action: "block", durationMs, expiresAt, offence, message });
  }

  private isBlocked(ip: string, now: number): boolean {
    const until = this.blockedUntil.get(ip);
    if (until !== undefined && until > now) return true;
    return this.options.isBlocked(ip);
  }

  private tell(action: DetectionAction): DetectionAction {
    this.options.onAction?.(action);
    return action;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }
}
