// Score dashboards: aggregates computed by the server (DashboardService),
// filters in the URL, a table beside every chart, and every figure a link
// to the visits behind it.
import { useMemo, type ReactNode } from "react";
import { useInfiniteQuery, useQuery } from "@connectrpc/connect-query";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  DashboardBasis,
  DashboardService,
  DashboardFilterSchema,
  VisitDrillSchema,
  type DashboardFilter,
  type GetCategoryScoresResponse,
  type GetStoreScoresResponse,
  type Nps,
  type SameStoreChange,
  type ScoreFigures,
  type VisitDrill,
} from "../gen/shopscore/v1/dashboard_pb";
import { Channel } from "../gen/shopscore/v1/checklist_pb";
import { AppealService, type AppealRates } from "../gen/shopscore/v1/appeal_pb";
import { useI18n } from "../i18n/context";
import { Badge, ErrorText, Listing, ListTable, Loading, More, Section, StoreFilter } from "../components";
import { Link, setQuery, useLocation, useTitle } from "../lib/router";
import { useStoreList, useVersions } from "../lookups";
import { channelKey, visitStateKey, visitStateTone } from "../labels";
import { dateToZoned, formatDateTime, formatNumber, formatPercent } from "../lib/format";
import { OverdueActions } from "./CorrectiveActions";

/** drillHref is the page listing the visits behind a figure. */
export function drillHref(d: VisitDrill | undefined): string {
  if (!d) return "/dashboard/visits";
  return "/dashboard/visits?d=" + encodeURIComponent(toJsonString(VisitDrillSchema, d));
}

function monthsBack(month: string, n: number): string {
  const [y, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 - n, 1));
  return d.toISOString().slice(0, 7);
}

function useFilter(): DashboardFilter {
  const { timeZone } = useI18n();
  const { query } = useLocation();
  const now = dateToZoned(new Date(), timeZone).slice(0, 7);
  return create(DashboardFilterSchema, {
    from: query.get("from") ?? monthsBack(now, 5),
    to: query.get("to") ?? now,
    region: query.get("region") ?? "",
    storeCode: query.get("store") ?? "",
    checklistId: query.get("checklist") ?? "",
    channel: Number(query.get("channel") ?? 0) as Channel,
    basis: Number(query.get("basis") ?? DashboardBasis.SCORED) as DashboardBasis,
  });
}

/** pct shows a 0-1 fraction as a percentage. */
function pct(tag: string, f: number | undefined) {
  return f === undefined ? "—" : formatPercent(tag, f * 100);
}

function Figure({ drill, label, children }: { drill?: VisitDrill; label: string; children: ReactNode }) {
  return (
    <Link href={drillHref(drill)} className="figure" aria-label={label}>
      {children}
    </Link>
  );
}

function Change({ c }: { c?: SameStoreChange }) {
  const { t, tag } = useI18n();
  if (!c || c.changePoints === undefined) return <span className="muted">—</span>;
  const d = c.changePoints;
  const tone = d > 0.05 ? "up" : d < -0.05 ? "down" : "flat";
  return (
    <span className={"change " + tone} title={c.note}>
      {d > 0 ? "▲ " : d < 0 ? "▼ " : ""}
      {t("bonus.pp", { n: (d > 0 ? "+" : "") + formatNumber(tag, d, 1) })}
    </span>
  );
}

