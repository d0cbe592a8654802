package server

import (
	"context"
	"fmt"
	"io"
	"slices"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/storage"
)

// setPasswordPath is the console's page that sets an invited employee's
// password; the token goes in the fragment, which browsers never send.
const setPasswordPath = "/set-password#"

// staffAccountService implements StaffAccountService over the use cases
// of server/app (staff_accounts.go).
type staffAccountService struct{ s *Server }

// InviteStaff makes the employees' accounts and returns their one-time
// links. Errors: as app.InviteStaff.
func (a *staffAccountService) InviteStaff(ctx context.Context, req *connect.Request[v1.InviteStaffRequest]) (*connect.Response[v1.InviteStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var in []app.StaffInvite
	for _, i := range req.Msg.GetInvites() {
		in = append(in, app.StaffInvite{EmployeeNumber: i.GetEmployeeNumber(), Email: i.GetEmail()})
	}
	out, err := a.s.app.InviteStaff(ctx, p, in)
	if err != nil {
		return nil, err
	}
	resp := &v1.InviteStaffResponse{}
	for _, inv := range out {
		resp.Links = append(resp.Links, &v1.StaffInvitationLink{
			EmployeeNumber: inv.Staff.EmployeeNumber, StaffName: inv.Staff.Name, UserId: inv.User.ID, Email: inv.User.Email,
			Token: inv.Token, SetPasswordPath: setPasswordPath + inv.Token, ExpireTime: timestamp(inv.ExpiresAt),
		})
	}
	return connect.NewResponse(resp), nil
}

// allowPublic bounds the public calls of a client address as logins are.
func (a *staffAccountService) allowPublic(peer string) error {
	if !a.s.addrLimiter.Allow(peer) {
		return audit.Errorf(audit.EEXHAUSTED, "too many attempts from this address; wait a minute and try again")
	}
	return nil
}

// CheckInvitation says whom a link is for. Errors: as
// app.CheckInvitation, ResourceExhausted.
func (a *staffAccountService) CheckInvitation(ctx context.Context, req *connect.Request[v1.CheckInvitationRequest]) (*connect.Response[v1.CheckInvitationResponse], error) {
	if err := a.allowPublic(peerHost(req.Peer().Addr)); err != nil {
		return nil, err
	}
	inv, err := a.s.app.CheckInvitation(ctx, req.Msg.GetToken())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CheckInvitationResponse{StaffName: inv.Staff.Name, EmployeeNumber: inv.Staff.EmployeeNumber,
		Email: inv.User.Email, ExpireTime: timestamp(inv.ExpiresAt)}), nil
}

// AcceptInvitation sets the invited employee's password. The link is
// checked before the password is hashed, so a bad link costs no hash.
// Errors: as app.AcceptInvitation, InvalidArgument (the password),
// ResourceExhausted.
func (a *staffAccountService) AcceptInvitation(ctx context.Context, req *connect.Request[v1.AcceptInvitationRequest]) (*connect.Response[v1.AcceptInvitationResponse], error) {
	peer := peerHost(req.Peer().Addr)
	if err := a.allowPublic(peer); err != nil {
		return nil, err
	}
	if _, err := a.s.app.CheckInvitation(ctx, req.Msg.GetToken()); err != nil {
		return nil, err
	}
	hash, err := a.s.hashes.HashPassword(ctx, req.Msg.GetPassword())
	if err != nil {
		return nil, err
	}
	inv, err := a.s.app.AcceptInvitation(ctx, req.Msg.GetToken(), hash, peer)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.AcceptInvitationResponse{Email: inv.User.Email, StaffName: inv.Staff.Name}), nil
}

// myResultsService implements MyResultsService: the handlers only
// convert; which visits and lines are the caller's is decided in
// server/app (my_results.go). Its messages are its own, with no field for
// a shopper or another employee.
type myResultsService struct{ s *Server }

// GetMyProfile returns the caller's employee and the organisation's
// formats. Errors: EFORBIDDEN (not an employee's account).
func (m *myResultsService) GetMyProfile(ctx context.Context, _ *connect.Request[v1.GetMyProfileRequest]) (*connect.Response[v1.GetMyProfileResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	me, err := m.s.app.WhoIsMe(ctx, p)
	if err != nil {
		return nil, err
	}
	st, err := m.s.st.OrgSettings().Find(ctx)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.GetMyProfileResponse{
		Name: me.Staff.Name, EmployeeNumber: me.Staff.EmployeeNumber, Position: me.Staff.Position,
		StoreCode: me.Staff.StoreCode, StoreName: me.Staff.StoreName, Email: me.User.Email,
		TimeZone: st.TimeZone, Locale: st.Locale, Currency: st.Currency,
	}), nil
}

