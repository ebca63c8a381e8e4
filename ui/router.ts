import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { LogFilter } from "./api/types.ts";

/** The pages of the admin, addressed by the URL's hash (`#/logs?ip=…`, `#/ip/2001:db8::1`). */
export type Route =
  | { page: "dashboard" }
  | { page: "logs"; filter: LogFilter }
  | { page: "blocked" }
  | { page: "suspicious" }
  | { page: "tokens" }
  | { page: "ip"; ip: string }
  | { page: "not-found"; path: string };

const LOG_FILTER_KEYS = ["ip", "country", "path", "status", "decision", "since", "until"] as const;

/** Reads a route from a location hash. */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const queryAt = text.indexOf("?");
  const path = queryAt === -1 ? text : text.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? "" : text.slice(queryAt + 1));
  const [first, ...rest] = path.split("/");
  switch (first) {
    case "":
    case "dashboard":
      return { page: "dashboard" };
    case "logs": {
      const filter: LogFilter = {};
      for (const key of LOG_FILTER_KEYS) {
        const value = params.get(key);
        if (value) filter[key] = value;
      }
      return { page: "logs", filter };
    }
    case "blocked":
      return { page: "blocked" };
    case "suspicious":
      return { page: "suspicious" };
    case "tokens":
      return { page: "tokens" };
    case "ip":
      if (rest.length > 0 && rest.join("/") !== "") return { page: "ip", ip: decodeURIComponent(rest.join("/")) };
      return { page: "not-found", path };
    default:
      return { page: "not-found", path };
  }
}

/** Link to the detail page of one address. */
export function ipHref(ip: string): string {
  return `#/ip/${encodeURIComponent(ip)}`;
}

/** Link to the logs page showing the rows that match `filter`. */
export function logsHref(filter: LogFilter = {}): string {
  const params = new URLSearchParams();
  for (const key of LOG_FILTER_KEYS) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  const query = params.toString();
  return `#/logs${query ? `?${query}` : ""}`;
}

/** Keeps its host's `route` in step with the location hash. */
export class RouteController implements ReactiveController {
  route: Route = parseRoute(location.hash);

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener("hashchange", this.onHashChange);
    this.onHashChange();
  }

  hostDisconnected(): void {
    window.removeEventListener("hashchange", this.onHashChange);
  }

  private readonly onHashChange = (): void => {
    this.route = parseRoute(location.hash);
    this.host.requestUpdate();
  };
}
