// The one transport every screen uses: Connect over fetch to the server
// that served the page, with the access token added, a silent refresh on
// Unauthenticated, and retries while the network is away.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { AuthService } from "../gen/shopscore/v1/auth_pb";
import { StaffAccountService } from "../gen/shopscore/v1/staff_portal_pb";
import { isNetworkError } from "./errors";
import { setOnline } from "./connectivity";
import { memoryLock, RefreshRefused, Session, type EndReason, type IssuedTokens, type Lock, type StoredSession } from "./session";
import type { Tokens } from "../gen/shopscore/v1/auth_pb";

const STORE_KEY = "shopscore.session";
const DEVICE_KEY = "shopscore.device";

/**
 * Calls that create something are not repeated on their own after a lost
 * connection: the first one may have reached the server. The user sees
 * "offline" and presses again; what he typed stays in the form.
 */
const notRetried = new Set([
  "Refresh",
  "Login",
  "CreateAssignment",
  "BulkCreateAssignments",
  "CreateUser",
  "CreateStore",
  "CreateStaff",
  "RotateSigningKey",
  "CreateWebhookEndpoint",
  "RotateWebhookSecret",
  "SendTestWebhook",
  "InviteStaff",
  "AcceptInvitation",
]);

export function tokensOf(t: Tokens | undefined): IssuedTokens {
  if (!t || !t.accessTokenExpireTime || !t.refreshTokenExpireTime) {
    throw new ConnectError("the server sent no tokens", Code.Internal);
  }
  return {
    accessToken: t.accessToken,
    accessExpire: timestampMs(t.accessTokenExpireTime),
    refreshToken: t.refreshToken,
    refreshExpire: timestampMs(t.refreshTokenExpireTime),
  };
}

export function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

const browserLock: Lock =
  typeof navigator !== "undefined" && navigator.locks
    ? <T,>(name: string, fn: () => Promise<T>) => navigator.locks.request(name, fn) as Promise<T>
    : memoryLock();

const storage = {
  get(): StoredSession | null {
    try {
      const raw = localStorage.getItem(STORE_KEY);
      return raw ? (JSON.parse(raw) as StoredSession) : null;
    } catch {
      return null;
    }
  },
  set(s: StoredSession | null) {
    if (s) localStorage.setItem(STORE_KEY, JSON.stringify(s));
    else localStorage.removeItem(STORE_KEY);
  },
};

let endListener: (reason: EndReason) => void = () => {};
export function onSessionEnd(l: (reason: EndReason) => void) {
  endListener = l;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const id = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(id);
      reject(signal.reason);
    });
  });

const offlineRetry: Interceptor = (next) => async (req) => {
  if (req.stream || notRetried.has(req.method.name)) {
    try {
      const res = await next(req);
      setOnline(true);
      return res;
    } catch (e) {
      setOnline(!isNetworkError(e));
      throw e;
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await next(req);
      setOnline(true);
      return res;
    } catch (e) {
      if (!isNetworkError(e) || req.signal.aborted) throw e;
      setOnline(false);
      await sleep(Math.min(10_000, 500 * 2 ** attempt), req.signal);
    }
  }
};

const isPublic = (name: string) => name === "Login" || name === "Refresh";
/** The set-password page's calls: an invited employee has no session yet. */
const isPublicInvitation = (name: string) => name === "CheckInvitation" || name === "AcceptInvitation";

const bearer: Interceptor = (next) => async (req) => {
  if (req.service.typeName === AuthService.typeName && isPublic(req.method.name)) return next(req);
  if (req.service.typeName === StaffAccountService.typeName && isPublicInvitation(req.method.name)) return next(req);
  const token = await session.token();
  req.header.set("Authorization", "Bearer " + token);
  try {
    return await next(req);
  } catch (e) {
    if (req.stream || !(e instanceof ConnectError) || e.code !== Code.Unauthenticated) throw e;
    // Expired between the check and the server (a sleeping laptop, a
    // skewed clock): renew once and try again.
    const fresh = await session.refresh(token);
    req.header.set("Authorization", "Bearer " + fresh);
    return next(req);
  }
};

export const transport = createConnectTransport({
  baseUrl: typeof window !== "undefined" ? window.location.origin : "http://localhost",
  interceptors: [offlineRetry, bearer],
});

const auth = createClient(AuthService, transport);

export const session = new Session({
  store: storage,
  lock: browserLock,
  refresh: async (refreshToken, device) => {
    try {
      const res = await auth.refresh({ refreshToken, deviceId: device });
      return tokensOf(res.tokens);
    } catch (e) {
      if (e instanceof ConnectError && e.code === Code.Unauthenticated) throw new RefreshRefused(e.rawMessage);
      throw e;
    }
  },
  onEnd: (reason) => endListener(reason),
});

if (typeof window !== "undefined") {
  window.addEventListener("storage", (ev) => {
    if (ev.key === STORE_KEY) session.endedElsewhere();
  });
}

export const authClient = auth;
