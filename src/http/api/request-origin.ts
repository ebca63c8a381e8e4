import { clientIp, parseIp, type TrustFn } from "../../core/ip.ts";

const socketAddresses = new WeakMap<Request, string>();

/** Remembers the socket peer of a request for the admin surface (Elysia does not see the server). */
export function rememberSocketAddress(request: Request, address: string | undefined): void {
  if (address !== undefined) socketAddresses.set(request, address);
}

/** Where a request to the admin surface came from, as far as trusted proxies say. */
export interface RequestOrigin {
  /** The client's address (X-Forwarded-For walked through trusted proxies). */
  clientIp: string;
  /** Whether the client used https: the URL's scheme, or X-Forwarded-Proto from a trusted proxy. */
  secure: boolean;
  /** The host the client addressed: X-Forwarded-Host from a trusted proxy, else Host. */
  host: string;
}

/** Reads client IP, scheme and host of a request; forwarded headers count only from a trusted proxy. */
export function requestOrigin(request: Request, trust: TrustFn): RequestOrigin {
  const headers = request.headers;
  const socket = socketAddresses.get(request) ?? "";
  const peer = parseIp(socket);
  const viaTrustedProxy = peer !== null && trust(peer, 0);
  const url = new URL(request.url);
  const forwardedProto = viaTrustedProxy ? firstValue(headers.get("x-forwarded-proto")) : null;
  const forwardedHost = viaTrustedProxy ? firstValue(headers.get("x-forwarded-host")) : null;
  return {
    clientIp: clientIp(socket, headers.get("x-forwarded-for"), trust),
    secure: url.protocol === "https:" || forwardedProto?.toLowerCase() === "https",
    host: (forwardedHost ?? headers.get("host") ?? url.host).toLowerCase(),
  };
}

/**
 * Whether the request's Origin header (when present) names the host the request was sent to. A
 * browser sends Origin on every cross-site POST, so a mismatch means another site made the request.
 */
export function originMatches(request: Request, origin: RequestOrigin): boolean {
  const header = request.headers.get("origin");
  if (header === null) return true;
  try {
    return new URL(header).host.toLowerCase() === origin.host;
  } catch {
    return false;
  }
}

function firstValue(header: string | null): string | null {
  if (header === null) return null;
  const first = header.split(",", 1)[0].trim();
  return first === "" ? null : first;
}
