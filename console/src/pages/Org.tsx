// Stores and their staff: lists, and forms to add them.
import { useMemo, useState, type FormEvent } from "react";
import { useInfiniteQuery, useQuery, useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { OrgService, type Staff, type Store } from "../gen/shopscore/v1/org_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, ErrorText, FileImport, FormCard, Listing, ListTable, StoreFilter, useAction } from "../components";
import { importProblems } from "../lib/errors";
import { setQuery, useLocation, useTitle } from "../lib/router";
import { isAdmin, isEditor, isHR, useAuth } from "../auth";
import { StaffAccountService, type StaffInvitationLink } from "../gen/shopscore/v1/staff_portal_pb";
import { useStoreList } from "../lookups";
import { dateToZoned, formatDate, formatDateTime, formatNumber } from "../lib/format";

export function Stores() {
  const { t, tag } = useI18n();
  useTitle(t("stores.title"));
  const { user } = useAuth();
  const { query } = useLocation();
  const closed = query.get("closed") === "1";
  const q = useQuery(OrgService.method.listStores, { includeDeactivated: closed });
  const stores = q.data?.stores ?? [];
  return (
    <div className="page">
      <h1>{t("stores.title")}</h1>
      {isAdmin(user) && <CreateStore />}
      {isAdmin(user) && <ImportFile kind="stores" />}
      <div className="filters">
        <label className="check">
          <input type="checkbox" checked={closed} onChange={(e) => setQuery({ closed: e.target.checked ? "1" : undefined })} />
          {t("stores.showClosed")}
        </label>
      </div>
      <Listing query={q} count={stores.length} empty={t(isAdmin(user) ? "stores.emptyAdmin" : "stores.empty")}>
        <ListTable columns={[t("stores.code"), t("stores.name"), t("stores.region"), t("stores.address"), { label: t("stores.geofence"), className: "num" }, t("stores.managers"), isEditor(user) && t("common.actions")]}>
          {stores.map((s) => (
            <tr key={s.id}>
              <td data-label={t("stores.code")}>
                <strong>{s.code}</strong> {s.deactivated && <Badge>{t("stores.closed")}</Badge>}
              </td>
              <td data-label={t("stores.name")}>{s.name}</td>
              <td data-label={t("stores.region")}>{s.region}</td>
              <td data-label={t("stores.address")}>{s.address}</td>
              <td data-label={t("stores.geofence")} className="num">
                {s.geofenceMeters ? formatNumber(tag, s.geofenceMeters) + " m" : "—"}
              </td>
              <td data-label={t("stores.managers")}>{s.managerNames.join(", ") || "—"}</td>
              {isEditor(user) && (
                <td data-label={t("common.actions")}>
                  <StoreActions s={s} admin={isAdmin(user)} />
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </Listing>
    </div>
  );
}

function StoreActions({ s, admin }: { s: Store; admin: boolean }) {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(OrgService, transport), [transport]);
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [f, setF] = useState({ code: s.code, name: s.name, address: s.address, region: s.region });
  const done = async <T,>(p: Promise<T>) => {
    const r = await p;
    await qc.invalidateQueries();
    setEditing(false);
    return r;
  };
  const save = useAction(() => done(client.updateStore({ store: { ...s, ...f, code: f.code.trim(), name: f.name.trim() } })));
  const toggle = useAction(() => done<unknown>(s.deactivated ? client.reactivateStore({ storeId: s.id }) : client.deactivateStore({ storeId: s.id })));
  if (editing)
    return (
      <form
        className="row-actions"
        onSubmit={(e) => {
          e.preventDefault();
          if (f.code.trim() && f.name.trim()) void save.run();
        }}
      >
        {(["code", "name", "address", "region"] as const).map((k) => (
          <label key={k}>
            {t(("stores." + k) as "stores.code")}
            <input value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} required={k === "code" || k === "name"} />
          </label>
        ))}
        <ActionButton action={save} type="submit" label={t("common.save")} />
        <button type="button" className="btn secondary small" onClick={() => setEditing(false)}>
          {t("common.cancel")}
        </button>
        <ErrorText error={save.error} />
      </form>
    );
  return (
    <div className="row-actions">
      {!s.deactivated && (
        <button type="button" className="btn secondary small" onClick={() => setEditing(true)}>
          {t("common.edit")}
        </button>
      )}
      {admin && <ActionButton action={toggle} label={s.deactivated ? t("stores.reopen") : t("stores.close")} kind={s.deactivated ? "secondary" : "danger"} />}
      <ErrorText error={toggle.error} />
    </div>
  );
}

function CreateStore() {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(OrgService, transport), [transport]);
  const qc = useQueryClient();
  const [f, setF] = useState({ code: "", name: "", region: "", address: "", latitude: "", longitude: "", geofence: "150" });
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const create = useAction(async () => {
    const r = await client.createStore({
      store: {
        code: f.code.trim(),
        name: f.name.trim(),
        region: f.region.trim(),
        address: f.address.trim(),
        latitude: Number(f.latitude || 0),
        longitude: Number(f.longitude || 0),
        geofenceMeters: Number(f.geofence || 0),
      },
    });
    await qc.invalidateQueries();
    setF({ code: "", name: "", region: "", address: "", latitude: "", longitude: "", geofence: "150" });
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!f.code.trim()) errs.code = t("form.required");
    if (!f.name.trim()) errs.name = t("form.required");
    for (const k of ["latitude", "longitude", "geofence"] as const) if (f[k] && !Number.isFinite(Number(f[k]))) errs[k] = t("form.number");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void create.run();
  };
  const input = (k: keyof typeof f, label: string, type = "text") => (
    <div className={"field" + (invalid[k] ? " invalid" : "")}>
      <label htmlFor={"s-" + k}>{label}</label>
      <input id={"s-" + k} type={type} inputMode={type === "number" ? "decimal" : undefined} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} aria-invalid={!!invalid[k]} />
      {invalid[k] && <small className="field-error">{invalid[k]}</small>}
    </div>
  );
  return (
    <FormCard title={t("stores.create")} onSubmit={submit} action={create} label={t("stores.createButton")} done={!!create.result && t("stores.created", { code: create.result.store?.code ?? "" })}>
      {input("code", t("stores.code"))}
      {input("name", t("stores.name"))}
      {input("region", t("stores.region"))}
      {input("address", t("stores.address"))}
      {input("latitude", t("stores.latitude"))}
      {input("longitude", t("stores.longitude"))}
      {input("geofence", t("stores.geofenceM"))}
    </FormCard>
  );
}

export function StaffPage() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("staff.title"));
  const { user } = useAuth();
  const { query } = useLocation();
  const storeId = query.get("store") ?? "";
  const text = query.get("q") ?? "";
  const gone = query.get("gone") === "1";
  const q = useInfiniteQuery(
    OrgService.method.listStaff,
    { storeId, query: text, includeDeactivated: gone, pageSize: 100, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined },
  );
  const staff = q.data?.pages.flatMap((p) => p.staff) ?? [];
  const invites = isHR(user);
  const [chosen, setChosen] = useState<Staff[]>([]);
  const choose = (s: Staff, on: boolean) => setChosen(on ? [...chosen.filter((x) => x.id !== s.id), s] : chosen.filter((x) => x.id !== s.id));
  return (
    <div className="page">
      <h1>{t("staff.title")}</h1>
      {isEditor(user) && <CreateStaff />}
      {isEditor(user) && <ImportFile kind="staff" />}
      {invites && <InviteStaff chosen={chosen} onDone={() => setChosen([])} />}
      <div className="filters">
        <StoreFilter value={storeId} onChange={(store) => setQuery({ store })} />
        <label>
          {t("staff.search")}
          <input type="search" value={text} onChange={(e) => setQuery({ q: e.target.value })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={gone} onChange={(e) => setQuery({ gone: e.target.checked ? "1" : undefined })} />
          {t("staff.showGone")}
        </label>
      </div>
      <Listing query={q} count={staff.length} empty={t("staff.empty")}>
        <ListTable
          columns={[
            invites && t("invite.column"),
            t("staff.number"),
            t("staff.name"),
            t("staff.position"),
            t("staff.department"),
            t("review.colStore"),
            isEditor(user) && t("common.actions"),
          ]}
        >
          {staff.map((s) => (
            <tr key={s.id} className={s.deactivated ? "gone" : ""}>
              {invites && (
                <td data-label={t("invite.column")}>
                  {!s.deactivated && (
                    <input
                      type="checkbox"
                      aria-label={t("invite.select", { name: s.name, number: s.employeeNumber })}
                      checked={chosen.some((x) => x.id === s.id)}
                      onChange={(e) => choose(s, e.target.checked)}
                    />
                  )}
                </td>
              )}
              <td data-label={t("staff.number")}>{s.employeeNumber}</td>
              <td data-label={t("staff.name")}>
                <strong>{s.name}</strong> {s.deactivated && <Badge>{t("staff.gone", { date: formatDate(tag, timeZone, s.deactivateTime && timestampDate(s.deactivateTime)) })}</Badge>}
              </td>
              <td data-label={t("staff.position")}>
                {s.position}
                {s.backOffice && <small className="muted"> · {t("staff.backOffice")}</small>}
              </td>
              <td data-label={t("staff.department")}>{s.department}</td>
              <td data-label={t("review.colStore")}>
                {s.storeCode} · {s.storeName}
                {s.storeSinceDate && <small className="muted"> {t("staff.since", { date: s.storeSinceDate })}</small>}
                {s.pendingTransfer && (
                  <small className="muted">
                    {" "}
                    {t("staff.pending", { store: s.pendingTransfer.toStoreCode, date: s.pendingTransfer.effectiveDate })}
                  </small>
                )}
              </td>
              {isEditor(user) && (
                <td data-label={t("common.actions")}>
                  <StaffActions s={s} />
                </td>
              )}
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

/**
 * InviteStaff makes accounts for the chosen employees (one or many): an
 * e-mail each, then the one-time set-password links to hand over, shown
 * once (only their hash is kept).
 */
function InviteStaff({ chosen, onDone }: { chosen: Staff[]; onDone: () => void }) {
  const { t, tag, timeZone } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(StaffAccountService, transport), [transport]);
  const [emails, setEmails] = useState<Record<string, string>>({});
  const [links, setLinks] = useState<StaffInvitationLink[]>([]);
  const [invalid, setInvalid] = useState("");
  const invite = useAction(async () => {
    const r = await client.inviteStaff({ invites: chosen.map((s) => ({ employeeNumber: s.employeeNumber, email: (emails[s.id] ?? "").trim() })) });
    setLinks(r.links);
    setEmails({});
    onDone();
    return r;
  });
  if (chosen.length === 0 && links.length === 0) return <p className="muted">{t("invite.hint")}</p>;
  return (
    <section className="card invite" aria-label={t("invite.title")}>
      <h2>{t("invite.title")}</h2>
      {chosen.length > 0 && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (chosen.some((s) => !/^[^@\s]+@[^@\s]+$/.test((emails[s.id] ?? "").trim()))) return setInvalid(t("invite.needEmail"));
            setInvalid("");
            void invite.run();
          }}
        >
          {chosen.map((s) => (
            <label key={s.id}>
              {t("invite.emailOf", { name: s.name, number: s.employeeNumber })}
              <input type="email" value={emails[s.id] ?? ""} onChange={(e) => setEmails({ ...emails, [s.id]: e.target.value })} />
            </label>
          ))}
          {invalid && <small className="field-error">{invalid}</small>}
          <ActionButton action={invite} type="submit" label={t("invite.submit", { n: chosen.length })} />
          <ErrorText error={invite.error} />
        </form>
      )}
      {links.length > 0 && (
        <div className="invite-links" role="status">
          <p>{t("invite.done", { n: links.length })}</p>
          <ul>
            {links.map((l) => (
              <li key={l.userId}>
                <strong>
                  {l.staffName} ({l.employeeNumber})
                </strong>{" "}
                · {l.email}
                <br />
                <input readOnly className="link" aria-label={t("invite.linkOf", { name: l.staffName })} value={window.location.origin + l.setPasswordPath} onFocus={(e) => e.target.select()} />
                <br />
                <small className="muted">{t("invite.until", { date: formatDateTime(tag, timeZone, l.expireTime && timestampDate(l.expireTime)) })}</small>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function StaffActions({ s }: { s: Staff }) {
  const { t, timeZone } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(OrgService, transport), [transport]);
  const qc = useQueryClient();
  const stores = useStoreList();
  const [mode, setMode] = useState<"" | "edit" | "move">("");
  const [f, setF] = useState({ employeeNumber: s.employeeNumber, name: s.name, position: s.position, department: s.department });
  const [to, setTo] = useState("");
  const [from, setFrom] = useState(dateToZoned(new Date(), timeZone).slice(0, 10));
  const [invalid, setInvalid] = useState("");
  const done = async <T,>(p: Promise<T>) => {
    const r = await p;
    await qc.invalidateQueries();
    setMode("");
    return r;
  };
  const save = useAction(() => done(client.updateStaff({ staff: { ...s, ...f, name: f.name.trim(), employeeNumber: f.employeeNumber.trim() } })));
  const move = useAction(() => done(client.transferStaff({ staffId: s.id, toStoreId: to, effectiveDate: from })));
  const toggle = useAction(() => done<unknown>(s.deactivated ? client.reactivateStaff({ staffId: s.id }) : client.deactivateStaff({ staffId: s.id })));
  const error = save.error || move.error || toggle.error;
  if (mode === "edit")
    return (
      <form
        className="row-actions"
        onSubmit={(e) => {
          e.preventDefault();
          if (!f.name.trim() || !f.employeeNumber.trim()) return setInvalid(t("form.required"));
          setInvalid("");
          void save.run();
        }}
      >
        {(["employeeNumber", "name", "position", "department"] as const).map((k) => (
          <label key={k}>
            {t(("staff." + (k === "employeeNumber" ? "number" : k)) as "staff.number")}
            <input value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} />
          </label>
        ))}
        {invalid && <small className="field-error">{invalid}</small>}
        <ActionButton action={save} type="submit" label={t("common.save")} />
        <button type="button" className="btn secondary small" onClick={() => setMode("")}>
          {t("common.cancel")}
        </button>
        <ErrorText error={error} />
      </form>
    );
  if (mode === "move")
    return (
      <form
        className="row-actions"
        onSubmit={(e) => {
          e.preventDefault();
          if (!to) return setInvalid(t("staff.chooseStore"));
          setInvalid("");
          void move.run();
        }}
      >
        <label>
          {t("staff.toStore")}
          <select value={to} onChange={(e) => setTo(e.target.value)}>
            <option value="">{t("assign.choose")}</option>
            {stores
              .filter((x) => x.id !== s.storeId && !x.deactivated)
              .map((x) => (
                <option key={x.id} value={x.id}>
                  {x.code} · {x.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          {t("staff.fromDate")}
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        {invalid && <small className="field-error">{invalid}</small>}
        <ActionButton action={move} type="submit" label={t("staff.transfer")} />
        <button type="button" className="btn secondary small" onClick={() => setMode("")}>
          {t("common.cancel")}
        </button>
        <ErrorText error={error} />
      </form>
    );
  return (
    <div className="row-actions">
      {!s.deactivated && (
        <>
          <button type="button" className="btn secondary small" onClick={() => setMode("edit")}>
            {t("common.edit")}
          </button>
          <button type="button" className="btn secondary small" onClick={() => setMode("move")}>
            {t("staff.transfer")}
          </button>
        </>
      )}
      <ActionButton action={toggle} label={s.deactivated ? t("staff.reactivate") : t("staff.deactivate")} kind={s.deactivated ? "secondary" : "danger"} />
      <ErrorText error={error} />
    </div>
  );
}

/** ImportFile imports stores or staff from a CSV or XLSX file, all or nothing. */
function ImportFile({ kind }: { kind: "staff" | "stores" }) {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(OrgService, transport), [transport]);
  const qc = useQueryClient();
  return (
    <FileImport
      title={t(kind === "staff" ? "staff.import" : "stores.import")}
      hint={t(kind === "staff" ? "staff.importHint" : "stores.importHint")}
      problemsTitle={(n) => t("org.problems", { n })}
      problemsOf={importProblems}
      send={async (fileName, content) => {
        const r = kind === "staff" ? await client.importStaff({ fileName, content }) : await client.importStores({ fileName, content });
        await qc.invalidateQueries();
        return t("org.imported", { created: r.created, updated: r.updated, unchanged: r.unchanged, transferred: "transferred" in r ? r.transferred : 0 });
      }}
    />
  );
}

function CreateStaff() {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(OrgService, transport), [transport]);
  const qc = useQueryClient();
  const stores = useStoreList();
  const empty = { storeId: "", employeeNumber: "", name: "", position: "", department: "", backOffice: false };
  const [f, setF] = useState(empty);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const create = useAction(async () => {
    const r = await client.createStaff({ staff: { ...f, employeeNumber: f.employeeNumber.trim(), name: f.name.trim() } });
    await qc.invalidateQueries();
    setF({ ...empty, storeId: f.storeId });
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!f.storeId) errs.storeId = t("form.required");
    if (!f.employeeNumber.trim()) errs.employeeNumber = t("form.required");
    if (!f.name.trim()) errs.name = t("form.required");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void create.run();
  };
  const text = (k: "employeeNumber" | "name" | "position" | "department", label: string) => (
    <div className={"field" + (invalid[k] ? " invalid" : "")}>
      <label htmlFor={"st-" + k}>{label}</label>
      <input id={"st-" + k} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} aria-invalid={!!invalid[k]} />
      {invalid[k] && <small className="field-error">{invalid[k]}</small>}
    </div>
  );
  return (
    <FormCard title={t("staff.create")} onSubmit={submit} action={create} label={t("staff.createButton")} done={!!create.result && t("staff.created", { name: create.result.staff?.name ?? "" })}>
      <div className={"field" + (invalid.storeId ? " invalid" : "")}>
        <label htmlFor="st-store">{t("review.store")}</label>
        <select id="st-store" value={f.storeId} onChange={(e) => setF({ ...f, storeId: e.target.value })}>
          <option value="">{t("assign.choose")}</option>
          {stores.map((s) => (
            <option key={s.id} value={s.id}>
              {s.code} · {s.name}
            </option>
          ))}
        </select>
        {invalid.storeId && <small className="field-error">{invalid.storeId}</small>}
      </div>
      {text("employeeNumber", t("staff.number"))}
      {text("name", t("staff.name"))}
      {text("position", t("staff.position"))}
      {text("department", t("staff.department"))}
      <label className="check">
        <input type="checkbox" checked={f.backOffice} onChange={(e) => setF({ ...f, backOffice: e.target.checked })} />
        {t("staff.backOffice")}
      </label>
    </FormCard>
  );
}
