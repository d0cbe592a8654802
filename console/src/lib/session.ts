// The console's sign-in state. The access token lives only in this
// object's memory; the refresh token (single use, rotated on every refresh)
// is kept in the browser's storage so a reload or a second tab keeps the
// user signed in. Every refresh runs under one lock shared by all tabs and
// reads the refresh token from storage inside it, so two requests or two
// tabs never present the same refresh token (the server would take that as
// theft and end the session).

export interface StoredSession {
  refreshToken: string;
  /** Unix milliseconds. */
  refreshExpire: number;
  deviceId: string;
}

export interface SessionStore {
  get(): StoredSession | null;
  set(s: StoredSession | null): void;
}

export interface IssuedTokens {
  accessToken: string;
  /** Unix milliseconds. */
  accessExpire: number;
  refreshToken: string;
  refreshExpire: number;
}

/** Runs fn while holding the named lock (navigator.locks in the browser). */
export type Lock = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** Why a session ended without the user asking. */
export type EndReason = "expired" | "revoked" | "logout";

/** Thrown by a refresh the server refused: the session is over. */
export class SessionEndedError extends Error {
  constructor(readonly reason: EndReason) {
    super("session ended: " + reason);
  }
}

export interface SessionOptions {
  store: SessionStore;
  lock: Lock;
  /** Calls AuthService.Refresh; throws RefreshRefused when the server says no. */
  refresh: (refreshToken: string, deviceId: string) => Promise<IssuedTokens>;
  now?: () => number;
  /** Called once when the session ends (refused refresh, logout elsewhere). */
  onEnd?: (reason: EndReason) => void;
  /** Timer for the refresh ahead of expiry; setTimeout by default. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

/** Thrown by the refresh callback when the server refused the token. */
export class RefreshRefused extends Error {}

export const LOCK_NAME = "shopscore-refresh";

/** RETRY_MS is how soon a refresh that failed on the network is tried again. */
export const RETRY_MS = 3000;

/**
 * refreshLead is how long before expiry the access token is renewed: a
 * third of its life, at most a minute, so a 10-minute token is renewed at
 * 9 minutes and a 3-second test token at 2 seconds.
 */
export function refreshLead(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(0, lifetimeMs / 3));
}

export class Session {
  private access: { token: string; expire: number; issued: number } | null = null;
  private inflight: Promise<string> | null = null;
  private cancelTimer: (() => void) | null = null;
  private ended = false;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => () => void;

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? Date.now;
    this.schedule =
      opts.schedule ??
      ((fn, ms) => {
        const id = setTimeout(fn, ms);
        return () => clearTimeout(id);
      });
  }

  /** Whether the browser holds a refresh token (a session may be resumed). */
  hasStored(): boolean {
    const s = this.opts.store.get();
    return s !== null && s.refreshExpire > this.now();
  }

  /** Records what Login returned. */
  start(tokens: IssuedTokens, deviceId: string): void {
    this.ended = false;
    this.opts.store.set({ refreshToken: tokens.refreshToken, refreshExpire: tokens.refreshExpire, deviceId });
    this.setAccess(tokens);
  }

  /** The access token to send, renewed first when it is about to expire. */
  async token(): Promise<string> {
    const a = this.access;
    if (a && this.now() < a.expire - refreshLead(a.expire - a.issued) / 2) {
      return a.token;
    }
    return this.refresh(a?.token);
  }

  /**
   * refresh renews the access token. Concurrent callers share one refresh;
   * stale is the token a failed call used: when the token has changed
   * since, that newer one is returned without another refresh.
   */
  refresh(stale?: string): Promise<string> {
    if (this.ended) return Promise.reject(new SessionEndedError("expired"));
    if (this.access && stale !== undefined && this.access.token !== stale && this.now() < this.access.expire) {
      return Promise.resolve(this.access.token);
    }
    if (!this.inflight) {
      this.inflight = this.opts
        .lock(LOCK_NAME, () => this.refreshLocked())
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }

  private async refreshLocked(): Promise<string> {
    // Read inside the lock: another tab may have rotated the token.
    const stored = this.opts.store.get();
    if (!stored || stored.refreshExpire <= this.now()) {
      this.end("expired");
      throw new SessionEndedError("expired");
    }
    let tokens: IssuedTokens;
    try {
      tokens = await this.opts.refresh(stored.refreshToken, stored.deviceId);
    } catch (e) {
      if (e instanceof RefreshRefused) {
        this.end("revoked");
        throw new SessionEndedError("revoked");
      }
      throw e; // offline or a server fault: keep the session, try again later
    }
    this.opts.store.set({ refreshToken: tokens.refreshToken, refreshExpire: tokens.refreshExpire, deviceId: stored.deviceId });
    this.setAccess(tokens);
    return tokens.accessToken;
  }

  private setAccess(t: IssuedTokens): void {
    const issued = this.now();
    this.access = { token: t.accessToken, expire: t.accessExpire, issued };
    this.cancelTimer?.();
    const life = t.accessExpire - issued;
    const wait = Math.max(0, life - refreshLead(life));
    // A refresh that fails for want of a network is tried again shortly,
    // so the session is renewed (and "offline" cleared) when it is back.
    const attempt = () => {
      this.refresh(t.accessToken).catch((e) => {
        if (!this.ended && !(e instanceof SessionEndedError)) this.cancelTimer = this.schedule(attempt, RETRY_MS);
      });
    };
    this.cancelTimer = this.schedule(attempt, wait);
  }

  /** Forgets everything this browser holds (after Logout, or when told). */
  clear(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.access = null;
    this.opts.store.set(null);
  }

  /** Called when storage shows another tab signed out. */
  endedElsewhere(): void {
    if (this.access && !this.opts.store.get()) this.end("logout");
  }

  private end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.clear();
    this.opts.onEnd?.(reason);
  }
}

/** A lock for one JavaScript context, for tests and old browsers. */
export function memoryLock(): Lock {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(name: string, fn: () => Promise<T>) => {
    const prev = tails.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  };
}
