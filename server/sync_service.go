package server

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// syncService implements shopscore.v1.SyncService (docs/DESIGN.md §3).
type syncService struct{ s *Server }

// Limits of a push and a pull.
const (
	// MaxPushMutations bounds the mutations of one push.
	MaxPushMutations = app.MaxPushMutations
	// MaxPullPage bounds the changes of one pull page.
	MaxPullPage = app.MaxPullPage
	// DefaultPullPage is the page size of a pull that names none.
	DefaultPullPage = app.DefaultPullPage
	// maxIDLen bounds the ids a device makes (UUIDs have 36 characters).
	maxIDLen = 128
)

// Push applies a batch of mutations from the caller's device (the device
// of his session) in one transaction and answers per item once it
// committed. Seqs up to the device's applied_seq are replays and answer
// their original result: REPLAYED with the visit's receipt as it stands
// now, or the original rejection; a replayed seq with another mutation id
// or content is REJECTED with already_exists. New seqs must start at
// applied_seq + 1. A SubmitVisit is validated, admitted against its
// assignment and the checklist version it names, and scored against that
// version; an assignment cancelled, expired or reassigned while the phone
// was offline only flags the visit. The same visit id with the same
// content is REPLAYED, with other content REJECTED already_exists. A
// permanent refusal of one item is REJECTED with the Connect code name in
// error_code and never fails the batch; its seq is consumed. Errors:
// InvalidArgument (an empty batch, seqs not consecutive, a missing,
// overlong or repeated mutation id), ResourceExhausted (more than
// MaxPushMutations, refused by requestLimits before the call; too many
// pushes from the device), Aborted (a gap: the message names applied_seq, and a
// PushResponse error detail carries it; resend from applied_seq + 1).
func (x *syncService) Push(ctx context.Context, req *connect.Request[v1.PushRequest]) (*connect.Response[v1.PushResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in := req.Msg.GetMutations()
	switch {
	case len(in) == 0:
		return nil, audit.Errorf(audit.EINVALID, "mutations must hold 1 to %d items", MaxPushMutations)
	case !x.s.pushLimiter.Allow(p.UserID + "\x00" + p.SessionID):
		return nil, audit.Errorf(audit.EEXHAUSTED, "too many pushes from this device; retry in a few seconds")
	}
	sentAt, err := timeFrom("device_time", req.Msg.GetDeviceTime())
	if err != nil {
		return nil, err
	}
	muts := make([]app.Mutation, len(in))
	ids := make(map[string]bool, len(in))
	for i, m := range in {
		switch {
		case m.GetSeq() < 1:
			return nil, audit.Errorf(audit.EINVALID, "mutation %d: seq must be >= 1", i)
		case i > 0 && m.GetSeq() != in[i-1].GetSeq()+1:
			return nil, audit.Errorf(audit.EINVALID, "mutations must have consecutive seqs in order: %d follows %d", m.GetSeq(), in[i-1].GetSeq())
		case m.GetMutationId() == "" || len(m.GetMutationId()) > maxIDLen:
			return nil, audit.Errorf(audit.EINVALID, "mutation with seq %d: mutation_id must have 1 to %d bytes", m.GetSeq(), maxIDLen)
		case ids[m.GetMutationId()]:
			return nil, audit.Errorf(audit.EINVALID, "mutation id %s appears twice in the push", m.GetMutationId())
		}
		ids[m.GetMutationId()] = true
		muts[i] = mutationFromProto(m, p.UserID)
	}
	res, err := x.s.app.Push(ctx, app.Device{UserID: p.UserID, SessionID: p.SessionID}, sentAt, muts)
	if code := audit.ErrorCode(err); (code == audit.EABORTED || code == audit.EPRECONDITION) && res != nil {
		// A gap (the device resends from applied_seq + 1) or a reset (the
		// answers up to applied_seq are pruned): give it the number as
		// data (a PushResponse detail), not only in the message.
		ce := connect.NewError(protocol.ConnectCode(code), errors.New(audit.ErrorMessage(err)))
		if d, derr := connect.NewErrorDetail(&v1.PushResponse{AppliedSeq: res.AppliedSeq, ServerTime: timestamppb.New(x.s.cfg.Now())}); derr == nil {
			ce.AddDetail(d)
		}
		return nil, ce
	}
	if err != nil {
		return nil, err
	}
	out := &v1.PushResponse{AppliedSeq: res.AppliedSeq, ServerTime: timestamppb.New(x.s.cfg.Now())}
	for _, r := range res.Results {
		mr := &v1.MutationResult{Seq: r.Seq, MutationId: r.MutationID, Receipt: protocol.ReceiptToProto(r.Receipt)}
		switch r.Status {
		case storage.MutationApplied:
			mr.Status = v1.MutationStatus_MUTATION_STATUS_APPLIED
		case storage.MutationReplayed:
			mr.Status = v1.MutationStatus_MUTATION_STATUS_REPLAYED
		case storage.MutationRejected:
			mr.Status = v1.MutationStatus_MUTATION_STATUS_REJECTED
			mr.ErrorCode = protocol.ConnectCode(r.Err.Code).String()
			mr.ErrorMessage = r.Err.Message
		}
		out.Results = append(out.Results, mr)
	}
	return connect.NewResponse(out), nil
}

// mutationFromProto converts one mutation of shopper's device. What is
// wrong with the item alone (no kind, no visit, a bad time or id) becomes
// its permanent rejection, never an error of the batch.
func mutationFromProto(m *v1.Mutation, shopperID string) app.Mutation {
	out := app.Mutation{Seq: m.GetSeq(), ID: m.GetMutationId()}
	if t := m.GetDeviceTime(); t != nil && t.CheckValid() == nil {
		out.DeviceTime = t.AsTime()
	}
	switch k := m.GetKind().(type) {
	case *v1.Mutation_SubmitVisit:
		pv := k.SubmitVisit.GetVisit()
		if pv == nil {
			out.Digest = "submit_visit:"
			out.Err = audit.Errorf(audit.EINVALID, "mutation %s: submit_visit has no visit", m.GetMutationId())
			return out
		}
		v := protocol.VisitFromProto(pv, shopperID)
		out.Digest = "submit_visit:" + protocol.VisitDigest(v)
		if err := checkItem(k.SubmitVisit); err != nil {
			// Beyond a length limit: this item's rejection, checked
			// before any work on it; the batch goes on.
			out.Err = audit.Errorf(audit.ErrorCode(err), "mutation %s: %s", m.GetMutationId(), audit.ErrorMessage(err))
			return out
		}
		switch {
		case len(v.ID) > maxIDLen:
			out.Err = audit.Errorf(audit.EINVALID, "visit id must have at most %d bytes", maxIDLen)
		case len(v.CorrectsVisitID) > maxIDLen:
			out.Err = audit.Errorf(audit.EINVALID, "corrects_visit_id must have at most %d bytes", maxIDLen)
		default:
			out.Visit = v
		}
	default:
		out.Digest = "unknown:" + m.GetMutationId()
		out.Err = audit.Errorf(audit.EINVALID, "mutation %s has no kind this server knows", m.GetMutationId())
	}
	return out
}

// Pull returns the caller's changes after a cursor, one page read and
// materialized from one snapshot (app.Pull): his assignments (with their
// store, its staff and the checklist version with content), tombstones for
// those cancelled, reassigned or expired, the checklists open to unplanned
// visits, and the receipts of his visits (state, score, flags, missing
// photos). An empty cursor starts at the beginning; an unknown or foreign
// cursor (another database, a restored backup) answers full_resync = true
// from the beginning. next_cursor is the position after the page, has_more
// says whether more changes wait. Errors: InvalidArgument (page_size
// outside 0..MaxPullPage).
func (x *syncService) Pull(ctx context.Context, req *connect.Request[v1.PullRequest]) (*connect.Response[v1.PullResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	page, err := x.s.app.Pull(ctx, p, req.Msg.GetCursor(), int(req.Msg.GetPageSize()))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.PullResponse{
		Changes: page.Changes, NextCursor: page.NextCursor, HasMore: page.HasMore, FullResync: page.FullResync,
		ServerTime: timestamppb.New(x.s.cfg.Now()),
	}), nil
}
