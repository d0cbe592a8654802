package server

import (
	"context"
	"strings"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// assignmentService implements shopscore.v1.AssignmentService.
type assignmentService struct{ s *Server }

// maxBulk bounds one BulkCreateAssignments request.
const maxBulk = 1000

// assignmentFromSpec checks a spec and returns the assignment it asks for.
// Errors: EINVALID.
func assignmentFromSpec(spec *v1.AssignmentSpec, by string) (*audit.Assignment, error) {
	if spec == nil {
		return nil, audit.Errorf(audit.EINVALID, "spec is required")
	}
	start, err := timeFrom("window_start_time", spec.GetWindowStartTime())
	if err != nil {
		return nil, err
	}
	end, err := timeFrom("window_end_time", spec.GetWindowEndTime())
	if err != nil {
		return nil, err
	}
	switch {
	case spec.GetStoreId() == "":
		return nil, audit.Errorf(audit.EINVALID, "store_id or store_code is required")
	case spec.GetChecklistId() == "":
		return nil, audit.Errorf(audit.EINVALID, "checklist_id is required")
	case spec.GetChecklistVersion() < 0:
		return nil, audit.Errorf(audit.EINVALID, "checklist_version must be >= 0 (0 for the latest published)")
	case start.IsZero() || end.IsZero():
		return nil, audit.Errorf(audit.EINVALID, "window_start_time and window_end_time are required")
	case !end.After(start):
		return nil, audit.Errorf(audit.EINVALID, "window_end_time must be after window_start_time")
	}
	return &audit.Assignment{
		StoreID: spec.GetStoreId(), ChecklistID: spec.GetChecklistId(), ChecklistVersion: int(spec.GetChecklistVersion()),
		WindowStart: start, WindowEnd: end, ShopperID: spec.GetShopperId(), CreatedBy: by,
	}, nil
}

// CreateAssignment creates one assignment. Errors: EINVALID, ENOTFOUND,
// EPRECONDITION.
func (a *assignmentService) CreateAssignment(ctx context.Context, req *connect.Request[v1.CreateAssignmentRequest]) (*connect.Response[v1.CreateAssignmentResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	as, err := a.fromSpec(ctx, p, req.Msg.GetSpec())
	if err != nil {
		return nil, err
	}
	if err := a.s.app.CreateAssignment(ctx, audit.ScopeOf(p), as); err != nil {
		return nil, err
	}
	views, err := a.s.assignmentViews(ctx, []*audit.Assignment{as})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateAssignmentResponse{Assignment: views[0]}), nil
}

// BulkCreateAssignments creates many assignments, answering per item.
// Errors: EINVALID (no items), EEXHAUSTED (more than maxBulk, refused by
// requestLimits before the call).
func (a *assignmentService) BulkCreateAssignments(ctx context.Context, req *connect.Request[v1.BulkCreateAssignmentsRequest]) (*connect.Response[v1.BulkCreateAssignmentsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	specs := req.Msg.GetSpecs()
	if len(specs) == 0 {
		return nil, audit.Errorf(audit.EINVALID, "specs must hold 1 to %d items", maxBulk)
	}
	results := make([]*v1.BulkCreateResult, len(specs))
	var valid []*audit.Assignment
	var at []int
	for i, spec := range specs {
		as, err := a.fromSpec(ctx, p, spec)
		if err != nil {
			results[i] = a.s.itemError(ctx, req.Spec().Procedure, err)
			continue
		}
		valid, at = append(valid, as), append(at, i)
	}
	errs, err := a.s.app.CreateAssignments(ctx, audit.ScopeOf(p), valid)
	if err != nil {
		return nil, err
	}
	views, err := a.s.assignmentViews(ctx, valid)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		if errs[j] != nil {
			results[i] = a.s.itemError(ctx, req.Spec().Procedure, errs[j])
		} else {
			results[i] = &v1.BulkCreateResult{Assignment: views[j]}
		}
	}
	return connect.NewResponse(&v1.BulkCreateAssignmentsResponse{Results: results}), nil
}

// fromSpec is assignmentFromSpec with the store named by code resolved in
// the caller's scope. Errors: EINVALID, ENOTFOUND.
func (a *assignmentService) fromSpec(ctx context.Context, p audit.Principal, spec *v1.AssignmentSpec) (*audit.Assignment, error) {
	as, err := assignmentFromSpec(spec, p.UserID)
	if err == nil || spec.GetStoreId() != "" || strings.TrimSpace(spec.GetStoreCode()) == "" {
		return as, err
	}
	id, err := a.s.storeRef(ctx, audit.ScopeOf(p), "", spec.GetStoreCode())
	if err != nil {
		return nil, err
	}
	named := proto.CloneOf(spec)
	named.StoreId = id
	return assignmentFromSpec(named, p.UserID)
}

// assignmentViews converts assignments with the names people read: store
// code and name, checklist name, shopper name.
func (s *Server) assignmentViews(ctx context.Context, as []*audit.Assignment) ([]*v1.Assignment, error) {
	stores, err := s.st.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{All: true}, IncludeDeactivated: true})
	if err != nil {
		return nil, err
	}
	byID := map[string]*audit.Store{}
	for _, st := range stores {
		byID[st.ID] = st
	}
	names, err := s.st.Checklists().Names(ctx)
	if err != nil {
		return nil, err
	}
	shoppers := map[string]string{}
	out := make([]*v1.Assignment, len(as))
	for i, a := range as {
		v := protocol.AssignmentToProto(a)
		if st := byID[a.StoreID]; st != nil {
			v.StoreCode, v.StoreName = st.Code, st.Name
		}
		v.ChecklistName = names[storage.VersionKey{ChecklistID: a.ChecklistID, Version: a.ChecklistVersion}]
		if a.ShopperID != "" {
			name, ok := shoppers[a.ShopperID]
			if !ok {
				u, err := s.st.Users().Find(ctx, a.ShopperID)
				if err != nil {
					return nil, err
				}
				name = u.DisplayName
				shoppers[a.ShopperID] = name
			}
			v.ShopperName = name
		}
		out[i] = v
	}
	return out, nil
}

