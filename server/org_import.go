package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// The limits of a store or staff import: the file's size, its data rows
// (far more than any organisation has stores or staff), a cell's length,
// and how many problems are listed (the rest are counted).
const (
	maxImportBytes     = 8 << 20
	maxImportStores    = 10_000
	maxImportStaff     = 50_000
	maxImportCellChars = 500
	maxImportProblems  = 100
)

// importColumn is a column a store or staff import understands.
type importColumn struct {
	field    string   // its name in problems (an app.Field* constant)
	headers  []string // the header keys (reports.HeaderKey) that name it, in English and Russian
	required bool
}

// storeColumns are the columns of a store import.
var storeColumns = []importColumn{
	{app.FieldCode, []string{"code", "store_code", "код", "код_магазина", "код_точки"}, true},
	{app.FieldName, []string{"name", "store_name", "название", "наименование", "название_магазина"}, true},
	{app.FieldAddress, []string{"address", "адрес"}, false},
	{app.FieldRegion, []string{"region", "регион"}, false},
	{app.FieldLatitude, []string{"latitude", "lat", "широта"}, false},
	{app.FieldLongitude, []string{"longitude", "lon", "lng", "долгота"}, false},
	{app.FieldGeofenceMeters, []string{"geofence_meters", "geofence", "radius", "радиус", "радиус_геозоны"}, false},
}

// staffColumns are the columns of a staff import.
var staffColumns = []importColumn{
	{app.FieldEmployeeNumber, []string{"employee_number", "employee_no", "tab_number", "number",
		"табельный_номер", "таб_номер", "табельный", "табельный_№", "таб_№"}, true},
	{app.FieldName, []string{"name", "full_name", "employee_name", "фио", "ф_и_о", "имя", "сотрудник"}, true},
	{app.FieldStoreCode, []string{"store_code", "store", "код_магазина", "код_точки", "магазин"}, false},
	{app.FieldPosition, []string{"position", "job_title", "должность"}, false},
	{app.FieldDepartment, []string{"department", "отдел", "подразделение"}, false},
	{app.FieldBackOffice, []string{"back_office", "бэк_офис", "бек_офис"}, false},
}

// tableImport is one store or staff file being read: its columns, and
// every problem found so far.
type tableImport struct {
	file     string
	cols     map[string]int // field -> 0-based column
	problems audit.PackErrors
}

// problem records a problem of row line in the column of field ("" for
// the whole row).
func (t *tableImport) problem(line int, field, format string, args ...any) {
	t.problems = append(t.problems, audit.PackError{File: t.file, Line: line, Path: field, Msg: fmt.Sprintf(format, args...)})
}

// importRow is one data row of a tableImport.
type importRow struct {
	t     *tableImport
	line  int
	cells []string
}

// text returns the row's cell of field, trimmed; "" when the file has no
// such column.
func (r importRow) text(field string) string {
	if c, ok := r.t.cols[field]; ok && c < len(r.cells) {
		return strings.TrimSpace(r.cells[c])
	}
	return ""
}

func (r importRow) problem(field, format string, args ...any) {
	r.t.problem(r.line, field, format, args...)
}

// number returns the row's cell of field as a decimal number (a comma or
// a point for decimals, as Russian and English spreadsheets write them;
// 0 when empty), recording a problem when it is not one.
func (r importRow) number(field string) float64 {
	s := strings.Map(func(c rune) rune {
		if unicode.IsSpace(c) {
			return -1
		}
		return c
	}, r.text(field))
	if s == "" {
		return 0
	}
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.problem(field, "%q is not a number", r.text(field))
		return 0
	}
	return f
}

// yesNo returns the row's cell of field as a yes or no (empty is no),
// recording a problem when it is neither.
func (r importRow) yesNo(field string) bool {
	switch v := strings.ToLower(r.text(field)); v {
	case "", "0", "no", "n", "false", "нет", "н", "-":
		return false
	case "1", "yes", "y", "true", "да", "д", "x", "х", "+":
		return true
	default:
		r.problem(field, "%q is neither yes nor no (да/нет)", r.text(field))
		return false
	}
}

