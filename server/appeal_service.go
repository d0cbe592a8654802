package server

import (
	"context"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// appealService implements shopscore.v1.AppealService over the use cases
// of server/app/appeals.go; evidence bytes take the verified path of
// shoppers' photos (evidence_service.go).
type appealService struct{ s *Server }

var (
	appealStates = map[audit.AppealState]v1.AppealState{
		audit.AppealOpen: v1.AppealState_APPEAL_STATE_OPEN, audit.AppealClosed: v1.AppealState_APPEAL_STATE_CLOSED,
	}
	appealOutcomes = map[audit.AppealOutcome]v1.AppealOutcome{
		audit.OutcomePending: v1.AppealOutcome_APPEAL_OUTCOME_UNSPECIFIED, audit.OutcomeUpheld: v1.AppealOutcome_APPEAL_OUTCOME_UPHELD,
		audit.OutcomeRejected: v1.AppealOutcome_APPEAL_OUTCOME_REJECTED,
	}
)

// appealToProto converts an appeal, naming its questions by their text
// in c (nil: ids only).
func appealToProto(a *audit.Appeal, c *audit.Checklist) *v1.Appeal {
	out := &v1.Appeal{
		Id: a.ID, VisitId: a.VisitID, State: appealStates[a.State], StoreId: a.StoreID, StoreCode: a.StoreCode, StoreName: a.StoreName,
		StaffId: a.StaffID, StaffName: a.StaffName, StaffEmployeeNumber: a.StaffNumber, VisitTime: timestamp(a.VisitedAt),
		FiledBy: a.FiledBy, FiledByName: a.FiledByName, FiledRole: string(a.FiledRole), FileTime: timestamp(a.FiledAt),
		DeadlineTime: timestamp(a.Deadline), RuledBy: a.RuledBy, RuledByName: a.RuledByName, RuledRole: string(a.RuledRole),
		RuleTime: timestamp(a.RuledAt), ScoreBefore: a.ScoreBefore, ScoreAfter: a.ScoreAfter,
	}
	for _, q := range a.Questions {
		pq := &v1.AppealQuestion{QuestionId: q.QuestionID, Reason: q.Reason, Outcome: appealOutcomes[q.Outcome], RulingReason: q.RulingReason}
		if q.Amended != nil {
			pq.AmendedAnswer = protocol.AnswerToProto(*q.Amended)
		}
		if c != nil {
			if cq, _, ok := c.Question(q.QuestionID); ok {
				pq.QuestionText = cq.Text
			}
		}
		for _, e := range q.Evidence {
			pq.Evidence = append(pq.Evidence, evidenceToProto(e))
		}
		out.Questions = append(out.Questions, pq)
	}
	return out
}

// appealQuestionFromProto converts a question as a filer declares it.
func appealQuestionFromProto(questionID, reason string, evidence []*v1.EvidenceFile) audit.AppealQuestion {
	aq := audit.AppealQuestion{QuestionID: questionID, Reason: reason}
	for _, e := range evidence {
		aq.Evidence = append(aq.Evidence, audit.AppealEvidence{SHA256: e.GetSha256(), Size: e.GetSizeBytes(),
			ContentType: strings.TrimSpace(e.GetContentType()), FileName: e.GetFileName()})
	}
	return aq
}

func evidenceToProto(e audit.AppealEvidence) *v1.EvidenceFile {
	return &v1.EvidenceFile{Sha256: e.SHA256, SizeBytes: e.Size, ContentType: e.ContentType, FileName: e.FileName,
		Index: int32(e.Index), Verified: e.Verified}
}

// appealChecklist reads the checklist content of an appeal's visit, to
// name its questions; nil when it cannot be read.
func (a *appealService) appealChecklist(ctx context.Context, ap *audit.Appeal) *audit.Checklist {
	d, err := a.s.st.Visits().FindDetail(ctx, audit.Scope{All: true}, ap.VisitID)
	if err != nil || d.Checklist == nil {
		return nil
	}
	return &d.Checklist.Content
}

// FileAppeal files an appeal for the caller. Errors: see the proto.
func (a *appealService) FileAppeal(ctx context.Context, req *connect.Request[v1.FileAppealRequest]) (*connect.Response[v1.FileAppealResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := &audit.Appeal{VisitID: req.Msg.GetVisitId()}
	for _, q := range req.Msg.GetQuestions() {
		in.Questions = append(in.Questions, appealQuestionFromProto(q.GetQuestionId(), q.GetReason(), q.GetEvidence()))
	}
	ap, err := a.s.app.FileAppeal(ctx, p, in)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.FileAppealResponse{Appeal: appealToProto(ap, a.appealChecklist(ctx, ap))}), nil
}

// ListAppeals lists the appeals in the caller's scope.
func (a *appealService) ListAppeals(ctx context.Context, req *connect.Request[v1.ListAppealsRequest]) (*connect.Response[v1.ListAppealsResponse], error) {
	p, n, err := callerPage(ctx, req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	m := req.Msg
	storeID, err := a.s.storeRef(ctx, audit.ScopeOf(p), "", m.GetStoreCode())
	if err != nil {
		return nil, err
	}
	f := storage.AppealFilter{StoreID: storeID, VisitID: m.GetVisitId(), Limit: n}
	if f.State, err = appealStateFromProto(m.GetState()); err != nil {
		return nil, err
	}
	list, err := a.s.app.ListAppeals(ctx, p, f)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListAppealsResponse{}
	for _, ap := range list {
		resp.Appeals = append(resp.Appeals, appealToProto(ap, nil))
	}
	return connect.NewResponse(resp), nil
}

// appealStateFromProto converts a list's state filter ("" for both).
// Errors: EINVALID.
func appealStateFromProto(s v1.AppealState) (audit.AppealState, error) {
	switch s {
	case v1.AppealState_APPEAL_STATE_UNSPECIFIED:
		return "", nil
	case v1.AppealState_APPEAL_STATE_OPEN:
		return audit.AppealOpen, nil
	case v1.AppealState_APPEAL_STATE_CLOSED:
		return audit.AppealClosed, nil
	}
	return "", audit.Errorf(audit.EINVALID, "unknown appeal state %d", s)
}

// GetAppeal returns an appeal with download links for its verified
// evidence.
func (a *appealService) GetAppeal(ctx context.Context, req *connect.Request[v1.GetAppealRequest]) (*connect.Response[v1.GetAppealResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetAppealId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "appeal_id is required")
	}
	ap, err := a.s.app.GetAppeal(ctx, p, req.Msg.GetAppealId())
	if err != nil {
		return nil, err
	}
	out := appealToProto(ap, a.appealChecklist(ctx, ap))
	for _, q := range out.Questions {
		for _, e := range q.Evidence {
			if !e.Verified {
				continue
			}
			key, err := blob.Key(e.Sha256)
			if err != nil {
				return nil, err
			}
			if e.DownloadUrl, err = a.s.blob.PresignGet(ctx, key, photoLinkTTL); err != nil {
				return nil, err
			}
		}
	}
	return connect.NewResponse(&v1.GetAppealResponse{Appeal: out}), nil
}

// RuleAppeal rules on an appeal for the caller.
func (a *appealService) RuleAppeal(ctx context.Context, req *connect.Request[v1.RuleAppealRequest]) (*connect.Response[v1.RuleAppealResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetAppealId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "appeal_id is required")
	}
	var rulings []audit.QuestionRuling
	for _, r := range req.Msg.GetRulings() {
		qr := audit.QuestionRuling{QuestionID: r.GetQuestionId(), Reason: r.GetReason()}
		switch r.GetOutcome() {
		case v1.AppealOutcome_APPEAL_OUTCOME_UPHELD:
			qr.Outcome = audit.OutcomeUpheld
		case v1.AppealOutcome_APPEAL_OUTCOME_REJECTED:
			qr.Outcome = audit.OutcomeRejected
		default:
			return nil, audit.Errorf(audit.EINVALID, "question %q: outcome must be upheld or rejected", r.GetQuestionId())
		}
		if r.GetAmendedAnswer() != nil {
			am := protocol.AnswerFromProto(r.GetAmendedAnswer())
			qr.Amended = &am
		}
		rulings = append(rulings, qr)
	}
	ap, err := a.s.app.RuleAppeal(ctx, p, req.Msg.GetAppealId(), rulings)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.RuleAppealResponse{Appeal: appealToProto(ap, a.appealChecklist(ctx, ap))}), nil
}