// itemError is the per-item answer of a batch: the same code and message
// the caller would get for that item alone.
func (s *Server) itemError(ctx context.Context, procedure string, err error) *v1.BulkCreateResult {
	ce := connectError(ctx, s.log, procedure, err).(*connect.Error)
	return &v1.BulkCreateResult{ErrorCode: ce.Code().String(), ErrorMessage: ce.Message()}
}

// CancelAssignment cancels an assignment in the caller's scope. Errors:
// EINVALID, ENOTFOUND, EPRECONDITION.
func (a *assignmentService) CancelAssignment(ctx context.Context, req *connect.Request[v1.CancelAssignmentRequest]) (*connect.Response[v1.CancelAssignmentResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetAssignmentId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "assignment_id is required")
	}
	as, err := a.s.app.CancelAssignment(ctx, audit.ScopeOf(p), req.Msg.GetAssignmentId(), strings.TrimSpace(req.Msg.GetReason()))
	if err != nil {
		return nil, err
	}
	views, err := a.s.assignmentViews(ctx, []*audit.Assignment{as})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CancelAssignmentResponse{Assignment: views[0]}), nil
}

// ReassignAssignment gives an open or accepted assignment to another
// shopper, or opens it to any. Errors: EINVALID, ENOTFOUND, EPRECONDITION.
func (a *assignmentService) ReassignAssignment(ctx context.Context, req *connect.Request[v1.ReassignAssignmentRequest]) (*connect.Response[v1.ReassignAssignmentResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetAssignmentId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "assignment_id is required")
	}
	as, err := a.s.app.ReassignAssignment(ctx, audit.ScopeOf(p), req.Msg.GetAssignmentId(), req.Msg.GetShopperId())
	if err != nil {
		return nil, err
	}
	views, err := a.s.assignmentViews(ctx, []*audit.Assignment{as})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.ReassignAssignmentResponse{Assignment: views[0]}), nil
}

// ListAssignments lists assignments in the caller's scope. Errors: EINVALID.
func (a *assignmentService) ListAssignments(ctx context.Context, req *connect.Request[v1.ListAssignmentsRequest]) (*connect.Response[v1.ListAssignmentsResponse], error) {
	p, n, err := callerPage(ctx, req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	m := req.Msg
	state, err := protocol.AssignmentStateFilterFromProto(m.GetState())
	if err != nil {
		return nil, err
	}
	scope := audit.ScopeOf(p)
	storeID, err := a.s.storeRef(ctx, scope, m.GetStoreId(), m.GetStoreCode())
	if err != nil {
		return nil, err
	}
	f := storage.AssignmentFilter{Scope: scope, StoreID: storeID, ShopperID: m.GetShopperId(), ChecklistID: m.GetChecklistId(), State: state, Limit: n + 1}
	if f.From, err = timeFrom("from_time", m.GetFromTime()); err != nil {
		return nil, err
	}
	if f.To, err = timeFrom("to_time", m.GetToTime()); err != nil {
		return nil, err
	}
	if f.AfterTime, f.AfterID, err = decodeCursor(m.GetPageToken()); err != nil {
		return nil, err
	}
	list, err := a.s.st.Assignments().List(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListAssignmentsResponse{}
	rows, next := page(list, n, func(a *audit.Assignment) *audit.Assignment { return a }, func(a *audit.Assignment) string { return encodeCursor(a.WindowStart, a.ID) })
	if resp.Assignments, err = a.s.assignmentViews(ctx, rows); err != nil {
		return nil, err
	}
	resp.NextPageToken = next
	return connect.NewResponse(resp), nil
}
