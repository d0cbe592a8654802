// Administration: users, device sessions, the security log, signing keys.
import { useMemo, useState, type FormEvent } from "react";
import { useInfiniteQuery, useQuery, useTransport } from "@connectrpc/connect-query";
import { OrgService } from "../gen/shopscore/v1/org_pb";
import { createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService, type Session } from "../gen/shopscore/v1/admin_pb";
import { useStoreList } from "../lookups";
import { useAuth } from "../auth";
import { Role, type User } from "../gen/shopscore/v1/auth_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, ErrorText, FormCard, Listing, ListTable, Loading, Section, useAction } from "../components";
import { setQuery, useLocation, useTitle } from "../lib/router";
import { roleKey } from "../Layout";
import { formatDateTime } from "../lib/format";
import type { MessageKey } from "../i18n/en";

function useAdmin() {
  const transport = useTransport();
  return useMemo(() => createClient(AdminService, transport), [transport]);
}

function useUsers() {
  return useInfiniteQuery(AdminService.method.listUsers, { pageSize: 200, pageToken: "" }, { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined });
}

export function Users() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("users.title"));
  const q = useUsers();
  const users = q.data?.pages.flatMap((p) => p.users) ?? [];
  return (
    <div className="page">
      <h1>{t("users.title")}</h1>
      <CreateUser />
      <Listing query={q} count={users.length} empty={t("users.empty")}>
        <ListTable columns={[t("users.name"), t("users.email"), t("users.role"), t("users.since"), t("common.actions")]}>
          {users.map((u) => (
            <tr key={u.id}>
              <td data-label={t("users.name")}>
                <strong>{u.displayName}</strong> {u.disabled && <Badge tone="bad">{t("users.disabled")}</Badge>}
              </td>
              <td data-label={t("users.email")}>{u.email}</td>
              <td data-label={t("users.role")}>
                {t(roleKey[u.role])}
                {u.managedStores.length > 0 && <small className="muted"> · {u.managedStores.map((s) => s.code).join(", ")}</small>}
              </td>
              <td data-label={t("users.since")}>{formatDateTime(tag, timeZone, u.createTime && timestampDate(u.createTime))}</td>
              <td data-label={t("common.actions")}>
                <UserActions u={u} />
              </td>
            </tr>
          ))}
        </ListTable>
      </Listing>
      {q.hasNextPage && (
        <button type="button" className="btn secondary" onClick={() => void q.fetchNextPage()}>
          {t("common.more")}
        </button>
      )}
    </div>
  );
}

