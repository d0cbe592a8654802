// The first screen after login, by role: what waits for this person.
import { useQuery } from "@connectrpc/connect-query";
import { ReviewService } from "../gen/shopscore/v1/review_pb";
import { ActionService, ActionState } from "../gen/shopscore/v1/action_pb";
import { VisitState } from "../gen/shopscore/v1/sync_pb";
import { Role } from "../gen/shopscore/v1/auth_pb";
import { useAuth, isReader } from "../auth";
import { useI18n } from "../i18n/context";
import { Link, useTitle } from "../lib/router";
import type { MessageKey } from "../i18n/en";

function Tile({ href, title, text }: { href: string; title: string; text: string }) {
  return (
    <Link href={href} className="tile">
      <strong>{title}</strong>
      <span>{text}</span>
    </Link>
  );
}

export function Home() {
  const { t } = useI18n();
  const { user } = useAuth();
  useTitle(t("home.title"));
  const waiting = useQuery(ReviewService.method.listVisits, { state: VisitState.COMPLETE, pageSize: 500 }, { enabled: isReader(user) });
  const inReview = useQuery(ReviewService.method.listVisits, { state: VisitState.IN_REVIEW, pageSize: 500 }, { enabled: isReader(user) });
  // The corrective actions he owns that are not done yet.
  const mine = useQuery(
    ActionService.method.listActions,
    { mine: true, states: [ActionState.OPEN, ActionState.IN_PROGRESS, ActionState.REOPENED], pageSize: 500 },
    { enabled: user?.role === Role.MANAGER || user?.role === Role.ADMIN },
  );
  const myActions = mine.data?.actions ?? [];
  if (!user) return null;
  const tiles: { href: string; title: MessageKey; text: MessageKey; roles: Role[] }[] = [
    { href: "/dashboard", title: "nav.dashboard", text: "home.dashboardText", roles: [Role.MANAGER, Role.ADMIN, Role.HR] },
    { href: "/hr/runs", title: "nav.bonus", text: "home.bonusText", roles: [Role.HR, Role.ADMIN] },
    { href: "/review?state=" + VisitState.COMPLETE, title: "nav.review", text: "home.reviewText", roles: [Role.MANAGER, Role.ADMIN, Role.HR] },
    { href: "/actions", title: "nav.actions", text: "home.actionsText", roles: [Role.MANAGER, Role.ADMIN, Role.HR] },
    { href: "/assignments", title: "nav.assignments", text: "home.assignmentsText", roles: [Role.MANAGER, Role.ADMIN] },
    { href: "/checklists", title: "nav.checklists", text: "home.checklistsText", roles: [Role.MANAGER, Role.ADMIN] },
    { href: "/staff", title: "nav.staff", text: "home.staffText", roles: [Role.MANAGER, Role.ADMIN, Role.HR] },
    { href: "/reports", title: "nav.reports", text: "home.reportsText", roles: [Role.MANAGER, Role.ADMIN, Role.HR] },
    { href: "/admin/users", title: "nav.users", text: "home.usersText", roles: [Role.ADMIN] },
    { href: "/admin/sessions", title: "nav.sessions", text: "home.sessionsText", roles: [Role.ADMIN] },
  ];
  return (
    <div className="page">
      <h1>{t("home.hello", { name: user.displayName })}</h1>
      {user.role === Role.SHOPPER ? (
        <p>{t("home.shopper")}</p>
      ) : (
        <>
          {waiting.data && (
            <p className="lead">
              {t("home.waiting", { n: waiting.data.visits.length, m: inReview.data?.visits.length ?? 0 })}
            </p>
          )}
          {myActions.length > 0 && (
            <p className="lead">
              <Link href="/actions?view=mine">{t("home.myActions", { n: myActions.length, m: myActions.filter((a) => a.overdue).length })}</Link>
            </p>
          )}
          <div className="tiles">
            {tiles
              .filter((x) => x.roles.includes(user.role))
              .map((x) => (
                <Tile key={x.href} href={x.href} title={t(x.title)} text={t(x.text)} />
              ))}
          </div>
        </>
      )}
    </div>
  );
}
