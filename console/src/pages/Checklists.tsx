// Checklists: import a standards pack by drag-and-drop (every problem at
// its line and column), publish and retire versions, preview a version.
import { useMemo, useState } from "react";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { ChecklistService, ChecklistVersionState, TargetOperator, type ChecklistVersion } from "../gen/shopscore/v1/checklist_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, ErrorText, FileDrop, Listing, ListTable, Loading, Problems, Section, useAction } from "../components";
import { Link, useTitle } from "../lib/router";
import { channelKey, questionTypeKey, versionStateKey } from "../labels";
import { opSign } from "../lib/checklist";
import { importProblems, type PackProblem } from "../lib/errors";
import { formatDate, formatNumber } from "../lib/format";

export function Checklists() {
  const { t } = useI18n();
  useTitle(t("checklist.title"));
  const q = useQuery(ChecklistService.method.listChecklists, {});
  const groups = useMemo(() => {
    const m = new Map<string, ChecklistVersion[]>();
    for (const v of q.data?.versions ?? []) m.set(v.checklistId, [...(m.get(v.checklistId) ?? []), v]);
    return [...m.values()];
  }, [q.data]);
  return (
    <div className="page">
      <h1>{t("checklist.title")}</h1>
      <Import />
      <Listing query={q} count={groups.length} empty={t("checklist.empty")}>
        {groups.map((g) => <ChecklistCard key={g[0].checklistId} versions={g} />)}
      </Listing>
    </div>
  );
}

function Import() {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(ChecklistService, transport), [transport]);
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [publish, setPublish] = useState(false);
  const [problems, setProblems] = useState<PackProblem[]>([]);
  const imp = useAction(async () => {
    if (!file) throw new Error("no file");
    setProblems([]);
    try {
      const content = new Uint8Array(await file.arrayBuffer());
      const r = await client.importPack({ fileName: file.name, content, publish });
      await qc.invalidateQueries();
      return r;
    } catch (e) {
      if (e instanceof ConnectError && e.code === Code.InvalidArgument) setProblems(importProblems(e));
      throw e;
    }
  });
  const choose = (f: File | null) => {
    setFile(f);
    imp.reset();
    setProblems([]);
  };
  return (
    <Section title={t("checklist.import")}>
      <FileDrop accept=".json,application/json" prompt={t("checklist.dropHere")} file={file} onFile={choose} />
      <label className="check">
        <input type="checkbox" checked={publish} onChange={(e) => setPublish(e.target.checked)} />
        {t("checklist.publishAtOnce")}
      </label>
      <div className="actions">
        <ActionButton action={imp} label={t("checklist.importButton")} busyLabel={t("checklist.importing")} disabled={!file} />
      </div>
      {imp.result && <Done message={t("checklist.imported", { n: imp.result.versions.length })} />}
      {problems.length > 0 ? (
        <Problems problems={problems} title={t("checklist.problems", { n: problems.length })} lineLabel={t("checklist.line")} />
      ) : (
        <ErrorText error={imp.error} />
      )}
    </Section>
  );
}

function ChecklistCard({ versions }: { versions: ChecklistVersion[] }) {
  const { t, tag, timeZone } = useI18n();
  const latest = versions[versions.length - 1];
  return (
    <Section title={latest.name}>
      <p className="muted">
        {t(channelKey[latest.channel])} · <code>{latest.checklistId}</code>
      </p>
      <ListTable columns={[t("checklist.version"), t("checklist.state"), { label: t("checklist.questions"), className: "num" }, t("checklist.published"), t("common.actions")]}>
        {versions.map((v) => (
          <tr key={v.version}>
            <td data-label={t("checklist.version")}>
              <Link href={`/checklists/${encodeURIComponent(v.checklistId)}/${v.version}`}>v{v.version}</Link>
            </td>
            <td data-label={t("checklist.state")}>
              <Badge tone={v.state === ChecklistVersionState.PUBLISHED ? "ok" : v.state === ChecklistVersionState.DRAFT ? "todo" : ""}>{t(versionStateKey[v.state])}</Badge>
            </td>
            <td data-label={t("checklist.questions")} className="num">
              {v.questionCount}
            </td>
            <td data-label={t("checklist.published")}>{v.publishTime ? formatDate(tag, timeZone, timestampDate(v.publishTime)) : "—"}</td>
            <td data-label={t("common.actions")}>
              <VersionActions v={v} />
            </td>
          </tr>
        ))}
      </ListTable>
    </Section>
  );
}