function UserActions({ u }: { u: User }) {
  const { t } = useI18n();
  const client = useAdmin();
  const qc = useQueryClient();
  const stores = useStoreList();
  // An admin does not lock himself out from this screen.
  const self = useAuth().user?.id === u.id;
  const [mode, setMode] = useState<"" | "password" | "role" | "stores">("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState(u.role);
  const [managed, setManaged] = useState<string[]>(u.managedStores.map((s) => s.id));
  const [invalid, setInvalid] = useState("");
  const done = async <T,>(p: Promise<T>) => {
    const r = await p;
    await qc.invalidateQueries();
    setMode("");
    return r;
  };
  const toggle = useAction(() => done<unknown>(u.disabled ? client.enableUser({ userId: u.id }) : client.disableUser({ userId: u.id })));
  const reset = useAction(() => done(client.resetPassword({ userId: u.id, newPassword: password })));
  const change = useAction(() => done(client.changeRole({ userId: u.id, role })));
  const setStores = useAction(() => done(client.setManagedStores({ userId: u.id, storeIds: managed })));
  const error = toggle.error || reset.error || change.error || setStores.error;
  return (
    <div className="row-actions">
      {mode === "" && (
        <>
          {!self && <ActionButton action={toggle} label={u.disabled ? t("users.enable") : t("users.disable")} kind={u.disabled ? "secondary" : "danger"} />}
          <button type="button" className="btn secondary small" onClick={() => setMode("password")}>
            {t("users.resetPassword")}
          </button>
          {!self && (
            <button type="button" className="btn secondary small" onClick={() => setMode("role")}>
              {t("users.changeRole")}
            </button>
          )}
          {u.role === Role.MANAGER && (
            <button type="button" className="btn secondary small" onClick={() => setMode("stores")}>
              {t("users.stores")}
            </button>
          )}
        </>
      )}
      {mode === "password" && (
        <form
          className="row-actions"
          onSubmit={(e) => {
            e.preventDefault();
            if (password.length < 8) return setInvalid(t("users.passwordShort"));
            setInvalid("");
            void reset.run();
          }}
        >
          <label>
            {t("users.newPassword")}
            <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          {invalid && <small className="field-error">{invalid}</small>}
          <ActionButton action={reset} type="submit" label={t("users.resetPassword")} kind="danger" />
          <button type="button" className="btn secondary small" onClick={() => setMode("")}>
            {t("common.cancel")}
          </button>
        </form>
      )}
      {mode === "role" && (
        <>
          <label>
            {t("users.role")}
            <select value={role} onChange={(e) => setRole(Number(e.target.value) as Role)}>
              {[Role.SHOPPER, Role.MANAGER, Role.HR, Role.ADMIN].map((r) => (
                <option key={r} value={r}>
                  {t(roleKey[r])}
                </option>
              ))}
            </select>
          </label>
          <ActionButton action={change} label={t("common.save")} />
          <button type="button" className="btn secondary small" onClick={() => setMode("")}>
            {t("common.cancel")}
          </button>
        </>
      )}
      {mode === "stores" && (
        <fieldset className="checks">
          <legend className="sr-only">{t("users.stores")}</legend>
          {stores.map((s) => (
            <label key={s.id} className="check">
              <input type="checkbox" checked={managed.includes(s.id)} onChange={() => setManaged(managed.includes(s.id) ? managed.filter((x) => x !== s.id) : [...managed, s.id])} />
              {s.code}
            </label>
          ))}
          <ActionButton action={setStores} label={t("common.save")} />
          <button type="button" className="btn secondary small" onClick={() => setMode("")}>
            {t("common.cancel")}
          </button>
        </fieldset>
      )}
      {reset.result && <Done message={t("users.passwordReset", { n: reset.result.revokedSessions })} />}
      <ErrorText error={error} />
    </div>
  );
}

function CreateUser() {
  const { t } = useI18n();
  const client = useAdmin();
  const qc = useQueryClient();
  const empty = { email: "", displayName: "", role: Role.MANAGER, password: "" };
  const [f, setF] = useState(empty);
  const stores = useStoreList();
  const [managed, setManaged] = useState<string[]>([]);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const create = useAction(async () => {
    const r = await client.createUser({ ...f, email: f.email.trim(), displayName: f.displayName.trim(), managedStoreIds: f.role === Role.MANAGER ? managed : [] });
    await qc.invalidateQueries();
    setF(empty);
    setManaged([]);
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!/^[^@\s]+@[^@\s]+$/.test(f.email.trim())) errs.email = t("login.emailInvalid");
    if (!f.displayName.trim()) errs.displayName = t("form.required");
    if (f.password.length < 8) errs.password = t("users.passwordShort");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void create.run();
  };
  const field = (k: "email" | "displayName" | "password", label: string, type = "text") => (
    <div className={"field" + (invalid[k] ? " invalid" : "")}>
      <label htmlFor={"u-" + k}>{label}</label>
      <input id={"u-" + k} type={type} autoComplete={type === "password" ? "new-password" : "off"} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} aria-invalid={!!invalid[k]} />
      {invalid[k] && <small className="field-error">{invalid[k]}</small>}
    </div>
  );
  return (
    <FormCard title={t("users.create")} onSubmit={submit} action={create} label={t("users.createButton")} done={!!create.result && t("users.created", { email: create.result.user?.email ?? "" })}>
      {field("email", t("users.email"), "email")}
      {field("displayName", t("users.name"))}
      <div className="field">
        <label htmlFor="u-role">{t("users.role")}</label>
        <select id="u-role" value={f.role} onChange={(e) => setF({ ...f, role: Number(e.target.value) as Role })}>
          {[Role.SHOPPER, Role.MANAGER, Role.HR, Role.ADMIN].map((r) => (
            <option key={r} value={r}>
              {t(roleKey[r])}
            </option>
          ))}
        </select>
      </div>
      {field("password", t("users.password"), "password")}
      {f.role === Role.MANAGER && (
        <fieldset className="field">
          <legend>{t("users.stores")}</legend>
          <div className="checks">
            {stores.map((s) => (
              <label key={s.id} className="check">
                <input type="checkbox" checked={managed.includes(s.id)} onChange={() => setManaged(managed.includes(s.id) ? managed.filter((x) => x !== s.id) : [...managed, s.id])} />
                {s.code} · {s.name}
              </label>
            ))}
          </div>
        </fieldset>
      )}
    </FormCard>
  );
}