func myVisitToProto(s *storage.VisitSummary) *v1.MyVisit {
	return &v1.MyVisit{
		VisitId: s.ID, StoreCode: s.StoreCode, StoreName: s.StoreName, ChecklistName: s.ChecklistName,
		VisitTime: timestamp(s.StartedAt), ScorePercent: s.ScorePercent, NamesMe: s.StaffID != "", State: string(s.State),
	}
}

// ListMyVisits lists the month's visits that concern the caller. Errors:
// as app.MyVisits.
func (m *myResultsService) ListMyVisits(ctx context.Context, req *connect.Request[v1.ListMyVisitsRequest]) (*connect.Response[v1.ListMyVisitsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	list, err := m.s.app.MyVisits(ctx, p, req.Msg.GetMonth())
	if err != nil {
		return nil, err
	}
	resp := &v1.ListMyVisitsResponse{}
	for _, s := range list {
		resp.Visits = append(resp.Visits, myVisitToProto(s))
	}
	return connect.NewResponse(resp), nil
}

// GetMyVisit returns one visit that concerns the caller: the questions
// with what was found and their points, the score, and the verified
// photos with short-lived links. Errors: as app.MyVisit.
func (m *myResultsService) GetMyVisit(ctx context.Context, req *connect.Request[v1.GetMyVisitRequest]) (*connect.Response[v1.GetMyVisitResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	d, err := m.s.app.MyVisit(ctx, p, req.Msg.GetVisitId())
	if err != nil {
		return nil, err
	}
	resp := &v1.GetMyVisitResponse{Visit: myVisitToProto(&d.VisitSummary), Score: scoreToProto(d.Score)}
	answers := map[string]audit.Answer{}
	for _, a := range d.Visit.Answers {
		answers[a.QuestionID] = a
	}
	scores := map[string]audit.QuestionScore{}
	for _, q := range d.Score.Questions {
		scores[q.QuestionID] = q
	}
	if d.Checklist != nil {
		for _, sec := range d.Checklist.Content.Sections {
			for i := range sec.Questions {
				q := &sec.Questions[i]
				resp.Answers = append(resp.Answers, myAnswerToProto(sec.Title, q, answers[q.ID], scores[q.ID], d.Score))
			}
		}
	}
	for _, ph := range d.Photos {
		if ph.Verified {
			resp.Photos = append(resp.Photos, &v1.MyPhoto{QuestionId: ph.QuestionID, Index: int32(ph.Index), ContentType: ph.ContentType})
		}
	}
	w, err := m.s.app.VisitAppealWindow(ctx, d)
	if err != nil {
		return nil, err
	}
	resp.AppealDeadlineTime, resp.Appealable = timestamp(w.Deadline), w.Open
	return connect.NewResponse(resp), nil
}

// myAnswerToProto converts the answer a to the question q of the section
// titled section, with its points sc in the visit's score.
func myAnswerToProto(section string, q *audit.Question, a audit.Answer, sc audit.QuestionScore, score *audit.VisitScore) *v1.MyAnswer {
	out := &v1.MyAnswer{
		QuestionId: q.ID, SectionTitle: section, QuestionText: q.Text, Answered: sc.Answered, NotApplicable: a.NA,
		Yes: a.Bool, Number: a.Number, Unit: q.Unit, DurationMs: a.DurationMS, Text: a.Text, Note: a.Note,
		Points: sc.Points, MaxPoints: sc.Max,
	}
	if score != nil {
		out.CriticalFailure = slices.ContainsFunc(score.CriticalFailures, func(c audit.CriticalFailure) bool { return c.QuestionID == q.ID })
	}
	for _, c := range a.Choices {
		label := c
		if j := slices.IndexFunc(q.Options, func(o audit.Option) bool { return o.Value == c }); j >= 0 && q.Options[j].Label != "" {
			label = q.Options[j].Label
		}
		out.Choices = append(out.Choices, label)
	}
	return out
}

// myAppealToProto converts an appeal for the employee it concerns: no
// user, reviewer or file hash in it. The visit d (nil: not read) names
// the questions and gives the amended answers their points.
func myAppealToProto(ap *audit.Appeal, me string, d *storage.VisitDetail) *v1.MyAppeal {
	out := &v1.MyAppeal{
		Id: ap.ID, VisitId: ap.VisitID, State: appealStates[ap.State], StoreCode: ap.StoreCode, StoreName: ap.StoreName,
		VisitTime: timestamp(ap.VisitedAt), FiledByMe: ap.FiledBy == me, FileTime: timestamp(ap.FiledAt),
		DeadlineTime: timestamp(ap.Deadline), RuleTime: timestamp(ap.RuledAt), RuledRole: string(ap.RuledRole),
		ScoreBefore: ap.ScoreBefore, ScoreAfter: ap.ScoreAfter,
	}
	scores := map[string]audit.QuestionScore{}
	var score *audit.VisitScore
	if d != nil && d.Score != nil {
		score = d.Score
		for _, q := range d.Score.Questions {
			scores[q.QuestionID] = q
		}
	}
	for _, q := range ap.Questions {
		mq := &v1.MyAppealQuestion{QuestionId: q.QuestionID, Reason: q.Reason, Outcome: appealOutcomes[q.Outcome], RulingReason: q.RulingReason}
		var cq *audit.Question
		section := ""
		if d != nil && d.Checklist != nil {
			if c, sec, ok := d.Checklist.Content.Question(q.QuestionID); ok {
				cq, section, mq.QuestionText = c, d.Checklist.Content.Sections[sec].Title, c.Text
			}
		}
		if q.Amended != nil && cq != nil {
			mq.AmendedAnswer = myAnswerToProto(section, cq, *q.Amended, scores[q.QuestionID], score)
		}
		for _, e := range q.Evidence {
			mq.Evidence = append(mq.Evidence, myEvidenceToProto(e))
		}
		out.Questions = append(out.Questions, mq)
	}
	return out
}

func myEvidenceToProto(e audit.AppealEvidence) *v1.MyEvidence {
	return &v1.MyEvidence{Index: int32(e.Index), FileName: e.FileName, ContentType: e.ContentType, SizeBytes: e.Size, Verified: e.Verified}
}

// myAppealVisit reads the visit of an appeal the caller sees, to name its
// questions; nil when it cannot be read.
func (m *myResultsService) myAppealVisit(ctx context.Context, ap *audit.Appeal) *storage.VisitDetail {
	d, err := m.s.st.Visits().FindDetail(ctx, audit.Scope{All: true}, ap.VisitID)
	if err != nil {
		return nil
	}
	return d
}

// FileMyAppeal files the caller's own appeal. Errors: as app.FileAppeal.
func (m *myResultsService) FileMyAppeal(ctx context.Context, req *connect.Request[v1.FileMyAppealRequest]) (*connect.Response[v1.FileMyAppealResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := &audit.Appeal{VisitID: req.Msg.GetVisitId()}
	for _, q := range req.Msg.GetQuestions() {
		in.Questions = append(in.Questions, appealQuestionFromProto(q.GetQuestionId(), q.GetReason(), q.GetEvidence()))
	}
	ap, err := m.s.app.FileAppeal(ctx, p, in)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.FileMyAppealResponse{Appeal: myAppealToProto(ap, p.UserID, m.myAppealVisit(ctx, ap))}), nil
}

// ListMyAppeals lists the caller's appeals. Errors: as app.ListAppeals.
func (m *myResultsService) ListMyAppeals(ctx context.Context, req *connect.Request[v1.ListMyAppealsRequest]) (*connect.Response[v1.ListMyAppealsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	f := storage.AppealFilter{VisitID: req.Msg.GetVisitId(), Limit: n}
	if f.State, err = appealStateFromProto(req.Msg.GetState()); err != nil {
		return nil, err
	}
	list, err := m.s.app.ListAppeals(ctx, p, f)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListMyAppealsResponse{}
	for _, ap := range list {
		resp.Appeals = append(resp.Appeals, myAppealToProto(ap, p.UserID, m.myAppealVisit(ctx, ap)))
	}
	return connect.NewResponse(resp), nil
}

// GetMyAppeal returns one of the caller's appeals. Errors: as
// app.GetAppeal.
func (m *myResultsService) GetMyAppeal(ctx context.Context, req *connect.Request[v1.GetMyAppealRequest]) (*connect.Response[v1.GetMyAppealResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetAppealId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "appeal_id is required")
	}
	ap, err := m.s.app.GetAppeal(ctx, p, req.Msg.GetAppealId())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.GetMyAppealResponse{Appeal: myAppealToProto(ap, p.UserID, m.myAppealVisit(ctx, ap))}), nil
}

// CreateMyEvidenceUpload returns an upload URL for an evidence file of
// one of the caller's appeals.
func (m *myResultsService) CreateMyEvidenceUpload(ctx context.Context, req *connect.Request[v1.CreateMyEvidenceUploadRequest]) (*connect.Response[v1.CreateMyEvidenceUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	r := req.Msg
	out, err := m.s.evidenceUpload(ctx, p, r.GetAppealId(), r.GetQuestionId(), r.GetIndex(), r.GetSha256(), r.GetSizeBytes(), r.GetContentType())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateMyEvidenceUploadResponse{AlreadyVerified: out.AlreadyVerified, Url: out.Url, Method: out.Method,
		Headers: out.Headers, ExpireTime: out.ExpireTime}), nil
}

// FinalizeMyEvidenceUpload verifies an evidence file of one of the
// caller's appeals.
func (m *myResultsService) FinalizeMyEvidenceUpload(ctx context.Context, req *connect.Request[v1.FinalizeMyEvidenceUploadRequest]) (*connect.Response[v1.FinalizeMyEvidenceUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	r := req.Msg
	e, err := m.s.finalizeEvidence(ctx, p, r.GetAppealId(), r.GetQuestionId(), r.GetIndex())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.FinalizeMyEvidenceUploadResponse{Evidence: myEvidenceToProto(*e)}), nil
}

// GetMyPhoto returns a verified photo of one of the caller's visits with
// its metadata (the GPS position, the time, the device) removed: the
// bytes pass through the server, never a link to the stored original.
// Errors: as app.MyPhoto, and those of stripPhotoMetadata.
func (m *myResultsService) GetMyPhoto(ctx context.Context, req *connect.Request[v1.GetMyPhotoRequest]) (*connect.Response[v1.GetMyPhotoResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	ph, err := m.s.app.MyPhoto(ctx, p, req.Msg.GetVisitId(), req.Msg.GetQuestionId(), int(req.Msg.GetIndex()))
	if err != nil {
		return nil, err
	}
	key, err := blob.Key(ph.SHA256)
	if err != nil {
		return nil, err
	}
	r, err := m.s.blob.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, audit.MaxPhotoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read photo %s: %w", key, err)
	}
	if len(b) > audit.MaxPhotoBytes {
		return nil, fmt.Errorf("photo %s is larger than %d bytes", key, audit.MaxPhotoBytes)
	}
	clean, err := stripPhotoMetadata(ph.ContentType, b)
	return reply(&v1.GetMyPhotoResponse{ContentType: ph.ContentType, Content: clean}, err)
}

// GetMyPay returns the caller's part of each approved bonus run of the
// month. Errors: as app.MyPay.
func (m *myResultsService) GetMyPay(ctx context.Context, req *connect.Request[v1.GetMyPayRequest]) (*connect.Response[v1.GetMyPayResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	runs, err := m.s.app.MyPay(ctx, p, req.Msg.GetMonth())
	if err != nil {
		return nil, err
	}
	resp := &v1.GetMyPayResponse{}
	for _, r := range runs {
		e := r.Result
		b := &v1.MyBonus{
			RunId: r.RunID, PolicyId: r.PolicyID, PolicyName: r.PolicyName, PolicyVersion: int32(r.PolicyVersion), Period: r.Period,
			ApproveTime: timestamp(r.ApprovedAt), BasePayMinor: e.BasePayMinor, UnlinkedMinor: e.UnlinkedMinor, TotalMinor: e.TotalMinor,
		}
		for _, c := range e.Components {
			mc := &v1.MyComponent{
				Name: c.Name, Share: c.Share, Visits: int32(c.Visits), ScorePercent: c.ScorePercent, Payout: c.Payout,
				AmountMinor: c.AmountMinor, MinSampleDefault: c.MinSampleDefault, CriticalForfeit: c.CriticalForfeit,
			}
			for _, l := range c.Lines {
				mc.Explanation = append(mc.Explanation, explanationToProto(&l, r.Names))
			}
			b.Components = append(b.Components, mc)
		}
		resp.Bonuses = append(resp.Bonuses, b)
	}
	return connect.NewResponse(resp), nil
}
