// "My results": what an employee's own account (Role.STAFF) sees, phone
// first: his approved visits of a month with their scores and the
// verified photos, and his own pay explained, line by line. The server
// decides which visits and lines are his (MyResultsService); nothing
// here can ask for anyone else's.
import { useQuery } from "@connectrpc/connect-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useMemo } from "react";
import { MyResultsService, type MyAnswer, type MyBonus, type MyPhoto, type MyVisit } from "../gen/shopscore/v1/staff_portal_pb";
import { useI18n } from "../i18n/context";
import { Badge, Empty, ErrorText, Loading, Section } from "../components";
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