// readImport reads an import file with reports.ReadTable: the first row
// with content is the header, naming columns (any order, any case,
// English or Russian; columns it does not know are ignored); then row is
// called for each data row, at most maxRows, whose cells are not too
// long. Problems of the file as a whole end the reading and come back as
// the error; problems of the rows are collected in the tableImport.
// Errors: EINVALID (audit.PackErrors).
func readImport(file string, data []byte, what string, columns []importColumn, maxRows int, row func(importRow)) (*tableImport, error) {
	t := &tableImport{file: file}
	if len(data) == 0 {
		t.problem(0, "", "the file is empty; want a header row and one row per %s", what)
		return nil, t.problems
	}
	if len(data) > maxImportBytes {
		t.problem(0, "", "the file has %d bytes; at most %d MiB", len(data), maxImportBytes>>20)
		return nil, t.problems
	}
	rows := 0
	for r, err := range reports.ReadTable(file, data, reports.TableLimits{MaxRows: maxRows + 1}) {
		if err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "reports: "), file+": ")
			t.problems = append(t.problems, audit.PackError{File: file, Msg: msg})
			return nil, t.problems
		}
		if t.cols == nil {
			if !t.header(r, columns) {
				return nil, t.problems
			}
			continue
		}
		rows++
		ir := importRow{t: t, line: r.Line, cells: r.Cells}
		long := false
		for _, c := range columns {
			if n := utf8.RuneCountInString(ir.text(c.field)); n > maxImportCellChars {
				ir.problem(c.field, "%d characters; at most %d", n, maxImportCellChars)
				long = true
			}
		}
		if !long {
			row(ir)
		}
	}
	switch {
	case t.cols == nil:
		t.problem(0, "", "the file is empty; want a header row and one row per %s", what)
		return nil, t.problems
	case rows == 0:
		t.problem(0, "", "no %s rows after the header", what)
		return nil, t.problems
	}
	return t, nil
}

// header matches the header row to columns; it reports false, with the
// problems recorded, when a required column is missing or a column is
// named twice.
func (t *tableImport) header(r reports.TableRow, columns []importColumn) bool {
	t.cols = map[string]int{}
	ok := true
	for i, h := range r.Cells {
		key := reports.HeaderKey(h)
		for _, c := range columns {
			if !slices.Contains(c.headers, key) {
				continue
			}
			if prev, dup := t.cols[c.field]; dup {
				t.problems = append(t.problems, audit.PackError{File: t.file, Line: r.Line, Col: i + 1, Path: c.field,
					Msg: fmt.Sprintf("column %q names %s again (column %d does already)", strings.TrimSpace(h), c.field, prev+1)})
				ok = false
			}
			t.cols[c.field] = i
		}
	}
	for _, c := range columns {
		if _, found := t.cols[c.field]; c.required && !found {
			t.problems = append(t.problems, audit.PackError{File: t.file, Line: r.Line, Path: c.field,
				Msg: fmt.Sprintf("the header names no %s column (%s)", c.field, strings.Join(c.headers, ", "))})
			ok = false
		}
	}
	return ok
}

// fields returns the fields the file has columns for.
func (t *tableImport) fields() map[string]bool {
	out := make(map[string]bool, len(t.cols))
	for f := range t.cols {
		out[f] = true
	}
	return out
}

// finish returns the problems of the file and those storage found
// (located in their columns), in file order, at most maxImportProblems of
// them and a count of the rest; nil when there are none. Any other error
// of storage is returned as it is.
func (t *tableImport) finish(stored error) error {
	var more audit.PackErrors
	if stored != nil && !errors.As(stored, &more) {
		return stored
	}
	all := append(slices.Clone(t.problems), more...)
	for i := range all {
		all[i].File = t.file
		if c, ok := t.cols[all[i].Path]; ok && all[i].Col == 0 {
			all[i].Col = c + 1
		}
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortStableFunc(all, func(a, b audit.PackError) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col)) })
	if n := len(all) - maxImportProblems; n > 0 {
		all = append(all[:maxImportProblems], audit.PackError{File: t.file, Msg: fmt.Sprintf("and %d more problem(s)", n)})
	}
	return all
}

// importName is the file name problems are reported with.
func importName(name, fallback string) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return fallback
}

// key returns the row's cell of field, which identifies the row's store
// or employee (what names it in messages), recording a problem when it is
// empty or an earlier row had it; seen holds the earlier rows' keys.
func (r importRow) key(field, what string, seen map[string]int) string {
	v := r.text(field)
	switch prev, dup := seen[v]; {
	case v == "":
		r.problem(field, "the %s is empty", what)
	case dup:
		r.problem(field, "%s %s is listed again (first on row %d)", what, v, prev)
	default:
		seen[v] = r.line
	}
	return v
}

