// Integration tokens: long-lived, scoped API tokens of service accounts
// (a BI tool, a script), made by an admin, shown once, revocable, with
// their last use (issue 16 §5).
import { useMemo, useState, type FormEvent } from "react";
import { createClient } from "@connectrpc/connect";
import { useQuery, useTransport } from "@connectrpc/connect-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { AdminService, type IntegrationToken } from "../gen/shopscore/v1/admin_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Field, FormCard, Listing, ListTable, Section, useAction } from "../components";
import { useTitle } from "../lib/router";
import { formatDateTime } from "../lib/format";
import type { MessageKey } from "../i18n/en";

const scopes: { scope: string; key: MessageKey }[] = [
  { scope: "reports", key: "tokens.scope_reports" },
  { scope: "webhooks", key: "tokens.scope_webhooks" },
];

function useAdmin() {
  const transport = useTransport();
  return useMemo(() => createClient(AdminService, transport), [transport]);
}

export function Tokens() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("tokens.title"));
  const q = useQuery(AdminService.method.listIntegrationTokens, {});
  const tokens = q.data?.tokens ?? [];
  const when = (ts?: Parameters<typeof timestampDate>[0]) => (ts ? formatDateTime(tag, timeZone, timestampDate(ts)) : t("tokens.never"));
  const scopeLabel = (s: string) => {
    const known = scopes.find((x) => x.scope === s);
    return known ? t(known.key) : s;
  };
  return (
    <div className="page">
      <h1>{t("tokens.title")}</h1>
      <p className="muted">{t("tokens.intro")}</p>
      <CreateToken />
      <Section title={t("tokens.list")}>
        <Listing query={q} count={tokens.length} empty={t("tokens.empty")}>
          <ListTable columns={[t("tokens.name"), t("tokens.scopes"), t("tokens.created"), t("tokens.lastUsed"), t("tokens.state"), t("common.actions")]}>
            {tokens.map((tk) => (
              <tr key={tk.id}>
                <td data-label={t("tokens.name")}>
                  <strong>{tk.name}</strong>
                </td>
                <td data-label={t("tokens.scopes")}>{tk.scopes.map(scopeLabel).join(", ")}</td>
                <td data-label={t("tokens.created")}>
                  {when(tk.createTime)}
                  {tk.createdByName && <div className="muted">{tk.createdByName}</div>}
                </td>
                <td data-label={t("tokens.lastUsed")}>{when(tk.lastUsedTime)}</td>
                <td data-label={t("tokens.state")}>
                  {tk.revokeTime ? (
                    <Badge tone="bad">{t("tokens.revokedAt", { when: when(tk.revokeTime), name: tk.revokedByName || "—" })}</Badge>
                  ) : (
                    <Badge tone="ok">{t("tokens.live")}</Badge>
                  )}
                </td>
                <td data-label={t("common.actions")}>{!tk.revokeTime && <Revoke token={tk} />}</td>
              </tr>
            ))}
          </ListTable>
        </Listing>
      </Section>
      <Section title={t("tokens.exportTitle")}>
        <p>{t("tokens.exportHow")}</p>
        <pre className="code">{`GET ${location.origin}/exports/visits.csv?since=<cursor>\nGET ${location.origin}/exports/visits.jsonl?per=visit&since=<cursor>\nAuthorization: Bearer sst_…`}</pre>
      </Section>
    </div>
  );
}

function CreateToken() {
  const { t } = useI18n();
  const client = useAdmin();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<string[]>(["reports"]);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const create = useAction(async () => {
    const r = await client.createIntegrationToken({ name: name.trim(), scopes: chosen });
    await qc.invalidateQueries();
    setName("");
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!name.trim()) errs.name = t("tokens.needName");
    if (chosen.length === 0) errs.scopes = t("tokens.needScope");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void create.run();
  };
  return (
    <FormCard title={t("tokens.create")} onSubmit={submit} action={create} label={t("tokens.createButton")}>
      <Field label={t("tokens.name")} hint={t("tokens.nameHint")} error={invalid.name}>
        {(id, described) => <input id={id} maxLength={200} value={name} onChange={(e) => setName(e.target.value)} aria-describedby={described} aria-invalid={!!invalid.name} />}
      </Field>
      <fieldset className="field">
        <legend>{t("tokens.scopes")}</legend>
        <div className="checks">
          {scopes.map(({ scope, key }) => (
            <label key={scope} className="check">
              <input type="checkbox" checked={chosen.includes(scope)} onChange={() => setChosen(chosen.includes(scope) ? chosen.filter((x) => x !== scope) : [...chosen, scope])} />
              {t(key)} <small className="muted">{scope}</small>
            </label>
          ))}
        </div>
      </fieldset>
      {invalid.scopes && <small className="field-error">{invalid.scopes}</small>}
      {create.result && (
        <div className="secret-once" role="status">
          <p>
            <strong>{t("tokens.secretOnce")}</strong>
          </p>
          <code className="secret">{create.result.secret}</code>
        </div>
      )}
    </FormCard>
  );
}

function Revoke({ token }: { token: IntegrationToken }) {
  const { t } = useI18n();
  const client = useAdmin();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const revoke = useAction(async () => {
    const r = await client.revokeIntegrationToken({ tokenId: token.id });
    await qc.invalidateQueries();
    return r;
  });
  if (!confirm)
    return (
      <button type="button" className="btn danger small" onClick={() => setConfirm(true)}>
        {t("tokens.revoke")}
      </button>
    );
  return (
    <div className="row-actions">
      <span>{t("tokens.confirmRevoke", { name: token.name })}</span>
      <ActionButton action={revoke} label={t("tokens.revoke")} kind="danger" />
      <button type="button" className="btn secondary small" onClick={() => setConfirm(false)}>
        {t("common.cancel")}
      </button>
    </div>
  );
}
