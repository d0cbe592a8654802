import { useAuth, isAdmin, isEditor, isReader, isHR, isStaff } from "./auth";
import { MyResults, MyVisitPage, NotificationsPage } from "./pages/Me";
import { SetPassword } from "./pages/SetPassword";
import { Layout } from "./Layout";
import { Login } from "./pages/Login";
import { Home } from "./pages/Home";
import { ReviewQueue } from "./pages/Review";
import { VisitDetail } from "./pages/Visit";
import { Assignments } from "./pages/Assignments";
import { Checklists, ChecklistPreview } from "./pages/Checklists";
import { Stores, StaffPage } from "./pages/Org";
import { Reports } from "./pages/Reports";
import { Runs, RunPage, BasePay, Policies } from "./pages/Bonus";
import { Dashboard, DrillVisits } from "./pages/Dashboard";
import { AppealsQueue, AppealRuling } from "./pages/Appeals";
import { ActionsList, ActionPage } from "./pages/CorrectiveActions";
import { Users, Sessions, SecurityEvents, Keys, Settings } from "./pages/Admin";
import { Webhooks } from "./pages/Webhooks";
import { Tokens } from "./pages/Tokens";
import { match, useLocation } from "./lib/router";
import { useI18n } from "./i18n/context";
import { Loading } from "./components";
import type { User } from "./gen/shopscore/v1/auth_pb";
import type { ReactNode } from "react";

function route(path: string, user: User): ReactNode {
  if (path === "/me/notifications") return <NotificationsPage />;
  let m: Record<string, string> | null;
  if (isStaff(user)) {
    if (path === "/" || path === "/me") return <MyResults />;
    if ((m = match("/me/visits/:id", path))) return <MyVisitPage key={m.id} id={m.id} />;
    return null;
  }
  if (path === "/") return <Home />;
  if (isReader(user)) {
    if (path === "/review") return <ReviewQueue />;
    if ((m = match("/visits/:id", path))) return <VisitDetail key={m.id} id={m.id} />;
    if (path === "/stores") return <Stores />;
    if (path === "/staff") return <StaffPage />;
    if (path === "/reports") return <Reports />;
    if (path === "/dashboard") return <Dashboard />;
    if (path === "/dashboard/visits") return <DrillVisits />;
    if (path === "/appeals") return <AppealsQueue />;
    if (path === "/actions") return <ActionsList />;
    if ((m = match("/actions/:id", path))) return <ActionPage key={m.id} id={m.id} />;
    if ((m = match("/appeals/:id", path))) return <AppealRuling key={m.id} id={m.id} />;
  }
  if (isHR(user)) {
    if (path === "/hr/runs") return <Runs />;
    if ((m = match("/hr/runs/:id", path))) return <RunPage key={m.id} id={m.id} />;
    if (path === "/hr/base-pay") return <BasePay />;
    if (path === "/hr/policies") return <Policies />;
  }
  if (isEditor(user)) {
    if (path === "/assignments") return <Assignments />;
    if (path === "/checklists") return <Checklists />;
    if ((m = match("/checklists/:id/:version", path))) return <ChecklistPreview id={m.id} version={Number(m.version)} />;
  }
  if (isAdmin(user)) {
    if (path === "/admin/users") return <Users />;
    if (path === "/admin/sessions") return <Sessions />;
    if (path === "/admin/events") return <SecurityEvents />;
    if (path === "/admin/keys") return <Keys />;
    if (path === "/admin/settings") return <Settings />;
    if (path === "/admin/webhooks") return <Webhooks />;
    if (path === "/admin/tokens") return <Tokens />;
  }
  return null;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <div className="page">
      <h1>{t("app.notFound")}</h1>
      <p>{t("app.notFoundText")}</p>
    </div>
  );
}

export function App() {
  const { user, resuming } = useAuth();
  const { path } = useLocation();
  // The set-password page of an invitation opens without a session.
  if (path === "/set-password") return <SetPassword />;
  if (resuming) return <Loading />;
  if (!user) return <Login />;
  return <Layout>{route(path, user) ?? <NotFound />}</Layout>;
}
