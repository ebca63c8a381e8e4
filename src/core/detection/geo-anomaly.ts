import type { Finding, UserSighting } from "./ports.ts";
import type { RuleContext, ScheduledRule } from "./scheduled.ts";

/**
 * "geo_anomaly": one user (JWT subject) seen from at least `countries` distinct countries in the
 * window. Every IP the user came from is flagged, since which one is the intruder is not knowable
 * from the logs; the reason names the user and the countries so an operator can judge.
 * Only requests whose user was resolved (routes with a user-keyed rate limit) carry a user.
 */
export function geoAnomalyRule(data: { countries: number }): ScheduledRule & { countries: number } {
  return {
    name: "geo_anomaly",
    countries: data.countries,
    evaluate({ window, windowText }: RuleContext): Finding[] {
      const sightings = window.multiCountryUsers(data.countries);
      return findingsFromSightings(sightings, data.countries, windowText);
    },
  };
}

/** One finding per IP; an IP shared by several anomalous users names each of them. */
export function findingsFromSightings(sightings: readonly UserSighting[], threshold: number, windowText: string): Finding[] {
  const countriesByUser = new Map<string, Set<string>>();
  const usersByIp = new Map<string, Set<string>>();
  for (const { user, country_code, ip } of sightings) {
    let countries = countriesByUser.get(user);
    if (!countries) countriesByUser.set(user, (countries = new Set()));
    countries.add(country_code);
    let users = usersByIp.get(ip);
    if (!users) usersByIp.set(ip, (users = new Set()));
    users.add(user);
  }
  const findings: Finding[] = [];
  for (const [ip, users] of usersByIp) {
    let count = 0;
    const parts: string[] = [];
    for (const user of users) {
      const countries = [...countriesByUser.get(user)!].sort();
      count = Math.max(count, countries.length);
      parts.push(`user "${user}" seen from ${countries.length} countries (${countries.join(", ")})`);
    }
    findings.push({
      ip,
      rule: "geo_anomaly",
      count,
      reason: `${parts.join("; ")} in ${windowText} (threshold ${threshold})`,
    });
  }
  return findings;
}
