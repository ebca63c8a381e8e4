import type { AdminAuth } from "../../auth/admin-auth.ts";
import type { DetectionStore, Responder } from "../../core/detection/index.ts";
import type { TrustFn } from "../../core/ip.ts";
import type { Clock, GeoReader } from "../../core/ports.ts";
import type { SqliteStore } from "../../store/sqlite-store.ts";
import type { StatsStore } from "../../store/stats-store.ts";

/** What the admin surface's routes work with. */
export interface AdminDeps {
  /** The appliance prefix (`/_ipward`): the admin routes and the session cookie live under it. */
  prefix: string;
  auth: AdminAuth;
  /** trust_proxy: whose X-Forwarded-For/-Proto/-Host to believe. */
  trust: TrustFn;
  /** Rules and request logs. */
  store: SqliteStore;
  stats: StatsStore;
  suspicious: Pick<DetectionStore, "listSuspicious" | "getSuspicious">;
  /** Operators' block and dismiss of suspicious records go through detection's responder. */
  responder: Pick<Responder, "blockRecord" | "dismissRecord">;
  geo: GeoReader | null;
  clock: Clock;
  /** Operational messages (never given secrets). */
  log: (message: string) => void;
}
