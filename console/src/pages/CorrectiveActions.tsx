// Corrective actions: the list (a store's, the caller's own, the overdue
// ones), an action's page (the failed question with its standard and the
// visit's photos, the history, and the owner's steps: start, done with a
// note and photos of the fix, verify, reopen; giving it to another
// manager of the store or an admin, chosen by name), the actions a visit opened
// on its page, and the overdue counts on the dashboard. Proof photos are
// hashed in the browser and uploaded through the same verified path as
// shoppers' photos.
import { useMemo, useState } from "react";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { Code, createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { ActionService, ActionSeverity, ActionState, type Action } from "../gen/shopscore/v1/action_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, ErrorText, Listing, ListTable, Loading, Section, useAction } from "../components";
import { Link, setQuery, useLocation, useTitle } from "../lib/router";
import { formatDate, formatDateTime } from "../lib/format";
import { useAuth } from "../auth";
import { Role } from "../gen/shopscore/v1/auth_pb";
import { sha256Hex } from "./Appeals";

type TS = { seconds: bigint; nanos: number } | undefined;
const dateOf = (ts: TS) => (ts ? timestampDate(ts as never) : undefined);

const stateKey = {
  [ActionState.UNSPECIFIED]: "action.stateNone",
  [ActionState.OPEN]: "action.stateOpen",
  [ActionState.IN_PROGRESS]: "action.stateInProgress",
  [ActionState.DONE]: "action.stateDone",
  [ActionState.VERIFIED]: "action.stateVerified",
  [ActionState.REOPENED]: "action.stateReopened",
} as const;

const stateTone = {
  [ActionState.UNSPECIFIED]: "",
  [ActionState.OPEN]: "wait",
  [ActionState.IN_PROGRESS]: "wait",
  [ActionState.DONE]: "ok",
  [ActionState.VERIFIED]: "ok",
  [ActionState.REOPENED]: "bad",
} as const;

const severityKey = {
  [ActionSeverity.UNSPECIFIED]: "action.severityMajor",
  [ActionSeverity.CRITICAL]: "action.severityCritical",
  [ActionSeverity.MAJOR]: "action.severityMajor",
} as const;

/** dueText is an action's due day (a calendar day of the organisation). */
function dueText(tag: string, due: string): string {
  return due ? formatDate(tag, "UTC", new Date(due + "T12:00:00Z")) : "—";
}

function StateBadge({ a }: { a: Action }) {
  const { t } = useI18n();
  return (
    <>
      <Badge tone={stateTone[a.state]}>{t(stateKey[a.state])}</Badge>
      {a.overdue && <Badge tone="bad">{t("action.overdue")}</Badge>}
    </>
  );
}

function ActionTable({ actions, caption }: { actions: Action[]; caption: string }) {
  const { t, tag } = useI18n();
  return (
    <ListTable caption={caption} columns={[t("action.colQuestion"), t("action.colStore"), t("action.colSeverity"), t("action.colState"), t("action.colOwner"), t("action.colDue")]}>
      {actions.map((a) => (
        <tr key={a.id}>
          <td data-label={t("action.colQuestion")}>
            <Link href={"/actions/" + a.id}>{a.questionText}</Link>
          </td>
          <td data-label={t("action.colStore")}>
            <strong>{a.storeCode}</strong> {a.storeName}
          </td>
          <td data-label={t("action.colSeverity")}>{t(severityKey[a.severity])}</td>
          <td data-label={t("action.colState")}>
            <StateBadge a={a} />
          </td>
          <td data-label={t("action.colOwner")}>{a.ownerName || t("action.noOwner")}</td>
          <td data-label={t("action.colDue")}>{dueText(tag, a.dueDate)}</td>
        </tr>
      ))}
    </ListTable>
  );
}

/** ActionsList is /actions: mine (the default for a manager), overdue,
 * all, or one store's (?store=CODE). */
export function ActionsList() {
  const { t } = useI18n();
  const { user } = useAuth();
  const { query } = useLocation();
  const store = query.get("store") ?? "";
  const view = query.get("view") ?? (store ? "all" : user?.role === Role.MANAGER ? "mine" : "all");
  useTitle(store ? t("action.storeTitle", { store }) : t("action.title"));
  const list = useQuery(ActionService.method.listActions, { storeCode: store, mine: view === "mine", overdue: view === "overdue", pageSize: 500 });
  const actions = list.data?.actions ?? [];
  const tabs: [string, string][] = [
    ["mine", t("action.mine")],
    ["overdue", t("action.overdueTab")],
    ["all", t("action.all")],
  ];
  return (
    <div className="page">
      <h1>{store ? t("action.storeTitle", { store }) : t("action.title")}</h1>
      <p className="muted">{t("action.hint")}</p>
      <div className="state-tabs" role="group" aria-label={t("action.views")}>
        {tabs.map(([v, label]) => (
          <button key={v} type="button" className={"tab" + (view === v ? " active" : "")} aria-pressed={view === v} onClick={() => setQuery({ view: v, store })}>
            {label}
          </button>
        ))}
      </div>
      <Listing query={list} count={actions.length} empty={t("action.empty")}>
        <ActionTable actions={actions} caption={t("action.title")} />
      </Listing>
    </div>
  );
}

const photoTypes = "image/jpeg,image/png,image/heic,image/webp";

/** ActionPage is /actions/:id. */
export function ActionPage({ id }: { id: string }) {
  const { t, tag, timeZone } = useI18n();
  const { user } = useAuth();
  useTitle(t("action.pageTitle"));
  const q = useQuery(ActionService.method.getAction, { actionId: id });
  const a = q.data?.action;
  const transport = useTransport();
  const client = useMemo(() => createClient(ActionService, transport), [transport]);
  const qc = useQueryClient();
  const [note, setNote] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [reason, setReason] = useState("");
  const [invalid, setInvalid] = useState("");
  const after = async <R,>(r: R) => {
    await qc.invalidateQueries();
    return r;
  };
  const start = useAction(async () => after(await client.startAction({ actionId: id })));
  const verify = useAction(async () => after(await client.verifyAction({ actionId: id })));
  const reopen = useAction(async () => after(await client.reopenAction({ actionId: id, reason: reason.trim() })));
  const done = useAction(async () => {
    const hashed = await Promise.all(files.map(async (f) => ({ f, sha: await sha256Hex(f) })));
    const r = await client.doneAction({
      actionId: id,
      note: note.trim(),
      proof: hashed.map(({ f, sha }) => ({ sha256: sha, sizeBytes: BigInt(f.size), contentType: f.type, fileName: f.name })),
    });
    for (const [index, { f, sha }] of hashed.entries()) {
      const slot = await client.createProofUpload({ actionId: id, index, sha256: sha, sizeBytes: BigInt(f.size), contentType: f.type });
      if (!slot.alreadyVerified) {
        const headers = Object.fromEntries(Object.entries(slot.headers).filter(([k]) => k.toLowerCase() !== "content-length"));
        const put = await fetch(slot.url, { method: slot.method, headers, body: f });
        if (!put.ok) throw new Error(t("action.uploadFailed", { name: f.name, status: put.status }));
      }
      await client.finalizeProofUpload({ actionId: id, index });
    }
    setNote("");
    setFiles([]);
    return after(r);
  });
  if (q.isPending) return <Loading />;
  if (q.error || !a)
    return (
      <div className="page">
        <ErrorText error={q.error} />
        <Link href="/actions">{t("action.back")}</Link>
      </div>
    );
  const mayMove = user?.role === Role.MANAGER || user?.role === Role.ADMIN;
  const unresolved = a.state === ActionState.OPEN || a.state === ActionState.IN_PROGRESS || a.state === ActionState.REOPENED;
  const sendDone = () => {
    if (!note.trim()) return setInvalid(t("action.needNote"));
    setInvalid("");
    void done.run();
  };
  const sendReopen = () => {
    if (!reason.trim()) return setInvalid(t("action.needReason"));
    setInvalid("");
    void reopen.run();
  };
  return (
    <div className="page">
      <p>
        <Link href="/actions">{t("action.back")}</Link>
      </p>
      <h1>{a.questionText}</h1>
      <p>
        <StateBadge a={a} />
      </p>
      <dl className="facts">
        <dt>{t("action.colStore")}</dt>
        <dd>
          <Link href={"/actions?store=" + encodeURIComponent(a.storeCode)}>
            <strong>{a.storeCode}</strong> {a.storeName}
          </Link>
        </dd>
        <dt>{t("action.standard")}</dt>
        <dd>{a.standardCode ? `${a.standardCode}: ${a.standardClause}` : "—"}</dd>
        <dt>{t("action.colSeverity")}</dt>
        <dd>{t(severityKey[a.severity])}</dd>
        <dt>{t("action.colOwner")}</dt>
        <dd>{a.ownerName || t("action.noOwner")}</dd>
        <dt>{t("action.colDue")}</dt>
        <dd>{dueText(tag, a.dueDate)}</dd>
        <dt>{t("action.visit")}</dt>
        <dd>
          <Link href={"/visits/" + a.visitId}>{formatDateTime(tag, timeZone, dateOf(a.visitTime))}</Link>
        </dd>
        {a.resolvedByVisitId && (
          <>
            <dt>{t("action.resolvedBy")}</dt>
            <dd>
              <Link href={"/visits/" + a.resolvedByVisitId}>{t("action.resolvedVisit")}</Link>
            </dd>
          </>
        )}
        {a.note && (
          <>
            <dt>{t("action.note")}</dt>
            <dd>{a.note}</dd>
          </>
        )}
      </dl>
      {a.visitPhotos.length > 0 && (
        <Section title={t("action.evidence")}>
          <div className="thumbs">
            {a.visitPhotos
              .filter((p) => p.verified && p.downloadUrl)
              .map((p) => (
                <a key={p.index} href={p.downloadUrl} target="_blank" rel="noreferrer" className="thumb">
                  <img src={p.downloadUrl} alt={t("action.evidenceAlt", { n: p.index + 1 })} loading="lazy" />
                </a>
              ))}
          </div>
        </Section>
      )}
      {a.proof.length > 0 && (
        <Section title={t("action.proof")}>
          <ul className="proof">
            {a.proof.map((p) => (
              <li key={p.index}>
                {p.verified && p.downloadUrl ? (
                  <a href={p.downloadUrl} target="_blank" rel="noreferrer">
                    {p.fileName || t("action.proofPhoto", { n: p.index + 1 })}
                  </a>
                ) : (
                  p.fileName || t("action.proofPhoto", { n: p.index + 1 })
                )}{" "}
                <Badge tone={p.verified ? "ok" : "wait"}>{p.verified ? t("action.proofVerified") : t("action.proofWaiting")}</Badge>
              </li>
            ))}
          </ul>
        </Section>
      )}
      {mayMove && (
        <Section title={t("action.steps")}>
          {done.result && <Done message={t("action.doneDone")} />}
          {(a.state === ActionState.OPEN || a.state === ActionState.REOPENED) && (
            <ActionButton action={start} kind="secondary" label={t("action.start")} busyLabel={t("action.working")} />
          )}
          {unresolved && (
            <form className="return-form" onSubmit={(e) => { e.preventDefault(); sendDone(); }}>
              <label>
                {t("action.whatDone")}
                <textarea rows={3} name="note" value={note} onChange={(e) => setNote(e.target.value)} />
              </label>
              <label>
                {t("action.photos")}
                <input type="file" name="proof" multiple accept={photoTypes} onChange={(e) => setFiles([...(e.target.files ?? [])])} />
              </label>
              <div className="actions">
                <ActionButton action={done} type="submit" label={t("action.markDone")} busyLabel={t("action.working")} />
              </div>
            </form>
          )}
          {a.state === ActionState.DONE && <ActionButton action={verify} label={t("action.verify")} busyLabel={t("action.working")} />}
          {(a.state === ActionState.DONE || a.state === ActionState.VERIFIED) && (
            <form className="return-form" onSubmit={(e) => { e.preventDefault(); sendReopen(); }}>
              <label>
                {t("action.reopenReason")}
                <textarea rows={2} name="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
              </label>
              <div className="actions">
                <ActionButton action={reopen} type="submit" kind="secondary" label={t("action.reopen")} busyLabel={t("action.working")} />
              </div>
            </form>
          )}
          {invalid && (
            <p className="field-error" role="alert">
              {invalid}
            </p>
          )}
          <ErrorText error={start.error || done.error || verify.error || reopen.error} />
        </Section>
      )}
      {mayMove && a.state !== ActionState.VERIFIED && <Reassign action={a} />}
      <Section title={t("action.history")}>
        <ol className="history">
          {a.history.map((h, i) => (
            <li key={i}>
              {formatDateTime(tag, timeZone, dateOf(h.time))} · {h.actorName || t("action.system")} ·{" "}
              {h.reassigned ? t("action.reassignedTo", { name: h.ownerName }) : t(stateKey[h.to])}
              {h.note ? ` — ${h.note}` : ""}
            </li>
          ))}
        </ol>
      </Section>
    </div>
  );
}

/** Reassign gives an action to another of the users who may own it
 * (ListActionOwners: the store's managers and the admins), by name, with
 * an optional note for the history. */
function Reassign({ action: a }: { action: Action }) {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(ActionService, transport), [transport]);
  const qc = useQueryClient();
  const owners = useQuery(ActionService.method.listActionOwners, { actionId: a.id });
  const choices = (owners.data?.owners ?? []).filter((o) => !o.current && o.userId !== a.ownerId);
  const [owner, setOwner] = useState("");
  const [note, setNote] = useState("");
  const [invalid, setInvalid] = useState("");
  // The name of the last choice sent, for its refusal.
  const [tried, setTried] = useState("");
  // A choice the list no longer offers (the page refreshed after a
  // refusal) is no choice.
  const chosen = choices.find((o) => o.userId === owner);
  const reassign = useAction(async () => {
    if (!chosen) return "";
    setTried(ownerLabel(t, chosen.name, chosen.role));
    try {
      const r = await client.reassignAction({ actionId: a.id, ownerId: chosen.userId, note: note.trim() });
      setOwner("");
      setNote("");
      return r.action?.ownerName ?? chosen.name;
    } finally {
      // Refused or not, the page shows the action as it is now (a
      // refusal is most often a page older than someone else's change).
      await qc.invalidateQueries();
    }
  });
  const send = () => {
    if (!chosen) return setInvalid(t("action.needOwner"));
    setInvalid("");
    void reassign.run();
  };
  return (
    <Section title={t("action.reassign")}>
      {reassign.result && <Done message={t("action.reassigned", { name: reassign.result })} />}
      <ErrorText error={owners.error} />
      {owners.isSuccess && choices.length === 0 && <p className="muted">{t("action.noOtherOwner")}</p>}
      <form className="return-form" onSubmit={(e) => { e.preventDefault(); send(); }}>
        <label>
          {t("action.newOwner")}
          <select name="owner" value={chosen?.userId ?? ""} onChange={(e) => setOwner(e.target.value)} aria-invalid={!!invalid}>
            <option value="">{owners.isPending ? t("common.loading") : t("action.chooseOwner")}</option>
            {choices.map((o) => (
              <option key={o.userId} value={o.userId}>
                {ownerLabel(t, o.name, o.role)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("action.reassignNote")}
          <textarea rows={2} name="reassign-note" value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <div className="actions">
          <ActionButton action={reassign} type="submit" kind="secondary" label={t("action.reassignButton")} busyLabel={t("action.working")} />
        </div>
        {invalid && (
          <p className="field-error" role="alert">
            {invalid}
          </p>
        )}
      </form>
      <ErrorText
        error={reassign.error}
        byCode={{
          [Code.InvalidArgument]: t("action.reassignRefusedOwner", { name: tried || t("action.thatUser") }),
          [Code.FailedPrecondition]: t("action.reassignRefusedVerified"),
          [Code.NotFound]: t("action.reassignRefusedGone"),
          [Code.PermissionDenied]: t("action.reassignRefusedRole"),
        }}
      />
    </Section>
  );
}

/** ownerLabel names a possible owner with his role when he is an admin
 * (a manager of the store is the usual owner). */
function ownerLabel(t: ReturnType<typeof useI18n>["t"], name: string, role: Role): string {
  return role === Role.ADMIN ? t("action.ownerAdmin", { name }) : name;
}

/** VisitCorrectiveActions lists, on a visit's page, the actions it opened. */
export function VisitCorrectiveActions({ visitId }: { visitId: string }) {
  const { t } = useI18n();
  const list = useQuery(ActionService.method.listActions, { visitId, pageSize: 100 });
  const actions = list.data?.actions ?? [];
  if (actions.length === 0) return null;
  return (
    <Section title={t("action.section")}>
      <ActionTable actions={actions} caption={t("action.section")} />
    </Section>
  );
}

/** OverdueActions shows the overdue counts per store on the dashboard. */
export function OverdueActions() {
  const { t } = useI18n();
  const q = useQuery(ActionService.method.countOverdueActions, {});
  const stores = q.data?.stores ?? [];
  return (
    <Section title={t("action.overdueTitle", { n: q.data?.total ?? 0 })}>
      <ErrorText error={q.error} />
      {stores.length === 0 ? (
        <p className="muted">{t("action.noneOverdue")}</p>
      ) : (
        <ul className="overdue">
          {stores.map((s) => (
            <li key={s.storeId}>
              <Link href={"/actions?view=overdue&store=" + encodeURIComponent(s.storeCode)}>
                <strong>{s.storeCode}</strong> {s.storeName}
              </Link>{" "}
              <Badge tone="bad">{s.overdue}</Badge>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
