// Webhooks: the endpoints that receive shopscore's events, their secrets
// (shown once), and each endpoint's delivery log with "send again" and a
// test event (docs/DESIGN.md §11).
import { useMemo, useState, type FormEvent } from "react";
import { createClient } from "@connectrpc/connect";
import { useInfiniteQuery, useQuery, useTransport } from "@connectrpc/connect-query";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQueryClient } from "@tanstack/react-query";
import { WebhookDeliveryState, WebhookService, type WebhookDelivery, type WebhookEndpoint } from "../gen/shopscore/v1/webhook_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Badge, Done, ErrorText, FormCard, Listing, ListTable, More, Section, useAction } from "../components";
import { useTitle } from "../lib/router";
import { formatDateTime } from "../lib/format";
import { en, type MessageKey } from "../i18n/en";

function useHooks() {
  const transport = useTransport();
  return useMemo(() => createClient(WebhookService, transport), [transport]);
}

/**
 * The label of an event type: its catalog entry "webhooks.ev_<type with
 * _ for .>", or the type itself for one this console does not know yet.
 */
function useEventLabel() {
  const { t } = useI18n();
  return (type: string) => {
    const key = `webhooks.ev_${type.replace(/\./g, "_")}` as MessageKey;
    return key in en ? t(key) : type;
  };
}

const stateLabels: Record<WebhookDeliveryState, { key: MessageKey; tone: string }> = {
  [WebhookDeliveryState.UNSPECIFIED]: { key: "webhooks.statePending", tone: "" },
  [WebhookDeliveryState.PENDING]: { key: "webhooks.statePending", tone: "" },
  [WebhookDeliveryState.DELIVERED]: { key: "webhooks.stateDelivered", tone: "ok" },
  [WebhookDeliveryState.FAILING]: { key: "webhooks.stateFailing", tone: "bad" },
  [WebhookDeliveryState.UNSENDABLE]: { key: "webhooks.stateUnsendable", tone: "bad" },
};

/** The secret, shown this once. */
function SecretOnce({ secret }: { secret: string }) {
  const { t } = useI18n();
  return (
    <div className="secret-once" role="status">
      <p>
        <strong>{t("webhooks.secretOnce")}</strong>
      </p>
      <code className="secret">{secret}</code>
    </div>
  );
}

