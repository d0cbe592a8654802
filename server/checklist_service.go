package server

import (
	"context"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// checklistService implements shopscore.v1.ChecklistService.
type checklistService struct{ s *Server }

// maxPackBytes bounds an imported standards pack (requestLimits).
const maxPackBytes = 2 << 20

// ImportPack stores every checklist of a pack as a draft, publishing them
// when asked; all or nothing. Errors: EINVALID (every problem, with
// file:line:col), EPRECONDITION.
func (c *checklistService) ImportPack(ctx context.Context, req *connect.Request[v1.ImportPackRequest]) (*connect.Response[v1.ImportPackResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := req.Msg.GetFileName()
	if name == "" {
		name = "pack.json"
	}
	versions, err := c.s.app.ImportPack(ctx, name, req.Msg.GetContent(), req.Msg.GetPublish(), req.Msg.GetValidateOnly(), p.UserID)
	if err != nil {
		return nil, err
	}
	resp := &v1.ImportPackResponse{}
	for _, v := range versions {
		pv, err := protocol.VersionToProto(v, false)
		if err != nil {
			return nil, err
		}
		resp.Versions = append(resp.Versions, pv)
	}
	return connect.NewResponse(resp), nil
}

func checkVersionRef(id string, version int32) error {
	switch {
	case id == "":
		return audit.Errorf(audit.EINVALID, "checklist_id is required")
	case version < 1:
		return audit.Errorf(audit.EINVALID, "version must be >= 1, got %d", version)
	}
	return nil
}

// changeVersion checks a version reference and applies change to it.
// Errors: EINVALID, and change's (ENOTFOUND, EPRECONDITION).
func changeVersion(ctx context.Context, id string, version int32, change func(context.Context, string, int) (*audit.ChecklistVersion, error)) (*v1.ChecklistVersion, error) {
	if err := checkVersionRef(id, version); err != nil {
		return nil, err
	}
	v, err := change(ctx, id, int(version))
	if err != nil {
		return nil, err
	}
	return protocol.VersionToProto(v, false)
}

// PublishVersion publishes a draft. Errors: EINVALID, ENOTFOUND,
// EPRECONDITION.
func (c *checklistService) PublishVersion(ctx context.Context, req *connect.Request[v1.PublishVersionRequest]) (*connect.Response[v1.PublishVersionResponse], error) {
	pv, err := changeVersion(ctx, req.Msg.GetChecklistId(), req.Msg.GetVersion(), c.s.app.PublishVersion)
	return reply(&v1.PublishVersionResponse{Version: pv}, err)
}

// RetireVersion retires a published version. A manager may retire a
// version only while none of its open or accepted assignments is at a
// store he does not manage; admins may retire any. Errors: EINVALID,
// ENOTFOUND, EPRECONDITION, EFORBIDDEN.
func (c *checklistService) RetireVersion(ctx context.Context, req *connect.Request[v1.RetireVersionRequest]) (*connect.Response[v1.RetireVersionResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	retire := func(ctx context.Context, id string, version int) (*audit.ChecklistVersion, error) {
		return c.s.app.RetireVersion(ctx, audit.ScopeOf(p), id, version)
	}
	pv, err := changeVersion(ctx, req.Msg.GetChecklistId(), req.Msg.GetVersion(), retire)
	return reply(&v1.RetireVersionResponse{Version: pv}, err)
}

// ListChecklists lists versions; shoppers see published ones only.
// Errors: EINVALID.
func (c *checklistService) ListChecklists(ctx context.Context, req *connect.Request[v1.ListChecklistsRequest]) (*connect.Response[v1.ListChecklistsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := protocol.ChannelFilterFromProto(req.Msg.GetChannel())
	if err != nil {
		return nil, err
	}
	versions, err := c.s.st.Checklists().List(ctx, audit.VersionFilter{Channel: ch, ChecklistID: req.Msg.GetChecklistId(), PublishedOnly: !canEditChecklists(p.Role)})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListChecklistsResponse{}
	for _, v := range versions {
		pv, err := protocol.VersionToProto(v, false)
		if err != nil {
			return nil, err
		}
		resp.Versions = append(resp.Versions, pv)
	}
	return connect.NewResponse(resp), nil
}

func canEditChecklists(r audit.Role) bool { return r == audit.RoleManager || r == audit.RoleAdmin }

// GetChecklistVersion returns one version with its content. Errors:
// EINVALID, ENOTFOUND (also a draft asked for by someone who may not edit).
func (c *checklistService) GetChecklistVersion(ctx context.Context, req *connect.Request[v1.GetChecklistVersionRequest]) (*connect.Response[v1.GetChecklistVersionResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	if m.GetChecklistId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "checklist_id is required")
	}
	if m.GetVersion() < 0 {
		return nil, audit.Errorf(audit.EINVALID, "version must be >= 0 (0 for the latest published), got %d", m.GetVersion())
	}
	v, err := c.s.st.Checklists().Find(ctx, m.GetChecklistId(), int(m.GetVersion()))
	if err != nil {
		return nil, err
	}
	if v.State == audit.VersionDraft && !canEditChecklists(p.Role) {
		return nil, audit.Errorf(audit.ENOTFOUND, "checklist %q version %d not found", m.GetChecklistId(), m.GetVersion())
	}
	pv := readableVersion(v)
	if pv.Content, err = v.Content.CanonicalJSON(); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.GetChecklistVersionResponse{Version: pv}), nil
}
