/**
 * Block/allow rules kept in step across instances that each have their own store (SPEC §1,
 * multi-instance): every instance publishes the rule changes it sees in its own store, whoever
 * made them (its admin API, the CLI against its data dir, detection), and applies the changes the
 * others publish. The transport is a port (Redis pub/sub in store/redis-pubsub.ts).
 *
 * Changes travel as full states (the rule, or its absence), so applying one twice is harmless.
 * Echo loops cannot form: an instance publishes only where its store differs from what it last
 * published or applied. Two instances changing one target at once converge on the later change
 * (time, then instance id), the same everywhere.
 */
import { parseRuleTarget } from "./decisions.ts";
import type { Clock, DecisionRule, DecisionStore, RuleKind, RuleList, RuleSource } from "./ports.ts";
import { systemClock } from "./ports.ts";

/** One rule's state: present with these values, or removed. */
export type RuleChange =
  | {
      op: "upsert";
      list: RuleList;
      target: string;
      kind: RuleKind;
      reason: string | null;
      created_at: number;
      expires_at: number | null;
      source: RuleSource;
    }
  | { op: "delete"; list: RuleList; target: string };

/** What crosses the channel. `change` is unique per message; `at` orders concurrent changes. */
export interface DecisionMessage {
  v: 1;
  instance: string;
  change: string;
  at: number;
  ops: RuleChange[];
}

export interface DecisionSyncOptions {
  /** This instance's id; messages carrying it are its own and are ignored. */
  instanceId: string;
  /** Sends a message to every other instance. */
  publish(message: DecisionMessage): void;
  /** Called after received changes were written to the store (to reload the matchers at once). */
  onApplied?(): void;
  clock?: Clock;
}

/** Remembered per target: the version last published or applied, for ordering concurrent changes. */
interface Version {
  at: number;
  instance: string;
  /** The rule's values as last published or applied; null when absent. */
  state: string | null;
}

const LISTS: readonly RuleList[] = ["block", "allow"];
/** How long a removed target's version is kept to order late concurrent changes. */
const REMOVAL_MEMORY_MS = 60_000;
/** Change ids remembered to drop duplicate deliveries. */
const SEEN_CHANGES = 10_000;

const keyOf = (list: RuleList, target: string) => `${list} ${target}`;

/** The values that make two copies of a rule the same (created_at stays each store's own). */
function stateOf(rule: Pick<DecisionRule, "kind" | "reason" | "expires_at" | "source">): string {
  return JSON.stringify([rule.kind, rule.reason, rule.expires_at, rule.source]);
}

/** True when version `a` is later than `b` (time, then instance id, so every instance agrees). */
function later(a: { at: number; instance: string }, b: { at: number; instance: string }): boolean {
  return a.at > b.at || (a.at === b.at && a.instance > b.instance);
}

/** Publishes this store's rule changes and applies everyone else's. Call `poll()` periodically. */
export class DecisionSync {
  private readonly versions = new Map<string, Version>();
  private readonly seen = new Set<string>();
  private readonly clock: Clock;
  private marker: number;
  private sequence = 0;

  constructor(
    private readonly store: DecisionStore,
    private readonly options: DecisionSyncOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.marker = store.changeMarker();
    // What is in the store at start is the baseline: publishing it all would overwrite newer rules elsewhere.
    for (const [key, rule] of this.storedRules()) this.versions.set(key, { at: 0, instance: "", state: stateOf(rule) });
  }

  /** Publishes what changed in the store since the last poll; true when something was published. */
  poll(): boolean {
    const marker = this.store.changeMarker();
    if (Object.is(marker, this.marker)) return false;
    this.marker = marker;
    const stored = this.storedRules();
    const at = this.clock.now();
    const ops: RuleChange[] = [];
    for (const [key, rule] of stored) {
      const state = stateOf(rule);
      if (this.versions.get(key)?.state === state) continue;
      this.versions.set(key, { at, instance: this.options.instanceId, state });
      ops.push({ op: "upsert", list: rule.list, target: rule.target, kind: rule.kind, reason: rule.reason, created_at: rule.created_at, expires_at: rule.expires_at, source: rule.source });
    }
    for (const [key, version] of this.versions) {
      if (version.state === null || stored.has(key)) continue;
      const [list, target] = [key.slice(0, key.indexOf(" ")) as RuleList, key.slice(key.indexOf(" ") + 1)];
      this.versions.set(key, { at, instance: this.options.instanceId, state: null });
      ops.push({ op: "delete", list, target });
    }
    this.forgetOldRemovals(at);
    if (ops.length === 0) return false;
    this.options.publish({ v: 1, instance: this.options.instanceId, change: `${this.options.instanceId}:${++this.sequence}`, at, ops });
    return true;
  }

