// Who is signed in. On start the console resumes a stored session with a
// refresh (the access token is never stored), then asks WhoAmI.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { authClient, deviceId, onSessionEnd, session, tokensOf } from "./lib/api";
import { Role, type User } from "./gen/shopscore/v1/auth_pb";
import type { EndReason } from "./lib/session";
import { OrgService } from "./gen/shopscore/v1/org_pb";
import { MyResultsService } from "./gen/shopscore/v1/staff_portal_pb";
import { createClient } from "@connectrpc/connect";
import { transport } from "./lib/api";
import { useI18n } from "./i18n/context";

const org = createClient(OrgService, transport);
const my = createClient(MyResultsService, transport);

interface AuthState {
  user: User | null;
  /** True until a stored session has been tried. */
  resuming: boolean;
  /** Why the last session ended without a logout, for the login screen. */
  ended: EndReason | null;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
}

const Ctx = createContext<AuthState | null>(null);

function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrom/.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "browser";
  return "Web console (" + browser + ")";
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [resuming, setResuming] = useState(() => session.hasStored());
  const [ended, setEnded] = useState<EndReason | null>(null);
  const { setTimeZone, setCurrency } = useI18n();

  // Dates show in the organisation's time zone (Europe/Moscow until the
  // server says otherwise).
  useEffect(() => {
    if (!user) return;
    // An employee's account reads them with his profile: the rest of the
    // organisation's API is closed to him.
    (user.role === Role.STAFF ? my.getMyProfile({}) : org.getOrgSettings({}).then((r) => r.settings))
      .then((s) => {
        if (s?.timeZone) setTimeZone(s.timeZone);
        if (s?.currency) setCurrency(s.currency);
      })
      .catch(() => undefined);
  }, [user, setTimeZone, setCurrency]);

  useEffect(() => {
    onSessionEnd((reason) => {
      setUser(null);
      setEnded(reason);
    });
    if (!session.hasStored()) return;
    authClient
      .whoAmI({})
      .then((r) => setUser(r.user ?? null))
      .catch(() => setUser(null))
      .finally(() => setResuming(false));
  }, []);

  const login = useCallback(async (email: string, password: string) => {
    const device = deviceId();
    const res = await authClient.login({ email, password, deviceId: device, deviceName: deviceName() });
    session.start(tokensOf(res.tokens), device);
    setEnded(null);
    setUser(res.user ?? null);
  }, []);

  const logout = useCallback(async () => {
    try {
      await authClient.logout({});
    } finally {
      session.clear();
      setUser(null);
      setEnded(null);
    }
  }, []);

  return <Ctx.Provider value={{ user, resuming, ended, login, logout }}>{children}</Ctx.Provider>;
}

export function useAuth(): AuthState {
  const v = useContext(Ctx);
  if (!v) throw new Error("useAuth outside AuthProvider");
  return v;
}

export const isEditor = (u: User | null) => u?.role === Role.MANAGER || u?.role === Role.ADMIN;
export const isReader = (u: User | null) => isEditor(u) || u?.role === Role.HR;
/** isHR is who owns bonus policies, base pay and runs: HR and admins. */
export const isHR = (u: User | null) => u?.role === Role.HR || u?.role === Role.ADMIN;
export const isAdmin = (u: User | null) => u?.role === Role.ADMIN;
/** isStaff is an employee's own account: he sees his results only. */
export const isStaff = (u: User | null) => u?.role === Role.STAFF;
