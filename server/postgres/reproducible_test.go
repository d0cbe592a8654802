package postgres

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

// The same inputs give the same bonus run, explanation lines, payroll
// files and audit workbook on SQLite and on PostgreSQL, byte for byte.

// seeder writes rows with the same statement on either backend: ?
// placeholders, times as time.Time (milliseconds on SQLite).
type seeder interface {
	exec(t *testing.T, q string, a ...any)
}

type sqliteSeeder struct{ tx *sqlite.Tx }

func (s sqliteSeeder) exec(t *testing.T, q string, a ...any) {
	t.Helper()
	for i, v := range a {
		if tm, ok := v.(time.Time); ok {
			a[i] = tm.UnixMilli()
		}
	}
	if _, err := s.tx.ExecContext(context.Background(), q, a...); err != nil {
		t.Fatalf("SQLite: %s: %v", q, err)
	}
}

type pgSeeder struct{ tx *Tx }

func (s pgSeeder) exec(t *testing.T, q string, a ...any) {
	t.Helper()
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	for i, v := range a {
		if bs, ok := v.([]byte); ok {
			a[i] = string(bs) // json columns take the text as written
		}
	}
	if _, err := s.tx.Exec(context.Background(), b.String(), a...); err != nil {
		t.Fatalf("PostgreSQL: %s: %v", q, err)
	}
}

// reportChecklist is the checklist the visits were recorded with: every
// kind of answer the report rows render.
func reportChecklist() *audit.Checklist {
	return &audit.Checklist{
		ID: "c", Name: "Store visit", Channel: audit.ChannelStoreVisit,
		Sections: []audit.Section{{ID: "s1", Title: "Service", Questions: []audit.Question{
			{ID: "greet", Type: audit.QuestionYesNo, Text: "Greeted at once?", StandardCode: "POL-1", Required: true},
			{ID: "smile", Type: audit.QuestionScale, Text: "How friendly?", StandardCode: "POL-2", ScaleMax: 5, AllowNA: true},
			{ID: "wait", Type: audit.QuestionNumeric, Text: "Minutes waited", StandardCode: "SPD-1", Unit: "min",
				Target: &audit.Target{Op: audit.AtMost, Value: 5}},
			{ID: "clean", Type: audit.QuestionYesNo, Text: "Floor clean?", StandardCode: "CLN-1", Critical: true},
			{ID: "nps", Type: audit.QuestionNPS, Text: "Would you recommend us?"},
			{ID: "remark", Type: audit.QuestionText, Text: "Anything else?"},
		}}},
		Standards: []audit.Standard{
			{Code: "POL-1", Clause: "Greet every customer", Category: audit.CategoryPoliteness},
			{Code: "POL-2", Clause: "Be friendly", Category: audit.CategoryPoliteness},
			{Code: "SPD-1", Clause: "Serve within five minutes", Category: audit.CategorySpeed},
			{Code: "CLN-1", Clause: "Keep the floor clean", Category: audit.CategoryCleanliness},
		},
	}
}

// seededVisits is how many visits seedReports stores.
const seededVisits = 42

