package server

import (
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/auth"
)

// limit bounds one field of a request: a string or bytes field (each
// element of a repeated one) to Bytes, a repeated field to Items
// elements. Zero means the field has no such dimension.
type limit struct {
	Bytes int
	Items int
}

// The caps that are not a domain limit of package audit (uploaded files
// are bounded by maxPackBytes and maxBasePayBytes, a policy by
// maxPolicyBytes, all below Config.MaxRequestBytes by default).
const (
	// maxMonthLen bounds a month or period ("2026-10").
	maxMonthLen = 16
	// maxSHA256Len is a hex SHA-256.
	maxSHA256Len = 64
	// maxManagers bounds the managers of one store.
	maxManagers = 100
	// maxVisitAnswers and maxVisitPhotos bound one visit.
	maxVisitAnswers = 2000
	maxVisitPhotos  = 2000
	// maxChoices bounds the options one answer chooses.
	maxChoices = 200
	// maxComments bounds the review comments of one return.
	maxComments = 500
	// maxManagedStores bounds the stores one manager is given at once.
	maxManagedStores = 1000
	// maxEventKinds bounds a security-log filter.
	maxEventKinds = 50
	// maxDateLen bounds a calendar date ("2026-12-01").
	maxDateLen = 16
)

// The usual rows of requestLimits.
var (
	limID     = limit{Bytes: audit.MaxIDLen}
	limCode   = limit{Bytes: audit.MaxCodeLen}
	limName   = limit{Bytes: audit.MaxNameLen}
	limNote   = limit{Bytes: audit.MaxNoteLen}
	limToken  = limit{Bytes: audit.MaxTokenLen}
	limMonth  = limit{Bytes: maxMonthLen}
	limDate   = limit{Bytes: maxDateLen}
	limSHA256 = limit{Bytes: maxSHA256Len}
	limFile   = limit{Bytes: audit.MaxFileNameLen}
	limItems  = func(n int) limit { return limit{Items: n} }
)

