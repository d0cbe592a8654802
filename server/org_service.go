package server

import (
	"context"
	"strings"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// orgService implements shopscore.v1.OrgService.
type orgService struct{ s *Server }

var _ shopscorev1connect.OrgServiceHandler = (*orgService)(nil)

// CreateStore adds a store. Errors: EINVALID, EEXISTS, ENOTFOUND.
func (o *orgService) CreateStore(ctx context.Context, req *connect.Request[v1.CreateStoreRequest]) (*connect.Response[v1.CreateStoreResponse], error) {
	m := req.Msg.GetStore()
	if m == nil {
		return nil, audit.Errorf(audit.EINVALID, "store is required")
	}
	st := &audit.Store{
		Code: m.GetCode(), Name: m.GetName(), Address: m.GetAddress(), Region: m.GetRegion(),
		Latitude: m.GetLatitude(), Longitude: m.GetLongitude(), GeofenceMeters: m.GetGeofenceMeters(), ManagerIDs: m.GetManagerIds(),
	}
	if err := o.s.app.CreateStore(ctx, st); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateStoreResponse{Store: protocol.StoreToProto(st)}), nil
}

// ListStores lists the stores in the caller's scope.
func (o *orgService) ListStores(ctx context.Context, req *connect.Request[v1.ListStoresRequest]) (*connect.Response[v1.ListStoresResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	stores, err := o.s.st.Stores().List(ctx, audit.StoreFilter{Scope: audit.ScopeOf(p), Region: req.Msg.GetRegion(),
		IncludeDeactivated: req.Msg.GetIncludeDeactivated(), Query: req.Msg.GetQuery()})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListStoresResponse{}
	for _, st := range stores {
		resp.Stores = append(resp.Stores, protocol.StoreToProto(st))
	}
	return connect.NewResponse(resp), nil
}

// CreateStaff adds an employee to a store in the caller's scope. Errors:
// EINVALID, EEXISTS, ENOTFOUND.
func (o *orgService) CreateStaff(ctx context.Context, req *connect.Request[v1.CreateStaffRequest]) (*connect.Response[v1.CreateStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg.GetStaff()
	if m == nil {
		return nil, audit.Errorf(audit.EINVALID, "staff is required")
	}
	st := &audit.Staff{
		EmployeeNumber: m.GetEmployeeNumber(), Name: m.GetName(), Position: m.GetPosition(),
		Department: audit.Department(m.GetDepartment()), BackOffice: m.GetBackOffice(), StoreID: m.GetStoreId(),
	}
	if err := o.s.app.CreateStaff(ctx, audit.ScopeOf(p), st); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateStaffResponse{Staff: protocol.StaffToProto(st)}), nil
}

// ListStaff lists the staff of the stores in the caller's scope, by
// employee number, a page at a time. Errors: EINVALID, ENOTFOUND (a store
// code outside the caller's stores).
func (o *orgService) ListStaff(ctx context.Context, req *connect.Request[v1.ListStaffRequest]) (*connect.Response[v1.ListStaffResponse], error) {
	p, n, err := callerPage(ctx, req.Msg.GetPageSize())
	if err != nil {
		return nil, err
	}
	m := req.Msg
	after, err := decodePageToken(m.GetPageToken())
	if err != nil {
		return nil, err
	}
	scope := audit.ScopeOf(p)
	storeID, err := o.s.storeRef(ctx, scope, m.GetStoreId(), m.GetStoreCode())
	if err != nil {
		return nil, err
	}
	staff, err := o.s.st.Staff().List(ctx, audit.StaffFilter{Scope: scope, StoreID: storeID, IncludeDeactivated: m.GetIncludeDeactivated(),
		Query: m.GetQuery(), AfterNumber: after, Limit: n + 1})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListStaffResponse{}
	resp.Staff, resp.NextPageToken = page(staff, n, protocol.StaffToProto, func(s *audit.Staff) string { return encodePageToken(s.EmployeeNumber) })
	return connect.NewResponse(resp), nil
}

// ListShoppers lists the active shoppers.
func (o *orgService) ListShoppers(ctx context.Context, req *connect.Request[v1.ListShoppersRequest]) (*connect.Response[v1.ListShoppersResponse], error) {
	users, err := o.s.app.ListShoppers(ctx, req.Msg.GetQuery())
	if err != nil {
		return nil, err
	}
	resp := &v1.ListShoppersResponse{}
	for _, u := range users {
		resp.Shoppers = append(resp.Shoppers, userToProto(u))
	}
	return connect.NewResponse(resp), nil
}

// findStoreRef returns the store a request names by id or code, in scope.
// Errors: EINVALID (neither), ENOTFOUND.
func (o *orgService) findStoreRef(ctx context.Context, scope audit.Scope, id, code string) (*audit.Store, error) {
	if id == "" && strings.TrimSpace(code) == "" {
		return nil, audit.Errorf(audit.EINVALID, "store_id or store_code is required")
	}
	if id != "" {
		return o.s.st.Stores().Find(ctx, scope, id)
	}
	return o.s.st.Stores().FindByCode(ctx, scope, strings.TrimSpace(code))
}

// GetStore returns a store in scope by id or code. Errors: EINVALID,
// ENOTFOUND.
func (o *orgService) GetStore(ctx context.Context, req *connect.Request[v1.GetStoreRequest]) (*connect.Response[v1.GetStoreResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	st, err := o.findStoreRef(ctx, audit.ScopeOf(p), req.Msg.GetStoreId(), req.Msg.GetStoreCode())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.GetStoreResponse{Store: protocol.StoreToProto(st)}), nil
}

// UpdateStore replaces a store's editable fields; only admins change its
// managers. Errors: EINVALID, EEXISTS, ENOTFOUND, EFORBIDDEN.
func (o *orgService) UpdateStore(ctx context.Context, req *connect.Request[v1.UpdateStoreRequest]) (*connect.Response[v1.UpdateStoreResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg.GetStore()
	if m.GetId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "store.id is required")
	}
	st := &audit.Store{
		ID: m.GetId(), Code: strings.TrimSpace(m.GetCode()), Name: m.GetName(), Address: m.GetAddress(), Region: m.GetRegion(),
		Latitude: m.GetLatitude(), Longitude: m.GetLongitude(), GeofenceMeters: m.GetGeofenceMeters(), ManagerIDs: m.GetManagerIds(),
	}
	out, err := o.s.app.UpdateStore(ctx, audit.ScopeOf(p), st, p.Role == audit.RoleAdmin)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.UpdateStoreResponse{Store: protocol.StoreToProto(out)}), nil
}

