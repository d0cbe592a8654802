// The HR bonus workspace: runs (compute, explain down to the answers,
// compare with the locked run, approve, download), base pay and policies.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import {
  BonusRunState,
  PayKind,
  PayrollExportFormat,
  ReportService,
  type BonusChange,
  type BonusPolicy,
  type BonusRun,
  type ComponentBonus,
  type EmployeeBonus,
  type ExplanationLine,
} from "../gen/shopscore/v1/report_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, Empty, ErrorText, FileImport, FormCard, Listing, ListTable, Loading, Section, useAction } from "../components";
import { rowProblems } from "../lib/errors";
import { Link, navigate, setQuery, useLocation, useTitle } from "../lib/router";
import { dateToZoned, formatDate, formatDateTime, formatMoney, formatNumber, formatPercent, parseAmountMinor } from "../lib/format";
import { saveStream } from "../lib/download";
import { PolicyForm } from "./PolicyForm";
import { useStores } from "../lookups";
import type { MessageKey } from "../i18n/en";

const runStateKey: Record<BonusRunState, MessageKey> = {
  [BonusRunState.UNSPECIFIED]: "bonus.stateUnknown",
  [BonusRunState.DRAFT]: "bonus.stateDraft",
  [BonusRunState.APPROVED]: "bonus.stateApproved",
  [BonusRunState.SUPERSEDED]: "bonus.stateSuperseded",
};
const runStateTone: Record<BonusRunState, string> = {
  [BonusRunState.UNSPECIFIED]: "",
  [BonusRunState.DRAFT]: "todo",
  [BonusRunState.APPROVED]: "ok",
  [BonusRunState.SUPERSEDED]: "",
};

function useReport() {
  const transport = useTransport();
  return useMemo(() => createClient(ReportService, transport), [transport]);
}

/** useMoney formats minor units (kopecks, cents) in the reader's locale. */
export function useMoney() {
  const { tag, currency } = useI18n();
  return (minor: bigint | number | undefined) => (minor === undefined ? "—" : formatMoney(tag, Number(minor) / 100, currency));
}

function thisMonth(timeZone: string) {
  return dateToZoned(new Date(), timeZone).slice(0, 7);
}

function policyLabel(policies: BonusPolicy[], id: string, version: number) {
  const p = policies.find((x) => x.id === id && x.version === version) ?? policies.find((x) => x.id === id);
  return (p?.name || id) + " · v" + version;
}

function usePolicies(latestOnly: boolean) {
  const q = useQuery(ReportService.method.listPolicies, { latestOnly });
  return q.data?.policies ?? [];
}

export function HrNav() {
  const { t } = useI18n();
  const { path } = useLocation();
  const tabs: { href: string; key: MessageKey }[] = [
    { href: "/hr/runs", key: "bonus.runs" },
    { href: "/hr/base-pay", key: "bonus.basePay" },
    { href: "/hr/policies", key: "bonus.policies" },
  ];
  return (
    <nav className="state-tabs" aria-label={t("bonus.workspace")}>
      {tabs.map((x) => (
        <Link key={x.href} href={x.href} className={"tab" + (path.startsWith(x.href) ? " active" : "")} aria-current={path.startsWith(x.href) ? "page" : undefined}>
          {t(x.key)}
        </Link>
      ))}
    </nav>
  );
}

