package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/demo"
)

// staffResponses are the procedures whose answers an employee's account
// receives about his work: his own results and appeals (MyResultsService:
// FileMyAppeal, ListMyAppeals, GetMyAppeal and his evidence uploads
// included), and the public set-password calls. The authorization table opens nothing else to him
// (TestPolicy_StaffReachesOnlyHisOwn).
var staffResponses = []struct{ service, method string }{
	{shopscorev1connect.MyResultsServiceName, ""}, // every method
	{shopscorev1connect.StaffAccountServiceName, "CheckInvitation"},
	{shopscorev1connect.StaffAccountServiceName, "AcceptInvitation"},
}

// (AuthService answers him too, but with nothing but his own account,
// session and tokens.)

// foreignField tells a field that would carry a shopper's identity, his
// device or track, or another employee: none may exist in a message a
// staff user receives.
func foreignField(name string) bool {
	for _, bad := range []string{"shopper", "device", "gps", "latitude", "longitude", "accuracy", "track", "location",
		"session", "actor", "sha256", "staff_id", "employees", "reviewer", "user_id", "check_in", "check_out", "fix"} {
		if strings.Contains(name, bad) {
			return true
		}
	}
	return false
}

// staffMessages returns every message reachable from the responses of
// the procedures in staffResponses.
func staffMessages(t *testing.T) map[protoreflect.FullName]protoreflect.MessageDescriptor {
	out := map[protoreflect.FullName]protoreflect.MessageDescriptor{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if out[md.FullName()] != nil {
			return
		}
		out[md.FullName()] = md
		for i := range md.Fields().Len() {
			if m := md.Fields().Get(i).Message(); m != nil {
				walk(m)
			}
		}
	}
	for _, r := range staffResponses {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(r.service))
		require.NoError(t, err, r.service)
		sd := d.(protoreflect.ServiceDescriptor)
		for i := range sd.Methods().Len() {
			if m := sd.Methods().Get(i); r.method == "" || string(m.Name()) == r.method {
				walk(m.Output())
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestMyResults_NoForeignFields walks every message a staff user can
// receive and fails on a field that could carry the shopper's identity,
// his device or GPS track, or another employee.
func TestMyResults_NoForeignFields(t *testing.T) {
	msgs := staffMessages(t)
	for name := range msgs {
		md := msgs[name]
		for i := range md.Fields().Len() {
			f := md.Fields().Get(i)
			assert.False(t, foreignField(string(f.Name())), "%s.%s may carry a shopper's or another employee's data", name, f.Name())
		}
	}
	assert.Contains(t, msgs, protoreflect.FullName("shopscore.v1.MyBonus"))
	assert.Contains(t, msgs, protoreflect.FullName("shopscore.v1.ExplanationLine"))
	assert.Contains(t, msgs, protoreflect.FullName("shopscore.v1.CheckInvitationResponse"))
	assert.Contains(t, msgs, protoreflect.FullName("shopscore.v1.MyAppeal"), "his appeals")
	assert.Contains(t, msgs, protoreflect.FullName("shopscore.v1.MyEvidence"))
}

// setStrings returns every string set anywhere in m.
func setStrings(m protoreflect.Message) []string {
	var out []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if fd.Message() != nil {
					out = append(out, setStrings(l.Get(i).Message())...)
				} else if fd.Kind() == protoreflect.StringKind {
					out = append(out, l.Get(i).String())
				}
			}
		case fd.Message() != nil:
			out = append(out, setStrings(v.Message())...)
		case fd.Kind() == protoreflect.StringKind:
			out = append(out, v.String())
		}
		return true
	})
	return out
}

