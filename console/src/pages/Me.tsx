// "My results": what an employee's own account (Role.STAFF) sees, phone
// first: his approved visits of a month with their scores and the
// verified photos, his own pay explained, line by line, and his appeals:
// filed from a visit's page within its window (the manager's AppealForm
// and evidence path, through his own procedures) and followed to their
// rulings. The server decides which visits, lines and appeals are his
// (MyResultsService); nothing here can ask for anyone else's.
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useMemo, useState } from "react";
import { MyResultsService, type GetMyVisitResponse, type MyAnswer, type MyAppeal, type MyBonus, type MyPhoto, type MyVisit } from "../gen/shopscore/v1/staff_portal_pb";
import { AppealOutcome, AppealState } from "../gen/shopscore/v1/appeal_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, Empty, ErrorText, Loading, Section, useAction } from "../components";
import { AuthService } from "../gen/shopscore/v1/auth_pb";
import { AppealForm, lastDay, outcomeKey, outcomeText, useAppealFiling } from "./Appeals";
import { Link, setQuery, useLocation, useTitle } from "../lib/router";
import { dateToZoned, formatDate, formatDateTime, formatDuration, formatNumber, formatPercent } from "../lib/format";
import { ExplanationLines, useMoney } from "./Bonus";

function visitHref(id: string) {
  return "/me/visits/" + encodeURIComponent(id);
}

/** MyResults is the month's visits and pay of the signed-in employee. */
export function MyResults() {
  const { t, timeZone } = useI18n();
  useTitle(t("me.title"));
  const { query } = useLocation();
  const month = query.get("month") || dateToZoned(new Date(), timeZone).slice(0, 7);
  const profile = useQuery(MyResultsService.method.getMyProfile, {});
  const visits = useQuery(MyResultsService.method.listMyVisits, { month });
  const pay = useQuery(MyResultsService.method.getMyPay, { month });
  const p = profile.data;
  return (
    <div className="page me">
      <h1>{t("me.title")}</h1>
      {p && (
        <p className="lead">
          {t("me.who", { name: p.name, number: p.employeeNumber })}
          {p.storeCode && (
            <>
              {" · "}
              <strong>{p.storeCode}</strong> {p.storeName}
            </>
          )}
        </p>
      )}
      <ErrorText error={profile.error} />
      <div className="filters">
        <label>
          {t("me.month")}
          <input type="month" value={month} onChange={(e) => e.target.value && setQuery({ month: e.target.value })} />
        </label>
      </div>
      <Section title={t("me.visits")}>
        <ErrorText error={visits.error} />
        {visits.isPending ? (
          <Loading />
        ) : (visits.data?.visits.length ?? 0) === 0 ? (
          <Empty>{t("me.noVisits", { month })}</Empty>
        ) : (
          <ul className="me-visits">
            {visits.data?.visits.map((v) => (
              <VisitCard key={v.visitId} v={v} />
            ))}
          </ul>
        )}
      </Section>
      <MyAppeals />
      <Section title={t("me.pay")}>
        <ErrorText error={pay.error} />
        {pay.isPending ? (
          <Loading />
        ) : (pay.data?.bonuses.length ?? 0) === 0 ? (
          <Empty>{t("me.noPay", { month })}</Empty>
        ) : (
          pay.data?.bonuses.map((b) => <Bonus key={b.runId} b={b} />)
        )}
      </Section>
    </div>
  );
}

function VisitCard({ v }: { v: MyVisit }) {
  const { t, tag, timeZone } = useI18n();
  return (
    <li className="card me-visit">
      <Link href={visitHref(v.visitId)} aria-label={t("me.openVisit", { date: formatDate(tag, timeZone, v.visitTime && timestampDate(v.visitTime)), store: v.storeCode })}>
        <span className="me-score">{formatPercent(tag, v.scorePercent)}</span>
        <span>
          <strong>{formatDateTime(tag, timeZone, v.visitTime && timestampDate(v.visitTime))}</strong>
          <br />
          {v.storeCode} · {v.storeName}
          <br />
          <small className="muted">
            {v.checklistName} · {v.namesMe ? t("me.namesMe") : t("me.storeVisit")}
          </small>
        </span>
      </Link>
    </li>
  );
}