func (o *orgService) setStoreDeactivated(id string, deactivated bool, ctx context.Context) (*v1.Store, error) {
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "store_id is required")
	}
	st, err := o.s.app.SetStoreDeactivated(ctx, id, deactivated)
	if err != nil {
		return nil, err
	}
	return protocol.StoreToProto(st), nil
}

// DeactivateStore closes a store. Errors: EINVALID, ENOTFOUND.
func (o *orgService) DeactivateStore(ctx context.Context, req *connect.Request[v1.DeactivateStoreRequest]) (*connect.Response[v1.DeactivateStoreResponse], error) {
	st, err := o.setStoreDeactivated(req.Msg.GetStoreId(), true, ctx)
	return reply(&v1.DeactivateStoreResponse{Store: st}, err)
}

// ReactivateStore opens a closed store again. Errors: EINVALID, ENOTFOUND.
func (o *orgService) ReactivateStore(ctx context.Context, req *connect.Request[v1.ReactivateStoreRequest]) (*connect.Response[v1.ReactivateStoreResponse], error) {
	st, err := o.setStoreDeactivated(req.Msg.GetStoreId(), false, ctx)
	return reply(&v1.ReactivateStoreResponse{Store: st}, err)
}

// staffView converts an employee with his pending transfer, if any.
func (o *orgService) staffView(ctx context.Context, s *audit.Staff) (*v1.Staff, error) {
	out := protocol.StaffToProto(s)
	t, err := o.s.app.PendingTransfer(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	if t != nil {
		out.PendingTransfer = transferToProto(t)
	}
	return out, nil
}

// GetStaff returns an employee of the caller's stores with his transfers.
// Errors: EINVALID, ENOTFOUND.
func (o *orgService) GetStaff(ctx context.Context, req *connect.Request[v1.GetStaffRequest]) (*connect.Response[v1.GetStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, number := req.Msg.GetStaffId(), strings.TrimSpace(req.Msg.GetEmployeeNumber())
	if id == "" && number == "" {
		return nil, audit.Errorf(audit.EINVALID, "staff_id or employee_number is required")
	}
	s, ts, err := o.s.app.FindStaff(ctx, audit.ScopeOf(p), id, number)
	if err != nil {
		return nil, err
	}
	resp := &v1.GetStaffResponse{}
	if resp.Staff, err = o.staffView(ctx, s); err != nil {
		return nil, err
	}
	for i := range ts {
		resp.Transfers = append(resp.Transfers, transferToProto(&ts[i]))
	}
	return connect.NewResponse(resp), nil
}

// UpdateStaff replaces an employee's editable fields. Errors: EINVALID,
// EEXISTS, ENOTFOUND.
func (o *orgService) UpdateStaff(ctx context.Context, req *connect.Request[v1.UpdateStaffRequest]) (*connect.Response[v1.UpdateStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg.GetStaff()
	if m.GetId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "staff.id is required")
	}
	s, err := o.s.app.UpdateStaff(ctx, audit.ScopeOf(p), &audit.Staff{ID: m.GetId(), EmployeeNumber: strings.TrimSpace(m.GetEmployeeNumber()),
		Name: m.GetName(), Position: m.GetPosition(), Department: audit.Department(m.GetDepartment()), BackOffice: m.GetBackOffice()})
	if err != nil {
		return nil, err
	}
	out, err := o.staffView(ctx, s)
	return reply(&v1.UpdateStaffResponse{Staff: out}, err)
}

func (o *orgService) setStaffDeactivated(ctx context.Context, id string, deactivated bool) (*v1.Staff, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, audit.Errorf(audit.EINVALID, "staff_id is required")
	}
	s, err := o.s.app.SetStaffDeactivated(ctx, audit.ScopeOf(p), id, deactivated)
	if err != nil {
		return nil, err
	}
	return o.staffView(ctx, s)
}