func TestMyResults(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	require.NoError(t, demo.SeedReports(ctx, ts.Server))
	c := clientsOf(ts, http.DefaultClient)
	my := shopscorev1connect.NewMyResultsServiceClient(http.DefaultClient, ts.URL)
	me := mustLogin(t, c, audit.RoleStaff, "staff-phone")
	assert.Equal(t, v1.Role_ROLE_STAFF, me.GetUser().GetRole())
	token := me.GetTokens().GetAccessToken()

	profile, err := call(t, my.GetMyProfile, token, &v1.GetMyProfileRequest{})
	require.NoError(t, err)
	assert.Equal(t, "Sergei Morozov", profile.GetName())
	assert.Equal(t, demo.StaffEmployee, profile.GetEmployeeNumber())
	assert.Equal(t, "DEPOT-1", profile.GetStoreCode())
	assert.NotEmpty(t, profile.GetCurrency())

	visits, err := call(t, my.ListMyVisits, token, &v1.ListMyVisitsRequest{Month: demo.ReportMonths[0]})
	require.NoError(t, err)
	require.NotEmpty(t, visits.GetVisits())
	for _, v := range visits.GetVisits() {
		assert.True(t, v.GetNamesMe(), "the depot's visits all name a driver")
		assert.Contains(t, []string{"approved", "published"}, v.GetState())
		assert.Equal(t, "DEPOT-1", v.GetStoreCode())
	}
	var details []proto.Message
	photos := 0
	for _, v := range visits.GetVisits() {
		detail, err := call(t, my.GetMyVisit, token, &v1.GetMyVisitRequest{VisitId: v.GetVisitId()})
		require.NoError(t, err)
		require.NotEmpty(t, detail.GetAnswers())
		assert.NotEmpty(t, detail.GetAnswers()[0].GetQuestionText())
		assert.Equal(t, v.GetScorePercent(), detail.GetVisit().GetScorePercent())
		photos += len(detail.GetPhotos())
		for _, ph := range detail.GetPhotos() {
			pic, err := call(t, my.GetMyPhoto, token, &v1.GetMyPhotoRequest{VisitId: v.GetVisitId(), QuestionId: ph.GetQuestionId(), Index: ph.GetIndex()})
			require.NoError(t, err)
			assert.Equal(t, "image/png", pic.GetContentType())
			_, err = png.Decode(bytes.NewReader(pic.GetContent()))
			require.NoError(t, err, "the picture itself")
			_, err = call(t, my.GetMyPhoto, token, &v1.GetMyPhotoRequest{VisitId: v.GetVisitId(), QuestionId: ph.GetQuestionId(), Index: ph.GetIndex() + 7})
			requireCode(t, connect.CodeNotFound, err)
		}
		details = append(details, detail)
	}
	assert.Positive(t, photos, "the verified truck photos")
	pay, err := call(t, my.GetMyPay, token, &v1.GetMyPayRequest{Month: demo.ReportMonths[0]})
	require.NoError(t, err)
	require.Len(t, pay.GetBonuses(), 1, "the approved September run")
	b := pay.GetBonuses()[0]
	assert.Equal(t, demo.PolicyID, b.GetPolicyId())
	require.NotEmpty(t, b.GetComponents())
	assert.NotEmpty(t, b.GetComponents()[0].GetExplanation())
	assert.Positive(t, b.GetTotalMinor())
	none, err := call(t, my.GetMyPay, token, &v1.GetMyPayRequest{Month: demo.ReportMonths[1]})
	require.NoError(t, err)
	assert.Empty(t, none.GetBonuses(), "October's run is not approved")
	_, err = call(t, my.ListMyVisits, token, &v1.ListMyVisitsRequest{Month: "September"})
	requireCode(t, connect.CodeInvalidArgument, err)

	// Nothing he receives names the shopper, the seeding device or the
	// other driver (Dmitri Lebedev, E2002).
	var got []string
	for _, m := range append(details, profile, visits, pay) {
		got = append(got, setStrings(m.ProtoReflect())...)
	}
	for _, foreign := range []string{demo.ArchiveShopper, "Vera Ionescu", "demo-seed", "Dmitri Lebedev", "E2002"} {
		for _, s := range got {
			assert.NotContains(t, s, foreign)
		}
	}

	// Another employee's visit is not found; the review API is closed.
	admin := mustLogin(t, c, audit.RoleAdmin, "admin-pc").GetTokens().GetAccessToken()
	staff, err := call(t, c.Org.GetStaff, admin, &v1.GetStaffRequest{EmployeeNumber: "E2002"})
	require.NoError(t, err)
	others, err := call(t, c.Review.ListVisits, admin, &v1.ListVisitsRequest{StaffId: staff.GetStaff().GetId()})
	require.NoError(t, err)
	require.NotEmpty(t, others.GetVisits())
	_, err = call(t, my.GetMyVisit, token, &v1.GetMyVisitRequest{VisitId: others.GetVisits()[0].GetId()})
	requireCode(t, connect.CodeNotFound, err, "Dmitri Lebedev's visit")
	_, err = call(t, my.GetMyPhoto, token, &v1.GetMyPhotoRequest{VisitId: others.GetVisits()[0].GetId(), QuestionId: "truck_clean"})
	requireCode(t, connect.CodeNotFound, err, "Dmitri Lebedev's photo")
	_, err = call(t, c.Review.ListVisits, token, &v1.ListVisitsRequest{})
	requireCode(t, connect.CodePermissionDenied, err)
	_, err = call(t, c.Org.ListStores, token, &v1.ListStoresRequest{})
	requireCode(t, connect.CodePermissionDenied, err)
	// And the admin is no employee.
	_, err = call(t, my.ListMyVisits, admin, &v1.ListMyVisitsRequest{Month: demo.ReportMonths[0]})
	requireCode(t, connect.CodePermissionDenied, err)
}

