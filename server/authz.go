package server

import (
	"slices"

	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
)

// public procedures need no access token: signing in, and setting an
// invited employee's first password from the link's token.
var public = map[string]bool{
	shopscorev1connect.AuthServiceLoginProcedure:                    true,
	shopscorev1connect.AuthServiceRefreshProcedure:                  true,
	shopscorev1connect.StaffAccountServiceCheckInvitationProcedure:  true,
	shopscorev1connect.StaffAccountServiceAcceptInvitationProcedure: true,
}

var (
	// everyone is every role, employees' accounts too: his own session.
	everyone = audit.Roles
	// anyone is every role that works on audits; an employee's account
	// (audit.RoleStaff) reaches only MyResultsService and his session.
	anyone   = []audit.Role{audit.RoleShopper, audit.RoleManager, audit.RoleHR, audit.RoleAdmin}
	staff    = []audit.Role{audit.RoleStaff}
	admin    = []audit.Role{audit.RoleAdmin}
	editors  = []audit.Role{audit.RoleManager, audit.RoleAdmin}
	readers  = []audit.Role{audit.RoleManager, audit.RoleHR, audit.RoleAdmin}
	shoppers = []audit.Role{audit.RoleShopper}
	hr       = []audit.Role{audit.RoleHR, audit.RoleAdmin}
	// appealFilers file appeals for staff and upload their evidence (an
	// employee files his own through MyResultsService); judges rule.
	appealFilers = []audit.Role{audit.RoleManager}
	judges       = []audit.Role{audit.RoleManager, audit.RoleHR}
)

