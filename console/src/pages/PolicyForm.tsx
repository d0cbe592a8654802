// The policy format as a form: every field of the JSON the editor holds,
// written back to it on each change, so the server's validation and the
// preview see exactly what the form shows.
import { useEffect, useState } from "react";
import { useI18n } from "../i18n/context";

/**
 * LooseInput keeps what the user types ("driver, " on the way to
 * "driver, loader") while the policy holds its parsed value; it takes the
 * policy's value again only when that changes from elsewhere.
 */
function LooseInput({ id, value, normalize, onChange, describedBy }: { id: string; value: string; normalize: (s: string) => string; onChange: (s: string) => void; describedBy?: string }) {
  const [local, setLocal] = useState(value);
  useEffect(() => {
    if (normalize(local) !== value) setLocal(value);
  }, [value]);
  return (
    <input
      id={id}
      value={local}
      aria-describedby={describedBy}
      onChange={(e) => {
        setLocal(e.target.value);
        onChange(e.target.value);
      }}
    />
  );
}

interface Threshold {
  min_percent: number;
  payout: number;
}
interface Component {
  name: string;
  share: number;
  categories?: string[];
  clauses?: string[];
  rule: { thresholds?: Threshold[]; linear?: { from: number; to: number } };
  forfeit_on_critical?: boolean;
  min_visits?: number;
  default_payout: number;
  combine?: string;
  half_life_days?: number;
}
interface Policy {
  id: string;
  name: string;
  positions?: string[];
  departments?: string[];
  store_ids?: string[];
  base: string;
  unlinked_share: number;
  components: Component[];
  [k: string]: unknown;
}

const list = (v: string[] | undefined) => (v ?? []).join(", ");
const unlist = (s: string) => {
  const out = s.split(",").map((x) => x.trim()).filter(Boolean);
  return out.length ? out : undefined;
};
const normList = (s: string) => list(unlist(s));
/** Fractions 0-1 are edited as percentages, rounded to hundredths. */
const toPct = (f: number | undefined) => Math.round((f ?? 0) * 10000) / 100;
const fromPct = (s: string) => Number(s) / 100;
const thresholdsText = (t: Threshold[] | undefined) => (t ?? []).map((x) => `${x.min_percent}:${toPct(x.payout)}`).join(", ");
function parseThresholds(s: string): Threshold[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const [min, pay] = x.split(":");
      return { min_percent: Number(min), payout: fromPct(pay ?? "") };
    });
}