function Bonus({ b }: { b: MyBonus }) {
  const { t, tag, timeZone } = useI18n();
  const money = useMoney();
  return (
    <article className="card me-bonus" aria-label={t("me.bonusOf", { policy: b.policyName })}>
      <h3>
        {b.policyName} <small className="muted">· {b.period}</small>
      </h3>
      <p>
        {t("me.bonusTotal", { total: money(b.totalMinor), base: money(b.basePayMinor) })}
        <br />
        <small className="muted">{t("me.approved", { date: formatDate(tag, timeZone, b.approveTime && timestampDate(b.approveTime)) })}</small>
      </p>
      {b.unlinkedMinor > 0n && <p className="muted">{t("me.unlinked", { amount: money(b.unlinkedMinor) })}</p>}
      {b.components.map((c) => (
        <section key={c.name} className="me-component">
          <h4>
            {c.name}: {money(c.amountMinor)}
            {c.criticalForfeit && <Badge tone="bad">{t("bonus.forfeit")}</Badge>}
            {c.minSampleDefault && <Badge tone="wait">{t("bonus.defaultPayout")}</Badge>}
          </h4>
          <p>
            {t("bonus.explainSummary", {
              score: formatPercent(tag, c.scorePercent),
              visits: c.visits,
              payout: formatPercent(tag, c.payout * 100),
              share: formatPercent(tag, c.share * 100),
              amount: money(c.amountMinor),
            })}
          </p>
          <ExplanationLines lines={c.explanation.filter((l) => l.visitId)} visitHref={visitHref} />
        </section>
      ))}
    </article>
  );
}

/**
 * Photo shows one verified photo as the server gives it to an employee:
 * the picture without its metadata (GetMyPhoto), never the stored original.
 */
function Photo({ visitId, photo, alt }: { visitId: string; photo: MyPhoto; alt: string }) {
  const q = useQuery(MyResultsService.method.getMyPhoto, { visitId, questionId: photo.questionId, index: photo.index });
  const url = useMemo(() => (q.data ? URL.createObjectURL(new Blob([q.data.content as BlobPart], { type: q.data.contentType })) : ""), [q.data]);
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  if (q.error) return <ErrorText error={q.error} />;
  if (!url) return <span className="thumb missing">…</span>;
  return (
    <a href={url} target="_blank" rel="noreferrer" className="thumb">
      <img src={url} alt={alt} />
    </a>
  );
}

function answerText(a: MyAnswer, t: ReturnType<typeof useI18n>["t"], tag: string): string {
  if (a.notApplicable) return t("visit.na");
  if (!a.answered && a.yes === undefined && a.number === undefined && a.durationMs === undefined && a.choices.length === 0 && !a.text) return "—";
  if (a.yes !== undefined) return a.yes ? t("common.yes") : t("common.no");
  if (a.number !== undefined) return formatNumber(tag, a.number, 2) + (a.unit ? " " + a.unit : "");
  if (a.durationMs !== undefined) return formatDuration(tag, Number(a.durationMs));
  if (a.choices.length > 0) return a.choices.join("; ");
  return a.text || "—";
}

