// Appeals: the queue of appeals with their deadlines, the ruling screen
// (each appealed question's original answer and photos beside the
// filer's reason and evidence, and the ruling), and the form a manager
// files an appeal with from a visit's page (AppealForm and
// fileWithEvidence serve the employee's own appeal on "My results" too). Evidence files are hashed in
// the browser and uploaded through the same verified path as shoppers'
// photos: the server signs an upload bound to the hash, then re-hashes
// what it holds.
import { useMemo, useRef, useState } from "react";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { AppealOutcome, AppealService, AppealState, type Appeal, type AppealQuestion } from "../gen/shopscore/v1/appeal_pb";
import { ReviewService, type GetVisitResponse } from "../gen/shopscore/v1/review_pb";
import { QuestionType, type ChecklistQuestion } from "../gen/shopscore/v1/checklist_pb";
import { VisitState, type Answer } from "../gen/shopscore/v1/sync_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, ErrorText, Listing, ListTable, Loading, Section, useAction, type ActionState, type Translate } from "../components";
import { Link, setQuery, useLocation, useTitle } from "../lib/router";
import { formatDate, formatDateTime, formatPercent } from "../lib/format";
import { useAuth } from "../auth";
import { Role } from "../gen/shopscore/v1/auth_pb";
import { answerText } from "./Visit";

type TS = { seconds: bigint; nanos: number } | undefined;
const dateOf = (ts: TS) => (ts ? timestampDate(ts as never) : undefined);

/** lastDay is the last day of an appeal window closing at deadline: the
 * window closes at the start of the next day in the organisation's time
 * zone. */
export function lastDay(tag: string, timeZone: string, deadline: TS): string {
  const d = dateOf(deadline);
  return formatDate(tag, timeZone, d ? new Date(d.getTime() - 1) : undefined);
}

/** outcomeText says how an appeal ended: open, rejected, upheld n of m. */
export function outcomeText(a: Pick<Appeal, "state"> & { questions: { outcome: AppealOutcome }[] }, t: Translate): string {
  if (a.state === AppealState.OPEN) return t("appeal.open");
  const upheld = a.questions.filter((q) => q.outcome === AppealOutcome.UPHELD).length;
  return upheld === 0 ? t("appeal.rejectedAll") : t("appeal.upheldOf", { n: upheld, of: a.questions.length });
}

export const outcomeKey = {
  [AppealOutcome.UNSPECIFIED]: "appeal.pending",
  [AppealOutcome.UPHELD]: "appeal.upheld",
  [AppealOutcome.REJECTED]: "appeal.rejected",
} as const;

