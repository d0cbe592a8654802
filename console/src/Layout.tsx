import { useState, useSyncExternalStore, type ReactNode } from "react";
import { useAuth, isAdmin, isEditor, isReader, isHR, isStaff } from "./auth";
import { useI18n } from "./i18n/context";
import { locales, type Locale } from "./i18n/translate";
import { isOnline, subscribe } from "./lib/connectivity";
import { Link, useLocation } from "./lib/router";
import { Role } from "./gen/shopscore/v1/auth_pb";
import type { MessageKey } from "./i18n/en";

export const roleKey: Record<Role, MessageKey> = {
  [Role.UNSPECIFIED]: "role.unspecified",
  [Role.SHOPPER]: "role.shopper",
  [Role.MANAGER]: "role.manager",
  [Role.HR]: "role.hr",
  [Role.ADMIN]: "role.admin",
  [Role.STAFF]: "role.staff",
};

function OfflineBanner() {
  const { t } = useI18n();
  const online = useSyncExternalStore(subscribe, isOnline);
  if (online) return null;
  return (
    <div className="offline" role="status" aria-live="polite">
      {t("app.offline")}
    </div>
  );
}

export function LanguageSwitch() {
  const { locale, setLocale, t } = useI18n();
  return (
    <label className="lang">
      <span className="sr-only">{t("app.language")}</span>
      <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)} aria-label={t("app.language")}>
        {locales.map((l) => (
          <option key={l} value={l}>
            {l === "en" ? "English" : "Русский"}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { user, logout } = useAuth();
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const links: { href: string; key: MessageKey; show: boolean; section?: string }[] = [
    { href: "/me", key: "nav.me", show: isStaff(user) },
    { href: "/dashboard", key: "nav.dashboard", show: isReader(user) },
    { href: "/review", key: "nav.review", show: isReader(user) },
    { href: "/appeals", key: "nav.appeals", show: isReader(user) },
    { href: "/actions", key: "nav.actions", show: isReader(user) },
    { href: "/assignments", key: "nav.assignments", show: isEditor(user) },
    { href: "/checklists", key: "nav.checklists", show: isEditor(user) },
    { href: "/stores", key: "nav.stores", show: isReader(user) },
    { href: "/staff", key: "nav.staff", show: isReader(user) },
    { href: "/reports", key: "nav.reports", show: isReader(user) },
    { href: "/hr/runs", key: "nav.bonus", show: isHR(user), section: "/hr/" },
    { href: "/admin/users", key: "nav.users", show: isAdmin(user) },
    { href: "/admin/sessions", key: "nav.sessions", show: isAdmin(user) },
    { href: "/admin/events", key: "nav.events", show: isAdmin(user) },
    { href: "/admin/keys", key: "nav.keys", show: isAdmin(user) },
    { href: "/admin/settings", key: "nav.settings", show: isAdmin(user) },
    { href: "/admin/webhooks", key: "nav.webhooks", show: isAdmin(user) },
    { href: "/admin/tokens", key: "nav.tokens", show: isAdmin(user) },
  ];
  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="top">
        <Link href="/" className="brand">
          shopscore
        </Link>
        <button type="button" className="menu-toggle btn secondary" aria-expanded={open} aria-controls="nav" onClick={() => setOpen(!open)}>
          {t("app.menu")}
        </button>
        <nav id="nav" className={open ? "open" : ""} aria-label={t("app.navigation")}>
          {links
            .filter((l) => l.show)
            .map((l) => (
              <Link key={l.href} href={l.href} aria-current={path.startsWith(l.section ?? l.href) ? "page" : undefined} onClick={() => setOpen(false)}>
                {t(l.key)}
              </Link>
            ))}
        </nav>
        <div className="who">
          <LanguageSwitch />
          {user && (
            <>
              <span className="user" title={user.email}>
                {user.displayName} · {t(roleKey[user.role])}
              </span>
              {!isStaff(user) && (
                <Link href="/me/notifications" className="btn secondary" aria-current={path === "/me/notifications" ? "page" : undefined}>
                  {t("notify.nav")}
                </Link>
              )}
              <button type="button" className="btn secondary" onClick={() => void logout()}>
                {t("app.logout")}
              </button>
            </>
          )}
        </div>
      </header>
      <OfflineBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
