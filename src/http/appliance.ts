import { Elysia } from "elysia";
import { VERSION } from "../version.ts";

/** What the health endpoint reports; each part is read when asked. */
export interface HealthSources {
  startedAt: number;
  logStats(): { buffered: number; written: number; dropped: number };
  limiterState(): string;
  ruleCounts(): { block: number; allow: number };
}

/** The appliance's own routes under the prefix (health now; API, admin UI, check and metrics join it). */
export function applianceApp(prefix: string, health: HealthSources) {
  return new Elysia({ name: "ipward-appliance", prefix }).get("/health", function healthReport() {
    return {
      status: "ok",
      version: VERSION,
      uptime_s: Math.round((Date.now() - health.startedAt) / 1000),
      log: health.logStats(),
      limiter: health.limiterState(),
      rules: health.ruleCounts(),
    };
  });
}