export function Sessions() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("sessions.title"));
  const q = useInfiniteQuery(AdminService.method.listSessions, { userId: "", pageSize: 200, pageToken: "" }, { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined });
  // Until ListSessions names the user itself, the user list does.
  const users = useUsers();
  const byId = new Map((users.data?.pages.flatMap((p) => p.users) ?? []).map((u) => [u.id, u]));
  const sessions = q.data?.pages.flatMap((p) => p.sessions) ?? [];
  const when = (ts: Session["createTime"]) => formatDateTime(tag, timeZone, ts && timestampDate(ts));
  return (
    <div className="page">
      <h1>{t("sessions.title")}</h1>
      <Listing query={q} count={sessions.length} empty={t("sessions.empty")}>
        <ListTable columns={[t("sessions.user"), t("sessions.device"), t("sessions.started"), t("sessions.lastSeen"), t("sessions.state"), t("common.actions")]}>
          {sessions.map((s) => (
            <tr key={s.id}>
              <td data-label={t("sessions.user")}>{s.userName || byId.get(s.userId)?.displayName || s.userEmail || t("common.unknownPerson")}</td>
              <td data-label={t("sessions.device")}>{s.deviceName || s.deviceId}</td>
              <td data-label={t("sessions.started")}>{when(s.createTime)}</td>
              <td data-label={t("sessions.lastSeen")}>{when(s.lastSeenTime)}</td>
              <td data-label={t("sessions.state")}>
                {s.revokeTime ? (
                  <Badge>
                    {t("sessions.revoked", { when: when(s.revokeTime) })}
                    {s.revokeReason ? " · " + s.revokeReason : ""}
                  </Badge>
                ) : (
                  <Badge tone="ok">{t("sessions.active")}</Badge>
                )}
              </td>
              <td data-label={t("common.actions")}>{!s.revokeTime && <RevokeButton s={s} />}</td>
            </tr>
          ))}
        </ListTable>
      </Listing>
      {q.hasNextPage && (
        <button type="button" className="btn secondary" onClick={() => void q.fetchNextPage()}>
          {t("common.more")}
        </button>
      )}
    </div>
  );
}

function RevokeButton({ s }: { s: Session }) {
  const { t } = useI18n();
  const client = useAdmin();
  const qc = useQueryClient();
  const revoke = useAction(async () => {
    const r = await client.revokeSession({ sessionId: s.id });
    await qc.invalidateQueries();
    return r;
  });
  return (
    <div className="row-actions">
      <ActionButton action={revoke} label={t("sessions.revoke")} kind="danger" />
      <ErrorText error={revoke.error} />
    </div>
  );
}

const eventKinds = ["login", "login_failed", "refresh", "refresh_reuse", "refresh_retry", "logout", "session_revoked", "user_disabled", "user_enabled", "key_rotated"];
const eventKey = (k: string) => ("event." + k) as MessageKey;