func TestStaffInvitations(t *testing.T) {
	ts := MustRunServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	accounts := shopscorev1connect.NewStaffAccountServiceClient(http.DefaultClient, ts.URL)
	hr := mustLogin(t, c, audit.RoleHR, "hr-pc").GetTokens().GetAccessToken()
	manager := mustLogin(t, c, audit.RoleManager, "m-pc").GetTokens().GetAccessToken()

	_, err := call(t, accounts.InviteStaff, manager, &v1.InviteStaffRequest{Invites: []*v1.StaffInvite{{EmployeeNumber: "E1001", Email: "ivan@example.com"}}})
	requireCode(t, connect.CodePermissionDenied, err, "a manager does not invite")
	_, err = call(t, accounts.InviteStaff, hr, &v1.InviteStaffRequest{Invites: []*v1.StaffInvite{
		{EmployeeNumber: "E1001", Email: "ivan@example.com"}, {EmployeeNumber: "E9999", Email: "who@example.com"}}})
	requireCode(t, connect.CodeNotFound, err)
	assert.Contains(t, err.Error(), "E9999")
	_, err = call(t, accounts.InviteStaff, hr, &v1.InviteStaffRequest{Invites: []*v1.StaffInvite{{EmployeeNumber: demo.StaffEmployee, Email: "sergei2@example.com"}}})
	requireCode(t, connect.CodeAlreadyExists, err)
	assert.Contains(t, err.Error(), "Sergei Morozov (E2001) has an account already")

	out, err := call(t, accounts.InviteStaff, hr, &v1.InviteStaffRequest{Invites: []*v1.StaffInvite{
		{EmployeeNumber: "E1001", Email: "Ivan@Example.com"}, {EmployeeNumber: "E1002", Email: "elena@example.com"}}})
	require.NoError(t, err, "the refused bulk stored nothing, so Ivan is invited now")
	require.Len(t, out.GetLinks(), 2)
	ivan := out.GetLinks()[0]
	assert.Equal(t, "Ivan Sokolov", ivan.GetStaffName())
	assert.Equal(t, "ivan@example.com", ivan.GetEmail())
	assert.Equal(t, "/set-password#"+ivan.GetToken(), ivan.GetSetPasswordPath())
	assert.NotEqual(t, ivan.GetToken(), out.GetLinks()[1].GetToken())

	// Before he sets a password, none opens his account.
	_, err = c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{Email: "ivan@example.com", Password: "", DeviceId: "d"}))
	requireCode(t, connect.CodeInvalidArgument, err)
	_, err = c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{Email: "ivan@example.com", Password: "anything-at-all", DeviceId: "d"}))
	requireCode(t, connect.CodeUnauthenticated, err)

	// The public calls need no token.
	who, err := accounts.CheckInvitation(context.Background(), connect.NewRequest(&v1.CheckInvitationRequest{Token: ivan.GetToken()}))
	require.NoError(t, err)
	assert.Equal(t, "E1001", who.Msg.GetEmployeeNumber())
	_, err = accounts.AcceptInvitation(context.Background(), connect.NewRequest(&v1.AcceptInvitationRequest{Token: ivan.GetToken(), Password: "short"}))
	requireCode(t, connect.CodeInvalidArgument, err)
	_, err = accounts.AcceptInvitation(context.Background(), connect.NewRequest(&v1.AcceptInvitationRequest{Token: "not-a-token", Password: "a long password"}))
	requireCode(t, connect.CodeNotFound, err)
	done, err := accounts.AcceptInvitation(context.Background(), connect.NewRequest(&v1.AcceptInvitationRequest{Token: ivan.GetToken(), Password: "ivan's own password"}))
	require.NoError(t, err)
	assert.Equal(t, "ivan@example.com", done.Msg.GetEmail())
	_, err = accounts.AcceptInvitation(context.Background(), connect.NewRequest(&v1.AcceptInvitationRequest{Token: ivan.GetToken(), Password: "another password"}))
	requireCode(t, connect.CodeFailedPrecondition, err)
	assert.Contains(t, err.Error(), "Ivan Sokolov (E1001)")
	assert.Contains(t, err.Error(), "was used")
	login, err := c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{Email: "ivan@example.com", Password: "ivan's own password", DeviceId: "d"}))
	require.NoError(t, err)
	assert.Equal(t, v1.Role_ROLE_STAFF, login.Msg.GetUser().GetRole())
}