function EventTypeChecks({ all, chosen, onChange, legend }: { all: string[]; chosen: string[]; onChange: (v: string[]) => void; legend: string }) {
  const label = useEventLabel();
  return (
    <fieldset className="field">
      <legend>{legend}</legend>
      <div className="checks">
        {all.map((type) => (
          <label key={type} className="check">
            <input type="checkbox" checked={chosen.includes(type)} onChange={() => onChange(chosen.includes(type) ? chosen.filter((x) => x !== type) : [...chosen, type])} />
            {label(type)} <small className="muted">{type}</small>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function Webhooks() {
  const { t } = useI18n();
  useTitle(t("webhooks.title"));
  const q = useQuery(WebhookService.method.listWebhookEndpoints, {});
  const endpoints = q.data?.endpoints ?? [];
  const types = q.data?.eventTypes ?? [];
  return (
    <div className="page">
      <h1>{t("webhooks.title")}</h1>
      <p className="muted">{t("webhooks.intro")}</p>
      <CreateEndpoint types={types} />
      <Section title={t("webhooks.endpoints")}>
        <Listing query={q} count={endpoints.length} empty={t("webhooks.empty")}>
          <ListTable columns={[t("webhooks.url"), t("webhooks.events"), t("webhooks.state"), t("webhooks.created"), t("common.actions")]}>
            {endpoints.map((e) => (
              <EndpointRow key={e.id} e={e} types={types} />
            ))}
          </ListTable>
        </Listing>
      </Section>
    </div>
  );
}

/** EndpointRow is an endpoint's row, and below it, when open, its
 * delivery log across the table's width. */
function EndpointRow({ e, types }: { e: WebhookEndpoint; types: string[] }) {
  const { t, tag, timeZone } = useI18n();
  const label = useEventLabel();
  const [log, setLog] = useState(false);
  return (
    <>
      <tr>
        <td data-label={t("webhooks.url")}>
          <strong className="break">{e.url}</strong>
          {e.description && <div className="muted">{e.description}</div>}
        </td>
        <td data-label={t("webhooks.events")}>{e.eventTypes.map(label).join(", ")}</td>
        <td data-label={t("webhooks.state")}>
          {e.disabled ? (
            <Badge>{t("webhooks.disabled")}</Badge>
          ) : e.failingSince ? (
            <Badge tone="bad">{t("webhooks.failingSince", { when: formatDateTime(tag, timeZone, timestampDate(e.failingSince)) })}</Badge>
          ) : (
            <Badge tone="ok">{t("webhooks.active")}</Badge>
          )}
          {e.previousSecretRetiresAt && <div className="muted">{t("webhooks.oldSecretUntil", { when: formatDateTime(tag, timeZone, timestampDate(e.previousSecretRetiresAt)) })}</div>}
        </td>
        <td data-label={t("webhooks.created")}>{formatDateTime(tag, timeZone, e.createdAt && timestampDate(e.createdAt))}</td>
        <td data-label={t("common.actions")}>
          <EndpointActions e={e} types={types} log={log} setLog={setLog} />
        </td>
      </tr>
      {log && (
        <tr className="log-row">
          <td colSpan={5}>
            <DeliveryLog endpointId={e.id} />
          </td>
        </tr>
      )}
    </>
  );
}

function CreateEndpoint({ types }: { types: string[] }) {
  const { t } = useI18n();
  const client = useHooks();
  const qc = useQueryClient();
  const [url, setURL] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const create = useAction(async () => {
    const r = await client.createWebhookEndpoint({ url: url.trim(), description: description.trim(), eventTypes: chosen });
    await qc.invalidateQueries();
    setURL("");
    setDescription("");
    setChosen([]);
    return r;
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!/^https?:\/\/\S+$/.test(url.trim())) errs.url = t("webhooks.urlInvalid");
    if (chosen.length === 0) errs.types = t("webhooks.needType");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void create.run();
  };
  return (
    <FormCard title={t("webhooks.create")} intro={<p className="muted">{t("webhooks.urlRule")}</p>} onSubmit={submit} action={create} label={t("webhooks.createButton")}>
      <div className={"field" + (invalid.url ? " invalid" : "")}>
        <label htmlFor="w-url">{t("webhooks.url")}</label>
        <input id="w-url" type="url" inputMode="url" autoComplete="off" placeholder="https://" value={url} onChange={(e) => setURL(e.target.value)} aria-invalid={!!invalid.url} />
        {invalid.url && <small className="field-error">{invalid.url}</small>}
      </div>
      <div className="field">
        <label htmlFor="w-desc">{t("webhooks.description")}</label>
        <input id="w-desc" maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <EventTypeChecks all={types} chosen={chosen} onChange={setChosen} legend={t("webhooks.events")} />
      {invalid.types && <small className="field-error">{invalid.types}</small>}
      {create.result && <SecretOnce secret={create.result.secret} />}
    </FormCard>
  );
}

function EndpointActions({ e, types, log, setLog }: { e: WebhookEndpoint; types: string[]; log: boolean; setLog: (open: boolean) => void }) {
  const { t } = useI18n();
  const client = useHooks();
  const qc = useQueryClient();
  const [mode, setMode] = useState<"" | "edit" | "delete">("");
  const [chosen, setChosen] = useState<string[]>(e.eventTypes);
  const [url, setURL] = useState(e.url);
  const [description, setDescription] = useState(e.description);
  const refresh = async <T,>(p: Promise<T>) => {
    const r = await p;
    await qc.invalidateQueries();
    return r;
  };
  const update = (patch: Partial<{ url: string; description: string; eventTypes: string[]; disabled: boolean }>) =>
    client.updateWebhookEndpoint({ id: e.id, url: e.url, description: e.description, eventTypes: e.eventTypes, disabled: e.disabled, ...patch });
  const toggle = useAction(() => refresh(update({ disabled: !e.disabled })));
  const save = useAction(async () => {
    const r = await refresh(update({ url: url.trim(), description: description.trim(), eventTypes: chosen }));
    setMode("");
    return r;
  });
  const rotate = useAction(() => refresh(client.rotateWebhookSecret({ id: e.id, overlapSeconds: 0n })));
  const test = useAction(() => refresh(client.sendTestWebhook({ endpointId: e.id })));
  const remove = useAction(() => refresh(client.deleteWebhookEndpoint({ id: e.id })));
  const error = toggle.error || save.error || rotate.error || test.error || remove.error;
  return (
    <div className="row-actions">
      {mode === "" && (
        <>
          <button type="button" className="btn secondary small" aria-expanded={log} onClick={() => setLog(!log)}>
            {t("webhooks.log")}
          </button>
          <ActionButton action={test} label={t("webhooks.test")} kind="secondary" />
          <button type="button" className="btn secondary small" onClick={() => setMode("edit")}>
            {t("common.edit")}
          </button>
          <ActionButton action={toggle} label={e.disabled ? t("webhooks.enable") : t("webhooks.disable")} kind="secondary" />
          <ActionButton action={rotate} label={t("webhooks.rotate")} kind="secondary" />
          <button type="button" className="btn danger small" onClick={() => setMode("delete")}>
            {t("webhooks.delete")}
          </button>
        </>
      )}
      {mode === "edit" && (
        <form
          className="grid-form"
          onSubmit={(ev) => {
            ev.preventDefault();
            void save.run();
          }}
        >
          <div className="field">
            <label htmlFor={"w-url-" + e.id}>{t("webhooks.url")}</label>
            <input id={"w-url-" + e.id} type="url" value={url} onChange={(ev) => setURL(ev.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={"w-desc-" + e.id}>{t("webhooks.description")}</label>
            <input id={"w-desc-" + e.id} maxLength={200} value={description} onChange={(ev) => setDescription(ev.target.value)} />
          </div>
          <EventTypeChecks all={types} chosen={chosen} onChange={setChosen} legend={t("webhooks.events")} />
          <div className="actions">
            <ActionButton action={save} type="submit" label={t("common.save")} disabled={chosen.length === 0} />
            <button type="button" className="btn secondary small" onClick={() => setMode("")}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
      {mode === "delete" && (
        <>
          <span>{t("webhooks.confirmDelete")}</span>
          <ActionButton action={remove} label={t("webhooks.delete")} kind="danger" />
          <button type="button" className="btn secondary small" onClick={() => setMode("")}>
            {t("common.cancel")}
          </button>
        </>
      )}
      {rotate.result && <SecretOnce secret={rotate.result.secret} />}
      {rotate.result && <Done message={t("webhooks.rotated")} />}
      {test.result && <Done message={t("webhooks.testQueued")} />}
      <ErrorText error={error} />
    </div>
  );
}

function DeliveryLog({ endpointId }: { endpointId: string }) {
  const { t, tag, timeZone } = useI18n();
  const label = useEventLabel();
  const q = useInfiniteQuery(
    WebhookService.method.listWebhookDeliveries,
    { endpointId, pageSize: 20, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (p) => p.nextPageToken || undefined },
  );
  const deliveries = q.data?.pages.flatMap((p) => p.deliveries) ?? [];
  return (
    <div className="delivery-log">
      <h3>{t("webhooks.log")}</h3>
      <button type="button" className="btn secondary small" onClick={() => void q.refetch()} disabled={q.isFetching}>
        {t("events.reload")}
      </button>
      <Listing query={q} count={deliveries.length} empty={t("webhooks.logEmpty")}>
        <ListTable columns={[t("webhooks.created"), t("webhooks.event"), t("webhooks.state"), t("webhooks.attempts"), t("common.actions")]}>
          {deliveries.map((d) => (
            <tr key={d.id}>
              <td data-label={t("webhooks.created")}>{formatDateTime(tag, timeZone, d.createdAt && timestampDate(d.createdAt))}</td>
              <td data-label={t("webhooks.event")}>
                {label(d.eventType)}
                <div>
                  <small className="muted">{d.eventId}</small>
                </div>
              </td>
              <td data-label={t("webhooks.state")}>
                <Badge tone={stateLabels[d.state].tone}>{t(stateLabels[d.state].key)}</Badge>
                {d.nextAttemptAt && <div className="muted">{t("webhooks.nextAttempt", { when: formatDateTime(tag, timeZone, timestampDate(d.nextAttemptAt)) })}</div>}
              </td>
              <td data-label={t("webhooks.attempts")}>
                <Attempts d={d} />
              </td>
              <td data-label={t("common.actions")}>
                <Redeliver d={d} />
              </td>
            </tr>
          ))}
        </ListTable>
      </Listing>
      <More list={q} />
    </div>
  );
}

function Attempts({ d }: { d: WebhookDelivery }) {
  const { t, tag, timeZone } = useI18n();
  if (d.attempts.length === 0) return <span className="muted">{t("webhooks.noAttempt")}</span>;
  return (
    <ol className="attempts">
      {d.attempts.map((a, i) => (
        <li key={i}>
          {formatDateTime(tag, timeZone, a.startedAt && timestampDate(a.startedAt))} ·{" "}
          <Badge tone={a.statusCode >= 200 && a.statusCode < 300 ? "ok" : "bad"}>{a.statusCode ? "HTTP " + a.statusCode : t("webhooks.noAnswer")}</Badge>
          {a.error && a.error !== "HTTP " + a.statusCode && <small className="muted"> {a.error}</small>}
        </li>
      ))}
    </ol>
  );
}

function Redeliver({ d }: { d: WebhookDelivery }) {
  const { t } = useI18n();
  const client = useHooks();
  const qc = useQueryClient();
  const again = useAction(async () => {
    const r = await client.redeliverWebhook({ deliveryId: d.id });
    await qc.invalidateQueries();
    return r;
  });
  return (
    <div className="row-actions">
      <ActionButton action={again} label={t("webhooks.sendAgain")} kind="secondary" />
      {again.result && <Done message={t("webhooks.queued")} />}
      <ErrorText error={again.error} />
    </div>
  );
}
