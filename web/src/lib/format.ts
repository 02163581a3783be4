import { useConfig } from "./api";

const formatters = new Map<string, Intl.NumberFormat>();
function formatter(currency: string): Intl.NumberFormat {
  let f = formatters.get(currency);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { style: "currency", currency });
    formatters.set(currency, f);
  }
  return f;
}

/** Minor units per major unit of a currency (GBP 2, JPY 0, KWD 3), from the ISO data Intl carries. */
export function minorDigits(currency: string): number {
  return formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Formats integer minor units (`*_cents`) as money in the given currency, exactly. */
export function money(cents: number, currency: string): string {
  const digits = minorDigits(currency);
  // Dividing by a power of ten is exact enough for display up to 2^53 minor units.
  return formatter(currency).format(cents / 10 ** digits);
}

/** Parses what a user types as a major amount ("10", "10.5") into minor units, or null. */
export function toMinor(text: string, currency: string): number | null {
  const digits = minorDigits(currency);
  const m = new RegExp(`^(\\d+)(?:\\.(\\d{0,${digits}}))?$`).exec(text.trim());
  if (!m) return null;
  const minor = Number(m[1]) * 10 ** digits + Number((m[2] ?? "").padEnd(digits, "0") || 0);
  return Number.isSafeInteger(minor) ? minor : null;
}

/** Minor units as the plain major amount a form field shows ("10.00"). */
export function toMajorText(cents: number, currency: string): string {
  const digits = minorDigits(currency);
  return digits === 0 ? String(cents) : (cents / 10 ** digits).toFixed(digits);
}

/** The money formatter for this deployment's currency (null until the config is read). */
export function useMoney(): { currency: string | null; fmt: (cents: number) => string } {
  const config = useConfig();
  const currency = config.data?.currency ?? null;
  return { currency, fmt: (cents) => (currency ? money(cents, currency) : "…") };
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
/** An ISO-8601 time in the viewer's own time zone. */
export const time = (iso: string | null | undefined) => (iso ? timeFormat.format(new Date(iso)) : "—");

export const count = (n: number) => new Intl.NumberFormat().format(n);

/** A `datetime-local` input value for a Date, in the viewer's zone. */
export function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
