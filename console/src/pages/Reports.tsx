// The audit workbook: period, store or region, and a download whose
// progress bar follows the server's stream.
import { useMemo, useState, type FormEvent } from "react";
import { useTransport } from "@connectrpc/connect-query";
import { createClient } from "@connectrpc/connect";
import { ReportService } from "../gen/shopscore/v1/report_pb";
import { useI18n } from "../i18n/context";
import { ActionButton, Done, ErrorText, Section, useAction } from "../components";
import { useTitle } from "../lib/router";
import { useStoreList } from "../lookups";
import { dateToZoned, formatNumber } from "../lib/format";
import { saveStream } from "../lib/download";

export function Reports() {
  const { t, tag, timeZone } = useI18n();
  useTitle(t("reports.title"));
  const transport = useTransport();
  const client = useMemo(() => createClient(ReportService, transport), [transport]);
  const stores = useStoreList();
  const regions = [...new Set(stores.map((s) => s.region).filter(Boolean))].sort();
  const thisMonth = dateToZoned(new Date(), timeZone).slice(0, 7);
  const [from, setFrom] = useState(thisMonth);
  const [to, setTo] = useState(thisMonth);
  const [scope, setScope] = useState("");
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [invalid, setInvalid] = useState("");
  const download = useAction(async () => {
    setProgress({ done: 0, total: 0 });
    const [kind, value] = scope.split(":");
    return saveStream(
      client.downloadAuditWorkbook({ from, to, storeCode: kind === "store" ? value : "", region: kind === "region" ? value : "" }),
      "audit.xlsx",
      (done, total) => setProgress({ done, total }),
    );
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!/^\d{4}-\d{2}$/.test(from) || !/^\d{4}-\d{2}$/.test(to) || to < from) {
      setInvalid(t("reports.badPeriod"));
      return;
    }
    setInvalid("");
    void download.run();
  };
  const pct = progress && progress.total > 0 ? Math.round((progress.done / progress.total) * 100) : undefined;
  return (
    <div className="page">
      <h1>{t("reports.title")}</h1>
      <Section title={t("reports.audit")}>
        <p className="muted">{t("reports.auditText")}</p>
        <form className="grid-form" onSubmit={submit} noValidate>
          <div className={"field" + (invalid ? " invalid" : "")}>
            <label htmlFor="r-from">{t("reports.from")}</label>
            <input id="r-from" type="month" value={from} onChange={(e) => setFrom(e.target.value)} />
          </div>
          <div className={"field" + (invalid ? " invalid" : "")}>
            <label htmlFor="r-to">{t("reports.to")}</label>
            <input id="r-to" type="month" value={to} onChange={(e) => setTo(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="r-scope">{t("reports.scope")}</label>
            <select id="r-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
              <option value="">{t("reports.allMine")}</option>
              <optgroup label={t("reports.regions")}>
                {regions.map((r) => (
                  <option key={r} value={"region:" + r}>
                    {r}
                  </option>
                ))}
              </optgroup>
              <optgroup label={t("reports.stores")}>
                {stores.map((s) => (
                  <option key={s.id} value={"store:" + s.code}>
                    {s.code} · {s.name}
                  </option>
                ))}
              </optgroup>
            </select>
          </div>
          {invalid && <p className="field-error" role="alert">{invalid}</p>}
          <div className="actions">
            <ActionButton action={download} type="submit" label={t("reports.download")} busyLabel={t("reports.preparing")} />
          </div>
        </form>
        {progress && download.busy && (
          <div className="progress">
            <label htmlFor="r-progress">
              {pct === undefined ? t("reports.starting") : t("reports.rows", { done: formatNumber(tag, progress.done), total: formatNumber(tag, progress.total) })}
            </label>
            <progress id="r-progress" max={100} value={pct} />
          </div>
        )}
        {download.result && <Done message={t("reports.done", { name: download.result.name, size: formatNumber(tag, Math.ceil(download.result.size / 1024)) })} />}
        <ErrorText error={download.error} />
      </Section>
    </div>
  );
}