export function Dashboard() {
  const { t, tag } = useI18n();
  useTitle(t("dash.title"));
  const filter = useFilter();
  const req = { filter };
  const summary = useQuery(DashboardService.method.getDashboardSummary, req);
  const trend = useQuery(DashboardService.method.getScoreTrend, req);
  const stores = useQuery(DashboardService.method.getStoreScores, req);
  const cats = useQuery(DashboardService.method.getCategoryScores, req);
  const s = summary.data;
  const f = s?.figures;
  return (
    <div className="page">
      <h1>{t("dash.title")}</h1>
      <Filters filter={filter} />
      <OverdueActions />
      {s?.counted && (
        <p className="muted small">
          {t("dash.counted", {
            states: s.counted.states.map((x) => t(visitStateKey[x])).join(", "),
            tz: s.counted.timeZone,
            pass: pct(tag, s.counted.passScore),
          })}
        </p>
      )}
      <ErrorText error={summary.error ?? trend.error ?? stores.error ?? cats.error} />
      {summary.isPending ? (
        <Loading />
      ) : f ? (
        <div className="kpis">
          <Kpi label={t("dash.visits")} value={formatNumber(tag, Number(f.visits))} drill={s.drill} />
          <Kpi label={t("dash.meanScore")} value={pct(tag, f.meanScore)} drill={s.drill} extra={<Change c={s.lastMonthChange} />} note={s.lastMonthChange?.note} />
          <Kpi label={t("dash.passRate")} value={pct(tag, f.passRate)} drill={s.failedDrill} note={t("dash.failedLink")} />
          <Kpi label={t("dash.nps")} value={s.nps?.score === undefined ? "—" : formatNumber(tag, s.nps.score, 0)} drill={s.nps?.detractorsDrill} note={t("dash.npsNote")} />
          <Kpi label={t("dash.critical")} value={formatNumber(tag, Number(f.criticalFailureVisits))} drill={s.criticalFailuresDrill} />
          <Kpi label={t("dash.flagged")} value={pct(tag, f.flaggedShare)} drill={s.flaggedDrill} note={t("dash.flaggedN", { n: Number(f.flaggedVisits) })} />
        </div>
      ) : null}
      {trend.data && <Trend months={trend.data.months} />}
      {cats.data && <Categories data={cats.data} />}
      {stores.data && <StoresRanked data={stores.data} />}
      {stores.data && <HeatMap data={stores.data} />}
      <AppealRatesSection filter={filter} />
      {s?.nps && <NpsSplit nps={s.nps} />}
      {s && s.criticalQuestions.length > 0 && (
        <Section title={t("dash.criticalQuestions")}>
          <table className="list compact">
            <caption className="sr-only">{t("dash.criticalQuestions")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("dash.question")}</th>
                <th scope="col">{t("dash.clause")}</th>
                <th scope="col" className="num">{t("dash.failures")}</th>
              </tr>
            </thead>
            <tbody>
              {s.criticalQuestions.map((q) => (
                <tr key={q.questionId}>
                  <td>{q.questionText}</td>
                  <td>{q.clause}</td>
                  <td className="num">
                    <Figure drill={q.drill} label={t("dash.openVisits", { what: q.questionText })}>
                      {formatNumber(tag, Number(q.failures))}
                    </Figure>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </div>
  );
}

function Kpi({ label, value, drill, extra, note }: { label: string; value: string; drill?: VisitDrill; extra?: ReactNode; note?: string }) {
  const { t } = useI18n();
  return (
    <Link href={drillHref(drill)} className="kpi" aria-label={t("dash.kpiLabel", { label, value })}>
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{value}</span>
      {extra}
      {note && <span className="muted small">{note}</span>}
    </Link>
  );
}

function Filters({ filter }: { filter: DashboardFilter }) {
  const { t } = useI18n();
  const storeList = useStoreList();
  const versions = useVersions();
  const regions = [...new Set(storeList.map((s) => s.region).filter(Boolean))].sort();
  const checklists = [...new Map(versions.map((v) => [v.checklistId, v.name])).entries()];
  return (
    <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("review.filters")}>
      <label>
        {t("reports.from")}
        <input type="month" value={filter.from} onChange={(e) => setQuery({ from: e.target.value })} />
      </label>
      <label>
        {t("reports.to")}
        <input type="month" value={filter.to} onChange={(e) => setQuery({ to: e.target.value })} />
      </label>
      <label>
        {t("dash.region")}
        <select value={filter.region} onChange={(e) => setQuery({ region: e.target.value })}>
          <option value="">{t("dash.allRegions")}</option>
          {regions.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <StoreFilter value={filter.storeCode} onChange={(store) => setQuery({ store })} by="code" />
      <label>
        {t("assign.checklist")}
        <select value={filter.checklistId} onChange={(e) => setQuery({ checklist: e.target.value })}>
          <option value="">{t("dash.allChecklists")}</option>
          {checklists.map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("dash.channel")}
        <select value={filter.channel} onChange={(e) => setQuery({ channel: e.target.value === "0" ? undefined : e.target.value })}>
          {(Object.keys(channelKey).map(Number) as Channel[]).map((c) => (
            <option key={c} value={c}>
              {t(channelKey[c])}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("dash.basis")}
        <select value={filter.basis} onChange={(e) => setQuery({ basis: e.target.value })}>
          <option value={DashboardBasis.SCORED}>{t("dash.basisScored")}</option>
          <option value={DashboardBasis.APPROVED}>{t("dash.basisApproved")}</option>
        </select>
      </label>
    </form>
  );
}

function Trend({ months }: { months: { month: string; figures?: ScoreFigures; change?: SameStoreChange; drill?: VisitDrill }[] }) {
  const { t, tag } = useI18n();
  const W = 600;
  const H = 160;
  const pad = 28;
  const step = months.length > 1 ? (W - 2 * pad) / (months.length - 1) : 0;
  const y = (v: number) => H - pad - v * (H - 2 * pad);
  const points = months.map((m, i) => ({ x: pad + i * step, v: m.figures?.meanScore, p: m.figures?.passRate }));
  const line = (k: "v" | "p") =>
    points
      .filter((p) => p[k] !== undefined)
      .map((p) => `${p.x},${y(p[k]!)}`)
      .join(" ");
  const summary = months.map((m) => `${m.month}: ${pct(tag, m.figures?.meanScore)}`).join("; ");
  return (
    <Section title={t("dash.trend")}>
      <svg viewBox={`0 0 ${W} ${H}`} className="chart" role="img" aria-label={t("dash.trendAlt", { summary })}>
        {[0, 0.5, 1].map((g) => (
          <g key={g}>
            <line x1={pad} x2={W - pad} y1={y(g)} y2={y(g)} className="grid" />
            <text x={2} y={y(g) + 4} className="axis">
              {formatPercent(tag, g * 100)}
            </text>
          </g>
        ))}
        <polyline points={line("p")} className="series pass" />
        <polyline points={line("v")} className="series mean" />
        {points.map((p, i) => (
          <g key={i}>
            {p.v !== undefined && <circle cx={p.x} cy={y(p.v)} r={3.5} className="dot mean" />}
            <text x={p.x} y={H - 6} className="axis" textAnchor="middle">
              {months[i].month.slice(2)}
            </text>
          </g>
        ))}
      </svg>
      <p className="legend small">
        <span className="key mean" /> {t("dash.meanScore")} <span className="key pass" /> {t("dash.passRate")}
      </p>
      <ListTable className="list compact" caption={t("dash.trend")} columns={[t("bonus.month"), { label: t("dash.visits"), className: "num" }, { label: t("dash.meanScore"), className: "num" }, { label: t("dash.passRate"), className: "num" }, t("dash.sameStores")]}>
        {months.map((m) => (
          <tr key={m.month}>
            <th scope="row">{m.month}</th>
            <td className="num">
              <Figure drill={m.drill} label={t("dash.openVisits", { what: m.month })}>
                {formatNumber(tag, Number(m.figures?.visits ?? 0))}
              </Figure>
            </td>
            <td className="num">{pct(tag, m.figures?.meanScore)}</td>
            <td className="num">{pct(tag, m.figures?.passRate)}</td>
            <td>
              <Change c={m.change} /> <span className="muted small">{m.change?.note}</span>
            </td>
          </tr>
        ))}
      </ListTable>
    </Section>
  );
}

function Bar({ value }: { value?: number }) {
  return (
    <span className="bar" aria-hidden="true">
      <span style={{ width: `${Math.round((value ?? 0) * 100)}%` }} className={heatClass(value)} />
    </span>
  );
}

function heatClass(v: number | undefined) {
  if (v === undefined) return "heat-none";
  if (v >= 0.9) return "heat-5";
  if (v >= 0.8) return "heat-4";
  if (v >= 0.7) return "heat-3";
  if (v >= 0.6) return "heat-2";
  return "heat-1";
}

type CategoryData = GetCategoryScoresResponse;
type StoreData = GetStoreScoresResponse;

function Categories({ data }: { data: CategoryData }) {
  const { t, tag } = useI18n();
  return (
    <Section title={t("dash.categories")}>
      <p className="muted small">{t("dash.worstFirst")}</p>
      <div className="table-wrap">
        <table className="list compact">
          <caption className="sr-only">{t("dash.categories")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("dash.category")}</th>
              <th scope="col" className="num">{t("dash.compliance")}</th>
              <th scope="col" className="chart-col">
                <span className="sr-only">{t("dash.chart")}</span>
              </th>
              <th scope="col" className="num">{t("dash.visits")}</th>
            </tr>
          </thead>
          <tbody>
            {data.categories.map((c) => (
              <tr key={c.category}>
                <th scope="row">{c.category}</th>
                <td className="num">
                  <Figure drill={c.drill} label={t("dash.openVisits", { what: c.category })}>
                    {pct(tag, c.figures?.compliance)}
                  </Figure>
                </td>
                <td className="chart-col">
                  <Bar value={c.figures?.compliance} />
                </td>
                <td className="num">{formatNumber(tag, Number(c.figures?.visits ?? 0))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{t("dash.clauses")}</h3>
      <ListTable className="list compact" caption={t("dash.clauses")} columns={[t("dash.clause"), t("dash.category"), { label: t("dash.compliance"), className: "num" }, { label: t("dash.critical"), className: "num" }]}>
        {data.clauses.map((c) => (
          <tr key={c.clause}>
            <th scope="row">
              <strong>{c.clause}</strong> <span className="clause-text">{c.clauseText}</span>
            </th>
            <td>{c.category}</td>
            <td className="num">
              <Figure drill={c.drill} label={t("dash.openVisits", { what: c.clause })}>
                {pct(tag, c.figures?.compliance)}
              </Figure>
            </td>
            <td className="num">{formatNumber(tag, Number(c.figures?.criticalFailures ?? 0))}</td>
          </tr>
        ))}
      </ListTable>
    </Section>
  );
}

function StoresRanked({ data }: { data: StoreData }) {
  const { t, tag } = useI18n();
  return (
    <Section title={t("dash.stores")}>
      <ListTable className="list compact" caption={t("dash.stores")} columns={[{ label: t("dash.rank"), className: "num" }, t("review.colStore"), t("dash.region"), { label: t("dash.visits"), className: "num" }, { label: t("dash.meanScore"), className: "num" }, { label: t("dash.passRate"), className: "num" }, t("dash.lastMonth")]}>
        {data.stores.map((s) => (
          <tr key={s.storeId}>
            <td className="num">{s.rank}</td>
            <th scope="row">
              <strong>{s.storeCode}</strong> {s.storeName}
            </th>
            <td>{s.region}</td>
            <td className="num">
              <Figure drill={s.drill} label={t("dash.openVisits", { what: s.storeCode })}>
                {formatNumber(tag, Number(s.figures?.visits ?? 0))}
              </Figure>
            </td>
            <td className="num">{pct(tag, s.figures?.meanScore)}</td>
            <td className="num">{pct(tag, s.figures?.passRate)}</td>
            <td>
              <Change c={s.lastMonthChange} />
            </td>
          </tr>
        ))}
      </ListTable>
    </Section>
  );
}

function HeatMap({ data }: { data: StoreData }) {
  const { t, tag } = useI18n();
  const cells = useMemo(() => new Map(data.cells.map((c) => [c.storeCode + "\u0000" + c.category, c])), [data.cells]);
  if (data.categories.length === 0) return null;
  return (
    <Section title={t("dash.heatMap")}>
      <p className="muted small">{t("dash.heatText")}</p>
      <div className="table-wrap">
        <table className="heat">
          <caption className="sr-only">{t("dash.heatMap")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("review.colStore")}</th>
              {data.categories.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.stores.map((s) => (
              <tr key={s.storeId}>
                <th scope="row">{s.storeCode}</th>
                {data.categories.map((c) => {
                  const cell = cells.get(s.storeCode + "\u0000" + c);
                  return (
                    <td key={c} className={heatClass(cell?.compliance)}>
                      {cell ? (
                        <Figure drill={cell.drill} label={t("dash.openVisits", { what: `${s.storeCode} · ${c}` })}>
                          {pct(tag, cell.compliance)}
                        </Figure>
                      ) : (
                        "—"
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

function NpsSplit({ nps }: { nps: Nps }) {
  const { t, tag } = useI18n();
  const n = Number(nps.answers);
  if (n === 0) return null;
  const parts = [
    { key: "dash.promoters" as const, v: Number(nps.promoters), drill: nps.promotersDrill, cls: "heat-5" },
    { key: "dash.passives" as const, v: Number(nps.passives), drill: nps.passivesDrill, cls: "heat-3" },
    { key: "dash.detractors" as const, v: Number(nps.detractors), drill: nps.detractorsDrill, cls: "heat-1" },
  ];
  return (
    <Section title={t("dash.npsSplit")}>
      <div className="stack" aria-hidden="true">
        {parts.map((p) => (
          <span key={p.key} className={p.cls} style={{ width: `${(p.v / n) * 100}%` }} />
        ))}
      </div>
      <ul className="nps-list">
        {parts.map((p) => (
          <li key={p.key}>
            <span className={"key " + p.cls} /> {t(p.key)}:{" "}
            <Figure drill={p.drill} label={t("dash.openVisits", { what: t(p.key) })}>
              {formatNumber(tag, p.v)} ({formatPercent(tag, (p.v / n) * 100)})
            </Figure>
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** lastDay is the last date (YYYY-MM-DD) of a month (YYYY-MM). */
function lastDay(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/**
 * queueHref opens the review queue with the filters it has (store, dates,
 * flagged) set as close to the drill as they go.
 */
export function queueHref(d: VisitDrill, storeId: string): string {
  const from = d.month || d.filter?.from || "";
  const to = d.month || d.filter?.to || from;
  const q = new URLSearchParams();
  if (storeId) q.set("store", storeId);
  if (from) q.set("from", from + "-01");
  if (to) q.set("to", lastDay(to));
  if (d.flaggedOnly) q.set("flagged", "1");
  return "/review?" + q.toString();
}

/** DrillVisits lists exactly the visits behind a figure. */
export function DrillVisits() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("dash.visitsBehind"));
  const { query } = useLocation();
  const drill = useMemo(() => {
    try {
      return fromJsonString(VisitDrillSchema, query.get("d") ?? "{}");
    } catch {
      return create(VisitDrillSchema, {});
    }
  }, [query]);
  const list = useInfiniteQuery(
    DashboardService.method.listDashboardVisits,
    { drill, pageSize: 50, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined },
  );
  const visits = list.data?.pages.flatMap((p) => p.visits) ?? [];
  const storeList = useStoreList();
  const storeId = storeList.find((x) => x.code === drill.filter?.storeCode)?.id ?? "";
  const about = [drill.month, drill.category, drill.clause, drill.filter?.storeCode, drill.filter?.region].filter(Boolean).join(" · ");
  return (
    <div className="page">
      <p>
        <Link href="/dashboard">← {t("dash.title")}</Link>
      </p>
      <h1>{t("dash.visitsBehind")}</h1>
      {about && <p className="lead">{about}</p>}
      <p className="muted small">
        {t("dash.exactly")} <Link href={queueHref(drill, storeId)}>{t("dash.inQueue")}</Link>
      </p>
      <Listing query={list} count={visits.length} empty={t("review.emptyFiltered")}>
        <ListTable caption={t("dash.visitsBehind")} columns={[t("review.colVisit"), t("review.colStore"), t("review.colStaff"), t("review.colState"), { label: t("review.colScore"), className: "num" }, (drill.category || drill.clause || drill.questionId) && { label: t("dash.compliance"), className: "num" }]}>
          {visits.map((v) => (
            <tr key={v.visitId}>
              <td data-label={t("review.colVisit")}>
                <Link href={"/visits/" + v.visitId}>{formatDateTime(tag, timeZone, v.visitTime ? timestampDate(v.visitTime) : undefined)}</Link>
              </td>
              <td data-label={t("review.colStore")}>
                <strong>{v.storeCode}</strong> {v.storeName}
              </td>
              <td data-label={t("review.colStaff")}>{v.staffName ? `${v.staffName} (${v.staffEmployeeNumber})` : "—"}</td>
              <td data-label={t("review.colState")}>
                <Badge tone={visitStateTone[v.state]}>{t(visitStateKey[v.state])}</Badge>
                {v.criticalFailure && <Badge tone="bad">{t("dash.critical")}</Badge>}
                {v.flagged && <Badge tone="warn">{t("dash.flaggedBadge")}</Badge>}
              </td>
              <td data-label={t("review.colScore")} className="num">
                {pct(tag, v.score)}
              </td>
              {(drill.category || drill.clause || drill.questionId) && (
                <td data-label={t("dash.compliance")} className="num">
                  {pct(tag, v.drillCompliance)}
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </Listing>
      <More list={list} />
    </div>
  );
}

/** AppealRatesSection shows the appeals of the period's approved visits
 * per store and per reviewer: how often the audited side appealed, and
 * how often a ruling changed the visit. */
function AppealRatesSection({ filter }: { filter: DashboardFilter }) {
  const { t, tag } = useI18n();
  const q = useQuery(AppealService.method.getAppealRates, { filter });
  const rows = (list: AppealRates[], stores: boolean) =>
    list.map((r) => (
      <tr key={r.id}>
        <th scope="row">{stores ? <><strong>{r.code}</strong> {r.name}</> : r.name}</th>
        {stores && <td className="num">{formatNumber(tag, Number(r.visits))}</td>}
        <td className="num">{formatNumber(tag, Number(r.appeals))}</td>
        {stores && <td className="num">{pct(tag, r.appealRate)}</td>}
        <td className="num">{formatNumber(tag, Number(r.overturned))}</td>
        <td className="num">{pct(tag, r.overturnRate)}</td>
      </tr>
    ));
  const d = q.data;
  return (
    <Section title={t("dash.appeals")}>
      <p className="muted small">{t("dash.appealsText")}</p>
      <ErrorText error={q.error} />
      {q.isPending ? (
        <Loading />
      ) : !d || d.stores.length === 0 ? (
        <p className="muted">{t("dash.appealsNone")}</p>
      ) : (
        <>
          <h3>{t("dash.appealsByStore")}</h3>
          <ListTable className="list compact" caption={t("dash.appealsByStore")} columns={[t("review.colStore"), { label: t("dash.approvedVisits"), className: "num" }, { label: t("dash.appealCount"), className: "num" }, { label: t("dash.appealRate"), className: "num" }, { label: t("dash.overturned"), className: "num" }, { label: t("dash.overturnRate"), className: "num" }]}>
            {rows(d.stores, true)}
          </ListTable>
          {d.reviewers.length > 0 && <h3>{t("dash.appealsByReviewer")}</h3>}
          {d.reviewers.length > 0 && (
            <ListTable className="list compact" caption={t("dash.appealsByReviewer")} columns={[t("dash.reviewer"), { label: t("dash.appealCount"), className: "num" }, { label: t("dash.overturned"), className: "num" }, { label: t("dash.overturnRate"), className: "num" }]}>
              {rows(d.reviewers, false)}
            </ListTable>
          )}
        </>
      )}
    </Section>
  );
}