// evidenceOf finds an evidence file of an appeal in the caller's scope.
// Errors: EINVALID, ENOTFOUND.
func (s *Server) evidenceOf(ctx context.Context, p audit.Principal, appealID, questionID string, index int32) (*audit.AppealEvidence, error) {
	if err := photoSlot(appealID, questionID, index); err != nil {
		return nil, audit.Errorf(audit.EINVALID, "%s", strings.Replace(audit.ErrorMessage(err), "visit_id", "appeal_id", 1))
	}
	return s.app.AppealEvidence(ctx, p, appealID, questionID, int(index))
}

// evidenceUpload returns the upload slot of an evidence file of an appeal
// the caller sees, for the bytes the appeal declared (AppealService and
// MyResultsService both serve it). Errors: EEXHAUSTED, EINVALID (other
// bytes than declared), ENOTFOUND.
func (s *Server) evidenceUpload(ctx context.Context, p audit.Principal, appealID, questionID string, index int32, sha256 string, size int64, contentType string) (*v1.CreateEvidenceUploadResponse, error) {
	if !s.slotLimiter.Allow(p.UserID) {
		return nil, audit.Errorf(audit.EEXHAUSTED, "too many upload slots requested; retry in a few seconds")
	}
	e, err := s.evidenceOf(ctx, p, appealID, questionID, index)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(e.SHA256, sha256) || e.Size != size || e.ContentType != contentType {
		return nil, audit.Errorf(audit.EINVALID, "appeal %s declared for %s[%d] a file of %d bytes (%s) with SHA-256 %s, not the one asked for",
			appealID, questionID, index, e.Size, e.ContentType, e.SHA256)
	}
	slot, err := s.uploadSlot(ctx, e.SHA256, e.Size, e.ContentType, e.Verified)
	if err != nil {
		return nil, err
	}
	return &v1.CreateEvidenceUploadResponse{AlreadyVerified: slot.AlreadyVerified, Url: slot.Url, Method: slot.Method,
		Headers: slot.Headers, ExpireTime: slot.ExpireTime}, nil
}

