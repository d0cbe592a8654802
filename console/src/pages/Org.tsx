// Stores and their staff: lists, and forms to add them.
import { useMemo, useState, type FormEvent } from "react";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { useQueryClient } from "@tanstack/react-query";
import { OrgService } from "../gen/shopscore/v1/org_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Done, Empty, ErrorText, Loading, Section, useAction } from "../components";
import { setQuery, useLocation, useTitle } from "../lib/router";
import { isAdmin, isEditor, useAuth } from "../auth";
import { useStoreList } from "../lookups";
import { formatNumber } from "../lib/format";

export function Stores() {
  const { t, tag } = useI18n();
  useTitle(t("stores.title"));
  const { user } = useAuth();
  const q = useQuery(OrgService.method.listStores, {});
  const stores = q.data?.stores ?? [];
  return (
    <div className="page">
      <h1>{t("stores.title")}</h1>
      {isAdmin(user) && <CreateStore />}
      <ErrorText error={q.error} />
      {q.isPending ? (
        <Loading />
      ) : stores.length === 0 ? (
        <Empty>{t(isAdmin(user) ? "stores.emptyAdmin" : "stores.empty")}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="list">
            <thead>
              <tr>
                <th scope="col">{t("stores.code")}</th>
                <th scope="col">{t("stores.name")}</th>
                <th scope="col">{t("stores.region")}</th>
                <th scope="col">{t("stores.address")}</th>
                <th scope="col" className="num">{t("stores.geofence")}</th>
              </tr>
            </thead>
            <tbody>
              {stores.map((s) => (
                <tr key={s.id}>
                  <td data-label={t("stores.code")}>
                    <strong>{s.code}</strong>
                  </td>
                  <td data-label={t("stores.name")}>{s.name}</td>
                  <td data-label={t("stores.region")}>{s.region}</td>
                  <td data-label={t("stores.address")}>{s.address}</td>
                  <td data-label={t("stores.geofence")} className="num">
                    {s.geofenceMeters ? formatNumber(tag, s.geofenceMeters) + " m" : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
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
    <Section title={t("stores.create")}>
      <form className="grid-form" onSubmit={submit} noValidate>
        {input("code", t("stores.code"))}
        {input("name", t("stores.name"))}
        {input("region", t("stores.region"))}
        {input("address", t("stores.address"))}
        {input("latitude", t("stores.latitude"))}
        {input("longitude", t("stores.longitude"))}
        {input("geofence", t("stores.geofenceM"))}
        <div className="actions">
          <ActionButton action={create} type="submit" label={t("stores.createButton")} />
        </div>
      </form>
      {create.result && <Done message={t("stores.created", { code: create.result.store?.code ?? "" })} />}
      <ErrorText error={create.error} />
    </Section>
  );
}

export function StaffPage() {
  const { t } = useI18n();
  useTitle(t("staff.title"));
  const { user } = useAuth();
  const { query } = useLocation();
  const storeId = query.get("store") ?? "";
  const storeList = useStoreList();
  const q = useQuery(OrgService.method.listStaff, { storeId });
  const staff = q.data?.staff ?? [];
  return (
    <div className="page">
      <h1>{t("staff.title")}</h1>
      {isEditor(user) && <CreateStaff />}
      <div className="filters">
        <label>
          {t("review.store")}
          <select value={storeId} onChange={(e) => setQuery({ store: e.target.value })}>
            <option value="">{t("review.allStores")}</option>
            {storeList.map((s) => (
              <option key={s.id} value={s.id}>
                {s.code} · {s.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorText error={q.error} />
      {q.isPending ? (
        <Loading />
      ) : staff.length === 0 ? (
        <Empty>{t("staff.empty")}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="list">
            <thead>
              <tr>
                <th scope="col">{t("staff.number")}</th>
                <th scope="col">{t("staff.name")}</th>
                <th scope="col">{t("staff.position")}</th>
                <th scope="col">{t("staff.department")}</th>
                <th scope="col">{t("review.colStore")}</th>
              </tr>
            </thead>
            <tbody>
              {staff.map((s) => (
                <tr key={s.id}>
                  <td data-label={t("staff.number")}>{s.employeeNumber}</td>
                  <td data-label={t("staff.name")}>
                    <strong>{s.name}</strong>
                  </td>
                  <td data-label={t("staff.position")}>
                    {s.position}
                    {s.backOffice && <small className="muted"> · {t("staff.backOffice")}</small>}
                  </td>
                  <td data-label={t("staff.department")}>{s.department}</td>
                  <td data-label={t("review.colStore")}>
                    {s.storeCode} · {s.storeName}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
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
    <Section title={t("staff.create")}>
      <form className="grid-form" onSubmit={submit} noValidate>
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
        <div className="actions">
          <ActionButton action={create} type="submit" label={t("staff.createButton")} />
        </div>
      </form>
      {create.result && <Done message={t("staff.created", { name: create.result.staff?.name ?? "" })} />}
      <ErrorText error={create.error} />
    </Section>
  );
}
