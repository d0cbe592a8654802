// The review queue: the visits of the manager's stores, newest first,
// filters in the URL, counts per state, flagged first, and the keyboard
// (j/k or arrows to move, Enter to open).
import { useEffect, useMemo, useRef, useState } from "react";
import { useInfiniteQuery } from "@connectrpc/connect-query";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReviewService } from "../gen/shopscore/v1/review_pb";
import { VisitState } from "../gen/shopscore/v1/sync_pb";
import { useI18n } from "../i18n/context";
import { Badge, Listing, ListTable, More, StoreFilter } from "../components";
import { navigate, setQuery, useLocation, useTitle, Link } from "../lib/router";
import { proofShortKey, visitFlagKey, visitStateKey, visitStates, visitStateTone } from "../labels";
import { formatDateTime, formatPercent, zonedToDate, addDays } from "../lib/format";


export function ReviewQueue() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("review.title"));
  const { query } = useLocation();
  const state = Number(query.get("state") ?? VisitState.UNSPECIFIED) as VisitState;
  const storeId = query.get("store") ?? "";
  const flaggedOnly = query.get("flagged") === "1";
  const first = query.get("first") === "1";
  const from = query.get("from") ?? "";
  const to = query.get("to") ?? "";
  const fromDate = from ? zonedToDate(from, timeZone) : undefined;
  const toDate = to ? zonedToDate(to, timeZone) : undefined;
  const base = {
    storeId,
    flaggedOnly,
    visitFromTime: fromDate ? timestampFromDate(fromDate) : undefined,
    visitToTime: toDate ? timestampFromDate(addDays(toDate, 1, timeZone)) : undefined,
  };
  // The server orders flagged visits first across pages, and counts the
  // visits per state under the same filters on the first page.
  const list = useInfiniteQuery(
    ReviewService.method.listVisits,
    { ...base, state, flaggedFirst: first, includeStateCounts: true, pageSize: 50, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined },
  );
  const visits = useMemo(() => list.data?.pages.flatMap((p) => p.visits) ?? [], [list.data]);
  const perState = useMemo(() => {
    const m = new Map<VisitState, number>();
    for (const c of list.data?.pages[0]?.stateCounts ?? []) m.set(c.state, Number(c.count));
    return m;
  }, [list.data]);
  const total = [...perState.values()].reduce((a, b) => a + b, 0);

  // Keyboard navigation over the rows.
  const [cursor, setCursor] = useState(0);
  const rows = useRef<(HTMLTableRowElement | null)[]>([]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (el.closest("input, select, textarea")) return;
      if (e.key === "j" || e.key === "ArrowDown") {
        e.preventDefault();
        setCursor((c) => Math.min(c + 1, visits.length - 1));
      } else if (e.key === "k" || e.key === "ArrowUp") {
        e.preventDefault();
        setCursor((c) => Math.max(c - 1, 0));
      } else if (e.key === "Enter" && visits[cursor] && el.tagName !== "A" && el.tagName !== "BUTTON") {
        navigate("/visits/" + visits[cursor].id);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [visits, cursor]);
  useEffect(() => {
    rows.current[cursor]?.querySelector("a")?.focus({ preventScroll: false });
  }, [cursor]);


  return (
    <div className="page">
      <h1>{t("review.title")}</h1>
      <div className="state-tabs" role="group" aria-label={t("review.byState")}>
        <button type="button" className={"tab" + (state === VisitState.UNSPECIFIED ? " active" : "")} aria-pressed={state === VisitState.UNSPECIFIED} onClick={() => setQuery({ state: undefined })}>
          {t("visitState.any")} <span className="count">{total}</span>
        </button>
        {visitStates.map((s) => (
          <button key={s} type="button" className={"tab" + (state === s ? " active" : "")} aria-pressed={state === s} onClick={() => setQuery({ state: String(s) })}>
            {t(visitStateKey[s])} <span className="count">{perState.get(s) ?? 0}</span>
          </button>
        ))}
      </div>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("review.filters")}>
        <StoreFilter value={storeId} onChange={(store) => setQuery({ store })} />
        <label>
          {t("review.from")}
          <input type="date" value={from} onChange={(e) => setQuery({ from: e.target.value })} />
        </label>
        <label>
          {t("review.to")}
          <input type="date" value={to} onChange={(e) => setQuery({ to: e.target.value })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={flaggedOnly} onChange={(e) => setQuery({ flagged: e.target.checked ? "1" : undefined })} />
          {t("review.flaggedOnly")}
        </label>
        <label className="check">
          <input type="checkbox" checked={first} onChange={(e) => setQuery({ first: e.target.checked ? "1" : undefined })} />
          {t("review.flaggedFirst")}
        </label>
      </form>
      <p className="muted small">{t("review.keys")}</p>
      <Listing query={list} count={visits.length} empty={t(state === VisitState.UNSPECIFIED && !storeId && !flaggedOnly && !from && !to ? "review.emptyAll" : "review.emptyFiltered")}>
        <ListTable caption={t("review.title")} columns={[t("review.colVisit"), t("review.colStore"), t("review.colChecklist"), t("review.colStaff"), t("review.colShopper"), t("review.colState"), { label: t("review.colScore"), className: "num" }, t("review.colFlags")]}>
          {visits.map((v, i) => (
            <tr key={v.id} ref={(el) => void (rows.current[i] = el)} className={i === cursor ? "cursor" : ""} onClick={() => setCursor(i)}>
              <td data-label={t("review.colVisit")}>
                <Link href={"/visits/" + v.id}>{formatDateTime(tag, timeZone, v.startTime ? timestampDate(v.startTime) : undefined)}</Link>
              </td>
              <td data-label={t("review.colStore")}>
                <strong>{v.storeCode}</strong> {v.storeName}
              </td>
              <td data-label={t("review.colChecklist")}>
                {v.checklistName} v{v.checklistVersion}
              </td>
              <td data-label={t("review.colStaff")}>{v.staffName ? `${v.staffName} (${v.staffEmployeeNumber})` : v.staffDescription || "—"}</td>
              <td data-label={t("review.colShopper")}>{v.shopperName || "—"}</td>
              <td data-label={t("review.colState")}>
                <Badge tone={visitStateTone[v.state]}>{t(visitStateKey[v.state])}</Badge>
              </td>
              <td data-label={t("review.colScore")} className="num">
                {formatPercent(tag, v.scorePercent)}
              </td>
              <td data-label={t("review.colFlags")}>
                {v.proofFlags.map((f, j) => (
                  <Badge key={"p" + j} tone="warn">
                    {proofShortKey[f.code] ? t(proofShortKey[f.code]) : f.code}
                  </Badge>
                ))}
                {v.flags.map((f) => (
                  <Badge key={f}>{visitFlagKey[f] ? t(visitFlagKey[f]) : f}</Badge>
                ))}
                {v.missingPhotoCount > 0 && <Badge tone="wait">{t("review.missingPhotos", { n: v.missingPhotoCount })}</Badge>}
              </td>
            </tr>
          ))}
        </ListTable>
      </Listing>
      <More list={list} />
    </div>
  );
}
