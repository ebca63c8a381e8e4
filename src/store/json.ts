import type { DecisionRule, LogRow, RuleKind, RuleSource } from "../core/ports.ts";
import type { SuspiciousRecord } from "../core/detection/ports.ts";

/** A request log row as the CLI `--json` and the API print it (SPEC §5); `user` stays internal. */
export interface LogJson {
  ts: string;
  ip: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  user_agent: string | null;
  referer: string | null;
  country_code: string | null;
  country: string | null;
  city: string | null;
  decision: LogRow["decision"];
  rule: string | null;
}

/** A block or allow rule as the CLI `--json` and the API print it (SPEC §5). */
export interface RuleJson {
  id: number;
  target: string;
  kind: RuleKind;
  reason: string | null;
  created_at: string;
  expires_at: string | null;
  source: RuleSource;
}

/** ISO 8601 UTC, e.g. 2025-01-15T12:00:00.000Z. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function toLogJson(row: LogRow): LogJson {
  return {
    ts: isoTime(row.ts),
    ip: row.ip,
    method: row.method,
    path: row.path,
    status: row.status,
    duration_ms: row.duration_ms,
    user_agent: row.user_agent ?? null,
    referer: row.referer ?? null,
    country_code: row.country_code ?? null,
    country: row.country ?? null,
    city: row.city ?? null,
    decision: row.decision,
    rule: row.rule ?? null,
  };
}

export function toRuleJson(rule: DecisionRule): RuleJson {
  return {
    id: rule.id,
    target: rule.target,
    kind: rule.kind,
    reason: rule.reason ?? null,
    created_at: isoTime(rule.created_at),
    expires_at: rule.expires_at === null ? null : isoTime(rule.expires_at),
    source: rule.source,
  };
}

/** A suspicious-IP record as the CLI `--json` and the API print it (SPEC §5). */
export interface SuspiciousJson {
  id: number;
  ip: string;
  rule: string;
  reason: string | null;
  count: number;
  first_seen: string;
  last_seen: string;
  status: SuspiciousRecord["status"];
}

export function toSuspiciousJson(record: SuspiciousRecord): SuspiciousJson {
  return {
    id: record.id,
    ip: record.ip,
    rule: record.rule,
    reason: record.reason ?? null,
    count: record.count,
    first_seen: isoTime(record.first_seen),
    last_seen: isoTime(record.last_seen),
    status: record.status,
  };
}