/** MyVisitPage is one of his visits: what was found, question by question, and the photos. */
export function MyVisitPage({ id }: { id: string }) {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("me.visitTitle"));
  const q = useQuery(MyResultsService.method.getMyVisit, { visitId: id });
  if (q.isPending) return <Loading />;
  if (q.error || !q.data?.visit)
    return (
      <div className="page">
        <ErrorText error={q.error} />
        <Link href="/me">{t("me.back")}</Link>
      </div>
    );
  const { visit: v, answers, photos, score } = q.data;
  return (
    <div className="page me">
      <p>
        <Link href="/me">{t("me.back")}</Link>
      </p>
      <h1>
        {v.storeCode} · {formatDate(tag, timeZone, v.visitTime && timestampDate(v.visitTime))}
      </h1>
      <p className="lead">
        {v.storeName} · {v.checklistName} · <strong>{formatPercent(tag, score?.overall?.percent ?? v.scorePercent)}</strong>
      </p>
      <p className="muted">{v.namesMe ? t("me.namesMe") : t("me.storeVisit")}</p>
      <VisitAppeal data={q.data} />
      <Section title={t("visit.answers")}>
        <ol className="me-answers">
          {answers.map((a) => {
            const shots = photos.filter((p) => p.questionId === a.questionId);
            return (
              <li key={a.questionId} className={a.points < a.maxPoints ? "lost" : ""}>
                <div className="q">
                  <span>
                    <small className="muted">{a.sectionTitle}</small>
                    <br />
                    {a.questionText}
                  </span>
                  <span className="q-points">
                    {formatNumber(tag, a.points, 1)} / {formatNumber(tag, a.maxPoints, 1)}
                  </span>
                </div>
                <p>
                  <strong>{answerText(a, t, tag)}</strong>
                  {a.criticalFailure && <Badge tone="bad">{t("visit.criticalFailure")}</Badge>}
                </p>
                {a.note && <p className="comment">{t("me.note", { text: a.note })}</p>}
                {shots.length > 0 && (
                  <div className="thumbs">
                    {shots.map((p) => (
                      <Photo key={p.index} visitId={v.visitId} photo={p} alt={t("visit.photoAlt", { n: p.index + 1, question: a.questionText })} />
                    ))}
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      </Section>
    </div>
  );
}

/** VisitAppeal is the appeal part of one of his visits: the window's last
 * day, the appeals of the visit, and the form that files his. */
function VisitAppeal({ data }: { data: GetMyVisitResponse }) {
  const { t, tag, timeZone } = useI18n();
  const v = data.visit!;
  const list = useQuery(MyResultsService.method.listMyAppeals, { visitId: v.visitId, pageSize: 100 });
  const transport = useTransport();
  const client = useMemo(() => createClient(MyResultsService, transport), [transport]);
  const { filing, setFiling, file, send } = useAppealFiling({
    file: async (questions) => (await client.fileMyAppeal({ visitId: v.visitId, questions })).appeal!.id,
    createUpload: (r) => client.createMyEvidenceUpload(r),
    finalize: (r) => client.finalizeMyEvidenceUpload(r),
  });
  const appeals = list.data?.appeals ?? [];
  const deadline = data.appealDeadlineTime;
  const closed = deadline !== undefined && timestampDate(deadline).getTime() <= Date.now();
  return (
    <Section title={t("appeal.section")}>
      {file.result && <Done message={t("me.appealFiled")} />}
      {deadline && <p className="muted">{closed ? t("me.appealWindowClosed", { date: lastDay(tag, timeZone, deadline) }) : t("me.appealLastDay", { date: lastDay(tag, timeZone, deadline) })}</p>}
      {appeals.map((a) => (
        <MyAppealCard key={a.id} a={a} />
      ))}
      {!data.appealable && !closed && appeals.some((a) => a.state === AppealState.OPEN) && <p className="muted">{t("me.appealPending")}</p>}
      {data.appealable && !filing && (
        <button type="button" className="btn primary" onClick={() => setFiling(true)}>
          {t("me.appealVisit")}
        </button>
      )}
      {data.appealable && filing && (
        <AppealForm
          questions={data.answers.map((a) => ({ id: a.questionId, text: a.questionText, answer: answerText(a, t, tag) }))}
          hint={t("me.appealHint")}
          action={file}
          onSend={send}
          onCancel={() => setFiling(false)}
        />
      )}
      <ErrorText error={file.error || list.error} />
    </Section>
  );
}

/** MyAppeals lists his appeals, open ones first. */
function MyAppeals() {
  const { t } = useI18n();
  const list = useQuery(MyResultsService.method.listMyAppeals, { pageSize: 100 });
  return (
    <Section title={t("me.appeals")}>
      <ErrorText error={list.error} />
      {list.isPending ? <Loading /> : (list.data?.appeals.length ?? 0) === 0 ? <Empty>{t("me.noAppeals")}</Empty> : list.data?.appeals.map((a) => <MyAppealCard key={a.id} a={a} linkVisit />)}
    </Section>
  );
}

/** MyAppealCard is one of his appeals: its questions, reasons, evidence
 * and, once ruled, the ruling on each. */
function MyAppealCard({ a, linkVisit }: { a: MyAppeal; linkVisit?: boolean }) {
  const { t, tag, timeZone } = useI18n();
  const open = a.state === AppealState.OPEN;
  const when = (ts: MyAppeal["fileTime"]) => formatDateTime(tag, timeZone, ts && timestampDate(ts));
  const title = t("me.appealOf", { date: formatDate(tag, timeZone, a.visitTime && timestampDate(a.visitTime)), store: `${a.storeCode} ${a.storeName}` });
  return (
    <article className="card me-appeal" aria-label={title}>
      <h3>
        {linkVisit ? <Link href={visitHref(a.visitId)}>{title}</Link> : title} <Badge tone={open ? "wait" : "ok"}>{outcomeText(a, t)}</Badge>
      </h3>
      <p className="muted small">
        {a.filedByMe ? t("me.filedByMe", { date: when(a.fileTime) }) : t("me.filedForMe", { date: when(a.fileTime) })}
        {open && <> · {t("appeal.colDeadline")}: {lastDay(tag, timeZone, a.deadlineTime)}</>}
      </p>
      {!open && (
        <p>
          {t("me.ruledOn", {
            role: t(a.ruledRole === "hr" ? "role.hr" : "role.manager"),
            date: when(a.ruleTime),
            before: formatPercent(tag, a.scoreBefore),
            after: formatPercent(tag, a.scoreAfter),
          })}
        </p>
      )}
      <ul className="me-appeal-questions">
        {a.questions.map((q) => (
          <li key={q.questionId}>
            <strong>{q.questionText || q.questionId}</strong>
            <p className="pre">{q.reason}</p>
            {q.evidence.length > 0 && (
              <p className="muted small">
                {t("me.evidence")}: {q.evidence.map((e) => (e.verified ? t("me.evidenceFile", { name: e.fileName }) : t("me.evidenceWaiting", { name: e.fileName }))).join(", ")}
              </p>
            )}
            {!open && (
              <p>
                <Badge tone={q.outcome === AppealOutcome.UPHELD ? "ok" : "bad"}>{t(outcomeKey[q.outcome])}</Badge>{" "}
                {q.amendedAnswer && t("appeal.amendedTo", { answer: answerText(q.amendedAnswer, t, tag) })}
                {q.rulingReason && <span className="muted"> — {q.rulingReason}</span>}
              </p>
            )}
          </li>
        ))}
      </ul>
    </article>
  );
}

/** NotificationsPage is any signed-in user's own e-mail settings. */
export function NotificationsPage() {
  const { t } = useI18n();
  useTitle(t("notify.title"));
  return (
    <div className="page">
      <h1>{t("notify.title")}</h1>
      <NotificationSettingsForm />
    </div>
  );
}

/**
 * NotificationSettingsForm sets the signed-in user's own e-mail choices
 * (AuthService.SetNotificationSettings): the language of his e-mails, opting
 * out, the daily digest. The server decides whose: always the caller's.
 */
export function NotificationSettingsForm() {
  const { t, timeZone } = useI18n();
  const transport = useTransport();
  const auth = useMemo(() => createClient(AuthService, transport), [transport]);
  const q = useQuery(AuthService.method.getNotificationSettings, {});
  const [f, setF] = useState<{ language: string; emailOff: boolean; dailyDigest: boolean } | null>(null);
  const s = q.data?.settings;
  const cur = f ?? { language: s?.language ?? "", emailOff: s?.emailOff ?? false, dailyDigest: s?.dailyDigest ?? false };
  const save = useAction(async () => {
    const r = await auth.setNotificationSettings({ settings: cur });
    setF(null);
    await q.refetch();
    return r;
  });
  return (
    <Section title={t("notify.choices")}>
      <p className="hint">{t("notify.lead")}</p>
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
          {q.data && !q.data.emailConfigured && <p className="hint">{t("notify.notConfigured")}</p>}
          <div className="field">
            <label htmlFor="n-lang">{t("notify.language")}</label>
            <select id="n-lang" value={cur.language} disabled={cur.emailOff} onChange={(e) => setF({ ...cur, language: e.target.value })}>
              <option value="">{t("notify.languageOrg")}</option>
              <option value="ru">Русский</option>
              <option value="en">English</option>
            </select>
          </div>
          <div className="field">
            <label>
              <input type="checkbox" checked={cur.emailOff} onChange={(e) => setF({ ...cur, emailOff: e.target.checked })} /> {t("notify.emailOff")}
            </label>
          </div>
          <div className="field">
            <label>
              <input type="checkbox" checked={cur.dailyDigest} disabled={cur.emailOff} onChange={(e) => setF({ ...cur, dailyDigest: e.target.checked })} />{" "}
              {t("notify.digest", { hour: String(q.data?.digestHour ?? 8).padStart(2, "0"), zone: timeZone })}
            </label>
          </div>
          <div className="actions">
            <ActionButton action={save} type="submit" label={t("common.save")} />
          </div>
        </form>
      )}
      {save.result && <Done message={t("notify.saved")} />}
      <ErrorText error={save.error} />
    </Section>
  );
}