/** Runs lists the bonus runs and runs a policy for a month. */
export function Runs() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("bonus.runs"));
  const client = useReport();
  const latest = usePolicies(true);
  const all = usePolicies(false);
  const runs = useQuery(ReportService.method.listBonusRuns, {});
  const [policy, setPolicy] = useState("");
  const [period, setPeriod] = useState(thisMonth(timeZone));
  const [invalid, setInvalid] = useState("");
  const chosen = policy || latest[0]?.id || "";
  const run = useAction(async () => {
    const r = await client.runBonus({ policyId: chosen, period });
    if (r.run) navigate("/hr/runs/" + r.run.id + (r.reused ? "?reused=1" : ""));
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return setInvalid(t("bonus.needPolicy"));
    if (!/^\d{4}-\d{2}$/.test(period)) return setInvalid(t("reports.badPeriod"));
    setInvalid("");
    void run.run();
  };
  const list = runs.data?.runs ?? [];
  return (
    <div className="page">
      <h1>{t("bonus.title")}</h1>
      <HrNav />
      <FormCard title={t("bonus.newRun")} intro={<p className="muted small">{t("bonus.newRunText")}</p>} onSubmit={submit} action={run} label={t("bonus.run")} busyLabel={t("bonus.running")}>
        <div className="field">
          <label htmlFor="b-policy">{t("bonus.policy")}</label>
          <select id="b-policy" value={chosen} onChange={(e) => setPolicy(e.target.value)}>
            {latest.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name || p.id} · v{p.version}
              </option>
            ))}
          </select>
        </div>
        <div className={"field" + (invalid ? " invalid" : "")}>
          <label htmlFor="b-period">{t("bonus.month")}</label>
          <input id="b-period" type="month" value={period} onChange={(e) => setPeriod(e.target.value)} />
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
      </FormCard>
      <Section title={t("bonus.runList")}>
        <Listing query={runs} count={list.length} empty={t("bonus.noRuns")}>
          <ListTable caption={t("bonus.runList")} columns={[t("bonus.month"), t("bonus.policy"), t("bonus.state"), t("bonus.computed"), t("bonus.approved")]}>
            {list.map((r) => (
              <tr key={r.id}>
                <td data-label={t("bonus.month")}>
                  <Link href={"/hr/runs/" + r.id}>{r.period}</Link>
                </td>
                <td data-label={t("bonus.policy")}>{policyLabel(all, r.policyId, r.policyVersion)}</td>
                <td data-label={t("bonus.state")}>
                  <Badge tone={runStateTone[r.state]}>{t(runStateKey[r.state])}</Badge>
                </td>
                <td data-label={t("bonus.computed")}>
                  {formatDateTime(tag, timeZone, r.createTime ? timestampDate(r.createTime) : undefined)} · {r.createdByName || r.createdBy}
                </td>
                <td data-label={t("bonus.approved")}>
                  {r.approveTime ? `${formatDateTime(tag, timeZone, timestampDate(r.approveTime))} · ${r.approvedByName || r.approvedBy}` : "—"}
                </td>
              </tr>
            ))}
          </ListTable>
        </Listing>
      </Section>
    </div>
  );
}

/** RunPage is one run: who gets what, why, what changed, approval and downloads. */
export function RunPage({ id }: { id: string }) {
  const { t, tag, timeZone } = useI18n();
  const { query } = useLocation();
  const q = useQuery(ReportService.method.getBonusRun, { runId: id });
  const policies = usePolicies(false);
  const run = q.data?.run;
  useTitle(run ? t("bonus.runTitle", { period: run.period }) : t("bonus.runs"));
  if (q.isPending) return <Loading />;
  if (!run) return <ErrorText error={q.error} />;
  const total = run.employees.reduce((a, e) => a + e.totalMinor, 0n);
  return (
    <div className="page">
      <p>
        <Link href="/hr/runs">← {t("bonus.runs")}</Link>
      </p>
      <h1>
        {t("bonus.runTitle", { period: run.period })} <Badge tone={runStateTone[run.state]}>{t(runStateKey[run.state])}</Badge>
      </h1>
      {query.get("reused") === "1" && <p className="notice">{t("bonus.reused")}</p>}
      <dl className="facts">
        <dt>{t("bonus.policy")}</dt>
        <dd>{policyLabel(policies, run.policyId, run.policyVersion)}</dd>
        <dt>{t("bonus.computed")}</dt>
        <dd>
          {formatDateTime(tag, timeZone, run.createTime ? timestampDate(run.createTime) : undefined)} · {run.createdByName || run.createdBy}
        </dd>
        <dt>{t("bonus.approved")}</dt>
        <dd>{run.approveTime ? t("bonus.approvedBy", { name: run.approvedByName || run.approvedBy, when: formatDateTime(tag, timeZone, timestampDate(run.approveTime)) }) : t("bonus.notApproved")}</dd>
        <dt>{t("bonus.covered")}</dt>
        <dd>{t("bonus.coveredText", { n: run.stats?.covered ?? run.employees.length, visits: formatNumber(tag, Number(run.stats?.used ?? 0)) })}</dd>
      </dl>
      {run.missingBasePay.length > 0 && <p className="notice">{t("bonus.missingBasePay", { list: run.missingBasePay.join(", ") })}</p>}
      <Approve run={run} />
      <Changes run={run} />
      <Employees run={run} total={total} />
      <Downloads run={run} />
    </div>
  );
}

