import { createContext, useContext, useMemo, useState, type ReactNode } from "react";
import type { MessageKey } from "./en";
import { intlLocale, pickLocale, translate, type Locale, type Params } from "./translate";
import { DEFAULT_TIME_ZONE } from "../lib/format";

const STORAGE_KEY = "shopscore.locale";

export interface I18n {
  locale: Locale;
  /** The BCP 47 tag for Intl. */
  tag: string;
  /** The organisation's IANA time zone. */
  timeZone: string;
  setLocale(l: Locale): void;
  setTimeZone(tz: string): void;
  /** The organisation's currency (ISO 4217) money is shown in. */
  currency: string;
  setCurrency(c: string): void;
  t(key: MessageKey, params?: Params): string;
}

const Ctx = createContext<I18n | null>(null);

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === "en" || saved === "ru") return saved;
  return pickLocale(navigator.languages ?? [navigator.language]);
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [timeZone, setTimeZone] = useState(DEFAULT_TIME_ZONE);
  const [currency, setCurrency] = useState("RUB");
  const value = useMemo<I18n>(
    () => ({
      locale,
      tag: intlLocale[locale],
      timeZone,
      setLocale(l) {
        localStorage.setItem(STORAGE_KEY, l);
        document.documentElement.lang = l;
        setLocaleState(l);
      },
      setTimeZone,
      currency,
      setCurrency,
      t: (key, params) => translate(locale, key, params),
    }),
    [locale, timeZone, currency],
  );
  document.documentElement.lang = locale;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error("useI18n outside I18nProvider");
  return v;
}
