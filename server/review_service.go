package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// reviewService implements shopscore.v1.ReviewService.
type reviewService struct{ s *Server }

// photoLinkTTL is how long a reviewer's photo download link works.
const photoLinkTTL = 10 * time.Minute

// seesShopperNames reports whether a role may see who the shoppers are:
// managers and admins; HR and everyone else see visits anonymously.
func seesShopperNames(r audit.Role) bool { return r == audit.RoleManager || r == audit.RoleAdmin }

// visitSummaryFor converts a summary for a caller of role r.
func visitSummaryFor(r audit.Role) func(*storage.VisitSummary) *v1.VisitSummary {
	return func(s *storage.VisitSummary) *v1.VisitSummary {
		out := visitSummaryToProto(s)
		if !seesShopperNames(r) {
			out.ShopperName = ""
		}
		return out
	}
}

// visitSummaryToProto converts a summary with every name; callers that
// answer a role other than manager or admin use visitSummaryFor.
func visitSummaryToProto(s *storage.VisitSummary) *v1.VisitSummary {
	out := &v1.VisitSummary{
		Id: s.ID, StoreId: s.StoreID, ShopperId: s.ShopperID, AssignmentId: s.AssignmentID, ChecklistId: s.ChecklistID,
		ChecklistVersion: int32(s.ChecklistVersion), Channel: protocol.ChannelToProto(s.Channel), State: protocol.VisitStateToProto(s.State),
		ScorePercent: s.ScorePercent, Flags: s.Flags, StartTime: timestamp(s.StartedAt), ReceiveTime: timestamp(s.ReceivedAt),
		CorrectsVisitId: s.CorrectsVisitID, CorrectedByVisitId: s.CorrectedByVisitID, MissingPhotoCount: int32(s.MissingPhotos),
		StoreCode: s.StoreCode, StoreName: s.StoreName, StaffId: s.StaffID, StaffName: s.StaffName,
		StaffEmployeeNumber: s.StaffNumber, StaffDescription: s.StaffDescription, ChecklistName: s.ChecklistName,
		ShopperName: s.ShopperName, FinishTime: timestamp(s.FinishedAt),
	}
	for _, f := range s.ProofFlags {
		out.ProofFlags = append(out.ProofFlags, proofFlagToProto(f))
	}
	return out
}

func commentsToProto(cs []audit.ReviewComment) []*v1.ReviewComment {
	var out []*v1.ReviewComment
	for _, c := range cs {
		out = append(out, &v1.ReviewComment{QuestionId: c.QuestionID, Text: c.Text})
	}
	return out
}

func scoreGroup(key, title string, st audit.Subtotal, capped bool) *v1.ScoreGroup {
	return &v1.ScoreGroup{Key: key, Title: title, Points: st.Points, MaxPoints: st.Max, Percent: st.Percent, Capped: capped}
}

func scoreToProto(sc *audit.VisitScore) *v1.ScoreBreakdown {
	out := &v1.ScoreBreakdown{Overall: scoreGroup("overall", "", sc.Overall, sc.Capped)}
	for _, s := range sc.Sections {
		out.Sections = append(out.Sections, scoreGroup(s.SectionID, s.Title, s.Subtotal, s.Capped))
	}
	for _, g := range sc.Categories {
		out.Categories = append(out.Categories, scoreGroup(g.Key, "", g.Subtotal, false))
	}
	for _, g := range sc.Standards {
		out.Standards = append(out.Standards, scoreGroup(g.Key, "", g.Subtotal, false))
	}
	for _, q := range sc.Questions {
		critical := slices.ContainsFunc(sc.CriticalFailures, func(c audit.CriticalFailure) bool { return c.QuestionID == q.QuestionID })
		out.Questions = append(out.Questions, &v1.QuestionScore{
			QuestionId: q.QuestionID, SectionId: q.SectionID, StandardCode: q.StandardCode, Answered: q.Answered,
			NotApplicable: q.NA, Failed: q.Failed, Points: q.Points, MaxPoints: q.Max, CriticalFailure: critical,
		})
	}
	if sc.NPS != nil {
		n := int32(*sc.NPS)
		out.Nps = &n
	}
	return out
}