// policy is the one table from procedure to the roles allowed to call it.
// A procedure that is neither here nor in public is refused for everyone
// (deny by default); object-level rules live in the queries.
var policy = map[string][]audit.Role{
	shopscorev1connect.AuthServiceLogoutProcedure: everyone,
	shopscorev1connect.AuthServiceWhoAmIProcedure: everyone,
	// A user's own e-mail settings, of himself only; an employee's
	// account is told nothing by e-mail.
	shopscorev1connect.AuthServiceGetNotificationSettingsProcedure: anyone,
	shopscorev1connect.AuthServiceSetNotificationSettingsProcedure: anyone,

	shopscorev1connect.AdminServiceCreateUserProcedure:             admin,
	shopscorev1connect.AdminServiceListUsersProcedure:              admin,
	shopscorev1connect.AdminServiceDisableUserProcedure:            admin,
	shopscorev1connect.AdminServiceEnableUserProcedure:             admin,
	shopscorev1connect.AdminServiceListSessionsProcedure:           admin,
	shopscorev1connect.AdminServiceRevokeSessionProcedure:          admin,
	shopscorev1connect.AdminServiceRotateSigningKeyProcedure:       admin,
	shopscorev1connect.AdminServiceStreamSecurityEventsProcedure:   admin,
	shopscorev1connect.AdminServiceGetUserProcedure:                admin,
	shopscorev1connect.AdminServiceResetPasswordProcedure:          admin,
	shopscorev1connect.AdminServiceChangeRoleProcedure:             admin,
	shopscorev1connect.AdminServiceSetManagedStoresProcedure:       admin,
	shopscorev1connect.AdminServiceListSecurityEventsProcedure:     admin,
	shopscorev1connect.AdminServiceCreateIntegrationTokenProcedure: admin,
	shopscorev1connect.AdminServiceListIntegrationTokensProcedure:  admin,
	shopscorev1connect.AdminServiceRevokeIntegrationTokenProcedure: admin,

	// The incremental visit export (GET /exports/visits.csv and .jsonl),
	// which is no RPC but is authorized by this table like one:
	// managers for their stores, HR and admins for all.
	exportVisitsProcedure: readers,

	shopscorev1connect.ChecklistServiceImportPackProcedure:          editors,
	shopscorev1connect.ChecklistServicePublishVersionProcedure:      editors,
	shopscorev1connect.ChecklistServiceRetireVersionProcedure:       editors,
	shopscorev1connect.ChecklistServiceListChecklistsProcedure:      anyone,
	shopscorev1connect.ChecklistServiceGetChecklistVersionProcedure: anyone,

	shopscorev1connect.OrgServiceCreateStoreProcedure:       admin,
	shopscorev1connect.OrgServiceListStoresProcedure:        anyone,
	shopscorev1connect.OrgServiceCreateStaffProcedure:       editors,
	shopscorev1connect.OrgServiceListStaffProcedure:         readers,
	shopscorev1connect.OrgServiceListShoppersProcedure:      editors,
	shopscorev1connect.OrgServiceGetStoreProcedure:          anyone,
	shopscorev1connect.OrgServiceUpdateStoreProcedure:       editors,
	shopscorev1connect.OrgServiceDeactivateStoreProcedure:   admin,
	shopscorev1connect.OrgServiceReactivateStoreProcedure:   admin,
	shopscorev1connect.OrgServiceImportStoresProcedure:      admin,
	shopscorev1connect.OrgServiceGetStaffProcedure:          readers,
	shopscorev1connect.OrgServiceUpdateStaffProcedure:       editors,
	shopscorev1connect.OrgServiceDeactivateStaffProcedure:   editors,
	shopscorev1connect.OrgServiceReactivateStaffProcedure:   editors,
	shopscorev1connect.OrgServiceTransferStaffProcedure:     editors,
	shopscorev1connect.OrgServiceImportStaffProcedure:       editors,
	shopscorev1connect.OrgServiceGetOrgSettingsProcedure:    anyone,
	shopscorev1connect.OrgServiceUpdateOrgSettingsProcedure: admin,

	shopscorev1connect.AssignmentServiceCreateAssignmentProcedure:      editors,
	shopscorev1connect.AssignmentServiceBulkCreateAssignmentsProcedure: editors,
	shopscorev1connect.AssignmentServiceCancelAssignmentProcedure:      editors,
	shopscorev1connect.AssignmentServiceReassignAssignmentProcedure:    editors,
	shopscorev1connect.AssignmentServiceListAssignmentsProcedure:       anyone,

	shopscorev1connect.SyncServicePushProcedure:                 shoppers,
	shopscorev1connect.SyncServicePullProcedure:                 shoppers,
	shopscorev1connect.EvidenceServiceCreateUploadSlotProcedure: shoppers,
	shopscorev1connect.EvidenceServiceFinalizeUploadProcedure:   shoppers,

	shopscorev1connect.ReviewServiceListVisitsProcedure:   readers,
	shopscorev1connect.ReviewServiceGetVisitProcedure:     readers,
	shopscorev1connect.ReviewServiceStartReviewProcedure:  editors,
	shopscorev1connect.ReviewServiceApproveVisitProcedure: editors,
	shopscorev1connect.ReviewServiceReturnVisitProcedure:  editors,
	shopscorev1connect.ReviewServicePublishVisitProcedure: editors,
	shopscorev1connect.ReviewServiceReopenVisitProcedure:  admin,

	shopscorev1connect.ReportServiceCreatePolicyProcedure:          hr,
	shopscorev1connect.ReportServiceListPoliciesProcedure:          hr,
	shopscorev1connect.ReportServiceSetBasePayProcedure:            hr,
	shopscorev1connect.ReportServiceImportBasePayProcedure:         hr,
	shopscorev1connect.ReportServiceRunBonusProcedure:              hr,
	shopscorev1connect.ReportServiceGetBonusRunProcedure:           hr,
	shopscorev1connect.ReportServiceListBonusRunsProcedure:         hr,
	shopscorev1connect.ReportServiceApproveBonusRunProcedure:       hr,
	shopscorev1connect.ReportServiceDownloadPayrollProcedure:       hr,
	shopscorev1connect.ReportServiceDownloadAuditWorkbookProcedure: readers,
	shopscorev1connect.ReportServiceGetPolicyProcedure:             hr,
	shopscorev1connect.ReportServiceDiffPoliciesProcedure:          hr,
	shopscorev1connect.ReportServiceValidatePolicyProcedure:        hr,
	shopscorev1connect.ReportServicePreviewBonusProcedure:          hr,
	shopscorev1connect.ReportServiceListBasePayProcedure:           hr,
	shopscorev1connect.ReportServiceDownloadPayrollExportProcedure: hr,

	// Dashboards: managers for their stores (object-level, in the
	// queries), HR and admins for every store.
	shopscorev1connect.DashboardServiceGetDashboardSummaryProcedure: readers,
	shopscorev1connect.DashboardServiceGetScoreTrendProcedure:       readers,
	shopscorev1connect.DashboardServiceGetStoreScoresProcedure:      readers,
	shopscorev1connect.DashboardServiceGetCategoryScoresProcedure:   readers,
	shopscorev1connect.DashboardServiceListDashboardVisitsProcedure: readers,

	shopscorev1connect.WebhookServiceCreateWebhookEndpointProcedure: admin,
	shopscorev1connect.WebhookServiceListWebhookEndpointsProcedure:  admin,
	shopscorev1connect.WebhookServiceUpdateWebhookEndpointProcedure: admin,
	shopscorev1connect.WebhookServiceRotateWebhookSecretProcedure:   admin,
	shopscorev1connect.WebhookServiceDeleteWebhookEndpointProcedure: admin,
	shopscorev1connect.WebhookServiceListWebhookDeliveriesProcedure: admin,
	shopscorev1connect.WebhookServiceRedeliverWebhookProcedure:      admin,
	shopscorev1connect.WebhookServiceSendTestWebhookProcedure:       admin,
	// Employees' accounts: admins and HR invite; the employee sees his
	// own results only (which ones are his: server/app/my_results.go).
	shopscorev1connect.StaffAccountServiceInviteStaffProcedure: hr,
	shopscorev1connect.MyResultsServiceGetMyProfileProcedure:   staff,
	shopscorev1connect.MyResultsServiceListMyVisitsProcedure:   staff,
	shopscorev1connect.MyResultsServiceGetMyVisitProcedure:     staff,
	shopscorev1connect.MyResultsServiceGetMyPayProcedure:       staff,
	shopscorev1connect.MyResultsServiceGetMyPhotoProcedure:     staff,
	// His own appeals, through messages of his own (no user, reviewer or
	// file hash in them): app.FileAppeal, ListAppeals and GetAppeal
	// narrow a staff user to the visits and appeals that are his.
	shopscorev1connect.MyResultsServiceFileMyAppealProcedure:             staff,
	shopscorev1connect.MyResultsServiceListMyAppealsProcedure:            staff,
	shopscorev1connect.MyResultsServiceGetMyAppealProcedure:              staff,
	shopscorev1connect.MyResultsServiceCreateMyEvidenceUploadProcedure:   staff,
	shopscorev1connect.MyResultsServiceFinalizeMyEvidenceUploadProcedure: staff,
	// Appeals: filed by a manager for his stores' staff (the employee
	// files his own through MyResultsService, above); ruled by a manager
	// or HR who did not review the visit (four eyes, in app.RuleAppeal);
	// read by managers, HR and admins.
	shopscorev1connect.AppealServiceFileAppealProcedure:             appealFilers,
	shopscorev1connect.AppealServiceCreateEvidenceUploadProcedure:   appealFilers,
	shopscorev1connect.AppealServiceFinalizeEvidenceUploadProcedure: appealFilers,
	shopscorev1connect.AppealServiceListAppealsProcedure:            readers,
	shopscorev1connect.AppealServiceGetAppealProcedure:              readers,
	shopscorev1connect.AppealServiceRuleAppealProcedure:             judges,
	shopscorev1connect.AppealServiceGetAppealRatesProcedure:         readers,

	// Corrective actions: moved by managers (their stores': the use
	// cases scope them) and admins, read by HR too.
	shopscorev1connect.ActionServiceListActionsProcedure:         readers,
	shopscorev1connect.ActionServiceGetActionProcedure:           readers,
	shopscorev1connect.ActionServiceCountOverdueActionsProcedure: readers,
	shopscorev1connect.ActionServiceStartActionProcedure:         editors,
	shopscorev1connect.ActionServiceDoneActionProcedure:          editors,
	shopscorev1connect.ActionServiceVerifyActionProcedure:        editors,
	shopscorev1connect.ActionServiceReopenActionProcedure:        editors,
	shopscorev1connect.ActionServiceReassignActionProcedure:      editors,
	shopscorev1connect.ActionServiceListActionOwnersProcedure:    editors,
	shopscorev1connect.ActionServiceCreateProofUploadProcedure:   editors,
	shopscorev1connect.ActionServiceFinalizeProofUploadProcedure: editors,
}