function Approve({ run }: { run: BonusRun }) {
  const { t } = useI18n();
  const client = useReport();
  const qc = useQueryClient();
  const [asking, setAsking] = useState(false);
  const [override, setOverride] = useState("");
  const approve = useAction(async () => {
    const r = await client.approveBonusRun({ runId: run.id, overrideReason: override.trim() });
    setAsking(false);
    await qc.invalidateQueries();
    return r;
  });
  // The server refuses a run while appeals on its visits are open, naming
  // them; HR rules first or approves over them with a reason.
  const appealsOpen = approve.error instanceof ConnectError && approve.error.code === Code.FailedPrecondition && /appeal\(s\) on visits it read are open/.test(approve.error.rawMessage);
  if (run.state !== BonusRunState.DRAFT) return null;
  return (
    <Section title={t("bonus.approval")}>
      {!asking ? (
        <>
          <p className="muted small">{t("bonus.approveText")}</p>
          <button type="button" className="btn primary" onClick={() => setAsking(true)}>
            {t("bonus.approve")}
          </button>
        </>
      ) : (
        <div role="group" aria-labelledby="approve-q">
          <p id="approve-q">
            <strong>{t("bonus.approveConfirm", { period: run.period })}</strong>
          </p>
          <div className="actions">
            <ActionButton action={approve} label={t("bonus.approveYes")} />
            <button type="button" className="btn secondary" onClick={() => setAsking(false)}>
              {t("common.cancel")}
            </button>
          </div>
        </div>
      )}
      {approve.error instanceof ConnectError && approve.error.code === Code.FailedPrecondition && !appealsOpen && <p className="notice">{t("bonus.stale")}</p>}
      {appealsOpen && (
        <div className="notice" role="group" aria-label={t("bonus.appealsOpen")}>
          <p>
            {t("bonus.appealsOpen")} <Link href="/appeals">{t("appeal.queueTitle")}</Link>
          </p>
          <label>
            {t("bonus.overrideReason")}
            <textarea rows={2} value={override} onChange={(e) => setOverride(e.target.value)} />
          </label>
          <ActionButton action={approve} kind="secondary" label={t("bonus.approveOverride")} disabled={!override.trim()} />
        </div>
      )}
      <ErrorText error={approve.error} />
    </Section>
  );
}

/** The fields a run's differences name, for people. */
const changeFieldKey: Record<string, MessageKey> = {
  base_pay_minor: "bonus.base",
  unlinked_minor: "bonus.unlinked",
  total_minor: "bonus.total",
  amount_minor: "bonus.amount",
  payout: "bonus.payout",
  score_percent: "bonus.score",
  visits: "bonus.sample",
  employee: "bonus.employee",
  component: "bonus.component",
  critical_forfeit: "bonus.forfeit",
  min_sample_default: "bonus.defaultPayout",
  policy: "bonus.policy",
  period: "bonus.month",
};

