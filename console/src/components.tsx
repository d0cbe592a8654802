// Pieces every screen shares: a guarded action button, errors in words,
// empty states, badges and form fields.
import { useCallback, useRef, useState, type FormEvent, type ReactNode } from "react";
import { useI18n } from "./i18n/context";
import { useStoreList } from "./lookups";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeError, isNetworkError, type PackProblem } from "./lib/errors";
import type { MessageKey } from "./i18n/en";

/**
 * ErrorText shows what a call threw in words: the catalog message of its
 * code, or the one byCode gives for it (a refusal said in the terms of
 * the screen), with the server's detail below.
 */
export function ErrorText({ error, id, byCode }: { error: unknown; id?: string; byCode?: Partial<Record<Code, string>> }) {
  const { t } = useI18n();
  if (!error) return null;
  const d = describeError(error);
  const own = error instanceof ConnectError && !isNetworkError(error) ? byCode?.[error.code] : undefined;
  return (
    <div className="error" role="alert" id={id}>
      <strong>{own ?? t(d.key)}</strong>
      {d.detail && <pre className="detail">{d.detail}</pre>}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" role="status">
      {t("common.loading")}
    </p>
  );
}

export interface ActionState<R> {
  busy: boolean;
  error: unknown;
  result: R | undefined;
  run: () => Promise<R | undefined>;
  reset: () => void;
}

/**
 * useAction runs fn at most once at a time: a double click, or a second
 * press while the first is on its way, does nothing.
 */
export function useAction<R>(fn: () => Promise<R>): ActionState<R> {
  const inflight = useRef(false);
  const [state, setState] = useState<{ busy: boolean; error: unknown; result: R | undefined }>({
    busy: false,
    error: undefined,
    result: undefined,
  });
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const run = useCallback(async () => {
    if (inflight.current) return undefined;
    inflight.current = true;
    setState({ busy: true, error: undefined, result: undefined });
    try {
      const result = await fnRef.current();
      setState({ busy: false, error: undefined, result });
      return result;
    } catch (error) {
      setState({ busy: false, error, result: undefined });
      return undefined;
    } finally {
      inflight.current = false;
    }
  }, []);
  const reset = useCallback(() => setState({ busy: false, error: undefined, result: undefined }), []);
  return { ...state, run, reset };
}

export function ActionButton({
  action,
  label,
  busyLabel,
  kind = "primary",
  disabled,
  type = "button",
}: {
  action: ActionState<unknown>;
  label: string;
  busyLabel?: string;
  kind?: "primary" | "secondary" | "danger";
  disabled?: boolean;
  type?: "button" | "submit";
}) {
  const { t } = useI18n();
  return (
    <button
      type={type}
      className={"btn " + kind}
      disabled={disabled || action.busy}
      aria-busy={action.busy}
      onClick={type === "button" ? () => void action.run() : undefined}
    >
      {action.busy ? (busyLabel ?? t("common.working")) : label}
    </button>
  );
}