export function AppealsQueue() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("appeal.queueTitle"));
  const { query } = useLocation();
  const state = Number(query.get("state") ?? AppealState.OPEN) as AppealState;
  const list = useQuery(AppealService.method.listAppeals, { state, pageSize: 500 });
  const appeals = list.data?.appeals ?? [];
  const now = Date.now();
  const tabs: [AppealState, string][] = [
    [AppealState.OPEN, t("appeal.open")],
    [AppealState.CLOSED, t("appeal.closed")],
    [AppealState.UNSPECIFIED, t("appeal.all")],
  ];
  return (
    <div className="page">
      <h1>{t("appeal.queueTitle")}</h1>
      <p className="muted">{t("appeal.queueHint")}</p>
      <div className="state-tabs" role="group" aria-label={t("appeal.byState")}>
        {tabs.map(([s, label]) => (
          <button key={s} type="button" className={"tab" + (state === s ? " active" : "")} aria-pressed={state === s} onClick={() => setQuery({ state: String(s) })}>
            {label}
          </button>
        ))}
      </div>
      <Listing query={list} count={appeals.length} empty={t("appeal.empty")}>
        <ListTable
          caption={t("appeal.queueTitle")}
          columns={[t("appeal.colVisit"), t("appeal.colStore"), t("appeal.colStaff"), t("appeal.colQuestions"), t("appeal.colFiled"), t("appeal.colDeadline"), t("appeal.colOutcome"), { label: t("appeal.colScore"), className: "num" }]}
        >
          {appeals.map((a) => {
            const deadline = dateOf(a.deadlineTime);
            const late = a.state === AppealState.OPEN && deadline !== undefined && deadline.getTime() < now;
            return (
              <tr key={a.id}>
                <td data-label={t("appeal.colVisit")}>
                  <Link href={"/appeals/" + a.id}>{formatDate(tag, timeZone, dateOf(a.visitTime))}</Link>
                </td>
                <td data-label={t("appeal.colStore")}>
                  <strong>{a.storeCode}</strong> {a.storeName}
                </td>
                <td data-label={t("appeal.colStaff")}>{a.staffName ? `${a.staffName} (${a.staffEmployeeNumber})` : t("appeal.noStaff")}</td>
                <td data-label={t("appeal.colQuestions")}>{a.questions.length}</td>
                <td data-label={t("appeal.colFiled")}>
                  {formatDateTime(tag, timeZone, dateOf(a.fileTime))} · {a.filedByName}
                </td>
                <td data-label={t("appeal.colDeadline")}>
                  {lastDay(tag, timeZone, a.deadlineTime)}
                  {late && <Badge tone="bad">{t("appeal.windowClosed")}</Badge>}
                </td>
                <td data-label={t("appeal.colOutcome")}>
                  <Badge tone={a.state === AppealState.OPEN ? "wait" : "ok"}>{outcomeText(a, t)}</Badge>
                </td>
                <td data-label={t("appeal.colScore")} className="num">
                  {a.state === AppealState.CLOSED ? `${formatPercent(tag, a.scoreBefore)} → ${formatPercent(tag, a.scoreAfter)}` : "—"}
                </td>
              </tr>
            );
          })}
        </ListTable>
      </Listing>
    </div>
  );
}

/** AmendedInput edits the amended answer of one question, by its type. */
function AmendedInput({ q, value, onChange, label }: { q: ChecklistQuestion; value: Partial<Answer>; onChange: (a: Partial<Answer>) => void; label: string }) {
  const { t } = useI18n();
  switch (q.type) {
    case QuestionType.YES_NO:
      return (
        <label>
          {label}
          <select value={value.boolValue === undefined ? "" : value.boolValue ? "yes" : "no"} onChange={(e) => onChange({ boolValue: e.target.value === "" ? undefined : e.target.value === "yes" })}>
            <option value="">{t("appeal.choose")}</option>
            <option value="yes">{t("common.yes")}</option>
            <option value="no">{t("common.no")}</option>
          </select>
        </label>
      );
    case QuestionType.SINGLE_CHOICE:
    case QuestionType.MULTI_CHOICE:
      return (
        <label>
          {label}
          <select value={value.choices?.[0] ?? ""} onChange={(e) => onChange({ choices: e.target.value ? [e.target.value] : [] })}>
            <option value="">{t("appeal.choose")}</option>
            {q.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label || o.value}
              </option>
            ))}
          </select>
        </label>
      );
    case QuestionType.TEXT:
      return (
        <label>
          {label}
          <input value={value.text ?? ""} onChange={(e) => onChange({ text: e.target.value })} />
        </label>
      );
    case QuestionType.TIMER:
      return (
        <label>
          {label} ({t("appeal.seconds")})
          <input type="number" min={0} value={value.durationMs === undefined ? "" : Number(value.durationMs) / 1000} onChange={(e) => onChange({ durationMs: e.target.value === "" ? undefined : BigInt(Math.round(Number(e.target.value) * 1000)) })} />
        </label>
      );
    default:
      return (
        <label>
          {label}
          <input type="number" value={value.numberValue ?? ""} onChange={(e) => onChange({ numberValue: e.target.value === "" ? undefined : Number(e.target.value) })} />
        </label>
      );
  }
}

type Ruling = { outcome: AppealOutcome; amended: Partial<Answer>; reason: string };