// required returns the row's cell of field, recording a problem when it
// is empty.
func (r importRow) required(field, what string) string {
	v := r.text(field)
	if v == "" {
		r.problem(field, "the %s is empty", what)
	}
	return v
}

// valid reports whether the row has no problem since the tableImport had
// before of them and validate accepts what it describes, recording
// validate's problem for the whole row.
func (r importRow) valid(before int, validate func() error) bool {
	if len(r.t.problems) > before {
		return false
	}
	if err := validate(); err != nil {
		r.problem("", "%s", audit.ErrorMessage(err))
		return false
	}
	return true
}

// parseStores reads a store import file: every row a valid store, codes
// distinct.
func parseStores(file string, data []byte) (*tableImport, []app.StoreImportRow, error) {
	var rows []app.StoreImportRow
	seen := map[string]int{}
	t, err := readImport(file, data, "store", storeColumns, maxImportStores, func(r importRow) {
		before := len(r.t.problems)
		s := audit.Store{Code: r.key(app.FieldCode, "store code", seen), Name: r.required(app.FieldName, "store name"),
			Address: r.text(app.FieldAddress), Region: r.text(app.FieldRegion), Latitude: r.number(app.FieldLatitude),
			Longitude: r.number(app.FieldLongitude), GeofenceMeters: r.number(app.FieldGeofenceMeters)}
		if r.valid(before, s.Validate) {
			rows = append(rows, app.StoreImportRow{Line: r.line, Store: s})
		}
	})
	return t, rows, err
}

// parseStaff reads a staff import file: every row a valid employee,
// employee numbers distinct.
func parseStaff(file string, data []byte) (*tableImport, []app.StaffImportRow, error) {
	var rows []app.StaffImportRow
	seen := map[string]int{}
	t, err := readImport(file, data, "employee", staffColumns, maxImportStaff, func(r importRow) {
		before := len(r.t.problems)
		s := audit.Staff{EmployeeNumber: r.key(app.FieldEmployeeNumber, "employee number", seen),
			Name: r.required(app.FieldName, "employee's name"), Position: r.text(app.FieldPosition),
			Department: audit.Department(r.text(app.FieldDepartment)), BackOffice: r.yesNo(app.FieldBackOffice)}
		if r.valid(before, s.Validate) {
			rows = append(rows, app.StaffImportRow{Line: r.line, Staff: s, StoreCode: r.text(app.FieldStoreCode)})
		}
	})
	return t, rows, err
}

// ImportStores creates or updates (by code) the stores of a CSV or XLSX
// file, all or nothing; with validate_only, or when the file has
// problems, nothing is stored. Errors: EINVALID with every problem at its
// row and column (an ImportProblems detail).
func (o *orgService) ImportStores(ctx context.Context, req *connect.Request[v1.ImportStoresRequest]) (*connect.Response[v1.ImportStoresResponse], error) {
	file := importName(req.Msg.GetFileName(), "stores.csv")
	t, rows, err := parseStores(file, req.Msg.GetContent())
	if err != nil {
		return nil, err
	}
	res, err := o.s.app.ImportStores(ctx, rows, t.fields(), req.Msg.GetValidateOnly() || len(t.problems) > 0)
	if err := t.finish(err); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.ImportStoresResponse{Created: int32(res.Created), Updated: int32(res.Updated),
		Unchanged: int32(res.Unchanged)}), nil
}

// ImportStaff creates or updates (by employee number) the employees of a
// CSV or XLSX file in the caller's stores, all or nothing; a changed
// store is a transfer from today. With validate_only, or when the file
// has problems, nothing is stored. Errors: EINVALID with every problem at
// its row and column (an ImportProblems detail).
func (o *orgService) ImportStaff(ctx context.Context, req *connect.Request[v1.ImportStaffRequest]) (*connect.Response[v1.ImportStaffResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	file := importName(req.Msg.GetFileName(), "staff.csv")
	t, rows, err := parseStaff(file, req.Msg.GetContent())
	if err != nil {
		return nil, err
	}
	res, err := o.s.app.ImportStaff(ctx, audit.ScopeOf(p), rows, t.fields(), p.UserID,
		req.Msg.GetValidateOnly() || len(t.problems) > 0)
	if err := t.finish(err); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.ImportStaffResponse{Created: int32(res.Created), Updated: int32(res.Updated),
		Unchanged: int32(res.Unchanged), Transferred: int32(res.Transferred)}), nil
}
