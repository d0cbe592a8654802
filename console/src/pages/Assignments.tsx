// Assignments: create one or many (stores × shoppers × one window), see
// them as a list or a week, cancel and reassign.
import { useMemo, useState, type FormEvent } from "react";
import { useInfiniteQuery, useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { AssignmentService, AssignmentState, type Assignment, type BulkCreateResult } from "../gen/shopscore/v1/assignment_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, Empty, ErrorText, Listing, ListTable, Section, StoreFilter, useAction } from "../components";
import { setQuery, useLocation, useTitle } from "../lib/router";
import { checklistName, published, storeLabel, useShoppers, useStoreList, useStores, useVersions } from "../lookups";
import { assignmentStateKey } from "../labels";
import { addDays, dateToZoned, formatDateTime, formatTime, formatWeekday, startOfWeek, zonedToDate } from "../lib/format";

const OPEN = "__open__";

export function Assignments() {
  const { t } = useI18n();
  useTitle(t("assign.title"));
  const { query } = useLocation();
  const view = query.get("view") === "week" ? "week" : "list";
  return (
    <div className="page">
      <h1>{t("assign.title")}</h1>
      <CreateForm />
      <div className="state-tabs" role="group" aria-label={t("assign.view")}>
        <button type="button" className={"tab" + (view === "list" ? " active" : "")} aria-pressed={view === "list"} onClick={() => setQuery({ view: undefined })}>
          {t("assign.list")}
        </button>
        <button type="button" className={"tab" + (view === "week" ? " active" : "")} aria-pressed={view === "week"} onClick={() => setQuery({ view: "week" })}>
          {t("assign.week")}
        </button>
      </div>
      {view === "list" ? <AssignmentList /> : <Week />}
    </div>
  );
}

function CreateForm() {
  const { t, timeZone } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(AssignmentService, transport), [transport]);
  const qc = useQueryClient();
  const stores = useStoreList();
  const storeMap = useStores();
  const shoppers = useShoppers();
  const versions = published(useVersions());
  const [checklist, setChecklist] = useState("");
  const [storeIds, setStoreIds] = useState<string[]>([]);
  const [shopperIds, setShopperIds] = useState<string[]>([]);
  const now = new Date();
  const [start, setStart] = useState(dateToZoned(addDays(startOfWeek(now, timeZone), 7, timeZone), timeZone));
  const [end, setEnd] = useState(dateToZoned(addDays(startOfWeek(now, timeZone), 14, timeZone), timeZone));
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [results, setResults] = useState<{ label: string; r: BulkCreateResult }[] | null>(null);

  const specs = () => {
    const [checklistId, version] = checklist.split("@");
    const s = zonedToDate(start, timeZone)!;
    const e = zonedToDate(end, timeZone)!;
    const who = shopperIds.length ? shopperIds : [OPEN];
    return storeIds.flatMap((storeId) =>
      who.map((sh) => ({
        spec: {
          storeId,
          checklistId,
          checklistVersion: Number(version),
          windowStartTime: timestampFromDate(s),
          windowEndTime: timestampFromDate(e),
          shopperId: sh === OPEN ? "" : sh,
        },
        label: storeLabel(storeMap, storeId) + " — " + (sh === OPEN ? t("assign.openToAny") : (shoppers.get(sh)?.displayName ?? "")),
      })),
    );
  };
  const create = useAction(async () => {
    const items = specs();
    const res = await client.bulkCreateAssignments({ specs: items.map((i) => i.spec) });
    setResults(res.results.map((r, i) => ({ label: items[i].label, r })));
    await qc.invalidateQueries();
    return res;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!checklist) errs.checklist = t("assign.needChecklist");
    if (storeIds.length === 0) errs.stores = t("assign.needStore");
    const s = zonedToDate(start, timeZone);
    const en = zonedToDate(end, timeZone);
    if (!s || !en || en <= s) errs.window = t("assign.badWindow");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void create.run();
  };
  const toggle = (list: string[], set: (v: string[]) => void, id: string) => set(list.includes(id) ? list.filter((x) => x !== id) : [...list, id]);
  const n = storeIds.length * Math.max(1, shopperIds.length);
  const ok = results?.filter((r) => r.r.assignment).length ?? 0;

  return (
    <Section title={t("assign.create")}>
      <form onSubmit={submit} className="grid-form" noValidate>
        <div className={"field" + (invalid.checklist ? " invalid" : "")}>
          <label htmlFor="a-checklist">{t("assign.checklist")}</label>
          <select id="a-checklist" value={checklist} onChange={(e) => setChecklist(e.target.value)} aria-describedby={invalid.checklist ? "a-checklist-err" : undefined}>
            <option value="">{t("assign.choose")}</option>
            {versions.map((v) => (
              <option key={v.checklistId + v.version} value={v.checklistId + "@" + v.version}>
                {v.name} v{v.version}
              </option>
            ))}
          </select>
          {invalid.checklist && <small id="a-checklist-err" className="field-error">{invalid.checklist}</small>}
          {versions.length === 0 && <small className="hint">{t("assign.noPublished")}</small>}
        </div>
        <fieldset className={"field" + (invalid.stores ? " invalid" : "")}>
          <legend>{t("assign.stores")}</legend>
          <div className="checks">
            {stores.map((s) => (
              <label key={s.id} className="check">
                <input type="checkbox" checked={storeIds.includes(s.id)} onChange={() => toggle(storeIds, setStoreIds, s.id)} />
                {s.code} · {s.name}
              </label>
            ))}
          </div>
          {invalid.stores && <small className="field-error">{invalid.stores}</small>}
        </fieldset>
        <fieldset className="field">
          <legend>{t("assign.shoppers")}</legend>
          <div className="checks">
            {[...shoppers.values()].map((s) => (
              <label key={s.id} className="check">
                <input type="checkbox" checked={shopperIds.includes(s.id)} onChange={() => toggle(shopperIds, setShopperIds, s.id)} />
                {s.displayName}
              </label>
            ))}
          </div>
          <small className="hint">{t("assign.shoppersHint")}</small>
        </fieldset>
        <div className={"field" + (invalid.window ? " invalid" : "")}>
          <label htmlFor="a-start">{t("assign.windowStart", { tz: timeZone })}</label>
          <input id="a-start" type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} />
          <label htmlFor="a-end">{t("assign.windowEnd", { tz: timeZone })}</label>
          <input id="a-end" type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} />
          {invalid.window && <small className="field-error">{invalid.window}</small>}
        </div>
        <div className="actions">
          <ActionButton action={create} type="submit" label={t("assign.createN", { n })} busyLabel={t("assign.creating")} />
        </div>
      </form>
      <ErrorText error={create.error} />
      {results && (
        <div role="status">
          <Done message={t("assign.created", { ok, n: results.length })} />
          <ul className="results">
            {results
              .filter((r) => !r.r.assignment)
              .map((r, i) => (
                <li key={i} className="field-error">
                  {r.label}: {r.r.errorMessage}
                </li>
              ))}
          </ul>
        </div>
      )}
    </Section>
  );
}