// seedReports writes the organisation, the checklist and visits of three
// months, with fixed ids, to a backend. Ids differ in case and share
// start times, so that the order of rows (time, then id in byte order)
// is tested, not just the order of insertion.
func seedReports(t *testing.T, s seeder, at time.Time) *audit.ChecklistVersion {
	t.Helper()
	s.exec(t, `INSERT INTO users (id, email, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		"u-shop", "Shopper@example.com", "", "shopper", "x", at)
	s.exec(t, `INSERT INTO users (id, email, display_name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		"hr", "hr@example.com", "Анна HR", "hr", "x", at)
	for _, st := range [][]string{{"st-1", "S01", "Первый", "North"}, {"st-2", "S02", "Second", "South"}} {
		s.exec(t, `INSERT INTO stores (id, code, name, region, created_at) VALUES (?, ?, ?, ?, ?)`, st[0], st[1], st[2], st[3], at)
	}
	for _, e := range [][]string{{"stf-1", "E1", "Ivan", "st-1"}, {"stf-2", "E2", "Мария", "st-1"}, {"stf-3", "E3", "Olga", "st-2"}, {"stf-4", "E4", "Petr", ""}} {
		var store any
		if e[3] != "" {
			store = e[3]
		}
		s.exec(t, `INSERT INTO staff (id, employee_number, name, position, store_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			e[0], e[1], e[2], "cashier", store, at)
	}
	c := reportChecklist()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	content, err := c.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := c.ContentHash()
	if err != nil {
		t.Fatal(err)
	}
	cv := &audit.ChecklistVersion{ChecklistID: "c", Version: 1, State: audit.VersionPublished, Content: *c, ContentHash: hash, PublishedAt: at}
	s.exec(t, `INSERT INTO checklists (id, created_at) VALUES (?, ?)`, "c", at)
	s.exec(t, `INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, content_hash, question_count, created_at, published_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, "c", 1, c.Name, string(c.Channel), "published", content, hash, 6, at, at)

	for i := range seededVisits {
		// Two visits at each instant: "V-41" and "v-40", ..., whose order
		// in bytes (SQLite's) is not their order in a language's collation.
		seedVisit(t, s, cv, i, fmt.Sprintf("%c-%02d", "Vv"[i%2], 41-i), at)
	}
	return cv
}

// seedVisit writes the i-th visit of seedReports, recorded with cv and
// received at at, under the id given, without report rows.
func seedVisit(t *testing.T, s seeder, cv *audit.ChecklistVersion, i int, id string, at time.Time) {
	t.Helper()
	yes, no := true, false
	num := func(f float64) *float64 { return &f }
	staffOf := []string{"stf-1", "stf-2", "", "stf-3", "stf-4", "stf-1"}
	statesOf := []audit.VisitState{audit.VisitApproved, audit.VisitPublished, audit.VisitApproved, audit.VisitInReview,
		audit.VisitApproved, audit.VisitSuperseded, audit.VisitReturned}
	// Two visits at each instant, in February, March and April; their ids
	// differ in case first.
	pair := i / 2
	start := time.Date(2026, time.Month(2+pair%3), 1+pair/3, 10, 0, 0, 0, time.UTC)
	store := "st-1"
	if i%4 == 3 {
		store = "st-2"
	}
	v := &audit.Visit{ID: id, StoreID: store, ShopperID: "u-shop", ChecklistID: "c", ChecklistVersion: 1, ContentHash: cv.ContentHash,
		Channel: audit.ChannelStoreVisit, StartedAt: start, FinishedAt: start.Add(20 * time.Minute), StaffID: staffOf[i%len(staffOf)]}
	v.Answers = []audit.Answer{
		{QuestionID: "greet", Bool: []*bool{&yes, &no}[i%2]},
		{QuestionID: "wait", Number: num(float64(i%9) + 0.5)},
		{QuestionID: "clean", Bool: []*bool{&yes, &yes, &yes, &no}[i%4]},
		{QuestionID: "nps", Number: num(float64(i % 11))},
		{QuestionID: "remark", Text: fmt.Sprintf("визит %d", i), Note: "ok"},
	}
	if i%5 == 0 {
		v.Answers = append(v.Answers, audit.Answer{QuestionID: "smile", NA: true})
	} else {
		v.Answers = append(v.Answers, audit.Answer{QuestionID: "smile", Number: num(float64(1 + i%5))})
	}
	score, err := audit.Score(cv, v.Answers)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	scoreJSON, err := json.Marshal(score)
	if err != nil {
		t.Fatal(err)
	}
	s.exec(t, `INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest, state,
		score_percent, score, started_at, finished_at, received_at, device_id, session_id, mutation_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, "u-shop", store, "c", 1, cv.ContentHash, string(v.Channel), body, "digest-"+id, string(statesOf[i%len(statesOf)]),
		score.Overall.Percent, scoreJSON, start, v.FinishedAt, at, "dev", "sess", "m-"+id)
	if i%3 == 0 {
		// A photo, the same bytes in every other such visit.
		s.exec(t, `INSERT INTO visit_photos (visit_id, question_id, idx, sha256, size, content_type, captured_at, verified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, "remark", 0, fmt.Sprintf("%064x", i%2), 1000+i, "image/jpeg", start, at)
		s.exec(t, `INSERT INTO visit_photos (visit_id, question_id, idx, sha256, size, content_type, captured_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, "greet", 1, fmt.Sprintf("%064x", 100+i), 2000+i, "image/png", start)
	}
}

// reportOutputs is what one backend makes of the seeded inputs.
type reportOutputs map[string][]byte

// computeReports stores the policy and base pay through the use cases,
// runs the bonus of March and writes its payroll files and three audit
// workbooks. The payroll files name the run by its id, which is random:
// when runID is set, the computed run is stored again under that id (the
// other backend's run's), and the files are written of that copy.
func computeReports(t *testing.T, st storage.Storage, now func() time.Time, runID string) (reportOutputs, string) {
	t.Helper()
	ctx := context.Background()
	a := app.New(st, app.Options{Now: now})
	// The visits were stored without report rows: reports index them
	// first, once.
	for _, want := range []int{seededVisits, 0} {
		if n, err := st.AuditReports().Index(ctx); err != nil || n != want {
			t.Fatalf("Index: %d visits indexed, %v; want %d", n, err, want)
		}
	}
	p := reports.Policy{
		ID: "cashiers", Name: "Кассиры", Positions: []string{"cashier"}, Base: reports.BasePay, UnlinkedShare: 0.8,
		Components: []reports.Component{
			{Name: "politeness", Share: 0.1, Categories: []string{"politeness"},
				Rule: reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 90, Payout: 1}, {MinPercent: 50, Payout: 0.5}}}, MinVisits: 1, DefaultPayout: 0.25},
			{Name: "speed", Share: 0.1, Categories: []string{"speed"},
				Rule: reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 60, Payout: 1}}}, MinVisits: 2, DefaultPayout: 0},
		},
	}
	if _, _, err := a.CreatePolicy(ctx, p, "hr"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetBasePay(ctx, []storage.BasePayRow{
		{EmployeeNumber: "E1", EffectiveMonth: "2026-01", AmountMinor: 100_000_00},
		{EmployeeNumber: "E2", EffectiveMonth: "2026-03", AmountMinor: 90_000_00},
		{EmployeeNumber: "E3", EffectiveMonth: "2026-04", AmountMinor: 80_000_00},
		{EmployeeNumber: "E4", EffectiveMonth: "2025-12", AmountMinor: 70_000_00},
	}, "api", "hr"); err != nil {
		t.Fatal(err)
	}
	out := reportOutputs{}
	run, err := a.RunBonus(ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	out["run result"] = run.Result
	out["inputs stamp"] = []byte(run.InputsStamp)
	out["inputs hash"] = []byte(run.InputsHash)
	out["missing base pay"] = []byte(strings.Join(run.MissingBasePay, ","))
	lines := 0
	for _, e := range run.Run.Employees {
		for _, c := range e.Components {
			lines += len(c.Lines)
		}
	}
	if lines == 0 {
		t.Fatalf("the run has no explanation lines: %s", run.Result)
	}
	if runID != "" {
		copied := *run
		copied.ID = runID
		if err := st.BonusRuns().Add(ctx, &copied); err != nil {
			t.Fatal(err)
		}
		run = &copied
	}
	for name, f := range map[string]app.PayrollFormat{"payroll workbook": app.PayrollWorkbook, "payroll CSV": app.PayrollExportCSV,
		"payroll XLSX": app.PayrollExportXLSX} {
		var buf bytes.Buffer
		if err := a.WritePayroll(ctx, run.ID, f, "ru", time.UTC, &buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = buf.Bytes()
	}
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]app.AuditQuery{
		"audit workbook, every store": {Scope: audit.Scope{All: true}, From: "2026-03", Location: time.UTC},
		"audit workbook, S01":         {Scope: audit.Scope{All: true}, From: "2026-02", To: "2026-04", StoreCode: "S01", Location: moscow},
		"audit workbook, South":       {Scope: audit.Scope{All: true}, From: "2026-03", To: "2026-04", Region: "South", Location: time.UTC},
	} {
		var buf bytes.Buffer
		if err := a.WriteAuditWorkbook(ctx, q, &buf, app.AuditWorkbookOptions{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = buf.Bytes()
	}
	return out, run.ID
}

func TestReportsAreTheSameOnBothBackends(t *testing.T) {
	// Not parallel: a few rows per FETCH, so that every stream crosses
	// batches (and visits span two).
	defer func(n int) { cursorRows = n }(cursorRows)
	cursorRows = 7
	at := time.Date(2026, 5, 2, 9, 30, 0, 123_000_000, time.UTC)
	now := func() time.Time { return at }

	lite := sqlite.NewDB(filepath.Join(t.TempDir(), "shopscore.db"))
	lite.Now = now
	if err := lite.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lite.Close() })
	ltx, err := lite.BeginTx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seedReports(t, sqliteSeeder{ltx}, at)
	if err := ltx.Commit(); err != nil {
		t.Fatal(err)
	}

	// A database whose default collation is a language's (ICU, en-US),
	// as an installation's may be: the rows must still come in SQLite's
	// byte order.
	pg, err := Open(context.Background(), icuDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	pg.Now = now
	if err := pg.update(context.Background(), func(tx *Tx) error {
		seedReports(t, pgSeeder{tx}, at)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	got, runID := computeReports(t, pg, now, "")
	want, _ := computeReports(t, lite, now, runID)
	for name, w := range want {
		g := got[name]
		if strings.HasPrefix(name, "audit workbook") {
			// The audit workbook's parts come in excelize's map order,
			// whatever the backend: compare them by name.
			w, g = zipParts(t, w), zipParts(t, g)
		}
		if !bytes.Equal(g, w) {
			i := 0
			for i < min(len(w), len(g)) && w[i] == g[i] {
				i++
			}
			from := max(0, i-200)
			t.Errorf("%s differs from byte %d: PostgreSQL made %d bytes, SQLite %d\nSQLite:     …%s\nPostgreSQL: …%s",
				name, i, len(g), len(w), w[from:min(len(w), i+200)], g[from:min(len(g), i+200)])
		}
	}
}

var contentTypeItem = regexp.MustCompile(`<(Default|Override) [^>]*></(Default|Override)>`)

// zipParts returns the parts of a workbook sorted by name, each with its
// content, the items of [Content_Types].xml sorted too: what the
// workbook holds, whatever order excelize zipped it in.
func zipParts(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "[Content_Types].xml" {
			items := contentTypeItem.FindAllString(string(content), -1)
			slices.Sort(items)
			content = []byte(contentTypeItem.ReplaceAllString(string(content), "") + strings.Join(items, ""))
		}
		parts[f.Name] = content
		names = append(names, f.Name)
	}
	slices.Sort(names)
	var out bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&out, "== %s\n%s\n", n, parts[n])
	}
	return out.Bytes()
}

// icuDatabase returns the URL of a fresh database of the test's own
// (pgtest.URL) made anew with ICU's en-US as its default collation.
func icuDatabase(t *testing.T) string {
	t.Helper()
	u := pgtest.URL(t)
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{`DROP DATABASE ` + name,
		`CREATE DATABASE ` + name + ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return u
}