/** Changes lists what differs from the month's locked run, for people. */
function Changes({ run }: { run: BonusRun }) {
  const { t, tag, timeZone } = useI18n();
  const money = useMoney();
  if (!run.comparedRunId) return null;
  // The inputs' hash differs whenever anything does; people read the rest.
  const changes = run.changes.filter((c) => c.field !== "inputs_hash");
  const value = (c: BonusChange, which: "old" | "new") => {
    const minor = which === "old" ? c.oldMinor : c.newMinor;
    const pct = which === "old" ? c.oldPercent : c.newPercent;
    if (minor !== undefined) return money(minor);
    if (pct !== undefined) return formatPercent(tag, pct);
    return which === "old" ? c.oldValue : c.newValue;
  };
  const delta = (c: BonusChange) => {
    if (c.oldMinor !== undefined && c.newMinor !== undefined) {
      const d = c.newMinor - c.oldMinor;
      return (d > 0n ? "+" : "") + money(d);
    }
    if (c.oldPercent !== undefined && c.newPercent !== undefined) {
      const d = c.newPercent - c.oldPercent;
      return t("bonus.pp", { n: (d > 0 ? "+" : "") + formatNumber(tag, d, 1) });
    }
    return c.delta;
  };
  return (
    <Section title={t("bonus.changes")}>
      <p className="muted small">
        <Link href={"/hr/runs/" + run.comparedRunId}>{t("bonus.comparedWith")}</Link>
      </p>
      <Listing count={changes.length} empty={t("bonus.noChanges")}>
        <ListTable caption={t("bonus.changes")} columns={[t("bonus.employee"), t("bonus.component"), t("bonus.field"), { label: t("bonus.before"), className: "num" }, { label: t("bonus.after"), className: "num" }, { label: t("bonus.difference"), className: "num" }, t("bonus.cause")]}>
          {changes.map((c, i) => (
            <tr key={i}>
              <td data-label={t("bonus.employee")}>{c.employeeNumber ? `${c.name} (${c.employeeNumber})` : "—"}</td>
              <td data-label={t("bonus.component")}>{c.component || "—"}</td>
              <td data-label={t("bonus.field")}>{changeFieldKey[c.field] ? t(changeFieldKey[c.field]) : c.field}</td>
              <td data-label={t("bonus.before")} className="num">{value(c, "old")}</td>
              <td data-label={t("bonus.after")} className="num">{value(c, "new")}</td>
              <td data-label={t("bonus.difference")} className="num">{delta(c)}</td>
              <td data-label={t("bonus.cause")}>
                {c.causes.length === 0
                  ? "—"
                  : c.causes.map((a) => (
                      <Link key={a.appealId} href={"/appeals/" + a.appealId}>
                        {t("bonus.causeAppeal", {
                          date: formatDate(tag, timeZone, a.ruleTime && timestampDate(a.ruleTime)),
                          name: a.ruledByName,
                          visit: formatDate(tag, timeZone, a.visitTime && timestampDate(a.visitTime)),
                          store: a.storeCode,
                          upheld: a.upheld,
                          questions: a.questions,
                          before: formatPercent(tag, a.scoreBefore),
                          after: formatPercent(tag, a.scoreAfter),
                        })}
                      </Link>
                    ))}
              </td>
            </tr>
          ))}
        </ListTable>
      </Listing>
    </Section>
  );
}

