import { describe, expect, it } from "vitest";
import { memoryLock, RefreshRefused, Session, SessionEndedError, refreshLead, type IssuedTokens, type Lock, type SessionStore, type StoredSession } from "./session";

/** A fake server: rotates refresh tokens and, like the real one, ends the session on reuse. */
function fakeServer(lifetimeMs = 600_000) {
  let current = "r0";
  let n = 0;
  let revoked = false;
  const presented: string[] = [];
  return {
    presented,
    get calls() {
      return presented.length;
    },
    get revoked() {
      return revoked;
    },
    first(now: number): IssuedTokens {
      return { accessToken: "a0", accessExpire: now + lifetimeMs, refreshToken: current, refreshExpire: now + 86_400_000 };
    },
    async refresh(token: string, now: number): Promise<IssuedTokens> {
      presented.push(token);
      await new Promise((r) => setTimeout(r, 5));
      if (revoked || token !== current) {
        revoked = true;
        throw new RefreshRefused("refresh token reused");
      }
      n++;
      current = "r" + n;
      return { accessToken: "a" + n, accessExpire: now + lifetimeMs, refreshToken: current, refreshExpire: now + 86_400_000 };
    },
  };
}

function sharedStore(): SessionStore {
  let v: StoredSession | null = null;
  return { get: () => (v ? { ...v } : null), set: (s) => void (v = s ? { ...s } : null) };
}

function newSession(store: SessionStore, lock: Lock, server: ReturnType<typeof fakeServer>, clock: { now: number }, ended: string[] = []) {
  return new Session({
    store,
    lock,
    refresh: (t) => server.refresh(t, clock.now),
    now: () => clock.now,
    onEnd: (r) => ended.push(r),
    schedule: () => () => {},
  });
}

describe("Session", () => {
  it("returns the access token while it is fresh", async () => {
    const clock = { now: 1_000_000 };
    const server = fakeServer();
    const s = newSession(sharedStore(), memoryLock(), server, clock);
    s.start(server.first(clock.now), "dev");
    expect(await s.token()).toBe("a0");
    expect(server.calls).toBe(0);
  });

  it("refreshes once for many concurrent callers (single flight)", async () => {
    const clock = { now: 1_000_000 };
    const server = fakeServer();
    const s = newSession(sharedStore(), memoryLock(), server, clock);
    s.start(server.first(clock.now), "dev");
    clock.now += 700_000; // past expiry
    const tokens = await Promise.all([s.token(), s.token(), s.token(), s.refresh("a0"), s.refresh("a0")]);
    expect(new Set(tokens)).toEqual(new Set(["a1"]));
    expect(server.presented).toEqual(["r0"]);
    expect(server.revoked).toBe(false);
  });

  it("does not refresh again for a call that failed with a token already replaced", async () => {
    const clock = { now: 1_000_000 };
    const server = fakeServer();
    const s = newSession(sharedStore(), memoryLock(), server, clock);
    s.start(server.first(clock.now), "dev");
    expect(await s.refresh("a0")).toBe("a1");
    expect(await s.refresh("a0")).toBe("a1");
    expect(server.calls).toBe(1);
  });

  it("two tabs sharing storage and a lock never present the same refresh token", async () => {
    const clock = { now: 1_000_000 };
    const server = fakeServer();
    const store = sharedStore();
    const lock = memoryLock();
    const tabA = newSession(store, lock, server, clock);
    const tabB = newSession(store, lock, server, clock);
    tabA.start(server.first(clock.now), "dev");
    // Tab B was opened later and holds only what storage has.
    clock.now += 700_000;
    const [a, b] = await Promise.all([tabA.token(), tabB.token()]);
    expect(a).not.toBe(b);
    expect(server.presented).toEqual(["r0", "r1"]);
    expect(server.revoked).toBe(false);
    expect(store.get()?.refreshToken).toBe("r2");
  });

  it("ends the session when the server refuses the refresh token", async () => {
    const clock = { now: 1_000_000 };
    const server = fakeServer();
    const ended: string[] = [];
    const store = sharedStore();
    const s = newSession(store, memoryLock(), server, clock, ended);
    s.start(server.first(clock.now), "dev");
    store.set({ refreshToken: "stolen-and-used", refreshExpire: clock.now + 86_400_000, deviceId: "dev" });
    clock.now += 700_000;
    await expect(s.token()).rejects.toBeInstanceOf(SessionEndedError);
    expect(ended).toEqual(["revoked"]);
    expect(store.get()).toBeNull();
    await expect(s.token()).rejects.toBeInstanceOf(SessionEndedError);
  });

  it("keeps the session through a network fault", async () => {
    const clock = { now: 1_000_000 };
    let fail = true;
    const server = fakeServer();
    const store = sharedStore();
    const s = new Session({
      store,
      lock: memoryLock(),
      refresh: async (t) => {
        if (fail) throw new TypeError("Failed to fetch");
        return server.refresh(t, clock.now);
      },
      now: () => clock.now,
      schedule: () => () => {},
    });
    s.start(server.first(clock.now), "dev");
    clock.now += 700_000;
    await expect(s.token()).rejects.toBeInstanceOf(TypeError);
    expect(store.get()?.refreshToken).toBe("r0");
    fail = false;
    expect(await s.token()).toBe("a1");
  });

  it("tries a refresh that failed on the network again", async () => {
    const clock = { now: 0 };
    const server = fakeServer(600_000);
    const timers: { fn: () => void; ms: number }[] = [];
    let offline = true;
    const s = new Session({
      store: sharedStore(),
      lock: memoryLock(),
      refresh: async (t) => {
        if (offline) throw new TypeError("Failed to fetch");
        return server.refresh(t, clock.now);
      },
      now: () => clock.now,
      schedule: (fn, ms) => (timers.push({ fn, ms }), () => {}),
    });
    s.start(server.first(0), "dev");
    clock.now = 540_000;
    timers.shift()!.fn();
    await new Promise((r) => setTimeout(r, 10));
    expect(timers.map((x) => x.ms)).toEqual([3000]);
    offline = false;
    timers.shift()!.fn();
    await new Promise((r) => setTimeout(r, 20));
    expect(server.presented).toEqual(["r0"]);
    expect(await s.token()).toBe("a1");
  });

  it("schedules the refresh ahead of expiry", () => {
    const waits: number[] = [];
    const clock = { now: 0 };
    const server = fakeServer(600_000);
    const s = new Session({ store: sharedStore(), lock: memoryLock(), refresh: (t) => server.refresh(t, 0), now: () => clock.now, schedule: (_f, ms) => (waits.push(ms), () => {}) });
    s.start(server.first(0), "dev");
    expect(waits).toEqual([540_000]);
    expect(refreshLead(3000)).toBe(1000);
  });

  it("an expired stored session is not resumed", async () => {
    const clock = { now: 1_000_000 };
    const store = sharedStore();
    store.set({ refreshToken: "r0", refreshExpire: clock.now - 1, deviceId: "dev" });
    const ended: string[] = [];
    const s = newSession(store, memoryLock(), fakeServer(), clock, ended);
    expect(s.hasStored()).toBe(false);
    await expect(s.token()).rejects.toBeInstanceOf(SessionEndedError);
    expect(ended).toEqual(["expired"]);
  });
});
