/** Rows as a plain-text table, psql-style: numbers to the right, cells cut at `maxWidth`. */
export function formatTable(columns: string[], rows: Record<string, unknown>[], maxWidth = 60): string {
  const text = (value: unknown): string => {
    if (value === null || value === undefined) return "";
    if (value instanceof Date) return value.toISOString();
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  };
  const cut = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s);
  const cells = rows.map((row) => columns.map((c) => cut(text(row[c]).replace(/\s+/g, " "))));
  const numeric = columns.map((c) =>
    rows.every(
      (row) =>
        row[c] === null ||
        typeof row[c] === "number" ||
        typeof row[c] === "bigint" ||
        /^-?\d+(\.\d+)?$/.test(String(row[c])),
    ),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[], header = false) =>
    values
      .map((v, i) => (numeric[i] && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join(" | ")
      .trimEnd();
  return [
    line(columns, true),
    widths.map((w) => "-".repeat(w)).join("-+-"),
    ...cells.map((r) => line(r)),
    `(${rows.length} row${rows.length === 1 ? "" : "s"})`,
  ].join("\n");
}