export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: string;
  error?: string;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useRef("f" + Math.random().toString(36).slice(2, 9)).current;
  const described = error ? id + "-err" : hint ? id + "-hint" : undefined;
  return (
    <div className={"field" + (error ? " invalid" : "")}>
      <label htmlFor={id}>{label}</label>
      {children(id, described)}
      {hint && !error && (
        <small id={id + "-hint"} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={id + "-err"} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function Badge({ tone, children }: { tone?: string; children: ReactNode }) {
  return <span className={"badge " + (tone ?? "")}>{children}</span>;
}

export function Done({ message }: { message: string }) {
  return (
    <p className="done" role="status">
      {message}
    </p>
  );
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card">
      <div className="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** FileDrop takes one file by drag-and-drop or the file picker. */
export function FileDrop({ accept, prompt, file, onFile }: { accept: string; prompt: string; file: File | null; onFile: (f: File | null) => void }) {
  const { t } = useI18n();
  const [over, setOver] = useState(false);
  return (
    <div
      className={"dropzone" + (over ? " over" : "")}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (e.dataTransfer.files[0]) onFile(e.dataTransfer.files[0]);
      }}
    >
      <p>{prompt}</p>
      <label className="btn secondary">
        {t("checklist.chooseFile")}
        <input className="sr-only" type="file" accept={accept} onChange={(e) => onFile(e.target.files?.[0] ?? null)} />
      </label>
      {file && <p className="file-name">{t("checklist.chosen", { name: file.name, size: Math.max(1, Math.ceil(file.size / 1024)) })}</p>}
    </div>
  );
}

/** Problems lists what an import refused, each at its line (or row) and column. */
export function Problems({ problems, title, lineLabel }: { problems: PackProblem[]; title: string; lineLabel: string }) {
  const { t } = useI18n();
  // Columns and paths only when the importer names them.
  const located = problems.some((p) => p.column || p.path);
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      <table className="list compact problems">
        <thead>
          <tr>
            <th scope="col">{lineLabel}</th>
            {located && <th scope="col">{t("checklist.column")}</th>}
            {located && <th scope="col">{t("checklist.where")}</th>}
            <th scope="col">{t("checklist.problem")}</th>
          </tr>
        </thead>
        <tbody>
          {problems.map((p, i) => (
            <tr key={i}>
              <td className="num">{p.line || "—"}</td>
              {located && <td className="num">{p.column || "—"}</td>}
              {located && <td>{p.path && <code>{p.path}</code>}</td>}
              <td>{p.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** More loads the next page of a paged list while there is one. */
export function More({ list }: { list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown } }) {
  const { t } = useI18n();
  if (!list.hasNextPage) return null;
  return (
    <button type="button" className="btn secondary" disabled={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
      {list.isFetchingNextPage ? t("common.loading") : t("common.more")}
    </button>
  );
}

/**
 * FileImport takes one CSV or XLSX file and hands its bytes to send, which
 * returns the message to show; what the server refused is listed at its
 * row (problemsOf reads the refusal).
 */
export function FileImport({
  title,
  hint,
  problemsTitle,
  send,
  problemsOf,
}: {
  title: string;
  hint: string;
  problemsTitle: (n: number) => string;
  send: (name: string, content: Uint8Array) => Promise<string>;
  problemsOf: (e: ConnectError) => PackProblem[];
}) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [problems, setProblems] = useState<PackProblem[]>([]);
  const imp = useAction(async () => {
    if (!file) throw new Error("no file");
    setProblems([]);
    try {
      return await send(file.name, new Uint8Array(await file.arrayBuffer()));
    } catch (e) {
      if (e instanceof ConnectError && e.code === Code.InvalidArgument) setProblems(problemsOf(e));
      throw e;
    }
  });
  return (
    <Section title={title}>
      <p className="muted small">{hint}</p>
      <FileDrop
        accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        prompt={t("org.dropHere")}
        file={file}
        onFile={(f) => {
          setFile(f);
          setProblems([]);
          imp.reset();
        }}
      />
      <div className="actions">
        <ActionButton action={imp} label={t("checklist.importButton")} busyLabel={t("checklist.importing")} disabled={!file} />
      </div>
      {imp.result && <Done message={imp.result} />}
      {problems.length > 0 ? <Problems problems={problems} title={problemsTitle(problems.length)} lineLabel={t("org.row")} /> : <ErrorText error={imp.error} />}
    </Section>
  );
}

/** A column of a ListTable: its heading, or the heading and the cell class
 * ("num" for figures); false leaves the column out. */
export type Column = ReactNode | { label: ReactNode; className?: string } | false;

function isLabelled(c: Column): c is { label: ReactNode; className?: string } {
  return typeof c === "object" && c !== null && "label" in c;
}

/** ListTable is the scrolling list table every screen uses: an optional
 * caption for screen readers, one heading row, and the rows as children. */
export function ListTable({ columns, caption, className = "list", children }: { columns: Column[]; caption?: string; className?: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={className}>
        {caption !== undefined && <caption className="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c, i) =>
              c === false ? null : isLabelled(c) ? (
                <th key={i} scope="col" className={c.className}>
                  {c.label}
                </th>
              ) : (
                <th key={i} scope="col">
                  {c}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** Listing shows a query's error, then "loading", the empty text when it has
 * no rows, or else the children. */
export function Listing({ query, count, empty, children }: { query?: { error: unknown; isPending: boolean }; count: number; empty: ReactNode; children: ReactNode }) {
  return (
    <>
      {query && <ErrorText error={query.error} />}
      {query?.isPending ? <Loading /> : count === 0 ? <Empty>{empty}</Empty> : children}
    </>
  );
}

/** StoreFilter is the "Store" filter: every store by code and name, or all
 * of them; the value is the store's id, or its code when by is "code". */
export function StoreFilter({ value, onChange, by = "id" }: { value: string; onChange: (v: string) => void; by?: "id" | "code" }) {
  const { t } = useI18n();
  const stores = useStoreList();
  return (
    <label>
      {t("review.store")}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t("review.allStores")}</option>
        {stores.map((s) => (
          <option key={s.id} value={by === "code" ? s.code : s.id}>
            {s.code} · {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** FormCard is a card holding one form that a single submit button sends:
 * the fields as children, then the button, the done message once it worked
 * and the action's error. */
export function FormCard({
  title,
  intro,
  onSubmit,
  action,
  label,
  busyLabel,
  done,
  children,
}: {
  title: string;
  intro?: ReactNode;
  onSubmit: (e: FormEvent) => void;
  action: ActionState<unknown>;
  label: string;
  busyLabel?: string;
  done?: string | false;
  children: ReactNode;
}) {
  return (
    <Section title={title}>
      {intro}
      <form className="grid-form" onSubmit={onSubmit} noValidate>
        {children}
        <div className="actions">
          <ActionButton action={action} type="submit" label={label} busyLabel={busyLabel} />
        </div>
      </form>
      {done && <Done message={done} />}
      <ErrorText error={action.error} />
    </Section>
  );
}
