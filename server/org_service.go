package server

import (
	"context"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// orgService implements shopscore.v1.OrgService.
// The embedded Unimplemented handler answers the procedures not yet built;
// it goes once every procedure of the service is implemented.
type orgService struct {
	shopscorev1connect.UnimplementedOrgServiceHandler
	s *Server
}

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
	if err := o.s.db.CreateStore(ctx, st); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateStoreResponse{Store: storeToProto(st)}), nil
}

// ListStores lists the stores in the caller's scope.
func (o *orgService) ListStores(ctx context.Context, req *connect.Request[v1.ListStoresRequest]) (*connect.Response[v1.ListStoresResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	stores, err := o.s.db.ListStores(ctx, audit.StoreFilter{Scope: audit.ScopeOf(p), Region: req.Msg.GetRegion()})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListStoresResponse{}
	for _, st := range stores {
		resp.Stores = append(resp.Stores, storeToProto(st))
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
	if err := o.s.db.CreateStaff(ctx, audit.ScopeOf(p), st); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateStaffResponse{Staff: staffToProto(st)}), nil
}

// ListStaff lists the staff of the stores in the caller's scope.
func (o *orgService) ListStaff(ctx context.Context, req *connect.Request[v1.ListStaffRequest]) (*connect.Response[v1.ListStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	staff, err := o.s.db.ListStaff(ctx, audit.StaffFilter{Scope: audit.ScopeOf(p), StoreID: req.Msg.GetStoreId()})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListStaffResponse{}
	for _, st := range staff {
		resp.Staff = append(resp.Staff, staffToProto(st))
	}
	return connect.NewResponse(resp), nil
}

// ListShoppers lists the active shoppers.
func (o *orgService) ListShoppers(ctx context.Context, _ *connect.Request[v1.ListShoppersRequest]) (*connect.Response[v1.ListShoppersResponse], error) {
	users, err := o.s.db.ListShoppers(ctx)
	if err != nil {
		return nil, err
	}
	resp := &v1.ListShoppersResponse{}
	for _, u := range users {
		resp.Shoppers = append(resp.Shoppers, userToProto(u))
	}
	return connect.NewResponse(resp), nil
}
