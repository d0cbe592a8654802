// One visit as a reviewer sees it: who, where, when, the score explained,
// every answer with its question, photos, flags in words, the history,
// and the actions the visit's state allows.
import { useMemo, useState } from "react";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { ReviewService, type GetVisitResponse, type ProofFlag } from "../gen/shopscore/v1/review_pb";
import { QuestionType, type ChecklistQuestion, type ChecklistSection } from "../gen/shopscore/v1/checklist_pb";
import { VisitState, type Answer, type PhotoRef } from "../gen/shopscore/v1/sync_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, ErrorText, Loading, Section, useAction, type Translate } from "../components";
import { Link, useTitle } from "../lib/router";
import { channelKey, proofFlagKey, visitFlagKey, visitStateKey, visitStateTone } from "../labels";
import { flagNumbers, opSign, timerVerdict, unitMs } from "../lib/checklist";
import { formatDateTime, formatDuration, formatNumber, formatPercent } from "../lib/format";
import { useAuth, isEditor } from "../auth";
import { VisitAppeals } from "./Appeals";
import { VisitCorrectiveActions } from "./CorrectiveActions";

export function VisitDetail({ id }: { id: string }) {
  const { t, tag, timeZone } = useI18n();
  const q = useQuery(ReviewService.method.getVisit, { visitId: id });
  const data = q.data;
  useTitle(t("visit.title"));

  if (q.isPending) return <Loading />;
  if (q.error || !data?.summary || !data.visit)
    return (
      <div className="page">
        <ErrorText error={q.error} />
        <Link href="/review">{t("visit.back")}</Link>
      </div>
    );
  const s = data.summary;
  const v = data.visit;
  const when = (ts?: { seconds: bigint; nanos: number }) => formatDateTime(tag, timeZone, ts ? timestampDate(ts as never) : undefined);

  return (
    <div className="page visit">
      <p>
        <Link href="/review">← {t("visit.back")}</Link>
      </p>
      <div className="visit-head">
        <div>
          <h1>
            {s.storeCode} · {s.storeName}
          </h1>
          <p className="muted">
            {s.checklistName} v{s.checklistVersion} · {t(channelKey[s.channel])}
          </p>
        </div>
        <div className="score-big" aria-label={t("visit.score")}>
          {formatPercent(tag, s.scorePercent)}
          <Badge tone={visitStateTone[s.state]}>{t(visitStateKey[s.state])}</Badge>
        </div>
      </div>
      <dl className="facts">
        <dt>{t("visit.shopper")}</dt>
        <dd>{s.shopperName || t("common.unknownPerson")}</dd>
        <dt>{t("visit.staff")}</dt>
        <dd>{s.staffName ? `${s.staffName} (${s.staffEmployeeNumber})` : s.staffDescription || t("visit.staffUnknown")}</dd>
        <dt>{t("visit.started")}</dt>
        <dd>{when(v.startTime)}</dd>
        <dt>{t("visit.finished")}</dt>
        <dd>{when(v.finishTime)}</dd>
        <dt>{t("visit.received")}</dt>
        <dd>{when(s.receiveTime)}</dd>
        {s.missingPhotoCount > 0 && (
          <>
            <dt>{t("visit.missing")}</dt>
            <dd>{t("review.missingPhotos", { n: s.missingPhotoCount })}</dd>
          </>
        )}
        {v.notes && (
          <>
            <dt>{t("visit.notes")}</dt>
            <dd className="pre">{v.notes}</dd>
          </>
        )}
        {s.correctsVisitId && (
          <>
            <dt>{t("visit.corrects")}</dt>
            <dd>
              <Link href={"/visits/" + s.correctsVisitId}>{t("visit.previous")}</Link>
            </dd>
          </>
        )}
        {s.correctedByVisitId && (
          <>
            <dt>{t("visit.correctedBy")}</dt>
            <dd>
              <Link href={"/visits/" + s.correctedByVisitId}>{t("visit.correction")}</Link>
            </dd>
          </>
        )}
      </dl>
      <Flags data={data} t={t} tag={tag} />
      <Actions data={data} content={data.checklist?.sections.flatMap((x) => x.questions) ?? []} />
      <VisitAppeals data={data} />
      <VisitCorrectiveActions visitId={data.summary!.id} />
      <Scores data={data} />
      <Answers data={data} sections={data.checklist?.sections ?? []} />
      <History data={data} />
    </div>
  );
}

function Flags({ data, t, tag }: { data: GetVisitResponse; t: Translate; tag: string }) {
  const s = data.summary!;
  if (s.flags.length === 0 && s.proofFlags.length === 0) return null;
  return (
    <Section title={t("visit.flags")}>
      <ul className="flags">
        {s.flags.map((f) => (
          <li key={f}>
            <Badge tone="warn">{visitFlagKey[f] ? t(visitFlagKey[f]) : f}</Badge>
          </li>
        ))}
        {s.proofFlags.map((f, i) => (
          <li key={f.code + i}>{explainProof(f, s.storeCode, t, tag)}</li>
        ))}
      </ul>
    </Section>
  );
}