export function SecurityEvents() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("events.title"));
  const { query } = useLocation();
  const kind = query.get("kind") ?? "";
  const q = useInfiniteQuery(
    AdminService.method.listSecurityEvents,
    { kinds: kind ? [kind] : [], pageSize: 100, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined },
  );
  const events = q.data?.pages.flatMap((p) => p.events) ?? [];
  return (
    <div className="page">
      <h1>{t("events.title")}</h1>
      <div className="filters">
        <label>
          {t("events.kind")}
          <select value={kind} onChange={(e) => setQuery({ kind: e.target.value })}>
            <option value="">{t("events.all")}</option>
            {eventKinds.map((k) => (
              <option key={k} value={k}>
                {t(eventKey(k))}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn secondary" onClick={() => void q.refetch()} disabled={q.isFetching}>
          {t("events.reload")}
        </button>
      </div>
      <Listing query={q} count={events.length} empty={t("events.empty")}>
        <ListTable columns={[t("events.time"), t("events.kind"), t("sessions.user"), t("events.peer"), t("events.detail")]}>
          {events.map((e) => (
            <tr key={String(e.seq)}>
              <td data-label={t("events.time")}>{formatDateTime(tag, timeZone, e.createTime && timestampDate(e.createTime))}</td>
              <td data-label={t("events.kind")}>
                <Badge tone={e.kind === "refresh_reuse" || e.kind === "login_failed" ? "bad" : ""}>{eventKinds.includes(e.kind) ? t(eventKey(e.kind)) : e.kind}</Badge>
              </td>
              <td data-label={t("sessions.user")}>{e.userName || e.userEmail || "—"}</td>
              <td data-label={t("events.peer")}>{e.peer}</td>
              <td data-label={t("events.detail")}>{e.detail}</td>
            </tr>
          ))}
        </ListTable>
      </Listing>
      {q.hasNextPage && (
        <button type="button" className="btn secondary" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {t("common.more")}
        </button>
      )}
    </div>
  );
}

export function Keys() {
  const { t } = useI18n();
  useTitle(t("keys.title"));
  const client = useAdmin();
  const rotate = useAction(() => client.rotateSigningKey({}));
  return (
    <div className="page">
      <h1>{t("keys.title")}</h1>
      <Section title={t("keys.rotate")}>
        <p>{t("keys.text")}</p>
        <ActionButton action={rotate} label={t("keys.rotateButton")} busyLabel={t("keys.rotating")} />
        {rotate.result && <Done message={t("keys.rotated", { kid: rotate.result.keyId })} />}
        <ErrorText error={rotate.error} />
      </Section>
    </div>
  );
}

export function Settings() {
  const { t, setTimeZone, setCurrency } = useI18n();
  useTitle(t("settings.title"));
  const transport = useTransport();
  const org = useMemo(() => createClient(OrgService, transport), [transport]);
  const q = useQuery(OrgService.method.getOrgSettings, {});
  const [f, setF] = useState<{ timeZone: string; locale: string; currency: string; reviewWaitDays: number } | null>(null);
  const cur = f ?? {
    timeZone: q.data?.settings?.timeZone ?? "",
    locale: q.data?.settings?.locale ?? "",
    currency: q.data?.settings?.currency ?? "",
    reviewWaitDays: q.data?.settings?.reviewWaitDays ?? 3,
  };
  const zones = useMemo(() => (typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [cur.timeZone]), [cur.timeZone]);
  const save = useAction(async () => {
    const r = await org.updateOrgSettings({ settings: cur });
    if (r.settings?.timeZone) setTimeZone(r.settings.timeZone);
    if (r.settings?.currency) setCurrency(r.settings.currency);
    setF(null);
    await q.refetch();
    return r;
  });
  return (
    <div className="page">
      <h1>{t("settings.title")}</h1>
      <Section title={t("settings.org")}>
        <ErrorText error={q.error} />
        {q.isPending ? (
          <Loading />
        ) : (
          <form
            className="grid-form"
            onSubmit={(e) => {
              e.preventDefault();
              void save.run();
            }}
          >
            <div className="field">
              <label htmlFor="o-tz">{t("settings.timeZone")}</label>
              <select id="o-tz" value={cur.timeZone} onChange={(e) => setF({ ...cur, timeZone: e.target.value })}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </select>
              <small className="hint">{t("settings.timeZoneHint")}</small>
            </div>
            <div className="field">
              <label htmlFor="o-locale">{t("settings.locale")}</label>
              <input id="o-locale" value={cur.locale} onChange={(e) => setF({ ...cur, locale: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor="o-currency">{t("settings.currency")}</label>
              <input id="o-currency" value={cur.currency} maxLength={3} onChange={(e) => setF({ ...cur, currency: e.target.value.toUpperCase() })} />
            </div>
            <div className="field">
              <label htmlFor="o-review-wait">{t("settings.reviewWaitDays")}</label>
              <input
                id="o-review-wait"
                type="number"
                min={1}
                max={60}
                value={cur.reviewWaitDays}
                onChange={(e) => setF({ ...cur, reviewWaitDays: Number(e.target.value) })}
              />
              <small className="hint">{t("settings.reviewWaitDaysHint")}</small>
            </div>
            <div className="actions">
              <ActionButton action={save} type="submit" label={t("common.save")} />
            </div>
          </form>
        )}
        {save.result && <Done message={t("settings.saved")} />}
        <ErrorText error={save.error} />
      </Section>
    </div>
  );
}
