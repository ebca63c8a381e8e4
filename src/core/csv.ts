/**
 * Formats rows as RFC 4180 CSV with a header line. Text cells that a spreadsheet would run as a
 * formula (leading = + - @ tab) get a leading apostrophe: paths and user agents come from attackers.
 */
export function toCsv(rows: readonly object[], columns: readonly string[], header = true): string {
  const lines = rows.map((row) => csvLine(row, columns));
  if (header) lines.unshift(columns.join(","));
  return lines.length === 0 ? "" : `${lines.join("\r\n")}\r\n`;
}

function csvLine(row: object, columns: readonly string[]): string {
  return columns.map((column) => csvCell((row as Record<string, unknown>)[column])).join(",");
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