/** explainProof says what a proof flag measured, in the user's language. */
export function explainProof(f: ProofFlag, store: string, t: Translate, tag: string): string {
  const key = proofFlagKey[f.code];
  const parsed = flagNumbers(f.code, f.detail);
  const meters = f.distanceMeters ?? parsed.meters;
  const geofence = f.geofenceMeters ?? parsed.geofence ?? 0;
  const skew = f.skewMinutes ?? parsed.skewMinutes;
  if (key && meters !== undefined) {
    return t(key, {
      meters: formatNumber(tag, meters),
      geofence: formatNumber(tag, geofence),
      accuracy: formatNumber(tag, f.accuracyMeters ?? parsed.accuracy ?? 0),
      over: formatNumber(tag, Math.max(0, meters - geofence)),
      store,
    });
  }
  if (f.code === "device_clock_skew" && skew !== undefined) return t("proof.deviceClockSkewMinutes", { minutes: formatNumber(tag, Math.abs(skew)) });
  if (f.gapMinutes !== undefined && (f.code === "outside_assignment_window" || f.code === "exif_time_far")) {
    return t(f.code === "exif_time_far" ? "proof.exifTimeFarMinutes" : "proof.outsideWindowMinutes", { minutes: formatNumber(tag, f.gapMinutes) });
  }
  if (f.code === "timer_implausible" && f.durationSeconds !== undefined) {
    return t("proof.timerImplausibleSeconds", {
      seconds: formatNumber(tag, f.durationSeconds, 1),
      min: formatNumber(tag, f.minSeconds ?? 0),
      max: formatNumber(tag, f.maxSeconds ?? 0),
    });
  }
  if (key && meters === undefined && !f.code.endsWith("_geofence")) return t(key, { detail: f.detail });
  return t("proof.unknown", { detail: f.detail || f.code });
}

