/** Path helpers shared by the scheduled rules, the real-time scenarios and the store adapters. */

/**
 * Canonical form of configured path prefixes: leading "/" added, trailing "/" removed, so "/" (the
 * whole site) becomes "". Duplicates and empty entries are dropped; order is kept.
 */
export function normalizeSensitivePaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of paths) {
    const trimmed = raw.trim();
    if (trimmed === "") continue;
    const normalized = `/${trimmed.replace(/^\/+/, "")}`.replace(/\/+$/, "");
    if (!out.includes(normalized)) out.push(normalized);
  }
  return out;
}

/** The path without its query string (request_log holds one when `log.query_string` is on). */
export function stripQuery(path: string): string {
  const mark = path.indexOf("?");
  return mark === -1 ? path : path.slice(0, mark);
}

/**
 * A test of whether a path is one of the normalised `prefixes` or below one: "/admin" matches
 * "/admin", "/admin/", "/admin/users" and "/admin?x=1", but not "/administrator". Null when the
 * list is empty.
 */
export function pathPrefixMatcher(prefixes: readonly string[]): ((path: string) => boolean) | null {
  if (prefixes.length === 0) return null;
  const escaped = prefixes.map((prefix) => prefix.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  const pattern = new RegExp(`^(?:${escaped.join("|")})(?:[/?]|$)`);
  return (path) => pattern.test(path);
}