// finalizeEvidence verifies the stored bytes of an evidence file of an
// appeal the caller sees and returns it verified. Errors: ENOTFOUND,
// EDATALOSS.
func (s *Server) finalizeEvidence(ctx context.Context, p audit.Principal, appealID, questionID string, index int32) (*audit.AppealEvidence, error) {
	e, err := s.evidenceOf(ctx, p, appealID, questionID, index)
	if err != nil {
		return nil, err
	}
	if e.Verified {
		return e, nil
	}
	what := fmt.Sprintf("evidence %s[%d] of appeal %s", questionID, index, appealID)
	if err := s.verifyUpload(ctx, e.SHA256, e.Size, e.ContentType, what); err != nil {
		return nil, err
	}
	return s.evidenceOf(ctx, p, appealID, questionID, index)
}

// CreateEvidenceUpload returns an upload URL for an evidence file, or
// already_verified.
func (a *appealService) CreateEvidenceUpload(ctx context.Context, req *connect.Request[v1.CreateEvidenceUploadRequest]) (*connect.Response[v1.CreateEvidenceUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	out, err := a.s.evidenceUpload(ctx, p, m.GetAppealId(), m.GetQuestionId(), m.GetIndex(), m.GetSha256(), m.GetSizeBytes(), m.GetContentType())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

// FinalizeEvidenceUpload verifies an evidence file's stored bytes.
func (a *appealService) FinalizeEvidenceUpload(ctx context.Context, req *connect.Request[v1.FinalizeEvidenceUploadRequest]) (*connect.Response[v1.FinalizeEvidenceUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	e, err := a.s.finalizeEvidence(ctx, p, m.GetAppealId(), m.GetQuestionId(), m.GetIndex())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.FinalizeEvidenceUploadResponse{Evidence: evidenceToProto(*e)}), nil
}

// GetAppealRates counts the appeals of a dashboard filter's period per
// store and per reviewer.
func (a *appealService) GetAppealRates(ctx context.Context, req *connect.Request[v1.GetAppealRatesRequest]) (*connect.Response[v1.GetAppealRatesResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	b, err := (&dashboardService{a.s}).newDashboard(ctx, req.Msg.GetFilter())
	if err != nil {
		return nil, err
	}
	rates, err := a.s.app.AppealRates(ctx, p, b.query)
	if err != nil {
		return nil, err
	}
	row := func(id, code, name string, f reports.AppealFigures) *v1.AppealRates {
		ar, okA := f.AppealRate()
		or, okO := f.OverturnRate()
		return &v1.AppealRates{Id: id, Code: code, Name: name, Visits: f.Visits, Appeals: f.Appeals, Ruled: f.Ruled, Overturned: f.Overturned,
			AppealRate: optional(ar, okA), OverturnRate: optional(or, okO)}
	}
	resp := &v1.GetAppealRatesResponse{}
	for _, s := range rates.Stores {
		resp.Stores = append(resp.Stores, row(s.StoreID, s.Code, s.Name, s.AppealFigures))
	}
	for _, r := range rates.Reviewers {
		resp.Reviewers = append(resp.Reviewers, row(r.UserID, "", r.Name, r.AppealFigures))
	}
	return connect.NewResponse(resp), nil
}
