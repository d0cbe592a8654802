import { useState, type FormEvent } from "react";
import { useAuth } from "../auth";
import { useI18n } from "../i18n/context";
import { ErrorText, Field, useAction } from "../components";
import { useTitle } from "../lib/router";

export function Login() {
  const { t } = useI18n();
  const { login, ended } = useAuth();
  useTitle(t("login.title"));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [invalid, setInvalid] = useState<{ email?: string; password?: string }>({});
  const action = useAction(() => login(email.trim(), password));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: typeof invalid = {};
    if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) errs.email = t("login.emailInvalid");
    if (password === "") errs.password = t("login.passwordMissing");
    setInvalid(errs);
    if (Object.keys(errs).length === 0) void action.run();
  };

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <h1 id="login-title">{t("login.title")}</h1>
        <p className="muted">{t("login.intro")}</p>
        {ended && (
          <p className="notice" role="status">
            {t(ended === "revoked" ? "login.endedRevoked" : ended === "logout" ? "login.endedElsewhere" : "login.endedExpired")}
          </p>
        )}
        <Field label={t("login.email")} error={invalid.email}>
          {(id, d) => (
            <input id={id} aria-describedby={d} type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          )}
        </Field>
        <Field label={t("login.password")} error={invalid.password}>
          {(id, d) => (
            <input id={id} aria-describedby={d} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <ErrorText error={action.error} />
        <button type="submit" className="btn primary wide" disabled={action.busy} aria-busy={action.busy}>
          {action.busy ? t("login.signingIn") : t("login.submit")}
        </button>
      </form>
    </main>
  );
}