export function PolicyForm({ text, onChange }: { text: string; onChange: (text: string) => void }) {
  const { t } = useI18n();
  let p: Policy;
  try {
    p = JSON.parse(text) as Policy;
    if (!p || typeof p !== "object" || !Array.isArray(p.components)) throw new Error("not a policy");
  } catch {
    return <p className="notice">{t("policy.fixJson")}</p>;
  }
  const set = (next: Policy) => onChange(JSON.stringify(next, null, 2));
  const setComp = (i: number, c: Component) => set({ ...p, components: p.components.map((x, j) => (j === i ? c : x)) });
  const field = (id: string, label: string, value: string | number, change: (v: string) => void, type = "text", hint?: string, normalize?: (s: string) => string) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {normalize ? (
        <LooseInput id={id} value={String(value)} normalize={normalize} onChange={change} describedBy={hint ? id + "-h" : undefined} />
      ) : (
        <input id={id} type={type} value={value} step={type === "number" ? "any" : undefined} onChange={(e) => change(e.target.value)} aria-describedby={hint ? id + "-h" : undefined} />
      )}
      {hint && (
        <small id={id + "-h"} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
  return (
    <fieldset className="policy-form">
      <legend>{t("policy.form")}</legend>
      <div className="grid-form">
        {field("pf-id", t("policy.id"), p.id ?? "", (v) => set({ ...p, id: v }))}
        {field("pf-name", t("policy.name"), p.name ?? "", (v) => set({ ...p, name: v }))}
        {field("pf-positions", t("policy.positions"), list(p.positions), (v) => set({ ...p, positions: unlist(v) }), "text", t("policy.listHint"), normList)}
        {field("pf-departments", t("policy.departments"), list(p.departments), (v) => set({ ...p, departments: unlist(v) }), "text", t("policy.listHint"), normList)}
        {field("pf-stores", t("policy.stores"), list(p.store_ids), (v) => set({ ...p, store_ids: unlist(v) }), "text", t("policy.listHint"), normList)}
        <div className="field">
          <label htmlFor="pf-base">{t("policy.base")}</label>
          <select id="pf-base" value={p.base} onChange={(e) => set({ ...p, base: e.target.value })}>
            <option value="target_variable">{t("bonus.kindTarget")}</option>
            <option value="base_pay">{t("bonus.kindBase")}</option>
          </select>
        </div>
        {field("pf-unlinked", t("policy.unlinked"), toPct(p.unlinked_share), (v) => set({ ...p, unlinked_share: fromPct(v) }), "number")}
      </div>
      {p.components.map((c, i) => {
        const id = "pf-c" + i;
        const linear = !!c.rule?.linear;
        return (
          <fieldset key={i} className="component">
            <legend>{t("policy.component", { n: i + 1, name: c.name })}</legend>
            <div className="grid-form">
              {field(id + "-name", t("policy.name"), c.name, (v) => setComp(i, { ...c, name: v }))}
              {field(id + "-share", t("policy.share"), toPct(c.share), (v) => setComp(i, { ...c, share: fromPct(v) }), "number")}
              {field(id + "-cats", t("policy.categories"), list(c.categories), (v) => setComp(i, { ...c, categories: unlist(v) }), "text", t("policy.listHint"), normList)}
              {field(id + "-clauses", t("policy.clauses"), list(c.clauses), (v) => setComp(i, { ...c, clauses: unlist(v) }), "text", t("policy.listHint"), normList)}
              <div className="field">
                <label htmlFor={id + "-rule"}>{t("policy.rule")}</label>
                <select
                  id={id + "-rule"}
                  value={linear ? "linear" : "thresholds"}
                  onChange={(e) =>
                    setComp(i, { ...c, rule: e.target.value === "linear" ? { linear: { from: 60, to: 100 } } : { thresholds: [{ min_percent: 90, payout: 1 }] } })
                  }
                >
                  <option value="thresholds">{t("policy.thresholds")}</option>
                  <option value="linear">{t("policy.linear")}</option>
                </select>
              </div>
              {linear ? (
                <>
                  {field(id + "-from", t("policy.linearFrom"), c.rule.linear!.from, (v) => setComp(i, { ...c, rule: { linear: { ...c.rule.linear!, from: Number(v) } } }), "number")}
                  {field(id + "-to", t("policy.linearTo"), c.rule.linear!.to, (v) => setComp(i, { ...c, rule: { linear: { ...c.rule.linear!, to: Number(v) } } }), "number")}
                </>
              ) : (
                field(id + "-steps", t("policy.steps"), thresholdsText(c.rule?.thresholds), (v) => setComp(i, { ...c, rule: { thresholds: parseThresholds(v) } }), "text", t("policy.stepsHint"), (x) => thresholdsText(parseThresholds(x)))
              )}
              {field(id + "-min", t("policy.minVisits"), c.min_visits ?? 0, (v) => setComp(i, { ...c, min_visits: Number(v) || undefined }), "number")}
              {field(id + "-default", t("policy.defaultPayout"), toPct(c.default_payout), (v) => setComp(i, { ...c, default_payout: fromPct(v) }), "number")}
              <div className="field">
                <label htmlFor={id + "-combine"}>{t("policy.combine")}</label>
                <select id={id + "-combine"} value={c.combine || "mean"} onChange={(e) => setComp(i, { ...c, combine: e.target.value === "mean" ? undefined : e.target.value, half_life_days: e.target.value === "mean" ? undefined : (c.half_life_days ?? 14) })}>
                  <option value="mean">{t("policy.mean")}</option>
                  <option value="recency_weighted">{t("policy.recency")}</option>
                </select>
              </div>
              {c.combine === "recency_weighted" && field(id + "-half", t("policy.halfLife"), c.half_life_days ?? 14, (v) => setComp(i, { ...c, half_life_days: Number(v) }), "number")}
              <label className="check">
                <input type="checkbox" checked={!!c.forfeit_on_critical} onChange={(e) => setComp(i, { ...c, forfeit_on_critical: e.target.checked || undefined })} />
                {t("policy.forfeit")}
              </label>
            </div>
            <button type="button" className="btn secondary" onClick={() => set({ ...p, components: p.components.filter((_, j) => j !== i) })}>
              {t("policy.removeComponent", { name: c.name })}
            </button>
          </fieldset>
        );
      })}
      <button
        type="button"
        className="btn secondary"
        onClick={() => set({ ...p, components: [...p.components, { name: "", share: 0, clauses: [], rule: { thresholds: [{ min_percent: 90, payout: 1 }] }, default_payout: 1 }] })}
      >
        {t("policy.addComponent")}
      </button>
    </fieldset>
  );
}
