package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
)

// bom is the UTF-8 byte order mark Excel writes at the start of a CSV.
const bom = "\ufeff"

// where returns each problem as "line:column field", for comparing.
func where(problems []*v1.ImportProblem) []string {
	var out []string
	for _, p := range problems {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%d:%d %s", p.Line, p.Column, p.Path)))
	}
	return out
}

// TestOrgService_ImportStores imports stores as operations export them: a
// semicolon CSV in Russian with a BOM, decimal commas, a quoted name;
// importing it again changes nothing; a changed row updates its store.
func TestOrgService_ImportStores(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	manager := mustLogin(t, c, audit.RoleManager, "desk").Tokens.AccessToken
	hr := mustLogin(t, c, audit.RoleHR, "desk").Tokens.AccessToken

	file := bom + "Код;Название;Адрес;Регион;Широта;Долгота;Радиус (м)\r\n" +
		"SPB-10;Стройматериалы, Невский;Невский пр. 10;Санкт-Петербург;59,9343;30,3351;150\r\n" +
		"SPB-11;\"Склад \"\"Север\"\"\";;Санкт-Петербург;;;\r\n"
	req := &v1.ImportStoresRequest{FileName: "магазины.csv", Content: []byte(file)}

	t.Run("ValidateOnly", func(t *testing.T) {
		dry, err := call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: req.FileName, Content: req.Content, ValidateOnly: true})
		require.NoError(t, err)
		assert.Equal(t, int32(2), dry.Created)
		_, err = call(t, c.Org.GetStore, admin, &v1.GetStoreRequest{StoreCode: "SPB-10"})
		requireCode(t, connect.CodeNotFound, err, "validate_only stored a store")
	})

	t.Run("OK", func(t *testing.T) {
		got, err := call(t, c.Org.ImportStores, admin, req)
		require.NoError(t, err)
		assert.Equal(t, &v1.ImportStoresResponse{Created: 2}, &v1.ImportStoresResponse{Created: got.Created, Updated: got.Updated, Unchanged: got.Unchanged})
		spb, err := call(t, c.Org.GetStore, admin, &v1.GetStoreRequest{StoreCode: "SPB-10"})
		require.NoError(t, err)
		assert.Equal(t, "Стройматериалы, Невский", spb.Store.Name)
		assert.Equal(t, "Невский пр. 10", spb.Store.Address)
		assert.Equal(t, "Санкт-Петербург", spb.Store.Region)
		assert.InDelta(t, 59.9343, spb.Store.Latitude, 1e-9)
		assert.InDelta(t, 30.3351, spb.Store.Longitude, 1e-9)
		assert.Equal(t, 150.0, spb.Store.GeofenceMeters)
		north, err := call(t, c.Org.GetStore, admin, &v1.GetStoreRequest{StoreCode: "SPB-11"})
		require.NoError(t, err)
		assert.Equal(t, `Склад "Север"`, north.Store.Name)

		again, err := call(t, c.Org.ImportStores, admin, req)
		require.NoError(t, err)
		assert.Equal(t, int32(0), again.Created)
		assert.Equal(t, int32(2), again.Unchanged, "re-importing the same export changes nothing")

		changed := strings.Replace(file, "Невский пр. 10", "Невский пр. 12", 1)
		upd, err := call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "магазины.csv", Content: []byte(changed)})
		require.NoError(t, err)
		assert.Equal(t, int32(1), upd.Updated)
		assert.Equal(t, int32(1), upd.Unchanged)
		spb, err = call(t, c.Org.GetStore, admin, &v1.GetStoreRequest{StoreCode: "SPB-10"})
		require.NoError(t, err)
		assert.Equal(t, "Невский пр. 12", spb.Store.Address)
		assert.Equal(t, 150.0, spb.Store.GeofenceMeters)

		// A file without a column keeps what is stored for it.
		short := "code,name\nSPB-10,Стройматериалы на Невском\n"
		upd, err = call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "short.csv", Content: []byte(short)})
		require.NoError(t, err)
		assert.Equal(t, int32(1), upd.Updated)
		spb, err = call(t, c.Org.GetStore, admin, &v1.GetStoreRequest{StoreCode: "SPB-10"})
		require.NoError(t, err)
		assert.Equal(t, "Стройматериалы на Невском", spb.Store.Name)
		assert.Equal(t, "Невский пр. 12", spb.Store.Address)
		assert.InDelta(t, 59.9343, spb.Store.Latitude, 1e-9)
	})

	t.Run("ErrInvalidArgument", func(t *testing.T) {
		bad := "code;name;latitude;geofence_meters\n" +
			"NEW-1;Good;55,1;10\n" + // 2
			";No code;1;1\n" + // 3
			"NEW-3;Bad latitude;north;1\n" + // 4
			"NEW-4;Out of range;123;1\n" + // 5
			"NEW-1;Again;1;1\n" + // 6
			"NEW-6;;1;1\n" // 7
		_, err := call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "bad.csv", Content: []byte(bad)})
		problems := importProblems(t, err)
		assert.Equal(t, []string{"3:1 code", "4:3 latitude", "5:0", "6:1 code", "7:2 name"}, where(problems))
		for _, p := range problems {
			assert.Equal(t, "bad.csv", p.FileName)
			assert.NotEmpty(t, p.Message)
		}
		assert.Contains(t, err.Error(), "bad.csv:6:1: code: store code NEW-1 is listed again (first on row 2)")
		_, err = call(t, c.Org.GetStore, admin, &v1.GetStoreRequest{StoreCode: "NEW-1"})
		requireCode(t, connect.CodeNotFound, err, "all or nothing: the good row was not stored")

		many := "code;name\n"
		for i := range 150 {
			many += fmt.Sprintf("X%d;\n", i)
		}
		_, err = call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "many.csv", Content: []byte(many)})
		problems = importProblems(t, err)
		require.Len(t, problems, 101, "the first 100 problems, then how many more")
		assert.Equal(t, int32(2), problems[0].Line)
		assert.Equal(t, "and 50 more problem(s)", problems[100].Message, "150 rows without a name")

		_, err = call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "h.csv", Content: []byte("код;адрес\nX;Y\n")})
		assert.Equal(t, []string{"1:0 name"}, where(importProblems(t, err)), "a missing required column")
		_, err = call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "e.csv"})
		assert.Len(t, importProblems(t, err), 1, "an empty file")
		_, err = call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "e.csv", Content: []byte(bom + "code;name\n")})
		assert.Contains(t, err.Error(), "no store rows after the header")
		_, err = call(t, c.Org.ImportStores, admin, &v1.ImportStoresRequest{FileName: "x.xlsx", Content: []byte("PK\x03\x04 not a workbook")})
		assert.Len(t, importProblems(t, err), 1, "a broken workbook")
	})

	t.Run("ErrPermissionDenied", func(t *testing.T) {
		for _, tok := range []string{manager, hr} {
			_, err := call(t, c.Org.ImportStores, tok, req)
			requireCode(t, connect.CodePermissionDenied, err)
		}
	})
}