  /** Applies another instance's message; returns how many rules changed here. */
  receive(message: DecisionMessage): number {
    if (message.instance === this.options.instanceId || this.seen.has(message.change)) return 0;
    this.remember(message.change);
    // Pick up local changes first, so a concurrent local edit is published and ordered against this one.
    this.poll();
    let applied = 0;
    for (const op of message.ops) {
      const key = keyOf(op.list, op.target);
      const current = this.versions.get(key);
      if (current && !later(message, current)) continue;
      if (op.op === "upsert") {
        const stored = this.store.addRule({
          list: op.list,
          target: op.target,
          kind: op.kind,
          reason: op.reason,
          created_at: op.created_at,
          expires_at: op.expires_at,
          source: op.source,
        });
        this.versions.set(key, { at: message.at, instance: message.instance, state: stateOf(stored) });
      } else {
        this.store.removeRule(op.list, op.target);
        this.versions.set(key, { at: message.at, instance: message.instance, state: null });
      }
      applied++;
    }
    // Our own writes moved the marker; they are not news to publish.
    this.marker = this.store.changeMarker();
    if (applied > 0) this.options.onApplied?.();
    return applied;
  }

  /** A removal only matters for ordering changes that cross it; past that, forgetting it bounds memory. */
  private forgetOldRemovals(now: number): void {
    for (const [key, version] of this.versions) {
      if (version.state === null && version.at < now - REMOVAL_MEMORY_MS) this.versions.delete(key);
    }
  }

  private remember(change: string): void {
    this.seen.add(change);
    if (this.seen.size > SEEN_CHANGES) this.seen.delete(this.seen.values().next().value as string);
  }

  /** Every rule in the store, expired ones included (expiry is not a change to publish). */
  private storedRules(): Map<string, DecisionRule> {
    const rules = new Map<string, DecisionRule>();
    for (const list of LISTS) for (const rule of this.store.listRules(list, Number.MIN_SAFE_INTEGER)) rules.set(keyOf(list, rule.target), rule);
    return rules;
  }
}

/** Parses a channel payload; null when it is not a DecisionMessage this version understands. */
export function parseDecisionMessage(text: string): DecisionMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const message = value as Partial<DecisionMessage> | null;
  if (
    message === null ||
    typeof message !== "object" ||
    message.v !== 1 ||
    typeof message.instance !== "string" ||
    typeof message.change !== "string" ||
    typeof message.at !== "number" ||
    !Array.isArray(message.ops)
  ) {
    return null;
  }
  const ops = message.ops.filter(isRuleChange);
  return ops.length === message.ops.length ? (message as DecisionMessage) : null;
}

function isRuleChange(op: unknown): op is RuleChange {
  const change = op as Partial<Record<string, unknown>> | null;
  if (change === null || typeof change !== "object") return false;
  if ((change.list !== "block" && change.list !== "allow") || typeof change.target !== "string") return false;
  // Anyone who can publish on the channel writes into every store: only canonical targets pass.
  let parsed;
  try {
    parsed = parseRuleTarget(change.target);
  } catch {
    return false;
  }
  if (parsed.target !== change.target) return false;
  if (change.op === "delete") return true;
  return (
    change.op === "upsert" &&
    change.kind === parsed.kind &&
    (change.reason === null || typeof change.reason === "string") &&
    typeof change.created_at === "number" &&
    (change.expires_at === null || typeof change.expires_at === "number") &&
    typeof change.source === "string" &&
    ["cli", "admin", "api", "detection", "import"].includes(change.source)
  );
}