function VersionActions({ v }: { v: ChecklistVersion }) {
  const { t } = useI18n();
  const transport = useTransport();
  const client = useMemo(() => createClient(ChecklistService, transport), [transport]);
  const qc = useQueryClient();
  const publish = useAction(async () => {
    const r = await client.publishVersion({ checklistId: v.checklistId, version: v.version });
    await qc.invalidateQueries();
    return r;
  });
  const retire = useAction(async () => {
    const r = await client.retireVersion({ checklistId: v.checklistId, version: v.version });
    await qc.invalidateQueries();
    return r;
  });
  return (
    <div className="row-actions">
      {v.state === ChecklistVersionState.DRAFT && <ActionButton action={publish} label={t("checklist.publish")} />}
      {v.state === ChecklistVersionState.PUBLISHED && <ActionButton action={retire} label={t("checklist.retire")} kind="danger" />}
      <ErrorText error={publish.error || retire.error} />
    </div>
  );
}

export function ChecklistPreview({ id, version }: { id: string; version: number }) {
  const { t, tag } = useI18n();
  const q = useQuery(ChecklistService.method.getChecklistVersion, { checklistId: id, version });
  const v = q.data?.version;
  useTitle(v ? v.name + " v" + v.version : t("checklist.title"));
  if (q.isPending) return <Loading />;
  if (!v)
    return (
      <div className="page">
        <ErrorText error={q.error} />
      </div>
    );
  return (
    <div className="page">
      <p>
        <Link href="/checklists">← {t("checklist.title")}</Link>
      </p>
      <h1>
        {v.name} v{v.version}
      </h1>
      <p className="muted">
        {t(versionStateKey[v.state])} · {t(channelKey[v.channel])} · {t("checklist.questionCount", { n: v.questionCount })}
        {v.contentHash && (
          <>
            {" "}
            · <code title={v.contentHash}>{v.contentHash.slice(0, 12)}</code>
          </>
        )}
      </p>
      {v.criticalCap && v.criticalCap.percent < 100 && <p>{t("checklist.criticalCap", { percent: formatNumber(tag, v.criticalCap.percent) })}</p>}
      {v.sections.map((s) => (
        <Section key={s.id} title={s.title}>
          <ol className="preview">
            {s.questions.map((qq) => (
              <li key={qq.id}>
                <div className="q">
                  <span className="q-text">{qq.text}</span>
                  <span className="q-points">{t("checklist.weight", { w: formatNumber(tag, qq.weight || 1, 1) })}</span>
                </div>
                <div className="meta">
                  <Badge>{t(questionTypeKey[qq.type])}</Badge>
                  {qq.critical && <Badge tone="bad">{t("checklist.critical")}</Badge>}
                  {qq.required && <Badge>{t("checklist.required")}</Badge>}
                  {qq.allowNa && <Badge>{t("checklist.allowNA")}</Badge>}
                  {qq.target && qq.target.operator !== TargetOperator.UNSPECIFIED && (
                    <Badge tone="todo">
                      {t("checklist.target", { op: opSign(qq.target.operator), value: formatNumber(tag, qq.target.value, Number.isInteger(qq.target.value) ? 0 : 1), unit: qq.unit })}
                    </Badge>
                  )}
                  {qq.requiredPhotoCount ? <Badge>{t("checklist.photosNeeded", { n: qq.requiredPhotoCount })}</Badge> : null}
                </div>
                {qq.options.length > 0 && <p className="small muted">{qq.options.map((o) => `${o.label} (${formatNumber(tag, o.points, 1)})`).join(" · ")}</p>}
                {qq.rules.map((r, i) => (
                  <p key={i} className="small">
                    {t("checklist.rule", {
                      when: r.whenFailed ? t("checklist.whenFailed") : t("checklist.whenAnswer", { answer: r.whenAnswer }),
                      need: [r.requireNote ? t("checklist.needNote") : "", r.requirePhotos ? t("checklist.photosNeeded", { n: r.requirePhotos }) : ""].filter(Boolean).join(", "),
                    })}
                  </p>
                ))}
                {qq.standard && (
                  <p className="small clause">
                    <strong>{qq.standard.code}</strong> {qq.standard.clause} <span className="muted">({qq.standard.category})</span>
                  </p>
                )}
              </li>
            ))}
          </ol>
        </Section>
      ))}
    </div>
  );
}
