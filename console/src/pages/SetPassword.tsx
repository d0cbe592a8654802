// The page of an employee's invitation link (/set-password#<token>): it
// says whose account the link opens, lets him choose a password, and
// signs him in. It needs no session: the token is the credential, sent
// only to the server's two public invitation calls.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { createClient } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { StaffAccountService, type CheckInvitationResponse } from "../gen/shopscore/v1/staff_portal_pb";
import { transport } from "../lib/api";
import { useAuth } from "../auth";
import { useI18n } from "../i18n/context";
import { LanguageSwitch } from "../Layout";
import { ErrorText, Field, Loading, useAction } from "../components";
import { navigate, useTitle } from "../lib/router";
import { formatDateTime } from "../lib/format";

export function SetPassword() {
  const { t, tag, timeZone } = useI18n();
  const { login, user } = useAuth();
  useTitle(t("setPassword.title"));
  const token = useMemo(() => decodeURIComponent(window.location.hash.replace(/^#/, "")), []);
  const client = useMemo(() => createClient(StaffAccountService, transport), []);
  const [who, setWho] = useState<CheckInvitationResponse | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [invalid, setInvalid] = useState<{ password?: string; again?: string }>({});
  useEffect(() => {
    client
      .checkInvitation({ token })
      .then(setWho)
      .catch((e: unknown) => setCheckError(e));
  }, [client, token]);
  const action = useAction(async () => {
    const r = await client.acceptInvitation({ token, password });
    await login(r.email, password);
    navigate("/me", true);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof invalid = {};
    if (password.length < 8) errs.password = t("setPassword.tooShort");
    if (again !== password) errs.again = t("setPassword.mismatch");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void action.run();
  };
  return (
    <main className="login" id="main">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <form className="card login-card" onSubmit={submit} noValidate aria-labelledby="sp-title">
        <h1 id="sp-title">{t("setPassword.title")}</h1>
        {user && <p className="notice">{t("setPassword.signedIn", { name: user.displayName })}</p>}
        {!who && !checkError && <Loading />}
        <ErrorText error={checkError} />
        {who && (
          <>
            <p>
              {t("setPassword.for", { name: who.staffName, number: who.employeeNumber, email: who.email })}
              <br />
              <small className="muted">{t("setPassword.until", { date: formatDateTime(tag, timeZone, who.expireTime && timestampDate(who.expireTime)) })}</small>
            </p>
            <Field label={t("setPassword.password")} hint={t("setPassword.hint")} error={invalid.password}>
              {(id, d) => (
                <input id={id} aria-describedby={d} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
              )}
            </Field>
            <Field label={t("setPassword.again")} error={invalid.again}>
              {(id, d) => <input id={id} aria-describedby={d} type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />}
            </Field>
            <ErrorText error={action.error} />
            <button type="submit" className="btn primary wide" disabled={action.busy} aria-busy={action.busy}>
              {action.busy ? t("common.working") : t("setPassword.submit")}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
