import { Elysia, t } from "elysia";
import { IpwardError } from "../../core/errors.ts";
import { ipInCidr, parseCidr, parseIp, type ParsedIp } from "../../core/ip.ts";
import type { DecisionRule, RuleList } from "../../core/ports.ts";
import { isoTime, toLogJson, toRuleJson, toSuspiciousJson } from "../../store/json.ts";
import type { AdminDeps } from "./deps.ts";
import { Int, LogJson, LookupJson, RuleJson, SuspiciousJson, Time } from "./schemas.ts";

const RECENT_ROWS = 50;
const DETECTIONS = 100;

const IpDetail = t.Object({
  ip: t.String(),
  geo: LookupJson,
  counts: t.Object({
    requests: Int({ minimum: 0 }),
    blocked: Int({ minimum: 0 }),
    limited: Int({ minimum: 0 }),
    first_seen: t.Union([Time, t.Null()]),
    last_seen: t.Union([Time, t.Null()]),
  }),
  recent: t.Array(LogJson),
  decisions: t.Array(t.Composite([RuleJson, t.Object({ list: t.Union([t.Literal("block"), t.Literal("allow")]) })])),
  detections: t.Array(SuspiciousJson),
});

/** Whether a rule covers an address (its own IP rule, a CIDR containing it, or its country's rule). */
function covers(rule: DecisionRule, ip: ParsedIp, countryCode: string | null): boolean {
  if (rule.kind === "ip") return rule.target === ip.text;
  if (rule.kind === "country") return rule.target === countryCode;
  const cidr = parseCidr(rule.target);
  return cidr !== null && ipInCidr(ip, cidr);
}

/** GET /ips/{ip}: everything known about one address. */
export function ipRoutes({ store, stats, suspicious, geo, clock }: AdminDeps) {
  return new Elysia().get(
    "/ips/:ip",
    async function ipDetail({ params }) {
      const ip = parseIp(params.ip);
      if (ip === null) throw new IpwardError("invalid_ip", `invalid IP address "${params.ip}"`, { value: params.ip });
      const found = geo?.lookup(ip.text) ?? null;
      const countryCode = found?.country_code ?? null;
      const counts = stats.ipCounts(ip.text);
      const now = clock.now();
      const lists: RuleList[] = ["allow", "block"];
      return {
        ip: ip.text,
        geo: {
          ip: ip.text,
          country_code: countryCode,
          country: found?.country ?? null,
          city: found?.city ?? null,
          latitude: found?.latitude ?? null,
          longitude: found?.longitude ?? null,
        },
        counts: {
          ...counts,
          first_seen: counts.first_seen === null ? null : isoTime(counts.first_seen),
          last_seen: counts.last_seen === null ? null : isoTime(counts.last_seen),
        },
        recent: store.queryLogs({ ip: ip.text, limit: RECENT_ROWS }).map(toLogJson),
        decisions: lists.flatMap((list) =>
          store
            .listRules(list, now)
            .filter((rule) => covers(rule, ip, countryCode))
            .map((rule) => ({ ...toRuleJson(rule), list })),
        ),
        detections: (await suspicious.listSuspicious({ ip: ip.text, limit: DETECTIONS })).map(toSuspiciousJson),
      };
    },
    {
      params: t.Object({ ip: t.String({ description: "IPv4 or IPv6 address" }) }),
      response: { 200: IpDetail },
      detail: {
        tags: ["ips"],
        summary: "One address: geolocation, request counts, the latest 50 requests, the allow/block rules covering it (IP, CIDR, country) and its suspicious records",
      },
    },
  );
}
