import { describe, expect, it } from "vitest";
import { addDays, dateToZoned, formatDateTime, formatDuration, formatMoney, formatNumber, formatPercent, startOfWeek, zonedToDate, parseAmountMinor } from "./format";

// Intl separates groups with a no-break space (U+00A0 or U+202F).
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("format", () => {
  it("formats money for the locale", () => {
    expect(plain(formatMoney("ru-RU", 85000))).toBe("85 000,00 ₽");
    expect(formatMoney("en-GB", 85000)).toBe("₽85,000.00");
  });
  it("formats numbers and percents", () => {
    expect(plain(formatNumber("ru-RU", 1234.5, 1))).toBe("1 234,5");
    expect(formatNumber("en-GB", 1234.5, 1)).toBe("1,234.5");
    expect(plain(formatPercent("ru-RU", 87.5))).toBe("87,5 %");
    expect(formatPercent("en-GB", 87.5)).toBe("87.5%");
    expect(formatPercent("en-GB", undefined)).toBe("—");
  });
  it("formats dates in the organisation's time zone", () => {
    const d = new Date("2026-03-01T21:30:00Z");
    expect(formatDateTime("en-GB", "Europe/Moscow", d)).toBe("2 Mar 2026, 00:30");
    expect(formatDateTime("ru-RU", "Europe/Moscow", d)).toBe("2 мар. 2026 г., 00:30");
    expect(formatDateTime("en-GB", "UTC", d)).toBe("1 Mar 2026, 21:30");
  });
  it("formats durations", () => {
    expect(formatDuration("en-GB", 65_000)).toBe("1 min 5 secs");
    expect(formatDuration("ru-RU", 30_000)).toBe("30 с");
    expect(formatDuration("en-GB", 0)).toBe("0 secs");
  });
  it("reads wall-clock input in a time zone", () => {
    expect(zonedToDate("2026-12-01T09:30", "Europe/Moscow")?.toISOString()).toBe("2026-12-01T06:30:00.000Z");
    expect(zonedToDate("2026-07-01T09:30", "Europe/Berlin")?.toISOString()).toBe("2026-07-01T07:30:00.000Z");
    expect(zonedToDate("2026-01-01T09:30", "Europe/Berlin")?.toISOString()).toBe("2026-01-01T08:30:00.000Z");
    expect(zonedToDate("nonsense", "UTC")).toBeUndefined();
    expect(dateToZoned(new Date("2026-12-01T06:30:00Z"), "Europe/Moscow")).toBe("2026-12-01T09:30");
  });
  it("finds Monday and adds calendar days across DST", () => {
    // Wednesday 2 December 2026, 01:00 in Moscow, is still Tuesday in UTC.
    const d = new Date("2026-12-01T22:00:00Z");
    expect(startOfWeek(d, "Europe/Moscow").toISOString()).toBe("2026-11-29T21:00:00.000Z");
    // Berlin leaves summer time on 25 October 2026: the day has 25 hours.
    const before = zonedToDate("2026-10-25T00:00", "Europe/Berlin")!;
    expect(dateToZoned(addDays(before, 1, "Europe/Berlin"), "Europe/Berlin")).toBe("2026-10-26T00:00");
  });
});

describe("parseAmountMinor", () => {
  it("reads amounts typed in either locale", () => {
    expect(parseAmountMinor("85 000,00")).toBe(8500000n);
    expect(parseAmountMinor("85\u00a0000,5")).toBe(8500050n);
    expect(parseAmountMinor("85,000.00")).toBe(8500000n);
    expect(parseAmountMinor("100000")).toBe(10000000n);
    expect(parseAmountMinor("-5")).toBeUndefined();
    expect(parseAmountMinor("abc")).toBeUndefined();
    expect(parseAmountMinor("1,5,5")).toBeUndefined();
  });
});