// requestLimits is the one table of how much a client may send in each
// field of every request message (and the messages inside them), keyed
// by the field's full name. The interceptor checks a request against it
// as soon as it is decoded, before authorization and any handler (only
// authentication, which reads nothing but the headers, comes earlier), so a 3 MiB e-mail is refused before it reaches a
// log, a rate limiter or the database. A string or bytes field missing
// here is held to audit.MaxTextLen; TestRequestLimits_EveryField makes
// sure none is missing.
var requestLimits = map[protoreflect.FullName]limit{
	// StaffAccountService, MyResultsService
	"shopscore.v1.InviteStaffRequest.invites":       limItems(maxBulk),
	"shopscore.v1.StaffInvite.employee_number":      limCode,
	"shopscore.v1.StaffInvite.email":                {Bytes: audit.MaxEmailLen},
	"shopscore.v1.CheckInvitationRequest.token":     limToken,
	"shopscore.v1.AcceptInvitationRequest.token":    limToken,
	"shopscore.v1.AcceptInvitationRequest.password": {Bytes: auth.MaxPasswordLen},
	"shopscore.v1.ListMyVisitsRequest.month":        limMonth,
	"shopscore.v1.GetMyVisitRequest.visit_id":       limID,
	"shopscore.v1.GetMyPayRequest.month":            limMonth,
	"shopscore.v1.GetMyPhotoRequest.visit_id":       limID,
	"shopscore.v1.GetMyPhotoRequest.question_id":    limID,
	// ActionService
	"shopscore.v1.ListActionsRequest.store_code":         limCode,
	"shopscore.v1.ListActionsRequest.visit_id":           limID,
	"shopscore.v1.ListActionsRequest.states":             limItems(len(audit.ActionStates)),
	"shopscore.v1.GetActionRequest.action_id":            limID,
	"shopscore.v1.StartActionRequest.action_id":          limID,
	"shopscore.v1.DoneActionRequest.action_id":           limID,
	"shopscore.v1.DoneActionRequest.note":                {Bytes: audit.MaxActionNote},
	"shopscore.v1.DoneActionRequest.proof":               limItems(audit.MaxActionProof),
	"shopscore.v1.VerifyActionRequest.action_id":         limID,
	"shopscore.v1.VerifyActionRequest.note":              {Bytes: audit.MaxActionNote},
	"shopscore.v1.ReopenActionRequest.action_id":         limID,
	"shopscore.v1.ReopenActionRequest.reason":            {Bytes: audit.MaxActionNote},
	"shopscore.v1.ReassignActionRequest.action_id":       limID,
	"shopscore.v1.ReassignActionRequest.owner_id":        limID,
	"shopscore.v1.ReassignActionRequest.note":            {Bytes: audit.MaxActionNote},
	"shopscore.v1.ListActionOwnersRequest.action_id":     limID,
	"shopscore.v1.CreateProofUploadRequest.action_id":    limID,
	"shopscore.v1.CreateProofUploadRequest.sha256":       limSHA256,
	"shopscore.v1.CreateProofUploadRequest.content_type": limCode,
	"shopscore.v1.FinalizeProofUploadRequest.action_id":  limID,
	// AppealService
	"shopscore.v1.FileAppealRequest.visit_id":                limID,
	"shopscore.v1.FileAppealRequest.questions":               limItems(audit.MaxAppealQuestions),
	"shopscore.v1.AppealQuestion.question_id":                limID,
	"shopscore.v1.AppealQuestion.reason":                     limNote,
	"shopscore.v1.AppealQuestion.evidence":                   limItems(audit.MaxAppealEvidence),
	"shopscore.v1.AppealQuestion.ruling_reason":              limNote,
	"shopscore.v1.AppealQuestion.question_text":              {Bytes: audit.MaxTextLen},
	"shopscore.v1.EvidenceFile.sha256":                       limSHA256,
	"shopscore.v1.EvidenceFile.content_type":                 limCode,
	"shopscore.v1.EvidenceFile.file_name":                    limFile,
	"shopscore.v1.EvidenceFile.download_url":                 limToken,
	"shopscore.v1.ListAppealsRequest.store_code":             limCode,
	"shopscore.v1.ListAppealsRequest.visit_id":               limID,
	"shopscore.v1.GetAppealRequest.appeal_id":                limID,
	"shopscore.v1.RuleAppealRequest.appeal_id":               limID,
	"shopscore.v1.RuleAppealRequest.rulings":                 limItems(audit.MaxAppealQuestions),
	"shopscore.v1.QuestionRuling.question_id":                limID,
	"shopscore.v1.QuestionRuling.reason":                     limNote,
	"shopscore.v1.CreateEvidenceUploadRequest.appeal_id":     limID,
	"shopscore.v1.CreateEvidenceUploadRequest.question_id":   limID,
	"shopscore.v1.CreateEvidenceUploadRequest.sha256":        limSHA256,
	"shopscore.v1.CreateEvidenceUploadRequest.content_type":  limCode,
	"shopscore.v1.FinalizeEvidenceUploadRequest.appeal_id":   limID,
	"shopscore.v1.FinalizeEvidenceUploadRequest.question_id": limID,
	// MyResultsService: the employee's own appeals, bounded as above.
	"shopscore.v1.FileMyAppealRequest.visit_id":                limID,
	"shopscore.v1.FileMyAppealRequest.questions":               limItems(audit.MaxAppealQuestions),
	"shopscore.v1.MyAppealQuestionInput.question_id":           limID,
	"shopscore.v1.MyAppealQuestionInput.reason":                limNote,
	"shopscore.v1.MyAppealQuestionInput.evidence":              limItems(audit.MaxAppealEvidence),
	"shopscore.v1.ListMyAppealsRequest.visit_id":               limID,
	"shopscore.v1.GetMyAppealRequest.appeal_id":                limID,
	"shopscore.v1.CreateMyEvidenceUploadRequest.appeal_id":     limID,
	"shopscore.v1.CreateMyEvidenceUploadRequest.question_id":   limID,
	"shopscore.v1.CreateMyEvidenceUploadRequest.sha256":        limSHA256,
	"shopscore.v1.CreateMyEvidenceUploadRequest.content_type":  limCode,
	"shopscore.v1.FinalizeMyEvidenceUploadRequest.appeal_id":   limID,
	"shopscore.v1.FinalizeMyEvidenceUploadRequest.question_id": limID,

	// AdminService
	"shopscore.v1.CreateUserRequest.email":                {Bytes: audit.MaxEmailLen},
	"shopscore.v1.CreateUserRequest.display_name":         limName,
	"shopscore.v1.CreateUserRequest.password":             {Bytes: auth.MaxPasswordLen},
	"shopscore.v1.ListUsersRequest.page_token":            limToken,
	"shopscore.v1.DisableUserRequest.user_id":             limID,
	"shopscore.v1.EnableUserRequest.user_id":              limID,
	"shopscore.v1.ListSessionsRequest.user_id":            limID,
	"shopscore.v1.ListSessionsRequest.page_token":         limToken,
	"shopscore.v1.RevokeSessionRequest.session_id":        limID,
	"shopscore.v1.CreateIntegrationTokenRequest.name":     limName,
	"shopscore.v1.CreateIntegrationTokenRequest.scopes":   {Items: 16, Bytes: audit.MaxCodeLen},
	"shopscore.v1.RevokeIntegrationTokenRequest.token_id": limID,

	// AssignmentService
	"shopscore.v1.AssignmentSpec.store_id":                 limID,
	"shopscore.v1.AssignmentSpec.checklist_id":             limID,
	"shopscore.v1.AssignmentSpec.shopper_id":               limID,
	"shopscore.v1.BulkCreateAssignmentsRequest.specs":      limItems(maxBulk),
	"shopscore.v1.CancelAssignmentRequest.assignment_id":   limID,
	"shopscore.v1.CancelAssignmentRequest.reason":          limNote,
	"shopscore.v1.ReassignAssignmentRequest.assignment_id": limID,
	"shopscore.v1.ReassignAssignmentRequest.shopper_id":    limID,
	"shopscore.v1.ListAssignmentsRequest.store_id":         limID,
	"shopscore.v1.ListAssignmentsRequest.shopper_id":       limID,
	"shopscore.v1.ListAssignmentsRequest.page_token":       limToken,

	// AuthService
	"shopscore.v1.LoginRequest.email":           {Bytes: audit.MaxEmailLen},
	"shopscore.v1.LoginRequest.password":        {Bytes: auth.MaxPasswordLen},
	"shopscore.v1.LoginRequest.device_id":       {Bytes: maxDeviceID},
	"shopscore.v1.LoginRequest.device_name":     limName,
	"shopscore.v1.RefreshRequest.refresh_token": limToken,
	"shopscore.v1.RefreshRequest.device_id":     {Bytes: maxDeviceID},
	// A language tag: "ru", "en" or empty are taken.
	"shopscore.v1.NotificationSettings.language": limCode,

	// ChecklistService
	"shopscore.v1.ImportPackRequest.file_name":             limFile,
	"shopscore.v1.ImportPackRequest.content":               {Bytes: maxPackBytes},
	"shopscore.v1.PublishVersionRequest.checklist_id":      limID,
	"shopscore.v1.RetireVersionRequest.checklist_id":       limID,
	"shopscore.v1.GetChecklistVersionRequest.checklist_id": limID,

	// OrgService
	"shopscore.v1.Store.id":                  limID,
	"shopscore.v1.Store.code":                limCode,
	"shopscore.v1.Store.name":                limName,
	"shopscore.v1.Store.address":             {Bytes: audit.MaxTextLen},
	"shopscore.v1.Store.region":              limName,
	"shopscore.v1.Store.manager_ids":         {Bytes: audit.MaxIDLen, Items: maxManagers},
	"shopscore.v1.Staff.id":                  limID,
	"shopscore.v1.Staff.employee_number":     limCode,
	"shopscore.v1.Staff.name":                limName,
	"shopscore.v1.Staff.position":            limName,
	"shopscore.v1.Staff.department":          limName,
	"shopscore.v1.Staff.store_id":            limID,
	"shopscore.v1.ListStoresRequest.region":  limName,
	"shopscore.v1.ListStaffRequest.store_id": limID,

	// ReportService
	"shopscore.v1.CreatePolicyRequest.policy_json":         {Bytes: maxPolicyBytes},
	"shopscore.v1.SetBasePayRequest.employee_number":       limCode,
	"shopscore.v1.SetBasePayRequest.effective_month":       limMonth,
	"shopscore.v1.ImportBasePayRequest.file_name":          limFile,
	"shopscore.v1.ImportBasePayRequest.content":            {Bytes: maxBasePayBytes},
	"shopscore.v1.ImportBasePayRequest.effective_month":    limMonth,
	"shopscore.v1.RunBonusRequest.policy_id":               limID,
	"shopscore.v1.RunBonusRequest.period":                  limMonth,
	"shopscore.v1.GetBonusRunRequest.run_id":               limID,
	"shopscore.v1.ListBonusRunsRequest.policy_id":          limID,
	"shopscore.v1.ListBonusRunsRequest.period":             limMonth,
	"shopscore.v1.ApproveBonusRunRequest.run_id":           limID,
	"shopscore.v1.ApproveBonusRunRequest.override_reason":  limNote,
	"shopscore.v1.DownloadAuditWorkbookRequest.from":       limMonth,
	"shopscore.v1.DownloadAuditWorkbookRequest.to":         limMonth,
	"shopscore.v1.DownloadAuditWorkbookRequest.store_code": limCode,
	"shopscore.v1.DownloadAuditWorkbookRequest.region":     limName,
	"shopscore.v1.DownloadPayrollRequest.run_id":           limID,

	// ReviewService
	"shopscore.v1.ListVisitsRequest.store_id":   limID,
	"shopscore.v1.ListVisitsRequest.page_token": limToken,
	"shopscore.v1.GetVisitRequest.visit_id":     limID,
	"shopscore.v1.StartReviewRequest.visit_id":  limID,
	"shopscore.v1.ApproveVisitRequest.visit_id": limID,
	"shopscore.v1.ApproveVisitRequest.note":     limNote,
	"shopscore.v1.ReturnVisitRequest.visit_id":  limID,
	"shopscore.v1.ReturnVisitRequest.comments":  limItems(maxComments),
	"shopscore.v1.ReviewComment.question_id":    limID,
	"shopscore.v1.ReviewComment.text":           limNote,
	"shopscore.v1.PublishVisitRequest.visit_id": limID,
	"shopscore.v1.ReopenVisitRequest.visit_id":  limID,
	"shopscore.v1.ReopenVisitRequest.reason":    limNote,

	// SyncService: the batch; each SubmitVisit is checked as its own item.
	"shopscore.v1.PushRequest.mutations": limItems(app.MaxPushMutations),
	"shopscore.v1.Mutation.mutation_id":  limID,
	"shopscore.v1.PullRequest.cursor":    limToken,
	// A pushed visit, checked per item (see itemLimits).
	"shopscore.v1.Visit.id":                limID,
	"shopscore.v1.Visit.assignment_id":     limID,
	"shopscore.v1.Visit.store_id":          limID,
	"shopscore.v1.Visit.checklist_id":      limID,
	"shopscore.v1.Visit.content_hash":      limSHA256,
	"shopscore.v1.Visit.answers":           limItems(maxVisitAnswers),
	"shopscore.v1.Visit.photos":            limItems(maxVisitPhotos),
	"shopscore.v1.Visit.staff_id":          limID,
	"shopscore.v1.Visit.staff_description": limNote,
	"shopscore.v1.Visit.notes":             limNote,
	"shopscore.v1.Visit.corrects_visit_id": limID,
	"shopscore.v1.Answer.question_id":      limID,
	"shopscore.v1.Answer.choices":          {Bytes: audit.MaxCodeLen, Items: maxChoices},
	"shopscore.v1.Answer.text":             limNote,
	"shopscore.v1.Answer.note":             limNote,
	"shopscore.v1.Answer.photo_hashes":     {Bytes: maxSHA256Len, Items: audit.MaxPhotosPerQuestion},
	"shopscore.v1.PhotoRef.question_id":    limID,
	"shopscore.v1.PhotoRef.sha256":         limSHA256,
	"shopscore.v1.PhotoRef.content_type":   limCode,

	// EvidenceService
	"shopscore.v1.CreateUploadSlotRequest.visit_id":     limID,
	"shopscore.v1.CreateUploadSlotRequest.question_id":  limID,
	"shopscore.v1.CreateUploadSlotRequest.sha256":       limSHA256,
	"shopscore.v1.CreateUploadSlotRequest.content_type": limCode,
	"shopscore.v1.FinalizeUploadRequest.visit_id":       limID,
	"shopscore.v1.FinalizeUploadRequest.question_id":    limID,

	// The console's procedures: lookups, filters, administration.
	"shopscore.v1.AssignmentSpec.store_code":             limCode,
	"shopscore.v1.ListAssignmentsRequest.checklist_id":   limID,
	"shopscore.v1.ListAssignmentsRequest.store_code":     limCode,
	"shopscore.v1.ListChecklistsRequest.checklist_id":    limID,
	"shopscore.v1.CreateUserRequest.managed_store_ids":   {Bytes: audit.MaxIDLen, Items: maxManagedStores},
	"shopscore.v1.CreateUserRequest.managed_store_codes": {Bytes: audit.MaxCodeLen, Items: maxManagedStores},
	"shopscore.v1.SetManagedStoresRequest.user_id":       limID,
	"shopscore.v1.SetManagedStoresRequest.store_ids":     {Bytes: audit.MaxIDLen, Items: maxManagedStores},
	"shopscore.v1.SetManagedStoresRequest.store_codes":   {Bytes: audit.MaxCodeLen, Items: maxManagedStores},
	"shopscore.v1.GetUserRequest.user_id":                limID,
	"shopscore.v1.ChangeRoleRequest.user_id":             limID,
	"shopscore.v1.ResetPasswordRequest.user_id":          limID,
	"shopscore.v1.ResetPasswordRequest.new_password":     {Bytes: auth.MaxPasswordLen},
	"shopscore.v1.ListUsersRequest.query":                limName,
	"shopscore.v1.ListShoppersRequest.query":             limName,
	"shopscore.v1.ListSecurityEventsRequest.kinds":       {Bytes: audit.MaxCodeLen, Items: maxEventKinds},
	"shopscore.v1.ListSecurityEventsRequest.user_id":     limID,
	"shopscore.v1.ListSecurityEventsRequest.page_token":  limToken,
	"shopscore.v1.GetStoreRequest.store_id":              limID,
	"shopscore.v1.GetStoreRequest.store_code":            limCode,
	"shopscore.v1.DeactivateStoreRequest.store_id":       limID,
	"shopscore.v1.ReactivateStoreRequest.store_id":       limID,
	"shopscore.v1.Store.manager_names":                   {Bytes: audit.MaxNameLen, Items: maxManagers},
	"shopscore.v1.ListStoresRequest.query":               limName,
	"shopscore.v1.GetStaffRequest.staff_id":              limID,
	"shopscore.v1.GetStaffRequest.employee_number":       limCode,
	"shopscore.v1.DeactivateStaffRequest.staff_id":       limID,
	"shopscore.v1.ReactivateStaffRequest.staff_id":       limID,
	"shopscore.v1.Staff.store_code":                      limCode,
	"shopscore.v1.Staff.store_name":                      limName,
	"shopscore.v1.Staff.store_since_date":                limDate,
	"shopscore.v1.StaffTransfer.id":                      limID,
	"shopscore.v1.StaffTransfer.staff_id":                limID,
	"shopscore.v1.StaffTransfer.from_store_id":           limID,
	"shopscore.v1.StaffTransfer.from_store_code":         limCode,
	"shopscore.v1.StaffTransfer.from_store_name":         limName,
	"shopscore.v1.StaffTransfer.to_store_id":             limID,
	"shopscore.v1.StaffTransfer.to_store_code":           limCode,
	"shopscore.v1.StaffTransfer.to_store_name":           limName,
	"shopscore.v1.StaffTransfer.effective_date":          limDate,
	"shopscore.v1.StaffTransfer.created_by":              limID,
	"shopscore.v1.StaffTransfer.created_by_name":         limName,
	"shopscore.v1.ListStaffRequest.store_code":           limCode,
	"shopscore.v1.ListStaffRequest.query":                limName,
	"shopscore.v1.ListStaffRequest.page_token":           limToken,
	"shopscore.v1.TransferStaffRequest.staff_id":         limID,
	"shopscore.v1.TransferStaffRequest.to_store_id":      limID,
	"shopscore.v1.TransferStaffRequest.to_store_code":    limCode,
	"shopscore.v1.TransferStaffRequest.effective_date":   limDate,
	"shopscore.v1.ImportStoresRequest.file_name":         limFile,
	"shopscore.v1.ImportStoresRequest.content":           {Bytes: maxImportBytes},
	"shopscore.v1.ImportStaffRequest.file_name":          limFile,
	"shopscore.v1.ImportStaffRequest.content":            {Bytes: maxImportBytes},
	"shopscore.v1.OrgSettings.time_zone":                 limName,
	"shopscore.v1.OrgSettings.locale":                    limCode,
	"shopscore.v1.OrgSettings.currency":                  limCode,
	"shopscore.v1.OrgSettings.updated_by":                limID,
	"shopscore.v1.ListVisitsRequest.store_code":          limCode,
	"shopscore.v1.ListVisitsRequest.staff_id":            limID,
	"shopscore.v1.ListVisitsRequest.checklist_id":        limID,
	"shopscore.v1.ListVisitsRequest.shopper_id":          limID,
	"shopscore.v1.ListVisitsRequest.flag":                limCode,

	// Dashboards and the HR workspace.
	"shopscore.v1.DashboardFilter.from":                  limMonth,
	"shopscore.v1.DashboardFilter.to":                    limMonth,
	"shopscore.v1.DashboardFilter.region":                limName,
	"shopscore.v1.DashboardFilter.store_code":            limCode,
	"shopscore.v1.DashboardFilter.checklist_id":          limID,
	"shopscore.v1.VisitDrill.month":                      limMonth,
	"shopscore.v1.VisitDrill.category":                   limCode,
	"shopscore.v1.VisitDrill.clause":                     limCode,
	"shopscore.v1.VisitDrill.question_id":                limID,
	"shopscore.v1.ListDashboardVisitsRequest.page_token": limToken,
	"shopscore.v1.GetPolicyRequest.policy_id":            limID,
	"shopscore.v1.DiffPoliciesRequest.policy_id":         limID,
	"shopscore.v1.ValidatePolicyRequest.policy_json":     {Bytes: maxPolicyBytes},
	"shopscore.v1.PreviewBonusRequest.policy_id":         limID,
	"shopscore.v1.PreviewBonusRequest.policy_json":       {Bytes: maxPolicyBytes},
	"shopscore.v1.PreviewBonusRequest.period":            limMonth,
	"shopscore.v1.ListBasePayRequest.month":              limMonth,
	"shopscore.v1.DownloadPayrollExportRequest.run_id":   limID,
	"shopscore.v1.DownloadPayrollExportRequest.locale":   limCode,

	// WebhookService
	"shopscore.v1.CreateWebhookEndpointRequest.url":         limWebhookURL,
	"shopscore.v1.CreateWebhookEndpointRequest.description": limWebhookDescription,
	"shopscore.v1.CreateWebhookEndpointRequest.event_types": limWebhookTypes,
	"shopscore.v1.UpdateWebhookEndpointRequest.id":          limID,
	"shopscore.v1.UpdateWebhookEndpointRequest.url":         limWebhookURL,
	"shopscore.v1.UpdateWebhookEndpointRequest.description": limWebhookDescription,
	"shopscore.v1.UpdateWebhookEndpointRequest.event_types": limWebhookTypes,
	"shopscore.v1.RotateWebhookSecretRequest.id":            limID,
	"shopscore.v1.DeleteWebhookEndpointRequest.id":          limID,
	"shopscore.v1.ListWebhookDeliveriesRequest.endpoint_id": limID,
	"shopscore.v1.ListWebhookDeliveriesRequest.page_token":  limToken,
	"shopscore.v1.RedeliverWebhookRequest.delivery_id":      limID,
	"shopscore.v1.SendTestWebhookRequest.endpoint_id":       limID,
}

