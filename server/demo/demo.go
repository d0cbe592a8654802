// Package demo seeds the demo organisation `make run` starts with (and the
// end-to-end tests run against): users, stores, staff, the demo standards
// pack and a week of assignments (Seed), and what the reports need on top
// of that (SeedReports). It goes through the server's storage and its
// evidence store as the server's own calls do; nothing else depends on it.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/audit/demopack"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/auth"
)

// Users are the e-mails of the demo accounts, one per role.
var Users = map[audit.Role]string{
	audit.RoleAdmin:   "admin@demo.shopscore.test",
	audit.RoleManager: "manager@demo.shopscore.test",
	audit.RoleHR:      "hr@demo.shopscore.test",
	audit.RoleShopper: "shopper@demo.shopscore.test",
	audit.RoleStaff:   "staff@demo.shopscore.test",
}

// SecondManager is the e-mail of a second manager of the demo's managed
// stores, Pavel Orlov, who reviews none of the demo's visits: the judge
// of an appeal against a visit the first manager reviewed (four eyes).
const SecondManager = "manager2@demo.shopscore.test"

// StaffEmployee is the employee number of the demo's staff account:
// Sergei Morozov, the driver whose deliveries the demo's reports audit.
const StaffEmployee = "E2001"

// Seed fills the empty database of srv with a demo organisation: one user per
// role and a second manager (SecondManager), all with the given password (the staff user is Sergei Morozov's
// account, invited and accepted as an employee's is), a few stores, a depot and a head
// office, and their front-line and back-office staff; the demo standards
// pack, published; and a week of assignments. It reports whether
// it seeded anything: a database that already has users is left alone.
func Seed(ctx context.Context, srv *server.Server, password string) (bool, error) {
	db := srv.Storage()
	n, err := db.Users().Count(ctx)
	if err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return false, fmt.Errorf("demo password: %w", err)
	}
	names := map[audit.Role]string{
		audit.RoleAdmin: "Demo Admin", audit.RoleManager: "Maria Ivanova (store manager)",
		audit.RoleHR: "Olga Petrova (HR)", audit.RoleShopper: "Andrei Popescu (mystery shopper)",
	}
	users := map[audit.Role]*audit.User{}
	for _, role := range audit.Roles {
		if role == audit.RoleStaff {
			continue // an employee's account, made below from his staff record
		}
		u := &audit.User{Email: Users[role], DisplayName: names[role], Role: role}
		if err := srv.App().CreateUser(ctx, u, hash); err != nil {
			return false, fmt.Errorf("demo user %s: %w", u.Email, err)
		}
		users[role] = u
	}
	second := &audit.User{Email: SecondManager, DisplayName: "Pavel Orlov (second store manager)", Role: audit.RoleManager}
	if err := srv.App().CreateUser(ctx, second, hash); err != nil {
		return false, fmt.Errorf("demo user %s: %w", second.Email, err)
	}
	manager := []string{users[audit.RoleManager].ID, second.ID}
	stores := []*audit.Store{
		{Code: "MSK-01", Name: "Building materials, Tverskaya", Address: "Tverskaya 12, Moscow", Region: "Moscow",
			Latitude: 55.7652, Longitude: 37.6050, GeofenceMeters: 150, ManagerIDs: manager},
		{Code: "MSK-02", Name: "Building materials, Profsoyuznaya", Address: "Profsoyuznaya 56, Moscow", Region: "Moscow",
			Latitude: 55.6701, Longitude: 37.5526, GeofenceMeters: 150, ManagerIDs: manager},
		{Code: "KIV-01", Name: "Building materials, Chisinau centre", Address: "Stefan cel Mare 64, Chisinau", Region: "Moldova",
			Latitude: 47.0245, Longitude: 28.8323, GeofenceMeters: 150},
		{Code: "DEPOT-1", Name: "Logistics depot", Address: "Warehouse road 3, Moscow", Region: "Moscow",
			Latitude: 55.6110, Longitude: 37.7420, GeofenceMeters: 300, ManagerIDs: manager},
		{Code: "HQ", Name: "Head office", Address: "Leninsky 30, Moscow", Region: "Moscow",
			Latitude: 55.7075, Longitude: 37.5850, GeofenceMeters: 100},
	}
	byCode := map[string]string{}
	for _, st := range stores {
		if err := srv.App().CreateStore(ctx, st); err != nil {
			return false, fmt.Errorf("demo store %s: %w", st.Code, err)
		}
		byCode[st.Code] = st.ID
	}
	staff := []*audit.Staff{
		{EmployeeNumber: "E1001", Name: "Ivan Sokolov", Position: "cashier", Department: audit.DeptSales, StoreID: byCode["MSK-01"]},
		{EmployeeNumber: "E1002", Name: "Elena Smirnova", Position: "sales consultant", Department: audit.DeptSales, StoreID: byCode["MSK-01"]},
		{EmployeeNumber: "E1003", Name: "Pavel Kuznetsov", Position: "sales consultant", Department: audit.DeptSales, StoreID: byCode["MSK-02"]},
		{EmployeeNumber: "E1004", Name: "Natalia Volkova", Position: "cashier", Department: audit.DeptSales, StoreID: byCode["MSK-02"]},
		{EmployeeNumber: "E1005", Name: "Ion Rusu", Position: "sales consultant", Department: audit.DeptSales, StoreID: byCode["KIV-01"]},
		{EmployeeNumber: "E2001", Name: "Sergei Morozov", Position: "driver", Department: audit.DeptLogistics, StoreID: byCode["DEPOT-1"]},
		{EmployeeNumber: "E2002", Name: "Dmitri Lebedev", Position: "driver", Department: audit.DeptLogistics, StoreID: byCode["DEPOT-1"]},
		{EmployeeNumber: "E3001", Name: "Irina Kozlova", Position: "accountant", Department: audit.DeptAccounting, BackOffice: true, StoreID: byCode["HQ"]},
		{EmployeeNumber: "E3002", Name: "Alexei Novikov", Position: "lawyer", Department: audit.DeptLegal, BackOffice: true, StoreID: byCode["HQ"]},
		{EmployeeNumber: "E3003", Name: "Svetlana Popova", Position: "secretary", Department: audit.DeptSecretary, BackOffice: true, StoreID: byCode["HQ"]},
	}
	for _, st := range staff {
		if err := srv.App().CreateStaff(ctx, audit.Scope{All: true}, st); err != nil {
			return false, fmt.Errorf("demo staff %s: %w", st.EmployeeNumber, err)
		}
	}
	invited, err := srv.App().InviteStaff(ctx, audit.Principal{UserID: users[audit.RoleAdmin].ID, Role: audit.RoleAdmin},
		[]app.StaffInvite{{EmployeeNumber: StaffEmployee, Email: Users[audit.RoleStaff]}})
	if err != nil {
		return false, fmt.Errorf("demo staff account: %w", err)
	}
	if _, err := srv.App().AcceptInvitation(ctx, invited[0].Token, hash, ""); err != nil {
		return false, fmt.Errorf("demo staff account: %w", err)
	}
	if _, err := srv.App().ImportPack(ctx, "demo-pack.json", demopack.JSON, true, false, users[audit.RoleAdmin].ID); err != nil {
		return false, fmt.Errorf("demo standards pack: %w", err)
	}
	// A week of work for the demo shopper, starting today.
	day := srv.Now().UTC().Truncate(24 * time.Hour)
	shopper := users[audit.RoleShopper].ID
	work := []struct {
		store, checklist string
		shopper          string
	}{
		{"MSK-01", "store-visit", shopper},
		{"MSK-02", "store-visit", shopper},
		{"KIV-01", "store-visit", ""},
		{"HQ", "back-office-call", shopper},
		{"DEPOT-1", "delivery", shopper},
		{"HQ", "email-enquiry", shopper},
	}
	for i, w := range work {
		a := &audit.Assignment{
			StoreID: byCode[w.store], ChecklistID: w.checklist, ShopperID: w.shopper, CreatedBy: users[audit.RoleManager].ID,
			WindowStart: day, WindowEnd: day.Add(time.Duration(7+i) * 24 * time.Hour),
		}
		if err := srv.App().CreateAssignment(ctx, audit.Scope{All: true}, a); err != nil {
			return false, fmt.Errorf("demo assignment %s/%s: %w", w.store, w.checklist, err)
		}
	}
	return true, nil
}