// ListVisits lists visits in the caller's scope, newest first (flagged
// ones first when asked), with counts per state when asked. Errors:
// EINVALID, ENOTFOUND (a store code outside the caller's stores).
func (r *reviewService) ListVisits(ctx context.Context, req *connect.Request[v1.ListVisitsRequest]) (*connect.Response[v1.ListVisitsResponse], error) {
	p, n, err := callerPage(ctx, req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	m := req.Msg
	scope := audit.ScopeOf(p)
	storeID, err := r.s.storeRef(ctx, scope, m.GetStoreId(), m.GetStoreCode())
	if err != nil {
		return nil, err
	}
	f := storage.VisitFilter{Scope: scope, StoreID: storeID, FlaggedOnly: m.GetFlaggedOnly(), StaffID: m.GetStaffId(),
		ChecklistID: m.GetChecklistId(), ShopperID: m.GetShopperId(), Flag: m.GetFlag(), FlaggedFirst: m.GetFlaggedFirst(), Limit: n + 1}
	if f.State, err = protocol.VisitStateFilterFromProto(m.GetState()); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		field string
		ts    *timestamppb.Timestamp
		dst   *time.Time
	}{{"from_time", m.GetFromTime(), &f.From}, {"to_time", m.GetToTime(), &f.To},
		{"visit_from_time", m.GetVisitFromTime(), &f.VisitFrom}, {"visit_to_time", m.GetVisitToTime(), &f.VisitTo}} {
		if *t.dst, err = timeFrom(t.field, t.ts); err != nil {
			return nil, err
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, audit.Errorf(audit.EINVALID, "from_time must be before to_time")
	}
	if !f.VisitFrom.IsZero() && !f.VisitTo.IsZero() && !f.VisitFrom.Before(f.VisitTo) {
		return nil, audit.Errorf(audit.EINVALID, "visit_from_time must be before visit_to_time")
	}
	if f.After, err = decodeVisitCursor(m.GetPageToken(), f.FlaggedFirst); err != nil {
		return nil, err
	}
	visits, err := r.s.st.Visits().List(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListVisitsResponse{}
	resp.Visits, resp.NextPageToken = page(visits, n, visitSummaryFor(p.Role), func(v *storage.VisitSummary) string {
		return encodeVisitCursor(v.Cursor(), f.FlaggedFirst)
	})
	if m.GetIncludeStateCounts() {
		counts, err := r.s.st.Visits().CountStates(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, st := range audit.VisitStates {
			if c := counts[st]; c > 0 {
				resp.StateCounts = append(resp.StateCounts, &v1.VisitStateCount{State: protocol.VisitStateToProto(st), Count: c})
			}
		}
	}
	return connect.NewResponse(resp), nil
}

// encodeVisitCursor returns the page token after c; a flagged-first
// listing's token says so, so it is not used for the other order.
func encodeVisitCursor(c storage.VisitCursor, flaggedFirst bool) string {
	if !flaggedFirst {
		return encodeCursor(c.Received, c.ID)
	}
	flag := "0"
	if c.Flagged {
		flag = "1"
	}
	return encodePageToken("f" + flag + "|" + fmt.Sprintf("%d|%s", c.Received.UnixMilli(), c.ID))
}

// decodeVisitCursor reads a token from encodeVisitCursor. Errors: EINVALID,
// also for a token of the other order.
func decodeVisitCursor(token string, flaggedFirst bool) (storage.VisitCursor, error) {
	if !flaggedFirst {
		t, id, err := decodeCursor(token)
		return storage.VisitCursor{Received: t, ID: id}, err
	}
	if token == "" {
		return storage.VisitCursor{}, nil
	}
	raw, err := decodePageToken(token)
	if err != nil {
		return storage.VisitCursor{}, err
	}
	flag, rest, ok := strings.Cut(raw, "|")
	if !ok || (flag != "f0" && flag != "f1") {
		return storage.VisitCursor{}, audit.Errorf(audit.EINVALID, "page_token is not one this server issued for this order (flagged_first changed?)")
	}
	t, id, err := decodeCursor(encodePageToken(rest))
	return storage.VisitCursor{Flagged: flag == "f1", Received: t, ID: id}, err
}

// GetVisit returns a visit with its answers, score, photos (with
// short-lived download links for verified ones) and history. Errors:
// EINVALID, ENOTFOUND.
func (r *reviewService) GetVisit(ctx context.Context, req *connect.Request[v1.GetVisitRequest]) (*connect.Response[v1.GetVisitResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetVisitId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "visit_id is required")
	}
	d, err := r.s.st.Visits().FindDetail(ctx, audit.ScopeOf(p), req.Msg.GetVisitId())
	if err != nil {
		return nil, err
	}
	resp := &v1.GetVisitResponse{
		Summary: visitSummaryFor(p.Role)(&d.VisitSummary), Visit: protocol.VisitToProto(d.Visit),
		Score: scoreToProto(d.Score), Comments: commentsToProto(d.Comments), Checklist: readableVersion(d.Checklist),
	}
	for _, ph := range d.Photos {
		view := &v1.PhotoView{QuestionId: ph.QuestionID, Index: int32(ph.Index), Sha256: ph.SHA256,
			ContentType: ph.ContentType, SizeBytes: ph.Size, Verified: ph.Verified}
		if ph.Verified {
			key, err := blob.Key(ph.SHA256)
			if err != nil {
				return nil, err
			}
			url, err := r.s.blob.PresignGet(ctx, key, photoLinkTTL)
			if err != nil {
				return nil, err
			}
			view.DownloadUrl, view.DownloadExpireTime = url, timestamp(r.s.cfg.Now().Add(photoLinkTTL))
		}
		resp.Photos = append(resp.Photos, view)
	}
	for _, t := range d.History {
		name := d.ActorNames[t.ActorID]
		if t.ActorRole == string(audit.RoleShopper) && !seesShopperNames(p.Role) {
			name = ""
		}
		resp.History = append(resp.History, &v1.VisitTransition{
			FromState: protocol.VisitStateToProto(t.From), ToState: protocol.VisitStateToProto(t.To), ActorId: t.ActorID, ActorRole: t.ActorRole,
			Time: timestamp(t.At), Reason: t.Reason, Comments: commentsToProto(t.Comments), ActorName: name,
		})
	}
	return connect.NewResponse(resp), nil
}

// review applies one review action for the caller. Errors: EINVALID,
// ENOTFOUND, EFORBIDDEN, EPRECONDITION.
func (r *reviewService) review(ctx context.Context, visitID string, action audit.ReviewAction, reason string, comments []*v1.ReviewComment) (*v1.VisitSummary, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if visitID == "" {
		return nil, audit.Errorf(audit.EINVALID, "visit_id is required")
	}
	var cs []audit.ReviewComment
	for _, c := range comments {
		cs = append(cs, audit.ReviewComment{QuestionID: c.GetQuestionId(), Text: c.GetText()})
	}
	s, err := r.s.app.ReviewVisit(ctx, p, visitID, action, reason, cs)
	if err != nil {
		return nil, err
	}
	return visitSummaryFor(p.Role)(s), nil
}

// StartReview takes a complete visit into review.
func (r *reviewService) StartReview(ctx context.Context, req *connect.Request[v1.StartReviewRequest]) (*connect.Response[v1.StartReviewResponse], error) {
	s, err := r.review(ctx, req.Msg.GetVisitId(), audit.ActionStartReview, "", nil)
	return reply(&v1.StartReviewResponse{Visit: s}, err)
}

// ApproveVisit approves a visit in review.
func (r *reviewService) ApproveVisit(ctx context.Context, req *connect.Request[v1.ApproveVisitRequest]) (*connect.Response[v1.ApproveVisitResponse], error) {
	s, err := r.review(ctx, req.Msg.GetVisitId(), audit.ActionApprove, req.Msg.GetNote(), nil)
	return reply(&v1.ApproveVisitResponse{Visit: s}, err)
}

// ReturnVisit returns a visit in review to its shopper with comments.
func (r *reviewService) ReturnVisit(ctx context.Context, req *connect.Request[v1.ReturnVisitRequest]) (*connect.Response[v1.ReturnVisitResponse], error) {
	s, err := r.review(ctx, req.Msg.GetVisitId(), audit.ActionReturn, "", req.Msg.GetComments())
	return reply(&v1.ReturnVisitResponse{Visit: s}, err)
}

// PublishVisit publishes an approved visit.
func (r *reviewService) PublishVisit(ctx context.Context, req *connect.Request[v1.PublishVisitRequest]) (*connect.Response[v1.PublishVisitResponse], error) {
	s, err := r.review(ctx, req.Msg.GetVisitId(), audit.ActionPublish, "", nil)
	return reply(&v1.PublishVisitResponse{Visit: s}, err)
}

// ReopenVisit takes an approved or published visit back into review.
func (r *reviewService) ReopenVisit(ctx context.Context, req *connect.Request[v1.ReopenVisitRequest]) (*connect.Response[v1.ReopenVisitResponse], error) {
	s, err := r.review(ctx, req.Msg.GetVisitId(), audit.ActionReopen, req.Msg.GetReason(), nil)
	return reply(&v1.ReopenVisitResponse{Visit: s}, err)
}