export function AppealRuling({ id }: { id: string }) {
  const { t, tag, timeZone } = useI18n();
  const { user } = useAuth();
  useTitle(t("appeal.rulingTitle"));
  const ap = useQuery(AppealService.method.getAppeal, { appealId: id });
  const appeal = ap.data?.appeal;
  const visit = useQuery(ReviewService.method.getVisit, { visitId: appeal?.visitId ?? "" }, { enabled: !!appeal });
  const transport = useTransport();
  const client = useMemo(() => createClient(AppealService, transport), [transport]);
  const qc = useQueryClient();
  const [rulings, setRulings] = useState<Record<string, Ruling>>({});
  const [invalid, setInvalid] = useState("");
  const rule = useAction(async () => {
    const r = await client.ruleAppeal({
      appealId: id,
      rulings: appeal!.questions.map((q) => {
        const x = rulings[q.questionId];
        return {
          questionId: q.questionId,
          outcome: x?.outcome ?? AppealOutcome.UNSPECIFIED,
          amendedAnswer: x?.outcome === AppealOutcome.UPHELD ? { questionId: q.questionId, choices: [], photoHashes: [], na: false, text: "", note: "", ...x.amended } : undefined,
          reason: x?.reason.trim() ?? "",
        };
      }),
    });
    await qc.invalidateQueries();
    return r;
  });
  if (ap.isPending) return <Loading />;
  if (ap.error || !appeal)
    return (
      <div className="page">
        <ErrorText error={ap.error} />
        <Link href="/appeals">{t("appeal.back")}</Link>
      </div>
    );
  const d: GetVisitResponse | undefined = visit.data;
  const questions = new Map((d?.checklist?.sections ?? []).flatMap((s) => s.questions).map((q) => [q.id, q]));
  const answers = new Map((d?.visit?.answers ?? []).map((a) => [a.questionId, a]));
  const open = appeal.state === AppealState.OPEN;
  const mayRule = open && (user?.role === Role.MANAGER || user?.role === Role.HR);
  const send = () => {
    for (const q of appeal.questions) {
      const x = rulings[q.questionId];
      if (!x || x.outcome === AppealOutcome.UNSPECIFIED) return setInvalid(t("appeal.needOutcome", { question: q.questionText || q.questionId }));
      if (x.outcome === AppealOutcome.REJECTED && !x.reason.trim()) return setInvalid(t("appeal.needReason", { question: q.questionText || q.questionId }));
      if (x.outcome === AppealOutcome.UPHELD && Object.values(x.amended).every((v) => v === undefined || (Array.isArray(v) && v.length === 0) || v === ""))
        return setInvalid(t("appeal.needAmended", { question: q.questionText || q.questionId }));
    }
    setInvalid("");
    void rule.run();
  };
  const set = (qid: string, change: Partial<Ruling>) =>
    setRulings({ ...rulings, [qid]: { ...(rulings[qid] ?? { outcome: AppealOutcome.UNSPECIFIED, amended: {}, reason: "" }), ...change } });

  return (
    <div className="page appeal">
      <p>
        <Link href="/appeals">← {t("appeal.back")}</Link>
      </p>
      <div className="visit-head">
        <div>
          <h1>
            {t("appeal.rulingTitle")}: {appeal.storeCode} · {appeal.storeName}
          </h1>
          <p className="muted">
            {t("appeal.visitOf", { date: formatDateTime(tag, timeZone, dateOf(appeal.visitTime)) })} ·{" "}
            <Link href={"/visits/" + appeal.visitId}>{t("appeal.openVisit")}</Link>
          </p>
        </div>
        <div className="score-big">
          {open ? formatPercent(tag, d?.summary?.scorePercent) : `${formatPercent(tag, appeal.scoreBefore)} → ${formatPercent(tag, appeal.scoreAfter)}`}
          <Badge tone={open ? "wait" : "ok"}>{outcomeText(appeal, t)}</Badge>
        </div>
      </div>
      <dl className="facts">
        <dt>{t("appeal.colStaff")}</dt>
        <dd>{appeal.staffName ? `${appeal.staffName} (${appeal.staffEmployeeNumber})` : t("appeal.noStaff")}</dd>
        <dt>{t("appeal.filedBy")}</dt>
        <dd>
          {appeal.filedByName} · {formatDateTime(tag, timeZone, dateOf(appeal.fileTime))}
        </dd>
        <dt>{t("appeal.colDeadline")}</dt>
        <dd>{lastDay(tag, timeZone, appeal.deadlineTime)}</dd>
        {!open && (
          <>
            <dt>{t("appeal.ruledBy")}</dt>
            <dd>
              {appeal.ruledByName} · {formatDateTime(tag, timeZone, dateOf(appeal.ruleTime))}
            </dd>
          </>
        )}
      </dl>
      {mayRule && <p className="muted small">{t("appeal.fourEyes")}</p>}
      {rule.result && <Done message={t("appeal.ruledDone")} />}
      {appeal.questions.map((q: AppealQuestion) => {
        const cq = questions.get(q.questionId);
        const photos = (d?.photos ?? []).filter((p) => p.questionId === q.questionId && p.verified && p.downloadUrl);
        const x = rulings[q.questionId];
        return (
          <Section key={q.questionId} title={q.questionText || q.questionId}>
            <div className="side-by-side">
              <div>
                <h3>{t("appeal.original")}</h3>
                <p>
                  <strong>{cq ? answerText(answers.get(q.questionId), cq, t, tag) : "…"}</strong>
                </p>
                {answers.get(q.questionId)?.note && <p className="note">{t("visit.note", { text: answers.get(q.questionId)!.note })}</p>}
                <div className="photos">
                  {photos.map((p) => (
                    <a key={p.index} href={p.downloadUrl} target="_blank" rel="noreferrer" className="thumb">
                      <img src={p.downloadUrl} alt={t("visit.photoAlt", { n: p.index + 1, question: q.questionText })} loading="lazy" />
                    </a>
                  ))}
                </div>
              </div>
              <div>
                <h3>{t("appeal.grounds")}</h3>
                <p className="pre">{q.reason}</p>
                {q.evidence.length > 0 && (
                  <ul className="evidence">
                    {q.evidence.map((e) => (
                      <li key={e.index}>
                        {e.verified && e.downloadUrl ? (
                          e.contentType === "application/pdf" ? (
                            <a href={e.downloadUrl} target="_blank" rel="noreferrer">
                              {t("appeal.pdf", { name: e.fileName || e.sha256.slice(0, 12) })}
                            </a>
                          ) : (
                            <a href={e.downloadUrl} target="_blank" rel="noreferrer" className="thumb">
                              <img src={e.downloadUrl} alt={e.fileName || t("appeal.evidencePhoto")} loading="lazy" />
                            </a>
                          )
                        ) : (
                          <span className="muted">{t("appeal.notUploaded", { name: e.fileName || e.sha256.slice(0, 12) })}</span>
                        )}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </div>
            {!open && (
              <p>
                <Badge tone={q.outcome === AppealOutcome.UPHELD ? "ok" : "bad"}>{t(outcomeKey[q.outcome])}</Badge>{" "}
                {q.amendedAnswer && cq && t("appeal.amendedTo", { answer: answerText(q.amendedAnswer, cq, t, tag) })} {q.rulingReason && <span className="muted">— {q.rulingReason}</span>}
              </p>
            )}
            {mayRule && cq && (
              <fieldset className="ruling">
                <legend>{t("appeal.ruling")}</legend>
                <label className="check">
                  <input type="radio" name={"o-" + q.questionId} checked={x?.outcome === AppealOutcome.UPHELD} onChange={() => set(q.questionId, { outcome: AppealOutcome.UPHELD })} />
                  {t("appeal.uphold")}
                </label>
                <label className="check">
                  <input type="radio" name={"o-" + q.questionId} checked={x?.outcome === AppealOutcome.REJECTED} onChange={() => set(q.questionId, { outcome: AppealOutcome.REJECTED })} />
                  {t("appeal.reject")}
                </label>
                {x?.outcome === AppealOutcome.UPHELD && <AmendedInput q={cq} value={x.amended} label={t("appeal.amended")} onChange={(amended) => set(q.questionId, { amended })} />}
                <label>
                  {t("appeal.reason")}
                  <textarea rows={2} value={x?.reason ?? ""} onChange={(e) => set(q.questionId, { reason: e.target.value })} />
                </label>
              </fieldset>
            )}
          </Section>
        );
      })}
      {mayRule && (
        <div className="actions">
          {invalid && (
            <p className="field-error" role="alert">
              {invalid}
            </p>
          )}
          <button type="button" className="btn primary" disabled={rule.busy} onClick={send}>
            {rule.busy ? t("appeal.ruling") + "…" : t("appeal.rule")}
          </button>
        </div>
      )}
      <ErrorText error={rule.error || visit.error} />
    </div>
  );
}

/** sha256Hex hashes a file's bytes in the browser. */
export async function sha256Hex(f: File): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await f.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const evidenceTypes = "image/jpeg,image/png,image/heic,image/webp,application/pdf";

/** AppealPicks are the questions chosen in an appeal form, each with its
 * reason and evidence files. */
export type AppealPicks = Record<string, { reason: string; files: File[] }>;

/** EvidenceFiler is how an appeal is filed and its evidence uploaded: by
 * a manager through AppealService, by the employee through his own
 * MyResultsService. */
export type EvidenceFiler = {
  file: (questions: { questionId: string; reason: string; evidence: { sha256: string; sizeBytes: bigint; contentType: string; fileName: string }[] }[]) => Promise<string>;
  createUpload: (r: { appealId: string; questionId: string; index: number; sha256: string; sizeBytes: bigint; contentType: string }) => Promise<{ alreadyVerified: boolean; url: string; method: string; headers: Record<string, string> }>;
  finalize: (r: { appealId: string; questionId: string; index: number }) => Promise<unknown>;
};

/** fileWithEvidence hashes the chosen files in the browser, files the
 * appeal declaring them, then uploads each through the signed path bound
 * to its hash and has the server re-hash it. It returns the appeal's id. */
export async function fileWithEvidence(picked: AppealPicks, filer: EvidenceFiler, t: Translate): Promise<string> {
  const withHashes = await Promise.all(
    Object.entries(picked).map(async ([qid, p]) => ({ qid, reason: p.reason.trim(), files: await Promise.all(p.files.map(async (f) => ({ f, sha: await sha256Hex(f) }))) })),
  );
  const id = await filer.file(
    withHashes.map((q) => ({
      questionId: q.qid,
      reason: q.reason,
      evidence: q.files.map(({ f, sha }) => ({ sha256: sha, sizeBytes: BigInt(f.size), contentType: f.type, fileName: f.name })),
    })),
  );
  for (const q of withHashes) {
    for (const [index, { f, sha }] of q.files.entries()) {
      const slot = await filer.createUpload({ appealId: id, questionId: q.qid, index, sha256: sha, sizeBytes: BigInt(f.size), contentType: f.type });
      if (!slot.alreadyVerified) {
        const headers = Object.fromEntries(Object.entries(slot.headers).filter(([k]) => k.toLowerCase() !== "content-length"));
        const put = await fetch(slot.url, { method: slot.method, headers, body: f });
        if (!put.ok) throw new Error(t("appeal.uploadFailed", { name: f.name, status: put.status }));
      }
      await filer.finalize({ appealId: id, questionId: q.qid, index });
    }
  }
  return id;
}

/** useAppealFiling is the state of filing an appeal through filer:
 * whether the form is open, the action that hashes, files and uploads,
 * and send, which starts it with the questions chosen. */
export function useAppealFiling(filer: EvidenceFiler) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [filing, setFiling] = useState(false);
  const picked = useRef<AppealPicks>({});
  const file = useAction(async () => {
    const id = await fileWithEvidence(picked.current, filer, t);
    await qc.invalidateQueries();
    setFiling(false);
    return id;
  });
  const send = (p: AppealPicks) => {
    picked.current = p;
    void file.run();
  };
  return { filing, setFiling, file, send };
}

/** AppealForm chooses the questions of an appeal, a reason each and
 * optional evidence; onSend is called once every chosen question has a
 * reason. */
export function AppealForm({
  questions,
  action,
  onSend,
  onCancel,
  hint,
}: {
  questions: { id: string; text: string; answer: string }[];
  action: ActionState<unknown>;
  onSend: (picked: AppealPicks) => void;
  onCancel: () => void;
  hint?: string;
}) {
  const { t } = useI18n();
  const [picked, setPicked] = useState<AppealPicks>({});
  const [invalid, setInvalid] = useState("");
  const send = () => {
    const chosen = Object.entries(picked);
    if (chosen.length === 0) return setInvalid(t("appeal.needQuestion"));
    const noReason = chosen.find(([, p]) => !p.reason.trim());
    if (noReason) return setInvalid(t("appeal.needGrounds", { question: questions.find((q) => q.id === noReason[0])?.text ?? noReason[0] }));
    setInvalid("");
    onSend(picked);
  };
  return (
    <form
      className="return-form appeal-form"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <h3>{t("appeal.fileTitle")}</h3>
      {hint && <p className="muted small">{hint}</p>}
      {questions.map((q) => {
        const p = picked[q.id];
        return (
          <fieldset key={q.id} className="appeal-question">
            <label className="check">
              <input
                type="checkbox"
                checked={!!p}
                data-question={q.id}
                onChange={(e) => {
                  const next = { ...picked };
                  if (e.target.checked) next[q.id] = { reason: "", files: [] };
                  else delete next[q.id];
                  setPicked(next);
                }}
              />
              {q.text} — <span className="muted">{q.answer}</span>
            </label>
            {p && (
              <>
                <label>
                  {t("appeal.grounds")}
                  <textarea rows={2} data-question={q.id} value={p.reason} onChange={(e) => setPicked({ ...picked, [q.id]: { ...p, reason: e.target.value } })} />
                </label>
                <label>
                  {t("appeal.evidence")}
                  <input type="file" multiple accept={evidenceTypes} data-question={q.id} onChange={(e) => setPicked({ ...picked, [q.id]: { ...p, files: [...(e.target.files ?? [])] } })} />
                </label>
              </>
            )}
          </fieldset>
        );
      })}
      {invalid && (
        <p className="field-error" role="alert">
          {invalid}
        </p>
      )}
      <div className="actions">
        <ActionButton action={action} type="submit" label={t("appeal.send")} busyLabel={t("appeal.sending")} />
        <button type="button" className="btn secondary" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

/** VisitAppeals lists the appeals of a visit and, for a manager, files a
 * new one while the visit is approved or published. */
export function VisitAppeals({ data }: { data: GetVisitResponse }) {
  const { t, tag, timeZone } = useI18n();
  const { user } = useAuth();
  const s = data.summary!;
  const list = useQuery(AppealService.method.listAppeals, { visitId: s.id, pageSize: 100 });
  const transport = useTransport();
  const client = useMemo(() => createClient(AppealService, transport), [transport]);
  const questions = (data.checklist?.sections ?? []).flatMap((x) => x.questions);
  const { filing, setFiling, file, send } = useAppealFiling({
    file: async (questions) => (await client.fileAppeal({ visitId: s.id, questions })).appeal!.id,
    createUpload: (r) => client.createEvidenceUpload(r),
    finalize: (r) => client.finalizeEvidenceUpload(r),
  });
  const appeals = list.data?.appeals ?? [];
  const may = user?.role === Role.MANAGER && (s.state === VisitState.APPROVED || s.state === VisitState.PUBLISHED) && !appeals.some((a) => a.state === AppealState.OPEN);
  if (appeals.length === 0 && !may) return null;
  return (
    <Section title={t("appeal.section")}>
      {file.result && <Done message={t("appeal.filedDone")} />}
      {appeals.length > 0 && (
        <ul className="appeals">
          {appeals.map((a) => (
            <li key={a.id}>
              <Link href={"/appeals/" + a.id}>{t("appeal.filedOn", { date: formatDateTime(tag, timeZone, dateOf(a.fileTime)), who: a.filedByName })}</Link>{" "}
              <Badge tone={a.state === AppealState.OPEN ? "wait" : "ok"}>{outcomeText(a, t)}</Badge>
            </li>
          ))}
        </ul>
      )}
      {may && !filing && (
        <>
          <p className="muted small">{t("appeal.fileHint")}</p>
          <button type="button" className="btn secondary" onClick={() => setFiling(true)}>
            {t("appeal.file")}
          </button>
        </>
      )}
      {may && filing && (
        <AppealForm
          questions={questions.map((q) => ({ id: q.id, text: q.text, answer: answerText((data.visit?.answers ?? []).find((a) => a.questionId === q.id), q, t, tag) }))}
          action={file}
          onSend={send}
          onCancel={() => setFiling(false)}
        />
      )}
      <ErrorText error={file.error || list.error} />
    </Section>
  );
}
