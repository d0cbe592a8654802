// Numbers, money, dates and durations for the user's locale, dates in the
// organisation's time zone. Everything goes through Intl.

export const DEFAULT_TIME_ZONE = "Europe/Moscow";

export function formatNumber(locale: string, n: number, fractionDigits = 0): string {
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(n);
}

export function formatPercent(locale: string, percent: number | undefined): string {
  if (percent === undefined || Number.isNaN(percent)) return "—";
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(percent / 100);
}

export function formatMoney(locale: string, amount: number, currency = "RUB"): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay: "narrowSymbol" }).format(amount);
}

export function formatDateTime(locale: string, timeZone: string, d: Date | undefined): string {
  if (!d) return "—";
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}

export function formatDate(locale: string, timeZone: string, d: Date | undefined): string {
  if (!d) return "—";
  return new Intl.DateTimeFormat(locale, { timeZone, year: "numeric", month: "short", day: "numeric" }).format(d);
}

export function formatWeekday(locale: string, timeZone: string, d: Date): string {
  return new Intl.DateTimeFormat(locale, { timeZone, weekday: "short", day: "numeric", month: "short" }).format(d);
}

export function formatTime(locale: string, timeZone: string, d: Date): string {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit" }).format(d);
}

/** formatDuration renders milliseconds as "1 min 5 s" in the locale's units. */
export function formatDuration(locale: string, ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const unit = (value: number, u: "hour" | "minute" | "second") =>
    new Intl.NumberFormat(locale, { style: "unit", unit: u, unitDisplay: "short" }).format(value);
  const parts: string[] = [];
  if (h) parts.push(unit(h, "hour"));
  if (m) parts.push(unit(m, "minute"));
  if (s || parts.length === 0) parts.push(unit(s, "second"));
  return parts.join(" ");
}

/** timeZoneOffsetMs is how far the zone's wall clock is ahead of UTC at d. */
export function timeZoneOffsetMs(timeZone: string, d: Date): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(d);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(d.getTime() / 1000) * 1000;
}

/**
 * zonedToDate reads "2026-12-01T09:30" (what a datetime-local field gives)
 * as a wall-clock time in timeZone.
 */
export function zonedToDate(local: string, timeZone: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(local);
  if (!m) return undefined;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0));
  // Two passes settle the offset on both sides of a DST change.
  let t = guess - timeZoneOffsetMs(timeZone, new Date(guess));
  t = guess - timeZoneOffsetMs(timeZone, new Date(t));
  return new Date(t);
}

/** dateToZoned is the inverse of zonedToDate: "YYYY-MM-DDTHH:MM" in timeZone. */
export function dateToZoned(d: Date, timeZone: string): string {
  const w = new Date(d.getTime() + timeZoneOffsetMs(timeZone, d));
  return w.toISOString().slice(0, 16);
}

/** startOfWeek is Monday 00:00 in timeZone of the week holding d. */
export function startOfWeek(d: Date, timeZone: string): Date {
  const wall = new Date(d.getTime() + timeZoneOffsetMs(timeZone, d));
  const dow = (wall.getUTCDay() + 6) % 7; // Monday = 0
  const day = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() - dow));
  return zonedToDate(day.toISOString().slice(0, 10), timeZone)!;
}

/** addDays adds whole calendar days in timeZone. */
export function addDays(d: Date, days: number, timeZone: string): Date {
  const local = dateToZoned(d, timeZone);
  const base = new Date(local + ":00Z");
  base.setUTCDate(base.getUTCDate() + days);
  return zonedToDate(base.toISOString().slice(0, 16), timeZone)!;
}

/**
 * parseAmountMinor reads an amount as people type it in either locale
 * ("85 000,00", "85000.5", "85,000.00") into hundredths; undefined when it
 * is not an amount.
 */
export function parseAmountMinor(text: string): bigint | undefined {
  const s = text.replace(/[\s\u00a0\u202f']/g, "");
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:[.,](\d{1,2}))?$/.exec(s);
  if (!m) return undefined;
  return BigInt(m[1].replace(/,/g, "")) * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}