// TestMyResults_Appeal: the demo's staff user appeals one of his visits
// through his own procedures with a PDF till receipt (signed upload,
// server re-hash), follows it, and sees the second manager's ruling; the
// AppealService itself is closed to him, and nothing he receives names a
// user, the shopper or another employee.
func TestMyResults_Appeal(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	require.NoError(t, demo.SeedReports(ctx, ts.Server))
	c := clientsOf(ts, http.DefaultClient)
	my := shopscorev1connect.NewMyResultsServiceClient(http.DefaultClient, ts.URL)
	ac := shopscorev1connect.NewAppealServiceClient(http.DefaultClient, ts.URL)
	token := mustLogin(t, c, audit.RoleStaff, "staff-phone").GetTokens().GetAccessToken()
	manager := mustLogin(t, c, audit.RoleManager, "m-pc").GetTokens().GetAccessToken()
	login, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: demo.SecondManager, Password: demoPassword, DeviceId: "m2-pc", DeviceName: "desk"}))
	require.NoError(t, err)
	second := login.Msg.GetTokens().GetAccessToken()

	visits, err := call(t, my.ListMyVisits, token, &v1.ListMyVisitsRequest{Month: demo.ReportMonths[0]})
	require.NoError(t, err)
	require.NotEmpty(t, visits.GetVisits())
	visitID := visits.GetVisits()[0].GetVisitId()
	detail, err := call(t, my.GetMyVisit, token, &v1.GetMyVisitRequest{VisitId: visitID})
	require.NoError(t, err)
	assert.True(t, detail.GetAppealable(), "approved while the demo was seeded: the window is open")
	require.NotNil(t, detail.GetAppealDeadlineTime())
	assert.True(t, detail.GetAppealDeadlineTime().AsTime().After(time.Now().Add(6*24*time.Hour)))
	var polite *v1.MyAnswer
	for _, a := range detail.GetAnswers() {
		if a.GetQuestionId() == "driver_polite" {
			polite = a
		}
	}
	require.NotNil(t, polite)

	pdf := tillReceipt()
	sum := sha256.Sum256(pdf)
	sha := hex.EncodeToString(sum[:])
	req := &v1.FileMyAppealRequest{VisitId: visitID, Questions: []*v1.MyAppealQuestionInput{{QuestionId: "driver_polite",
		Reason:   "The customer signed the till receipt: greeted and thanked",
		Evidence: []*v1.EvidenceFile{{Sha256: sha, SizeBytes: int64(len(pdf)), ContentType: "application/pdf", FileName: "receipt-4471.pdf"}}}}}
	_, err = call(t, ac.FileAppeal, token, &v1.FileAppealRequest{VisitId: visitID, Questions: []*v1.AppealQuestion{{QuestionId: "driver_polite", Reason: "x"}}})
	requireCode(t, connect.CodePermissionDenied, err, "the employee files through his own procedures")
	_, err = call(t, ac.ListAppeals, token, &v1.ListAppealsRequest{})
	requireCode(t, connect.CodePermissionDenied, err)
	_, err = call(t, my.FileMyAppeal, token, &v1.FileMyAppealRequest{VisitId: visitID, Questions: []*v1.MyAppealQuestionInput{{QuestionId: "driver_polite"}}})
	requireCode(t, connect.CodeInvalidArgument, err, "a reason is required")
	_, err = call(t, my.FileMyAppeal, manager, req)
	requireCode(t, connect.CodePermissionDenied, err, "a manager files through AppealService")

	filed, err := call(t, my.FileMyAppeal, token, req)
	require.NoError(t, err)
	ap := filed.GetAppeal()
	assert.True(t, ap.GetFiledByMe())
	assert.Equal(t, v1.AppealState_APPEAL_STATE_OPEN, ap.GetState())
	assert.Equal(t, polite.GetQuestionText(), ap.GetQuestions()[0].GetQuestionText())
	assert.Equal(t, detail.GetAppealDeadlineTime().AsTime(), ap.GetDeadlineTime().AsTime())
	again, err := call(t, my.GetMyVisit, token, &v1.GetMyVisitRequest{VisitId: visitID})
	require.NoError(t, err)
	assert.False(t, again.GetAppealable(), "an open appeal")
	_, err = call(t, my.FileMyAppeal, token, req)
	requireCode(t, connect.CodeFailedPrecondition, err, "one open appeal per visit")

	_, err = call(t, my.CreateMyEvidenceUpload, token, &v1.CreateMyEvidenceUploadRequest{AppealId: ap.GetId(), QuestionId: "driver_polite",
		Sha256: sha, SizeBytes: int64(len(pdf)) + 1, ContentType: "application/pdf"})
	requireCode(t, connect.CodeInvalidArgument, err, "other bytes than declared")
	up, err := call(t, my.CreateMyEvidenceUpload, token, &v1.CreateMyEvidenceUploadRequest{AppealId: ap.GetId(), QuestionId: "driver_polite",
		Sha256: sha, SizeBytes: int64(len(pdf)), ContentType: "application/pdf"})
	require.NoError(t, err)
	require.False(t, up.GetAlreadyVerified())
	require.Equal(t, http.StatusOK, upload(t, &v1.CreateUploadSlotResponse{Url: up.GetUrl(), Method: up.GetMethod(), Headers: up.GetHeaders()}, pdf))
	fin, err := call(t, my.FinalizeMyEvidenceUpload, token, &v1.FinalizeMyEvidenceUploadRequest{AppealId: ap.GetId(), QuestionId: "driver_polite"})
	require.NoError(t, err)
	assert.True(t, fin.GetEvidence().GetVerified())
	assert.Equal(t, "receipt-4471.pdf", fin.GetEvidence().GetFileName())

	// The reviewer is refused as judge; the second manager upholds.
	amended := &v1.Answer{QuestionId: "driver_polite", BoolValue: proto.Bool(!polite.GetYes())}
	rule := &v1.RuleAppealRequest{AppealId: ap.GetId(), Rulings: []*v1.QuestionRuling{{QuestionId: "driver_polite",
		Outcome: v1.AppealOutcome_APPEAL_OUTCOME_UPHELD, AmendedAnswer: amended, Reason: "the signed receipt"}}}
	_, err = call(t, ac.RuleAppeal, manager, rule)
	requireCode(t, connect.CodePermissionDenied, err, "Maria Ivanova reviewed the visit")
	_, err = call(t, ac.RuleAppeal, token, rule)
	requireCode(t, connect.CodePermissionDenied, err)
	_, err = call(t, ac.RuleAppeal, second, rule)
	require.NoError(t, err)

	list, err := call(t, my.ListMyAppeals, token, &v1.ListMyAppealsRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetAppeals(), 1)
	got, err := call(t, my.GetMyAppeal, token, &v1.GetMyAppealRequest{AppealId: ap.GetId()})
	require.NoError(t, err)
	ruled := got.GetAppeal()
	assert.Equal(t, v1.AppealState_APPEAL_STATE_CLOSED, ruled.GetState())
	assert.Equal(t, "manager", ruled.GetRuledRole())
	q := ruled.GetQuestions()[0]
	assert.Equal(t, v1.AppealOutcome_APPEAL_OUTCOME_UPHELD, q.GetOutcome())
	require.NotNil(t, q.GetAmendedAnswer())
	assert.Equal(t, !polite.GetYes(), q.GetAmendedAnswer().GetYes())
	after, err := call(t, my.GetMyVisit, token, &v1.GetMyVisitRequest{VisitId: visitID})
	require.NoError(t, err)
	assert.Equal(t, ruled.GetScoreAfter(), after.GetVisit().GetScorePercent())
	for _, a := range after.GetAnswers() {
		if a.GetQuestionId() == "driver_polite" {
			assert.Equal(t, !polite.GetYes(), a.GetYes(), "he sees his visit as it is scored now")
		}
	}

	var strs []string
	for _, m := range []proto.Message{filed, list, got, fin, after} {
		strs = append(strs, setStrings(m.ProtoReflect())...)
	}
	for _, foreign := range []string{demo.ArchiveShopper, "Vera Ionescu", "Maria Ivanova", "Pavel Orlov", "Dmitri Lebedev", "E2002", sha} {
		for _, s := range strs {
			assert.NotContains(t, s, foreign)
		}
	}

	// Another employee's visit and the unknown appeal are not found.
	_, err = call(t, my.GetMyAppeal, token, &v1.GetMyAppealRequest{AppealId: "no-such-appeal"})
	requireCode(t, connect.CodeNotFound, err)
	admin := mustLogin(t, c, audit.RoleAdmin, "admin-pc").GetTokens().GetAccessToken()
	staff, err := call(t, c.Org.GetStaff, admin, &v1.GetStaffRequest{EmployeeNumber: "E2002"})
	require.NoError(t, err)
	others, err := call(t, c.Review.ListVisits, admin, &v1.ListVisitsRequest{StaffId: staff.GetStaff().GetId()})
	require.NoError(t, err)
	_, err = call(t, my.FileMyAppeal, token, &v1.FileMyAppealRequest{VisitId: others.GetVisits()[0].GetId(), Questions: req.GetQuestions()})
	requireCode(t, connect.CodeNotFound, err, "Dmitri Lebedev's visit")
}