// DeactivateStaff marks an employee as gone. Errors: EINVALID, ENOTFOUND.
func (o *orgService) DeactivateStaff(ctx context.Context, req *connect.Request[v1.DeactivateStaffRequest]) (*connect.Response[v1.DeactivateStaffResponse], error) {
	s, err := o.setStaffDeactivated(ctx, req.Msg.GetStaffId(), true)
	return reply(&v1.DeactivateStaffResponse{Staff: s}, err)
}

// ReactivateStaff brings an employee back. Errors: EINVALID, ENOTFOUND.
func (o *orgService) ReactivateStaff(ctx context.Context, req *connect.Request[v1.ReactivateStaffRequest]) (*connect.Response[v1.ReactivateStaffResponse], error) {
	s, err := o.setStaffDeactivated(ctx, req.Msg.GetStaffId(), false)
	return reply(&v1.ReactivateStaffResponse{Staff: s}, err)
}

// TransferStaff moves an employee to another store from a date on.
// Errors: EINVALID, ENOTFOUND, EPRECONDITION.
func (o *orgService) TransferStaff(ctx context.Context, req *connect.Request[v1.TransferStaffRequest]) (*connect.Response[v1.TransferStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	if m.GetStaffId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "staff_id is required")
	}
	scope := audit.ScopeOf(p)
	if m.GetToStoreId() == "" && strings.TrimSpace(m.GetToStoreCode()) == "" {
		return nil, audit.Errorf(audit.EINVALID, "to_store_id or to_store_code is required")
	}
	to, err := o.s.storeRef(ctx, scope, m.GetToStoreId(), m.GetToStoreCode())
	if err != nil {
		return nil, err
	}
	s, t, err := o.s.app.TransferStaff(ctx, scope, m.GetStaffId(), to, m.GetEffectiveDate(), p.UserID)
	if err != nil {
		return nil, err
	}
	out, err := o.staffView(ctx, s)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.TransferStaffResponse{Staff: out, Transfer: transferToProto(t)}), nil
}

// GetOrgSettings returns the organisation's settings.
func (o *orgService) GetOrgSettings(ctx context.Context, _ *connect.Request[v1.GetOrgSettingsRequest]) (*connect.Response[v1.GetOrgSettingsResponse], error) {
	st, err := o.s.st.OrgSettings().Find(ctx)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.GetOrgSettingsResponse{Settings: settingsToProto(st)}), nil
}

// UpdateOrgSettings changes the organisation's settings; an empty field
// keeps its value. Errors: EINVALID naming the field.
func (o *orgService) UpdateOrgSettings(ctx context.Context, req *connect.Request[v1.UpdateOrgSettingsRequest]) (*connect.Response[v1.UpdateOrgSettingsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg.GetSettings()
	st, err := o.s.app.UpdateOrgSettings(ctx, p, audit.OrgSettings{TimeZone: m.GetTimeZone(), Locale: m.GetLocale(), Currency: m.GetCurrency(),
		AppealWindowDays: int(m.GetAppealWindowDays()), ActionDaysCritical: int(m.GetActionDaysCritical()),
		ActionDaysMajor: int(m.GetActionDaysMajor()), ReviewWaitDays: int(m.GetReviewWaitDays())})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.UpdateOrgSettingsResponse{Settings: settingsToProto(st)}), nil
}