// The limits of webhook endpoints' fields (an event type is a code).
var (
	limWebhookURL         = limit{Bytes: app.MaxWebhookURLBytes}
	limWebhookDescription = limit{Bytes: 4 * app.MaxWebhookDescription}
	limWebhookTypes       = limit{Bytes: audit.MaxCodeLen, Items: app.MaxWebhookEventTypes}
)

// itemMessages are checked as items of their batch, not with the request:
// a pushed visit beyond a limit is that mutation's rejection, so that it
// never blocks the device's queue.
var itemMessages = map[protoreflect.FullName]bool{
	"shopscore.v1.SubmitVisit": true,
}

// checkRequest checks a request message against requestLimits, leaving
// out itemMessages. Errors: EINVALID (a field too long), EEXHAUSTED (too
// many elements).
func checkRequest(m proto.Message) error {
	return checkMessage(m.ProtoReflect(), "", true)
}

// checkItem checks one item of a batch (a SubmitVisit) against
// requestLimits. Errors: as checkRequest.
func checkItem(m proto.Message) error {
	return checkMessage(m.ProtoReflect(), "", false)
}

func checkMessage(m protoreflect.Message, path string, skipItems bool) error {
	if skipItems && itemMessages[m.Descriptor().FullName()] {
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		err = checkField(fd, v, joinField(path, string(fd.Name())), skipItems)
		return err == nil
	})
	return err
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func checkField(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string, skipItems bool) error {
	lim, ok := requestLimits[fd.FullName()]
	if !ok {
		lim = limit{Bytes: audit.MaxTextLen}
	}
	switch {
	case fd.IsMap():
		return audit.Errorf(audit.EINVALID, "%s: maps are not accepted in requests", path)
	case fd.IsList():
		list := v.List()
		if lim.Items > 0 && list.Len() > lim.Items {
			return audit.Errorf(audit.EEXHAUSTED, "%s has %d items; at most %d are accepted in one request", path, list.Len(), lim.Items)
		}
		for i := range list.Len() {
			if err := checkValue(fd, list.Get(i), fmt.Sprintf("%s[%d]", path, i), lim, skipItems); err != nil {
				return err
			}
		}
		return nil
	}
	return checkValue(fd, v, path, lim, skipItems)
}

func checkValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string, lim limit, skipItems bool) error {
	n := -1
	switch fd.Kind() {
	case protoreflect.StringKind:
		n = len(v.String())
	case protoreflect.BytesKind:
		n = len(v.Bytes())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkMessage(v.Message(), path, skipItems)
	}
	if n > lim.Bytes && lim.Bytes > 0 || n > 0 && lim.Bytes == 0 {
		return audit.Errorf(audit.EINVALID, "%s has %d bytes; at most %d are accepted", path, n, lim.Bytes)
	}
	return nil
}

// limitRequest is the interceptor's first step for a unary call: the
// request is checked before anything else.
func limitRequest(req connect.AnyRequest) error {
	if m, ok := req.Any().(proto.Message); ok {
		return checkRequest(m)
	}
	return nil
}

// limitedConn checks each request message a streaming handler receives.
type limitedConn struct{ connect.StreamingHandlerConn }

func (c limitedConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	if m, ok := msg.(proto.Message); ok {
		return checkRequest(m)
	}
	return nil
}