// exportVisitsProcedure names the incremental visit export in the
// tables (server/export.go).
const exportVisitsProcedure = "/exports/visits"

// httpProcedures are the names in policy that are no RPC but plain HTTP
// routes authorized by the table (Server.authorize).
var httpProcedures = map[string]bool{exportVisitsProcedure: true}

// tokenScopes is the second half of the table for integration tokens
// (issue 16 §5): the procedures a token may call, each with the scope it
// needs. A token has no role; a procedure of policy that is not here is
// refused to every token (deny by default). The reports scope only reads.
var tokenScopes = map[string]audit.TokenScope{
	exportVisitsProcedure: audit.ScopeReports,
	shopscorev1connect.DashboardServiceGetDashboardSummaryProcedure: audit.ScopeReports,
	shopscorev1connect.DashboardServiceGetScoreTrendProcedure:       audit.ScopeReports,
	shopscorev1connect.DashboardServiceGetStoreScoresProcedure:      audit.ScopeReports,
	shopscorev1connect.DashboardServiceGetCategoryScoresProcedure:   audit.ScopeReports,
	shopscorev1connect.DashboardServiceListDashboardVisitsProcedure: audit.ScopeReports,
	shopscorev1connect.ReportServiceDownloadAuditWorkbookProcedure:  audit.ScopeReports,
	shopscorev1connect.OrgServiceListStoresProcedure:                audit.ScopeReports,
	shopscorev1connect.ChecklistServiceListChecklistsProcedure:      audit.ScopeReports,
	shopscorev1connect.ChecklistServiceGetChecklistVersionProcedure: audit.ScopeReports,

	shopscorev1connect.WebhookServiceCreateWebhookEndpointProcedure: audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceListWebhookEndpointsProcedure:  audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceUpdateWebhookEndpointProcedure: audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceRotateWebhookSecretProcedure:   audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceDeleteWebhookEndpointProcedure: audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceListWebhookDeliveriesProcedure: audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceRedeliverWebhookProcedure:      audit.ScopeWebhooks,
	shopscorev1connect.WebhookServiceSendTestWebhookProcedure:       audit.ScopeWebhooks,
}

// authorizeRole checks a call to a procedure that is not public against
// the table: authenticated says whether p is a caller at all. Errors:
// EFORBIDDEN (a procedure missing from the table, for everyone; p's
// role may not call it; p is an integration token and the procedure is
// outside its scopes), EUNAUTHORIZED (no caller).
func authorizeRole(procedure string, p audit.Principal, authenticated bool) error {
	roles, known := policy[procedure]
	switch {
	case !known:
		// Deny by default: a procedure served but missing from the table.
		return audit.Errorf(audit.EFORBIDDEN, "procedure %s is not open to anyone", procedure)
	case !authenticated:
		return audit.Errorf(audit.EUNAUTHORIZED, "missing bearer access token")
	case p.TokenID != "":
		scope, open := tokenScopes[procedure]
		if !open {
			return audit.Errorf(audit.EFORBIDDEN, "an integration token may not call %s", procedure)
		}
		if !p.HasScope(scope) {
			return audit.Errorf(audit.EFORBIDDEN, "an integration token without the %s scope may not call %s", scope, procedure)
		}
		return nil
	case !slices.Contains(roles, p.Role):
		return audit.Errorf(audit.EFORBIDDEN, "a %s may not call %s", p.Role, procedure)
	}
	return nil
}