// TestOrgService_ImportStaff imports staff as HR exports them: a Russian
// semicolon CSV with a BOM into the manager's stores (new employees, an
// update, a move to another of his stores), an XLSX with numeric employee
// numbers and columns the import does not know, a file with problems on
// several rows (all reported at their rows as the spreadsheet numbers
// them, nothing stored), and the stores and roles it refuses.
func TestOrgService_ImportStaff(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	manager := mustLogin(t, c, audit.RoleManager, "desk").Tokens.AccessToken
	hr := mustLogin(t, c, audit.RoleHR, "desk").Tokens.AccessToken
	shopper := mustLogin(t, c, audit.RoleShopper, "phone").Tokens.AccessToken

	staffOf := func(number string) *v1.GetStaffResponse {
		t.Helper()
		got, err := call(t, c.Org.GetStaff, admin, &v1.GetStaffRequest{EmployeeNumber: number})
		require.NoError(t, err)
		return got
	}

	t.Run("CSV", func(t *testing.T) {
		file := bom + "Табельный номер;ФИО;Код магазина;Должность;Отдел;Бэк-офис\n" +
			"\n" +
			"T-100;Анна Смирнова;MSK-01;кассир;sales;нет\n" +
			"T-101;Пётр Иванов;MSK-02;бухгалтер;accounting;да\n" +
			"E1001;Иван Соколов;MSK-01;старший кассир;sales;нет\n" + // was "Ivan Sokolov", cashier
			"E1002;Elena Smirnova;DEPOT-1;sales consultant;sales;нет\n" + // moves from MSK-01
			"E2001;Sergei Morozov;DEPOT-1;driver;logistics;нет\n" // unchanged
		req := &v1.ImportStaffRequest{FileName: "сотрудники.csv", Content: []byte(file)}
		dry, err := call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: req.FileName, Content: req.Content, ValidateOnly: true})
		require.NoError(t, err)
		got, err := call(t, c.Org.ImportStaff, manager, req)
		require.NoError(t, err)
		want := &v1.ImportStaffResponse{Created: 2, Updated: 2, Unchanged: 1, Transferred: 1}
		assert.Equal(t, want, &v1.ImportStaffResponse{Created: got.Created, Updated: got.Updated, Unchanged: got.Unchanged, Transferred: got.Transferred})
		assert.Equal(t, want, &v1.ImportStaffResponse{Created: dry.Created, Updated: dry.Updated, Unchanged: dry.Unchanged, Transferred: dry.Transferred},
			"validate_only says what the import does")

		anna := staffOf("T-100").Staff
		assert.Equal(t, "Анна Смирнова", anna.Name)
		assert.Equal(t, "MSK-01", anna.StoreCode)
		assert.Equal(t, "кассир", anna.Position)
		assert.False(t, anna.BackOffice)
		petr := staffOf("T-101").Staff
		assert.True(t, petr.BackOffice)
		assert.Equal(t, "MSK-02", petr.StoreCode)
		assert.Equal(t, "Иван Соколов", staffOf("E1001").Staff.Name)
		moved := staffOf("E1002")
		assert.Equal(t, "DEPOT-1", moved.Staff.StoreCode)
		require.Len(t, moved.Transfers, 1)
		assert.Equal(t, "MSK-01", moved.Transfers[0].FromStoreCode)
		assert.True(t, moved.Transfers[0].Applied)
		assert.Equal(t, moved.Staff.StoreSinceDate, moved.Transfers[0].EffectiveDate, "a transfer from today")

		found, err := call(t, c.Org.ListStaff, manager, &v1.ListStaffRequest{Query: "анна"})
		require.NoError(t, err)
		require.Len(t, found.Staff, 1, "a Cyrillic name found in any case")
		assert.Equal(t, "T-100", found.Staff[0].EmployeeNumber)

		again, err := call(t, c.Org.ImportStaff, manager, req)
		require.NoError(t, err)
		assert.Equal(t, int32(5), again.Unchanged, "re-importing the same export changes nothing")
	})

	t.Run("XLSX", func(t *testing.T) {
		f := excelize.NewFile()
		sheet := f.GetSheetName(0)
		for i, row := range [][]any{
			{"Табельный №", "Ф.И.О.", "Дата рождения", "Код магазина", "Должность"},
			{7001, "Ольга Новикова", "1990-01-01", "HQ", "юрист"},
			nil, // a blank row counts
			{7002, "Олег Кузнецов", "1985-05-05", "", "курьер"},
		} {
			cell, err := excelize.CoordinatesToCellName(1, i+1)
			require.NoError(t, err)
			if row != nil {
				require.NoError(t, f.SetSheetRow(sheet, cell, &row))
			}
		}
		var buf bytes.Buffer
		require.NoError(t, f.Write(&buf))
		got, err := call(t, c.Org.ImportStaff, admin, &v1.ImportStaffRequest{FileName: "staff.xlsx", Content: buf.Bytes()})
		require.NoError(t, err)
		assert.Equal(t, int32(2), got.Created)
		olga := staffOf("7001").Staff
		assert.Equal(t, "Ольга Новикова", olga.Name)
		assert.Equal(t, "HQ", olga.StoreCode)
		assert.Empty(t, staffOf("7002").Staff.StoreId, "an admin may import an employee of no store")

		_, err = call(t, c.Org.ImportStaff, admin, &v1.ImportStaffRequest{FileName: "staff.xlsx", Content: buf.Bytes()[:len(buf.Bytes())/2]})
		assert.Len(t, importProblems(t, err), 1, "a truncated workbook")
	})

	t.Run("ErrInvalidArgument: every bad row at its row", func(t *testing.T) {
		bad := "employee_number,name,store_code,back_office\n" + // 1
			"E9001,Good Person,MSK-01,no\n" + // 2
			",No Number,MSK-01,no\n" + // 3
			"E9003,,MSK-01,no\n" + // 4
			"\n" + // 5
			"E9001,Twice,MSK-01,no\n" + // 6
			"E9005,Unknown Store,NOPE-99,no\n" + // 7
			"E9006,Bad Flag,MSK-01,maybe\n" + // 8
			"E9007,\"Two-line\nname\",MSK-01,no\n" + // 9 (and its second line)
			"E9008,After Two Lines,NOPE-98,no\n" // 10
		_, err := call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "staff.csv", Content: []byte(bad)})
		problems := importProblems(t, err)
		assert.Equal(t, []string{"3:1 employee_number", "4:2 name", "6:1 employee_number", "7:3 store_code", "8:4 back_office", "10:3 store_code"},
			where(problems))
		assert.Contains(t, err.Error(), "staff.csv:7:3: store_code: no store with code NOPE-99")
		assert.Contains(t, err.Error(), "staff.csv:6:1: employee_number: employee number E9001 is listed again (first on row 2)")
		for _, n := range []string{"E9001", "E9007"} {
			_, err := call(t, c.Org.GetStaff, admin, &v1.GetStaffRequest{EmployeeNumber: n})
			requireCode(t, connect.CodeNotFound, err, "all or nothing: %s was stored", n)
		}
		_, err = call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "staff.csv", Content: []byte(bad), ValidateOnly: true})
		assert.Equal(t, where(problems), where(importProblems(t, err)), "validate_only reports the same problems")

		_, err = call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "h.csv", Content: []byte("фио;должность\nX;Y\n")})
		assert.Equal(t, []string{"1:0 employee_number"}, where(importProblems(t, err)))
		_, err = call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "d.csv",
			Content: []byte("employee_number;name;фио\nE1;A;B\n")})
		assert.Equal(t, []string{"1:3 name"}, where(importProblems(t, err)), "a column named twice")
		long := "employee_number;name\nE1;" + strings.Repeat("я", 501) + "\n"
		_, err = call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "l.csv", Content: []byte(long)})
		assert.Equal(t, []string{"2:2 name"}, where(importProblems(t, err)), "a cell too long")
		_, err = call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "big.csv", Content: bytes.Repeat([]byte("x"), 5<<20)})
		requireCode(t, connect.CodeResourceExhausted, err, "the server's request limit (4 MiB by default) comes first")
	})

	t.Run("ErrInvalidArgument: another manager's store", func(t *testing.T) {
		// The demo manager manages MSK-01, MSK-02 and DEPOT-1, not KIV-01.
		file := "employee_number;name;store_code\n" +
			"E8001;Новый сотрудник;KIV-01\n" + // a store not his
			"E1005;Ion Rusu;MSK-01\n" + // an employee of KIV-01: not his to move
			"E1003;Pavel Kuznetsov;\n" + // his, no store given: stays at MSK-02
			"E8004;Без магазина;\n" // a manager's new employee needs a store
		_, err := call(t, c.Org.ImportStaff, manager, &v1.ImportStaffRequest{FileName: "other.csv", Content: []byte(file)})
		problems := importProblems(t, err)
		assert.Equal(t, []string{"2:3 store_code", "3:1 employee_number", "5:3 store_code"}, where(problems))
		assert.Equal(t, "no store with code KIV-01", problems[0].Message, "the same words as for a store that does not exist")
		assert.Equal(t, "KIV-01", staffOf("E1005").Staff.StoreCode)

		other := newManager(t, c, admin)
		_, err = call(t, c.Org.ImportStaff, other, &v1.ImportStaffRequest{FileName: "other.csv",
			Content: []byte("employee_number;name;store_code\nE1001;Иван Соколов;MSK-01\n")})
		assert.Equal(t, []string{"2:3 store_code"}, where(importProblems(t, err)))
	})

	t.Run("ErrInvalidArgument: deactivated", func(t *testing.T) {
		gone := staffOf("E1004").Staff // at MSK-02
		_, err := call(t, c.Org.DeactivateStaff, admin, &v1.DeactivateStaffRequest{StaffId: gone.Id})
		require.NoError(t, err)
		closed, err := call(t, c.Org.CreateStore, admin, &v1.CreateStoreRequest{Store: &v1.Store{Code: "CLOSED-1", Name: "Closed"}})
		require.NoError(t, err)
		_, err = call(t, c.Org.DeactivateStore, admin, &v1.DeactivateStoreRequest{StoreId: closed.Store.Id})
		require.NoError(t, err)
		file := "employee_number;name;store_code\n" +
			"E1004;Natalia Volkova;MSK-01\n" + // deactivated: not moved
			"E8101;Новенький;CLOSED-1\n" // a closed store takes no one
		_, err = call(t, c.Org.ImportStaff, admin, &v1.ImportStaffRequest{FileName: "d.csv", Content: []byte(file)})
		problems := importProblems(t, err)
		assert.Equal(t, []string{"2:3 store_code", "3:3 store_code"}, where(problems))
		assert.Contains(t, problems[0].Message, "deactivated")
		assert.Contains(t, problems[1].Message, "deactivated")
		assert.Equal(t, "MSK-02", staffOf("E1004").Staff.StoreCode)
	})

	t.Run("ErrPermissionDenied", func(t *testing.T) {
		for _, tok := range []string{hr, shopper} {
			_, err := call(t, c.Org.ImportStaff, tok, &v1.ImportStaffRequest{FileName: "s.csv", Content: []byte("employee_number;name\nE1;A\n")})
			requireCode(t, connect.CodePermissionDenied, err)
		}
	})
}

// TestOrgService_ImportStaff_Size checks the import's size limit, on a
// server whose request limit lets a larger file through: the request
// limits table refuses it before the file is read.
func TestOrgService_ImportStaff_Size(t *testing.T) {
	ts := mustRunSyncServer(t, &server.Config{MaxRequestBytes: 16 << 20})
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	big := append([]byte("employee_number;name\n"), bytes.Repeat([]byte("x"), 8<<20)...)
	_, err := call(t, c.Org.ImportStaff, admin, &v1.ImportStaffRequest{FileName: "big.csv", Content: big})
	requireCode(t, connect.CodeInvalidArgument, err)
	assert.Contains(t, err.Error(), "at most 8388608")
}
