package server

import (
	"context"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/blob"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// actionService implements shopscore.v1.ActionService over the use cases
// of server/app/actions.go; proof photos take the verified path of
// shoppers' photos (evidence_service.go).
type actionService struct{ s *Server }

var (
	actionStates = map[audit.ActionState]v1.ActionState{
		audit.ActionOpen: v1.ActionState_ACTION_STATE_OPEN, audit.ActionInProgress: v1.ActionState_ACTION_STATE_IN_PROGRESS,
		audit.ActionDone: v1.ActionState_ACTION_STATE_DONE, audit.ActionVerified: v1.ActionState_ACTION_STATE_VERIFIED,
		audit.ActionReopened: v1.ActionState_ACTION_STATE_REOPENED,
	}
	actionSeverities = map[audit.Severity]v1.ActionSeverity{
		audit.SeverityCritical: v1.ActionSeverity_ACTION_SEVERITY_CRITICAL, audit.SeverityMajor: v1.ActionSeverity_ACTION_SEVERITY_MAJOR,
	}
)

// actionStateFromProto is the domain state of a wire state. Errors:
// EINVALID.
func actionStateFromProto(s v1.ActionState) (audit.ActionState, error) {
	for d, w := range actionStates {
		if w == s {
			return d, nil
		}
	}
	return "", audit.Errorf(audit.EINVALID, "unknown action state %d", s)
}

func actionToProto(a *audit.Action) *v1.Action {
	out := &v1.Action{Id: a.ID, State: actionStates[a.State], Severity: actionSeverities[a.Severity], StoreId: a.StoreID,
		StoreCode: a.StoreCode, StoreName: a.StoreName, ChecklistId: a.ChecklistID, QuestionId: a.QuestionID, QuestionText: a.QuestionText,
		StandardCode: a.StandardCode, VisitId: a.VisitID, VisitTime: timestamp(a.VisitedAt), OwnerId: a.OwnerID, OwnerName: a.OwnerName,
		DueDate: a.DueDate, Overdue: a.Overdue, OpenTime: timestamp(a.OpenedAt), UpdateTime: timestamp(a.UpdatedAt), Note: a.Note,
		ResolvedByVisitId: a.ResolvedByVisitID}
	for _, p := range a.Proof {
		out.Proof = append(out.Proof, proofToProto(p))
	}
	for _, c := range a.History {
		out.History = append(out.History, &v1.ActionChange{Time: timestamp(c.At), ActorId: c.ActorID, ActorName: c.ActorName,
			ActorRole: c.ActorRole, From: actionStates[c.From], To: actionStates[c.To], Note: c.Note, VisitId: c.VisitID,
			Reassigned: c.Reassigned, OwnerId: c.OwnerID, OwnerName: c.OwnerName})
	}
	return out
}

func proofToProto(p audit.ActionProof) *v1.EvidenceFile {
	return &v1.EvidenceFile{Sha256: p.SHA256, SizeBytes: p.Size, ContentType: p.ContentType, FileName: p.FileName,
		Index: int32(p.Index), Verified: p.Verified}
}

// actionID checks that a request names an action.
func actionID(id string) error {
	if id == "" {
		return audit.Errorf(audit.EINVALID, "action_id is required")
	}
	return nil
}

// ListActions lists the actions in the caller's scope.
func (a *actionService) ListActions(ctx context.Context, req *connect.Request[v1.ListActionsRequest]) (*connect.Response[v1.ListActionsResponse], error) {
	p, n, err := callerPage(ctx, req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	m := req.Msg
	storeID, err := a.s.storeRef(ctx, audit.ScopeOf(p), "", m.GetStoreCode())
	if err != nil {
		return nil, err
	}
	l := app.ActionList{StoreID: storeID, VisitID: m.GetVisitId(), Mine: m.GetMine(), Overdue: m.GetOverdue(), Limit: n}
	for _, s := range m.GetStates() {
		st, err := actionStateFromProto(s)
		if err != nil {
			return nil, err
		}
		l.States = append(l.States, st)
	}
	list, err := a.s.app.ListActions(ctx, p, l)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListActionsResponse{}
	for _, ac := range list {
		resp.Actions = append(resp.Actions, actionToProto(ac))
	}
	return connect.NewResponse(resp), nil
}

// full converts an action with the standard's clause, the opening visit's
// photos of the question and download links for verified files.
func (a *actionService) full(ctx context.Context, ac *audit.Action) (*v1.Action, error) {
	out := actionToProto(ac)
	link := func(sha string) (string, error) {
		key, err := blob.Key(sha)
		if err != nil {
			return "", err
		}
		return a.s.blob.PresignGet(ctx, key, photoLinkTTL)
	}
	for _, p := range out.Proof {
		if p.Verified {
			var err error
			if p.DownloadUrl, err = link(p.Sha256); err != nil {
				return nil, err
			}
		}
	}
	d, err := a.s.st.Visits().FindDetail(ctx, audit.Scope{All: true}, ac.VisitID)
	if err != nil {
		return nil, err
	}
	if d.Checklist != nil {
		if std, ok := d.Checklist.Content.Standard(ac.StandardCode); ok {
			out.StandardClause = std.Clause
		}
	}
	for _, ph := range d.Photos {
		if ph.QuestionID != ac.QuestionID {
			continue
		}
		view := &v1.PhotoView{QuestionId: ph.QuestionID, Index: int32(ph.Index), Sha256: ph.SHA256, ContentType: ph.ContentType,
			SizeBytes: ph.Size, Verified: ph.Verified}
		if ph.Verified {
			if view.DownloadUrl, err = link(ph.SHA256); err != nil {
				return nil, err
			}
			view.DownloadExpireTime = timestamp(a.s.cfg.Now().Add(photoLinkTTL))
		}
		out.VisitPhotos = append(out.VisitPhotos, view)
	}
	return out, nil
}

// GetAction returns an action with its history, visit photos and proof.
func (a *actionService) GetAction(ctx context.Context, req *connect.Request[v1.GetActionRequest]) (*connect.Response[v1.GetActionResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := actionID(req.Msg.GetActionId()); err != nil {
		return nil, err
	}
	ac, err := a.s.app.GetAction(ctx, p, req.Msg.GetActionId())
	if err != nil {
		return nil, err
	}
	out, err := a.full(ctx, ac)
	return reply(&v1.GetActionResponse{Action: out}, err)
}

// move takes step on the caller's action and converts the result.
func (a *actionService) move(ctx context.Context, id string, step audit.ActionStep, note string, proof []audit.ActionProof) (*v1.Action, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := actionID(id); err != nil {
		return nil, err
	}
	ac, err := a.s.app.MoveAction(ctx, p, id, step, note, proof)
	if err != nil {
		return nil, err
	}
	return a.full(ctx, ac)
}

// StartAction starts an action.
func (a *actionService) StartAction(ctx context.Context, req *connect.Request[v1.StartActionRequest]) (*connect.Response[v1.StartActionResponse], error) {
	out, err := a.move(ctx, req.Msg.GetActionId(), audit.StepStart, "", nil)
	return reply(&v1.StartActionResponse{Action: out}, err)
}

// DoneAction records an action's fix.
func (a *actionService) DoneAction(ctx context.Context, req *connect.Request[v1.DoneActionRequest]) (*connect.Response[v1.DoneActionResponse], error) {
	var proof []audit.ActionProof
	for _, f := range req.Msg.GetProof() {
		proof = append(proof, audit.ActionProof{SHA256: f.GetSha256(), Size: f.GetSizeBytes(), ContentType: strings.TrimSpace(f.GetContentType()),
			FileName: f.GetFileName()})
	}
	out, err := a.move(ctx, req.Msg.GetActionId(), audit.StepDone, req.Msg.GetNote(), proof)
	return reply(&v1.DoneActionResponse{Action: out}, err)
}

// VerifyAction confirms an action's fix.
func (a *actionService) VerifyAction(ctx context.Context, req *connect.Request[v1.VerifyActionRequest]) (*connect.Response[v1.VerifyActionResponse], error) {
	out, err := a.move(ctx, req.Msg.GetActionId(), audit.StepVerify, req.Msg.GetNote(), nil)
	return reply(&v1.VerifyActionResponse{Action: out}, err)
}

// ReopenAction finds an action's fix wanting.
func (a *actionService) ReopenAction(ctx context.Context, req *connect.Request[v1.ReopenActionRequest]) (*connect.Response[v1.ReopenActionResponse], error) {
	out, err := a.move(ctx, req.Msg.GetActionId(), audit.StepReopen, req.Msg.GetReason(), nil)
	return reply(&v1.ReopenActionResponse{Action: out}, err)
}

// ReassignAction gives an action to another owner.
func (a *actionService) ReassignAction(ctx context.Context, req *connect.Request[v1.ReassignActionRequest]) (*connect.Response[v1.ReassignActionResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := actionID(req.Msg.GetActionId()); err != nil {
		return nil, err
	}
	ac, err := a.s.app.ReassignAction(ctx, p, req.Msg.GetActionId(), req.Msg.GetOwnerId(), req.Msg.GetNote())
	if err != nil {
		return nil, err
	}
	out, err := a.full(ctx, ac)
	return reply(&v1.ReassignActionResponse{Action: out}, err)
}

// ListActionOwners lists the users who may own an action, by name.
func (a *actionService) ListActionOwners(ctx context.Context, req *connect.Request[v1.ListActionOwnersRequest]) (*connect.Response[v1.ListActionOwnersResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := actionID(req.Msg.GetActionId()); err != nil {
		return nil, err
	}
	owners, err := a.s.app.ActionOwners(ctx, p, req.Msg.GetActionId())
	if err != nil {
		return nil, err
	}
	resp := &v1.ListActionOwnersResponse{}
	for _, o := range owners {
		resp.Owners = append(resp.Owners, &v1.ActionOwner{UserId: o.User.ID, Name: o.Name, Role: roleToProto[o.User.Role], Current: o.Current})
	}
	return connect.NewResponse(resp), nil
}

// proofOf finds a proof photo of an action in the caller's scope.
// Errors: EINVALID, ENOTFOUND.
func (a *actionService) proofOf(ctx context.Context, p audit.Principal, id string, index int32) (*audit.ActionProof, error) {
	if err := actionID(id); err != nil {
		return nil, err
	}
	if index < 0 {
		return nil, audit.Errorf(audit.EINVALID, "index must be >= 0")
	}
	return a.s.app.ActionProof(ctx, p, id, int(index))
}

// CreateProofUpload returns an upload URL for a proof photo, or
// already_verified.
func (a *actionService) CreateProofUpload(ctx context.Context, req *connect.Request[v1.CreateProofUploadRequest]) (*connect.Response[v1.CreateProofUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	if !a.s.slotLimiter.Allow(p.UserID) {
		return nil, audit.Errorf(audit.EEXHAUSTED, "too many upload slots requested; retry in a few seconds")
	}
	f, err := a.proofOf(ctx, p, m.GetActionId(), m.GetIndex())
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(f.SHA256, m.GetSha256()) || f.Size != m.GetSizeBytes() || f.ContentType != m.GetContentType() {
		return nil, audit.Errorf(audit.EINVALID, "action %s declared as proof photo %d a file of %d bytes (%s) with SHA-256 %s, not the one asked for",
			m.GetActionId(), m.GetIndex(), f.Size, f.ContentType, f.SHA256)
	}
	slot, err := a.s.uploadSlot(ctx, f.SHA256, f.Size, f.ContentType, f.Verified)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateProofUploadResponse{AlreadyVerified: slot.AlreadyVerified, Url: slot.Url, Method: slot.Method,
		Headers: slot.Headers, ExpireTime: slot.ExpireTime}), nil
}

// FinalizeProofUpload verifies a proof photo's stored bytes.
func (a *actionService) FinalizeProofUpload(ctx context.Context, req *connect.Request[v1.FinalizeProofUploadRequest]) (*connect.Response[v1.FinalizeProofUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	f, err := a.proofOf(ctx, p, m.GetActionId(), m.GetIndex())
	if err != nil {
		return nil, err
	}
	if !f.Verified {
		what := fmt.Sprintf("proof photo %d of action %s", m.GetIndex(), m.GetActionId())
		if err := a.s.verifyUpload(ctx, f.SHA256, f.Size, f.ContentType, what); err != nil {
			return nil, err
		}
		if f, err = a.proofOf(ctx, p, m.GetActionId(), m.GetIndex()); err != nil {
			return nil, err
		}
	}
	return connect.NewResponse(&v1.FinalizeProofUploadResponse{Proof: proofToProto(*f)}), nil
}

// CountOverdueActions counts the overdue actions in the caller's scope
// per store, named.
func (a *actionService) CountOverdueActions(ctx context.Context, req *connect.Request[v1.CountOverdueActionsRequest]) (*connect.Response[v1.CountOverdueActionsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := a.s.app.OverdueActionCounts(ctx, p)
	if err != nil {
		return nil, err
	}
	resp := &v1.CountOverdueActionsResponse{}
	stores, err := a.s.st.Stores().List(ctx, audit.StoreFilter{Scope: audit.ScopeOf(p), IncludeDeactivated: true})
	if err != nil {
		return nil, err
	}
	for _, st := range stores {
		if n := counts[st.ID]; n > 0 {
			resp.Stores = append(resp.Stores, &v1.OverdueActions{StoreId: st.ID, StoreCode: st.Code, StoreName: st.Name, Overdue: int32(n)})
			resp.Total += int32(n)
		}
	}
	return connect.NewResponse(resp), nil
}