/** Employees is the run's table: base, every component's figures, the total. */
export function Employees({ run, total }: { run: BonusRun; total: bigint }) {
  const { t, tag } = useI18n();
  const money = useMoney();
  const stores = useStores();
  const [open, setOpen] = useState<{ staff: string; component: string } | null>(null);
  const names = run.employees[0]?.components.map((c) => c.name) ?? [];
  const figure = (e: EmployeeBonus, c: ComponentBonus, text: string, what: string) => (
    <button
      type="button"
      className="linkish"
      aria-expanded={open?.staff === e.staffId && open.component === c.name}
      aria-label={t("bonus.explainFigure", { what, name: e.name, component: c.name, value: text })}
      onClick={() => setOpen(open?.staff === e.staffId && open.component === c.name ? null : { staff: e.staffId, component: c.name })}
    >
      {text}
    </button>
  );
  const shown = open && run.employees.find((e) => e.staffId === open.staff);
  const comp = shown && shown.components.find((c) => c.name === open.component);
  return (
    <Section title={t("bonus.employees")}>
      <Listing count={run.employees.length} empty={t("bonus.noEmployees")}>
        <div className="table-wrap">
          <table className="list compact bonus-table">
            <caption className="sr-only">{t("bonus.employees")}</caption>
            <thead>
              <tr>
                <th scope="col" rowSpan={2}>{t("bonus.employee")}</th>
                <th scope="col" rowSpan={2} className="num">{t("bonus.base")}</th>
                <th scope="col" rowSpan={2} className="num">{t("bonus.total")}</th>
                {names.map((n) => (
                  <th key={n} scope="colgroup" colSpan={4} className="group">
                    {n}
                  </th>
                ))}
              </tr>
              <tr>
                {names.map((n) => [
                  <th key={n + "s"} scope="col" className="num">{t("bonus.score")}</th>,
                  <th key={n + "v"} scope="col" className="num">{t("bonus.sample")}</th>,
                  <th key={n + "p"} scope="col" className="num">{t("bonus.payout")}</th>,
                  <th key={n + "a"} scope="col" className="num">{t("bonus.amount")}</th>,
                ])}
              </tr>
            </thead>
            <tbody>
              {run.employees.map((e) => (
                <tr key={e.staffId}>
                  <th scope="row">
                    {e.name} ({e.employeeNumber})
                    <div className="muted small">
                      {[e.position, stores.get(e.storeId)?.code].filter(Boolean).join(" · ")}
                    </div>
                  </th>
                  <td className="num">{money(e.basePayMinor)}</td>
                  <td className="num">
                    <strong>{money(e.totalMinor)}</strong>
                  </td>
                  {e.components.map((c) => [
                    <td key={c.name + "s"} className="num">
                      {figure(e, c, formatPercent(tag, c.scorePercent), t("bonus.score"))}
                    </td>,
                    <td key={c.name + "v"} className="num">
                      {figure(e, c, formatNumber(tag, c.visits), t("bonus.sample"))}
                      {c.minSampleDefault && <Badge tone="wait">{t("bonus.defaultPayout")}</Badge>}
                    </td>,
                    <td key={c.name + "p"} className="num">
                      {figure(e, c, formatPercent(tag, c.payout * 100), t("bonus.payout"))}
                      {c.criticalForfeit && <Badge tone="bad">{t("bonus.forfeit")}</Badge>}
                    </td>,
                    <td key={c.name + "a"} className="num">
                      {figure(e, c, money(c.amountMinor), t("bonus.amount"))}
                    </td>,
                  ])}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={2}>
                  {t("bonus.total")}
                </th>
                <td className="num">
                  <strong>{money(total)}</strong>
                </td>
                <td colSpan={names.length * 4} />
              </tr>
            </tfoot>
          </table>
        </div>
      </Listing>
      {shown && comp && <Explanation employee={shown} component={comp} onClose={() => setOpen(null)} />}
    </Section>
  );
}

/** Explanation is how one component's figure came about, down to the answers. */
function Explanation({ employee, component, onClose }: { employee: EmployeeBonus; component: ComponentBonus; onClose: () => void }) {
  const { t, tag } = useI18n();
  const money = useMoney();
  const id = "expl-" + employee.staffId;
  useEffect(() => {
    document.getElementById(id)?.focus();
  }, [id, component.name]);
  const summary = component.explanation.filter((l) => !l.visitId);
  const visits = component.explanation.filter((l) => l.visitId);
  return (
    <div className="explanation card" id={id} tabIndex={-1} role="region" aria-label={t("bonus.explanation")}>
      <div className="card-head">
        <h3>
          {t("bonus.explanationOf", { name: employee.name, number: employee.employeeNumber, component: component.name })}
        </h3>
        <button type="button" className="btn secondary" onClick={onClose}>
          {t("common.close")}
        </button>
      </div>
      <p>
        {t("bonus.explainSummary", {
          score: formatPercent(tag, component.scorePercent),
          visits: component.visits,
          payout: formatPercent(tag, component.payout * 100),
          share: formatPercent(tag, component.share * 100),
          amount: money(component.amountMinor),
        })}
      </p>
      {summary.map((l, i) => (
        // The engine's own wording (the rule and its arithmetic) is English.
        <p key={i} className="muted" lang="en">
          {l.text}
        </p>
      ))}
      <ExplanationLines lines={visits} visitHref={(id) => "/visits/" + id} />
    </div>
  );
}

/**
 * ExplanationLines are the visits behind a component's figure: date and
 * store, score, the questions that lost points by their text and the
 * failed critical ones. HR's run page and an employee's own pay page
 * both show them; visitHref says where a visit opens.
 */
export function ExplanationLines({ lines, visitHref }: { lines: ExplanationLine[]; visitHref: (visitId: string) => string }) {
  const { t, tag, timeZone } = useI18n();
  if (lines.length === 0) return null;
  return (
    <ol className="visit-lines">
      {lines.map((l, i) => (
        <li key={i}>
          <div className="q">
            <span>
              <Link href={visitHref(l.visitId)}>{formatDate(tag, timeZone, l.visitTime ? timestampDate(l.visitTime) : undefined)}</Link> ·{" "}
              <strong>{l.storeCode}</strong> {l.storeName}
            </span>
            <span className="q-points">{formatPercent(tag, l.scorePercent)}</span>
          </div>
          {l.lost.length > 0 && (
            <ul className="lost">
              {l.lost.map((q, j) => (
                <li key={j}>
                  {q.questionText}: {t("bonus.lostPoints", { lost: formatNumber(tag, q.lost, 1), max: formatNumber(tag, q.max, 1) })}
                </li>
              ))}
            </ul>
          )}
          {l.lost.length === 0 && <p className="muted small">{t("bonus.nothingLost")}</p>}
          {l.criticalQuestions.map((c, j) => (
            <p key={j} className="comment">
              {t("bonus.criticalFailed", { question: c })}
            </p>
          ))}
        </li>
      ))}
    </ol>
  );
}

/** Downloads are the payroll workbook and the flat export of a run. */
function Downloads({ run }: { run: BonusRun }) {
  const { t, locale, tag } = useI18n();
  const client = useReport();
  const payroll = useAction(() => saveStream(client.downloadPayroll({ runId: run.id }), "payroll.xlsx"));
  const csv = useAction(() => saveStream(client.downloadPayrollExport({ runId: run.id, format: PayrollExportFormat.CSV, locale }), "payroll-export.csv"));
  const xlsx = useAction(() => saveStream(client.downloadPayrollExport({ runId: run.id, format: PayrollExportFormat.XLSX, locale }), "payroll-export.xlsx"));
  const done = payroll.result ?? csv.result ?? xlsx.result;
  return (
    <Section title={t("bonus.downloads")}>
      <p className="muted small">{t("bonus.downloadsText")}</p>
      <div className="actions">
        <ActionButton action={payroll} label={t("bonus.payrollWorkbook")} busyLabel={t("reports.preparing")} />
        <ActionButton action={csv} kind="secondary" label={t("bonus.exportCsv")} busyLabel={t("reports.preparing")} />
        <ActionButton action={xlsx} kind="secondary" label={t("bonus.exportXlsx")} busyLabel={t("reports.preparing")} />
      </div>
      {done && <Done message={t("reports.done", { name: done.name, size: formatNumber(tag, Math.ceil(done.size / 1024)) })} />}
      <ErrorText error={payroll.error ?? csv.error ?? xlsx.error} />
    </Section>
  );
}

const payKinds: { kind: PayKind; key: MessageKey }[] = [
  { kind: PayKind.TARGET_VARIABLE, key: "bonus.kindTarget" },
  { kind: PayKind.BASE_PAY, key: "bonus.kindBase" },
];

/** BasePay is the pay in force in a month, editable, and its import. */
export function BasePay() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("bonus.basePay"));
  const { query } = useLocation();
  const month = query.get("month") ?? thisMonth(timeZone);
  const kind = Number(query.get("kind") ?? PayKind.TARGET_VARIABLE) as PayKind;
  const q = useQuery(ReportService.method.listBasePay, { month, kind });
  const money = useMoney();
  const entries = q.data?.entries ?? [];
  return (
    <div className="page">
      <h1>{t("bonus.title")}</h1>
      <HrNav />
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("review.filters")}>
        <label>
          {t("bonus.month")}
          <input type="month" value={month} onChange={(e) => setQuery({ month: e.target.value })} />
        </label>
        <label>
          {t("bonus.kind")}
          <select value={kind} onChange={(e) => setQuery({ kind: e.target.value })}>
            {payKinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {t(k.key)}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ImportBasePay month={month} kind={kind} />
      <Section title={t("bonus.basePayFor", { month })}>
        <Listing query={q} count={entries.length} empty={t("bonus.noStaff")}>
          <ListTable caption={t("bonus.basePayFor", { month })} columns={[t("bonus.employee"), t("staff.position"), t("review.colStore"), { label: t("bonus.amount"), className: "num" }, t("bonus.since"), t("bonus.setBy"), t("common.actions")]}>
            {entries.map((e) => (
              <tr key={e.staffId}>
                <td data-label={t("bonus.employee")}>
                  {e.name} ({e.employeeNumber})
                </td>
                <td data-label={t("staff.position")}>{e.position || "—"}</td>
                <td data-label={t("review.colStore")}>
                  <strong>{e.storeCode}</strong> {e.storeName}
                </td>
                <td data-label={t("bonus.amount")} className="num">
                  {e.set ? money(e.amountMinor) : <Badge tone="warn">{t("bonus.notSet")}</Badge>}
                </td>
                <td data-label={t("bonus.since")}>{e.effectiveMonth || "—"}</td>
                <td data-label={t("bonus.setBy")}>
                  {e.set ? `${e.updatedBy || e.source} · ${formatDate(tag, timeZone, e.updateTime ? timestampDate(e.updateTime) : undefined)}` : "—"}
                </td>
                <td data-label={t("common.actions")}>
                  <EditPay employeeNumber={e.employeeNumber} name={e.name} minor={e.set ? e.amountMinor : undefined} month={month} kind={kind} />
                </td>
              </tr>
            ))}
          </ListTable>
        </Listing>
      </Section>
    </div>
  );
}

function EditPay({ employeeNumber, name, minor, month, kind }: { employeeNumber: string; name: string; minor?: bigint; month: string; kind: PayKind }) {
  const { t, tag } = useI18n();
  const client = useReport();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState("");
  const save = useAction(async () => {
    const amountMinor = parseAmountMinor(text);
    await client.setBasePay({ employeeNumber, kind, effectiveMonth: month, amountMinor: amountMinor! });
    await qc.invalidateQueries();
    setOpen(false);
  });
  if (!open) {
    return (
      <button
        type="button"
        className="btn secondary"
        aria-label={t("bonus.editFor", { name })}
        onClick={() => {
          setText(minor === undefined ? "" : formatNumber(tag, Number(minor) / 100, 2));
          setOpen(true);
        }}
      >
        {t("common.edit")}
      </button>
    );
  }
  const id = "pay-" + employeeNumber;
  return (
    <form
      className="row-actions"
      onSubmit={(e) => {
        e.preventDefault();
        if (parseAmountMinor(text) === undefined) return setInvalid(t("bonus.badAmount"));
        setInvalid("");
        void save.run();
      }}
      noValidate
    >
      <label htmlFor={id}>
        {t("bonus.amountFrom", { month })}
        <input id={id} inputMode="decimal" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={!!invalid} />
      </label>
      <ActionButton action={save} type="submit" label={t("common.save")} />
      <button type="button" className="btn secondary" onClick={() => setOpen(false)}>
        {t("common.cancel")}
      </button>
      {invalid && <small className="field-error">{invalid}</small>}
      <ErrorText error={save.error} />
    </form>
  );
}

function ImportBasePay({ month, kind }: { month: string; kind: PayKind }) {
  const { t } = useI18n();
  const client = useReport();
  const qc = useQueryClient();
  return (
    <FileImport
      title={t("bonus.import")}
      hint={t("bonus.importHint", { month })}
      problemsTitle={(n) => t("bonus.importProblems", { n })}
      problemsOf={rowProblems}
      send={async (fileName, content) => {
        const r = await client.importBasePay({ fileName, content, kind, effectiveMonth: month });
        await qc.invalidateQueries();
        return t("bonus.imported", { n: r.imported, month });
      }}
    />
  );
}

/** pretty indents a policy's JSON for reading and editing. */
function pretty(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

/** Policies lists versions, edits one with live validation, previews, saves and diffs. */
export function Policies() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("bonus.policies"));
  const client = useReport();
  const qc = useQueryClient();
  const all = usePolicies(false);
  const { query } = useLocation();
  const ids = [...new Set(all.map((p) => p.id))];
  const id = query.get("policy") ?? ids[0] ?? "";
  const versions = all.filter((p) => p.id === id).sort((a, b) => a.version - b.version);
  const latest = versions[versions.length - 1];
  const [draft, setDraft] = useState<{ id: string; text: string } | null>(null);
  const text = draft?.id === id ? draft.text : pretty(latest?.policyJson ?? "");
  const [check, setCheck] = useState<{ problems: string[]; unchanged: boolean; next: number; error?: unknown } | null>(null);
  useEffect(() => {
    if (!text.trim()) return setCheck(null);
    const timer = setTimeout(() => {
      client
        .validatePolicy({ policyJson: text })
        .then((r) => setCheck({ problems: r.problems, unchanged: r.unchanged, next: r.nextVersion }))
        .catch((error) => setCheck({ problems: [], unchanged: false, next: 0, error }));
    }, 400);
    return () => clearTimeout(timer);
  }, [text, client]);
  const save = useAction(async () => {
    const r = await client.createPolicy({ policyJson: text });
    await qc.invalidateQueries();
    if (r.policy) setQuery({ policy: r.policy.id });
    setDraft(null);
    return r;
  });
  const [month, setMonth] = useState(thisMonth(timeZone));
  const preview = useAction(async () => (await client.previewBonus({ policyJson: text, period: month })).run);
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);
  const diff = useAction(() => client.diffPolicies({ policyId: id, fromVersion: from || versions[0]?.version || 1, toVersion: to || latest?.version || 1 }));
  return (
    <div className="page">
      <h1>{t("bonus.title")}</h1>
      <HrNav />
      <Section title={t("bonus.versions")}>
        <Listing count={all.length} empty={t("bonus.noPolicies")}>
          <ListTable caption={t("bonus.versions")} columns={[t("bonus.policy"), { label: t("bonus.version"), className: "num" }, t("bonus.computed")]}>
            {all.map((p) => (
              <tr key={p.id + p.version} className={p.id === id ? "cursor" : ""}>
                <td data-label={t("bonus.policy")}>
                  <Link href={"/hr/policies?policy=" + encodeURIComponent(p.id)}>{p.name || p.id}</Link> <code>{p.id}</code>
                </td>
                <td data-label={t("bonus.version")} className="num">
                  {p.version}
                </td>
                <td data-label={t("bonus.computed")}>
                  {formatDateTime(tag, timeZone, p.createTime ? timestampDate(p.createTime) : undefined)} · {p.createdByName || p.createdBy}
                </td>
              </tr>
            ))}
          </ListTable>
        </Listing>
      </Section>
      <Section title={t("bonus.editor")}>
        <p className="muted small">{t("bonus.editorText")}</p>
        <PolicyForm text={text} onChange={(next) => setDraft({ id, text: next })} />
        <div className="field">
          <label htmlFor="p-json">{t("bonus.policyJson")}</label>
          <textarea
            id="p-json"
            className="code"
            rows={18}
            spellCheck={false}
            value={text}
            onChange={(e) => setDraft({ id, text: e.target.value })}
            aria-describedby="p-check"
          />
        </div>
        <div id="p-check" aria-live="polite">
          {check?.error ? (
            <ErrorText error={check.error} />
          ) : check && check.problems.length > 0 ? (
            <div className="error">
              <strong>{t("bonus.policyProblems", { n: check.problems.length })}</strong>
              <ul>
                {check.problems.map((p, i) => (
                  <li key={i}>{p}</li>
                ))}
              </ul>
            </div>
          ) : check ? (
            <p className="done">{check.unchanged ? t("bonus.policyUnchanged") : t("bonus.policyValid", { n: check.next })}</p>
          ) : null}
        </div>
        <div className="actions">
          <ActionButton action={save} label={t("bonus.savePolicy")} disabled={!check || check.problems.length > 0 || check.unchanged} />
        </div>
        {save.result && <Done message={save.result.created ? t("bonus.saved", { n: save.result.policy?.version ?? 0 }) : t("bonus.policyUnchanged")} />}
        <ErrorText error={save.error} />
        <div className="row-actions">
          <label htmlFor="p-month">
            {t("bonus.previewMonth")}
            <input id="p-month" type="month" value={month} onChange={(e) => setMonth(e.target.value)} />
          </label>
          <ActionButton action={preview} kind="secondary" label={t("bonus.preview")} disabled={!check || check.problems.length > 0} />
        </div>
        <ErrorText error={preview.error} />
        {preview.result && <Employees run={preview.result} total={preview.result.employees.reduce((a, e) => a + e.totalMinor, 0n)} />}
      </Section>
      {versions.length > 1 && (
        <Section title={t("bonus.diff")}>
          <div className="row-actions">
            <label>
              {t("bonus.fromVersion")}
              <select value={from || versions[0].version} onChange={(e) => setFrom(Number(e.target.value))}>
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t("bonus.toVersion")}
              <select value={to || latest.version} onChange={(e) => setTo(Number(e.target.value))}>
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </label>
            <ActionButton action={diff} kind="secondary" label={t("bonus.compare")} />
          </div>
          <ErrorText error={diff.error} />
          {diff.result &&
            (diff.result.changes.length === 0 ? (
              <Empty>{t("bonus.noDiff")}</Empty>
            ) : (
              <table className="list compact">
                <caption className="sr-only">{t("bonus.diff")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("bonus.field")}</th>
                    <th scope="col">{t("bonus.before")}</th>
                    <th scope="col">{t("bonus.after")}</th>
                  </tr>
                </thead>
                <tbody>
                  {diff.result.changes.map((c, i) => (
                    <tr key={i}>
                      <td>
                        <code>{c.path}</code>
                        <div className="muted small">{c.text}</div>
                      </td>
                      <td>{c.oldValue || "—"}</td>
                      <td>{c.newValue || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))}
        </Section>
      )}
    </div>
  );
}