function useAssignments(filter: { fromTime?: Date; toTime?: Date; state?: AssignmentState; storeId?: string }) {
  return useInfiniteQuery(
    AssignmentService.method.listAssignments,
    {
      storeId: filter.storeId ?? "",
      state: filter.state ?? AssignmentState.UNSPECIFIED,
      fromTime: filter.fromTime ? timestampFromDate(filter.fromTime) : undefined,
      toTime: filter.toTime ? timestampFromDate(filter.toTime) : undefined,
      pageSize: 200,
      pageToken: "",
    },
    { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined },
  );
}

/** useShopperName names an assignment's shopper (from the list's names, or the shopper list). */
function useShopperName(): (a: Assignment) => string {
  const { t } = useI18n();
  const shoppers = useShoppers();
  return (a) => (a.shopperId ? a.shopperName || shoppers.get(a.shopperId)?.displayName || t("common.unknownPerson") : t("assign.openToAny"));
}

function AssignmentList() {
  const { t, tag, timeZone } = useI18n();
  const { query } = useLocation();
  const state = Number(query.get("state") ?? 0) as AssignmentState;
  const storeId = query.get("store") ?? "";
  const list = useAssignments({ state, storeId });
  const stores = useStores();
  const versions = useVersions();
  const shopperOf = useShopperName();
  const rows = list.data?.pages.flatMap((p) => p.assignments) ?? [];
  return (
    <Section title={t("assign.list")}>
      <div className="filters">
        <StoreFilter value={storeId} onChange={(store) => setQuery({ store })} />
        <label>
          {t("assign.state")}
          <select value={state} onChange={(e) => setQuery({ state: e.target.value === "0" ? undefined : e.target.value })}>
            {[0, 1, 2, 3, 4, 5].map((s) => (
              <option key={s} value={s}>
                {t(assignmentStateKey[s as AssignmentState])}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Listing query={list} count={rows.length} empty={t("assign.empty")}>
        <ListTable columns={[t("review.colStore"), t("review.colChecklist"), t("review.colShopper"), t("assign.window"), t("assign.state"), t("common.actions")]}>
          {rows.map((a) => (
            <tr key={a.id}>
              <td data-label={t("review.colStore")}>{a.storeCode ? `${a.storeCode} · ${a.storeName}` : storeLabel(stores, a.storeId)}</td>
              <td data-label={t("review.colChecklist")}>{a.checklistName ? `${a.checklistName} v${a.checklistVersion}` : checklistName(versions, a.checklistId, a.checklistVersion)}</td>
              <td data-label={t("review.colShopper")}>{shopperOf(a)}</td>
              <td data-label={t("assign.window")}>
                {formatDateTime(tag, timeZone, a.windowStartTime && timestampDate(a.windowStartTime))} – {formatDateTime(tag, timeZone, a.windowEndTime && timestampDate(a.windowEndTime))}
              </td>
              <td data-label={t("assign.state")}>
                <Badge>{t(assignmentStateKey[a.state])}</Badge>
                {a.cancelReason && <small className="muted"> {a.cancelReason}</small>}
              </td>
              <td data-label={t("common.actions")}>
                <RowActions a={a} />
              </td>
            </tr>
          ))}
        </ListTable>
      </Listing>
      {list.hasNextPage && (
        <button type="button" className="btn secondary" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {t("common.more")}
        </button>
      )}
    </Section>
  );
}

function RowActions({ a }: { a: Assignment }) {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(AssignmentService, transport), [transport]);
  const qc = useQueryClient();
  const shoppers = useShoppers();
  const [reason, setReason] = useState("");
  const [to, setTo] = useState(a.shopperId);
  const [mode, setMode] = useState<"" | "cancel" | "reassign">("");
  const cancel = useAction(async () => {
    const r = await client.cancelAssignment({ assignmentId: a.id, reason: reason.trim() });
    await qc.invalidateQueries();
    setMode("");
    return r;
  });
  const reassign = useAction(async () => {
    const r = await client.reassignAssignment({ assignmentId: a.id, shopperId: to === OPEN ? "" : to });
    await qc.invalidateQueries();
    setMode("");
    return r;
  });
  if (a.state !== AssignmentState.OPEN && a.state !== AssignmentState.ACCEPTED) return null;
  return (
    <div className="row-actions">
      {mode === "" && (
        <>
          <button type="button" className="btn secondary small" onClick={() => setMode("reassign")}>
            {t("assign.reassign")}
          </button>
          <button type="button" className="btn danger small" onClick={() => setMode("cancel")}>
            {t("assign.cancel")}
          </button>
        </>
      )}
      {mode === "cancel" && (
        <>
          <label>
            {t("assign.reason")}
            <input value={reason} onChange={(e) => setReason(e.target.value)} />
          </label>
          <ActionButton action={cancel} label={t("assign.confirmCancel")} kind="danger" />
          <button type="button" className="btn secondary small" onClick={() => setMode("")}>
            {t("common.back")}
          </button>
        </>
      )}
      {mode === "reassign" && (
        <>
          <label>
            {t("assign.to")}
            <select value={to || OPEN} onChange={(e) => setTo(e.target.value)}>
              <option value={OPEN}>{t("assign.openToAny")}</option>
              {[...shoppers.values()].map((s) => (
                <option key={s.id} value={s.id}>
                  {s.displayName}
                </option>
              ))}
            </select>
          </label>
          <ActionButton action={reassign} label={t("assign.confirmReassign")} />
          <button type="button" className="btn secondary small" onClick={() => setMode("")}>
            {t("common.back")}
          </button>
        </>
      )}
      <ErrorText error={cancel.error || reassign.error} />
    </div>
  );
}

function Week() {
  const { t, tag, timeZone } = useI18n();
  const { query } = useLocation();
  const monday = query.get("week") ? zonedToDate(query.get("week")!, timeZone)! : startOfWeek(new Date(), timeZone);
  const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i, timeZone));
  const next = addDays(monday, 7, timeZone);
  const list = useAssignments({ fromTime: monday, toTime: next });
  const stores = useStores();
  const shopperOf = useShopperName();
  const rows = list.data?.pages.flatMap((p) => p.assignments) ?? [];
  const dayOf = (a: Assignment) => {
    const s = a.windowStartTime ? timestampDate(a.windowStartTime) : monday;
    const idx = days.findIndex((d, i) => s >= d && s < (days[i + 1] ?? next));
    return idx < 0 ? 0 : idx;
  };
  // A window that began before this week shows its first day instead of a time.
  const slotStart = (a: Assignment) => {
    if (!a.windowStartTime) return "";
    const s = timestampDate(a.windowStartTime);
    return s < monday ? t("assign.since", { date: formatWeekday(tag, timeZone, s) }) : formatTime(tag, timeZone, s);
  };
  const weekParam = (d: Date) => dateToZoned(d, timeZone).slice(0, 10);
  return (
    <Section
      title={t("assign.weekOf", { date: formatWeekday(tag, timeZone, monday) })}
      actions={
        <div className="actions">
          <button type="button" className="btn secondary small" onClick={() => setQuery({ week: weekParam(addDays(monday, -7, timeZone)) })}>
            ← {t("assign.prevWeek")}
          </button>
          <button type="button" className="btn secondary small" onClick={() => setQuery({ week: weekParam(next) })}>
            {t("assign.nextWeek")} →
          </button>
        </div>
      }
    >
      <ErrorText error={list.error} />
      <div className="week">
        {days.map((d, i) => (
          <div key={i} className="day">
            <h3>{formatWeekday(tag, timeZone, d)}</h3>
            {rows
              .filter((a) => dayOf(a) === i)
              .map((a) => (
                <div key={a.id} className={"slot state-" + a.state}>
                  <strong>{a.storeCode || stores.get(a.storeId)?.code}</strong> {slotStart(a)}
                  <br />
                  <small>
                    {shopperOf(a)} · {t(assignmentStateKey[a.state])}
                  </small>
                </div>
              ))}
          </div>
        ))}
      </div>
      {!list.isPending && rows.length === 0 && <Empty>{t("assign.weekEmpty")}</Empty>}
    </Section>
  );
}