function Actions({ data, content }: { data: GetVisitResponse; content: ChecklistQuestion[] }) {
  const { t } = useI18n();
  const { user } = useAuth();
  const transport = useTransport();
  const client = useMemo(() => createClient(ReviewService, transport), [transport]);
  const qc = useQueryClient();
  const s = data.summary!;
  const [note, setNote] = useState("");
  const [returning, setReturning] = useState(false);
  const [general, setGeneral] = useState("");
  const [perQuestion, setPerQuestion] = useState<Record<string, string>>({});
  const [invalid, setInvalid] = useState("");
  // The last action's result, in words.
  const [done, setDone] = useState("");
  const act = async <T,>(p: Promise<T>, message: string) => {
    setDone("");
    const r = await p;
    await qc.invalidateQueries();
    setDone(message);
    return r;
  };
  const start = useAction(() => act(client.startReview({ visitId: s.id }), t("visit.startedReview")));
  const approve = useAction(() => act(client.approveVisit({ visitId: s.id, note: note.trim() }), t("visit.approvedDone")));
  const publish = useAction(() => act(client.publishVisit({ visitId: s.id }), t("visit.publishedDone")));
  const ret = useAction(async () => {
    const comments = [
      ...(general.trim() ? [{ questionId: "", text: general.trim() }] : []),
      ...Object.entries(perQuestion)
        .filter(([, text]) => text.trim())
        .map(([questionId, text]) => ({ questionId, text: text.trim() })),
    ];
    const r = await act(client.returnVisit({ visitId: s.id, comments }), t("visit.returnedDone"));
    setReturning(false);
    return r;
  });
  if (!isEditor(user)) return null;

  const sendReturn = () => {
    const any = general.trim() || Object.values(perQuestion).some((x) => x.trim());
    if (!any) {
      setInvalid(t("visit.returnNeedsComment"));
      return;
    }
    setInvalid("");
    void ret.run();
  };
  const answered = data.visit!.answers.map((a) => a.questionId);

  return (
    <Section title={t("visit.actions")}>
      {done && <Done message={done} />}
      <div className="actions">
        {(s.state === VisitState.COMPLETE || s.state === VisitState.SUBMITTED) && (
          <ActionButton action={start} label={t("visit.startReview")} busyLabel={t("visit.starting")} />
        )}
        {s.state === VisitState.IN_REVIEW && !returning && (
          <>
            <label className="inline-field">
              {t("visit.approveNote")}
              <input value={note} onChange={(e) => setNote(e.target.value)} />
            </label>
            <ActionButton action={approve} label={t("visit.approve")} busyLabel={t("visit.approving")} />
            <button type="button" className="btn secondary" onClick={() => setReturning(true)}>
              {t("visit.return")}
            </button>
          </>
        )}
        {s.state === VisitState.APPROVED && <ActionButton action={publish} label={t("visit.publish")} busyLabel={t("visit.publishing")} />}
        {s.state === VisitState.RETURNED && <p className="muted">{t("visit.waitingCorrection")}</p>}
        {s.state === VisitState.PUBLISHED && <p className="muted">{t("visit.isPublished")}</p>}
        {s.state === VisitState.SUPERSEDED && <p className="muted">{t("visit.isSuperseded")}</p>}
      </div>
      {s.state === VisitState.SUBMITTED && <p className="muted small">{t("visit.submittedHint")}</p>}
      {returning && (
        <form className="return-form" onSubmit={(e) => { e.preventDefault(); sendReturn(); }}>
          <h3>{t("visit.returnTitle")}</h3>
          <p className="muted small">{t("visit.returnHint")}</p>
          <label>
            {t("visit.returnGeneral")}
            <textarea value={general} onChange={(e) => setGeneral(e.target.value)} rows={2} />
          </label>
          {content
            .filter((q) => answered.includes(q.id))
            .map((q) => (
              <label key={q.id}>
                {q.text}
                <textarea rows={1} data-question={q.id} value={perQuestion[q.id] ?? ""} onChange={(e) => setPerQuestion({ ...perQuestion, [q.id]: e.target.value })} />
              </label>
            ))}
          {invalid && (
            <p className="field-error" role="alert">
              {invalid}
            </p>
          )}
          <div className="actions">
            <ActionButton action={ret} type="submit" label={t("visit.sendReturn")} busyLabel={t("visit.returning")} kind="danger" />
            <button type="button" className="btn secondary" onClick={() => setReturning(false)}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
      <ErrorText error={start.error || approve.error || publish.error || ret.error} />
    </Section>
  );
}

function Scores({ data }: { data: GetVisitResponse }) {
  const { t, tag } = useI18n();
  const sc = data.score;
  if (!sc) return null;
  const critical = sc.questions.filter((q) => q.criticalFailure);
  const groups = [
    { title: t("visit.bySection"), rows: sc.sections },
    { title: t("visit.byCategory"), rows: sc.categories },
    { title: t("visit.byStandard"), rows: sc.standards },
  ].filter((g) => g.rows.length > 0);
  return (
    <Section title={t("visit.score")}>
      {critical.length > 0 && (
        <p className="error" role="note">
          {t("visit.criticalFailures", { n: critical.length })}
        </p>
      )}
      <div className="score-groups">
        {groups.map((g) => (
          <table key={g.title} className="list compact">
            <caption>{g.title}</caption>
            <thead>
              <tr>
                <th scope="col">{t("visit.group")}</th>
                <th scope="col" className="num">{t("visit.points")}</th>
                <th scope="col" className="num">%</th>
              </tr>
            </thead>
            <tbody>
              {g.rows.map((r) => (
                <tr key={r.key}>
                  <td>
                    {r.title || r.key}
                    {r.capped && <Badge tone="warn">{t("visit.capped")}</Badge>}
                  </td>
                  <td className="num">
                    {formatNumber(tag, r.points, 1)} / {formatNumber(tag, r.maxPoints, 1)}
                  </td>
                  <td className="num">{formatPercent(tag, r.percent)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </div>
    </Section>
  );
}

export function answerText(a: Answer | undefined, q: ChecklistQuestion, t: Translate, tag: string): string {
  if (!a) return t("visit.unanswered");
  if (a.na) return t("visit.na");
  if (a.boolValue !== undefined) return a.boolValue ? t("common.yes") : t("common.no");
  if (a.durationMs !== undefined) return formatDuration(tag, Number(a.durationMs));
  if (a.numberValue !== undefined) return formatNumber(tag, a.numberValue, Number.isInteger(a.numberValue) ? 0 : 2) + (q.unit ? " " + q.unit : "");
  if (a.choices.length) return a.choices.map((c) => q.options?.find((o) => o.value === c)?.label ?? c).join(", ");
  if (a.text) return a.text;
  if (a.photoHashes.length) return t("visit.photoCount", { n: a.photoHashes.length });
  return t("visit.unanswered");
}

function Answers({ data, sections }: { data: GetVisitResponse; sections: ChecklistSection[] }) {
  const { t, tag, timeZone } = useI18n();
  const [zoom, setZoom] = useState<string | null>(null);
  const answers = new Map(data.visit!.answers.map((a) => [a.questionId, a]));
  const scores = new Map((data.score?.questions ?? []).map((q) => [q.questionId, q]));
  const comments = new Map(data.comments.map((c) => [c.questionId, c.text]));
  const refs = new Map<string, PhotoRef>(data.visit!.photos.map((p) => [p.questionId + "#" + p.index, p]));
  if (sections.length === 0) return <Loading />;
  return (
    <Section title={t("visit.answers")}>
      {comments.get("") && <p className="comment">{t("visit.commentGeneral", { text: comments.get("")! })}</p>}
      {sections.map((sec) => (
        <div key={sec.id} className="answer-section">
          <h3>{sec.title}</h3>
          <ul className="answers">
            {sec.questions.map((q) => {
              const a = answers.get(q.id);
              const sc = scores.get(q.id);
              const photos = data.photos.filter((p) => p.questionId === q.id);
              const verdict = q.type === QuestionType.TIMER && a?.durationMs !== undefined ? timerVerdict(q, Number(a.durationMs)) : "none";
              return (
                <li key={q.id} className={sc?.failed ? "failed" : ""}>
                  <div className="q">
                    <span className="q-text">
                      {q.text}
                      {q.critical && <Badge tone="bad">{t("checklist.critical")}</Badge>}
                    </span>
                    <span className="q-points num">
                      {sc?.notApplicable ? t("visit.na") : sc?.answered ? `${formatNumber(tag, sc.points, 1)} / ${formatNumber(tag, sc.maxPoints, 1)}` : ""}
                    </span>
                  </div>
                  <div className="a">
                    <strong>{answerText(a, q, t, tag)}</strong>
                    {verdict !== "none" && q.target && (
                      <Badge tone={verdict === "within" ? "ok" : "bad"}>
                        {t(verdict === "within" ? "visit.slaWithin" : "visit.slaOver", {
                          target: opSign(q.target.operator) + " " + formatDuration(tag, q.target.value * unitMs(q.unit)),
                        })}
                      </Badge>
                    )}
                    {sc?.criticalFailure && <Badge tone="bad">{t("visit.criticalFailure")}</Badge>}
                  </div>
                  {a?.note && <p className="note">{t("visit.note", { text: a.note })}</p>}
                  {comments.get(q.id) && <p className="comment">{t("visit.comment", { text: comments.get(q.id)! })}</p>}
                  {photos.length > 0 && (
                    <div className="photos">
                      {photos.map((p) => {
                        const ref = refs.get(p.questionId + "#" + p.index);
                        const exifTime = ref?.exifTime ? formatDateTime(tag, timeZone, timestampDate(ref.exifTime)) : "";
                        const loc = ref?.exifLocation;
                        return (
                          <figure key={p.index}>
                            {p.verified && p.downloadUrl ? (
                              <button type="button" className="thumb" onClick={() => setZoom(p.downloadUrl)} aria-label={t("visit.photoOpen", { n: p.index + 1 })}>
                                <img src={p.downloadUrl} alt={t("visit.photoAlt", { n: p.index + 1, question: q.text })} loading="lazy" />
                              </button>
                            ) : (
                              <div className="thumb missing">{t("visit.photoMissing")}</div>
                            )}
                            <figcaption>
                              {exifTime && <span>{t("visit.exifTime", { time: exifTime })}</span>}
                              {loc && <span>{t("visit.exifPlace", { lat: formatNumber(tag, loc.latitude, 5), lon: formatNumber(tag, loc.longitude, 5) })}</span>}
                            </figcaption>
                          </figure>
                        );
                      })}
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      ))}
      {zoom && (
        <div className="lightbox" role="dialog" aria-modal="true" aria-label={t("visit.photoFull")} onClick={() => setZoom(null)}>
          <img src={zoom} alt={t("visit.photoFull")} />
          <button type="button" className="btn secondary" autoFocus onClick={() => setZoom(null)}>
            {t("common.close")}
          </button>
        </div>
      )}
    </Section>
  );
}

function History({ data }: { data: GetVisitResponse }) {
  const { t, tag, timeZone } = useI18n();
  return (
    <Section title={t("visit.history")}>
      <ol className="history">
        {data.history.map((h, i) => (
          <li key={i}>
            <time>{formatDateTime(tag, timeZone, h.time ? timestampDate(h.time) : undefined)}</time>{" "}
            <span>
              {h.fromState === VisitState.UNSPECIFIED
                ? t("visit.recorded", { who: h.actorName || t("visit.server"), to: t(visitStateKey[h.toState]) })
                : t("visit.transition", {
                    who: h.actorName || t("visit.server"),
                    from: t(visitStateKey[h.fromState]),
                    to: t(visitStateKey[h.toState]),
                  })}
            </span>
            {h.reason && <span className="muted"> — {h.reason}</span>}
            {h.comments.length > 0 && (
              <ul>
                {h.comments.map((c, j) => (
                  <li key={j}>{c.text}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </Section>
  );
}
