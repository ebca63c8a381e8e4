/** RFC 9457 problem details body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

const TYPE_BASE = "https://ipward.dev/problems/";

/** Builds a problem body; `slug` becomes the `type` URI. */
export function problem(status: number, slug: string, title: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `${TYPE_BASE}${slug}`, title, status, detail, ...extra };
}
