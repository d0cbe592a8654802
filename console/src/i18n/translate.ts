// Looking a message up and filling its {placeholders}. Pure, so tests and
// the React context share it.
import { en, type MessageKey } from "./en";
import { ru } from "./ru";

export type Locale = "en" | "ru";

export const catalogs: Record<Locale, Record<MessageKey, string>> = { en, ru };

export const locales: Locale[] = ["en", "ru"];

/** The locale tag Intl formats with. */
export const intlLocale: Record<Locale, string> = { en: "en-GB", ru: "ru-RU" };

export type Params = Record<string, string | number>;

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const text = catalogs[locale][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (all, name: string) => (name in params ? String(params[name]) : all));
}

/** pickLocale chooses the first supported language the browser prefers. */
export function pickLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if ((locales as string[]).includes(base)) return base as Locale;
  }
  return "en";
}

/** placeholders lists the {names} a message uses, sorted. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}
