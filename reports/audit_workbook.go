package reports

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// VisitRow is one visit of the audit workbook's period and scope, written
// to the Visits sheet and counted in Summary, By staff and Trend. Points
// and MaxPoints are the visit's scored totals after question weights;
// MaxPoints 0 means nothing was applicable and the visit has no score (it
// counts as a visit but not in means or pass rates).
type VisitRow struct {
	VisitID          string
	StoreID          string
	StoreName        string
	Region           string
	ChecklistID      string
	ChecklistVersion int
	Channel          string // "visit", "phone", "email", "chat"...
	ShopperID        string
	Staff            []StaffRef // the staff the visit names
	VisitedAt        time.Time
	Status           string // the review state, e.g. "approved"
	Points           float64
	MaxPoints        float64
	CriticalFailed   bool // a critical question failed
}

// StaffRef names a member of staff in a VisitRow.
type StaffRef struct {
	ID             string
	Name           string
	EmployeeNumber string
}

// AnswerRow is one answer of a visit, written to the Answers sheets and
// counted in By clause, By question, Categories and (for recommendation
// questions) the NPS of Summary. It repeats the visit's store and time so
// that the writer keeps no per-visit state. MaxPoints 0 means not
// applicable.
type AnswerRow struct {
	VisitID      string
	StoreID      string
	VisitedAt    time.Time
	QuestionID   string
	QuestionText string
	Category     string
	Clause       string // the standard clause's id or code
	ClauseText   string // the clause as written for staff
	StaffIDs     []string
	Value        string // the answer as the shopper gave it, for display
	// Number, when Numeric, is a numeric, scale, NPS or timer answer as a
	// number, in Unit ("min", "s"; "" for none): the Answers sheet writes
	// it as a number with its unit in the number format, not as text.
	Number         float64
	Numeric        bool
	Unit           string
	Points         float64
	MaxPoints      float64
	Critical       bool // the question is critical
	CriticalFailed bool // and it failed
	// NPS is the 0-10 answer of a "would you recommend" question, nil for
	// other questions.
	NPS     *int
	Comment string
}

// EvidenceRow is one photo of a visit, written to the Evidence sheet.
// SHA256 is the hex hash of the exact bytes; Link, when it is an http(s)
// URL of at most 255 characters, becomes a clickable HYPERLINK.
type EvidenceRow struct {
	VisitID     string
	StoreID     string
	QuestionID  string
	PhotoID     string
	SHA256      string
	Link        string
	TakenAt     time.Time // zero when unknown
	SizeBytes   int64
	ContentType string
	Note        string // flags such as "hash reused in visit X"
}

// AppealRow is one appeal against a visit of the period, written to the
// Appeals sheet: the visit, its store and employee, the questions
// appealed (by their text, each with its outcome), when it was filed and
// ruled and by whom, the outcome, and the visit's score before and after
// the ruling (nil: none, or not ruled yet).
type AppealRow struct {
	AppealID    string
	VisitID     string
	StoreCode   string
	StoreName   string
	VisitedAt   time.Time
	Staff       string // "Ivan Petrov (E1)", "" when the visit names nobody
	Questions   []string
	FiledAt     time.Time
	FiledBy     string
	Deadline    time.Time
	RuledAt     time.Time // zero while open
	RuledBy     string
	Outcome     string // "open", "upheld 1 of 2", "rejected"
	ScoreBefore *float64
	ScoreAfter  *float64
}

// ActionRow is one corrective action opened by a visit of the period,
// written to the Actions sheet: its store, question (by text) and
// standard, severity and state, owner, when it opened and is due (a day
// in the organisation's time zone), whether it is overdue, the visit that
// opened it and the one that last verified or reopened it, the owner's
// note.
type ActionRow struct {
	ActionID          string
	StoreCode         string
	StoreName         string
	QuestionID        string
	QuestionText      string
	Standard          string
	Severity          string
	State             string
	Owner             string
	OpenedAt          time.Time
	DueDate           string // YYYY-MM-DD
	Overdue           bool
	VisitID           string
	ResolvedByVisitID string
	Note              string
}

// AuditOptions configure an AuditWorkbook. The zero value works.
type AuditOptions struct {
	// Scope and Period describe the report ("Store 12", "Region North",
	// "All stores"); they appear in the Summary sheet and the document
	// properties. Period also fixes the month whose change against the
	// previous month Summary shows (the month containing Period.To's last
	// instant); when it is zero, the latest month with a visit is used.
	Scope  string
	Period Period
	// Location is the time zone of times and months; nil means UTC.
	Location *time.Location
	// PassScore is the score (fraction 0-1) a visit without a critical
	// failure needs to pass; 0 means DefaultPassScore.
	PassScore float64
	// MaxRowsPerSheet is the row limit of a sheet, header included, past
	// which rows continue on "<name> (2)" and so on; 0 means MaxSheetRows.
	MaxRowsPerSheet int
	// MaxChartStores caps the stores drawn in the charts (the data sheets
	// list all of them); 0 means 20.
	MaxChartStores int
	// Progress, when set, is called with the rows added so far every
	// ProgressEvery rows (0 means 10,000) and once from Close, when done
	// equals total. Total is the expected number of rows, or 0 if unknown.
	Progress      func(done, total int64)
	ProgressEvery int64
	Total         int64
}

// ErrClosed is returned by the methods of an AuditWorkbook after Close.
var ErrClosed = errors.New("reports: audit workbook is closed")

// AuditWorkbook streams the rows of an audit report into an Excel workbook
// and writes it on Close. Visits, answers and evidence go straight to their
// sheets; the aggregates (Summary, By staff, By clause, By question, Trend,
// Categories and the Charts) are computed while rows stream, in memory
// bounded by stores × months, staff, questions and stores × categories,
// never by the number of visits or answers.
//
// The sheets, in order: Summary (per store: visits, mean score, pass rate,
// critical failures, NPS, change against the previous month), By staff, By
// clause (compliance, worst first), By question, Trend (mean score by month
// per store), Categories (compliance per store and category), Charts (a
// line chart of the trend and a bar chart of categories per store), Visits,
// Evidence, Appeals (every appeal against a visit of the period: its
// questions, filing, ruling, outcome and the score before and after),
// Actions (the corrective actions the period's visits opened),
// Answers (continued on "Answers (2)"... past the row limit).
//
// An AuditWorkbook is not safe for concurrent use.
type AuditWorkbook struct {
	w    io.Writer
	opts AuditOptions
	f    *excelize.File
	st   *styles
	err  error // the first failure; Close reports it

	visits, evidence, appeals, actions, answers *sheetWriter

	done     int64
	nextTick int64

	stores    map[string]*storeAgg
	staff     map[string]*groupAgg
	clauses   map[string]*answerAgg
	questions map[string]*answerAgg
	months    map[monthKey]*meanAgg // store "" is all stores
	storeCats map[[2]string]*ratioAgg
}

type storeAgg struct {
	name, region string
	groupAgg
	promoters, detractors, npsAnswers int64
}

// groupAgg accumulates the visit statistics of a store or a member of
// staff: the figures the dashboards sum too (VisitFigures; the workbook
// flags no visit), and where they came from.
type groupAgg struct {
	name   string
	number string // a member of staff's employee number
	stores map[string]bool
	VisitFigures
}

type answerAgg struct {
	text, category, clause string
	answers, na            int64
	points, max            float64
	criticalFailed         int64
}

type monthKey struct {
	store string
	month int // year*12 + month-1
}

type meanAgg struct {
	sum float64
	n   int64
}

type ratioAgg struct{ points, max float64 }

// Sheet names of the audit workbook.
const (
	sheetSummary    = "Summary"
	sheetByStaff    = "By staff"
	sheetByClause   = "By clause"
	sheetByQuestion = "By question"
	sheetTrend      = "Trend"
	sheetCategories = "Categories"
	sheetCharts     = "Charts"
	sheetVisits     = "Visits"
	sheetEvidence   = "Evidence"
	sheetAppeals    = "Appeals"
	sheetActions    = "Actions"
	sheetAnswers    = "Answers"
)

// NewAuditWorkbook starts an audit workbook that Close writes to w. It
// returns an error wrapping ErrInvalid for options out of range.
func NewAuditWorkbook(w io.Writer, opts AuditOptions) (*AuditWorkbook, error) {
	if w == nil {
		return nil, invalidf("audit workbook: writer is nil")
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	switch {
	case opts.PassScore == 0:
		opts.PassScore = DefaultPassScore
	case !(opts.PassScore > 0 && opts.PassScore <= 1):
		return nil, invalidf("audit workbook: pass score %v, want above 0 and at most 1", opts.PassScore)
	}
	switch {
	case opts.MaxRowsPerSheet == 0:
		opts.MaxRowsPerSheet = MaxSheetRows
	case opts.MaxRowsPerSheet < 2 || opts.MaxRowsPerSheet > MaxSheetRows:
		return nil, invalidf("audit workbook: max rows per sheet %d, want 2 to %d", opts.MaxRowsPerSheet, MaxSheetRows)
	}
	switch {
	case opts.MaxChartStores == 0:
		opts.MaxChartStores = 20
	case opts.MaxChartStores < 0:
		return nil, invalidf("audit workbook: max chart stores %d is negative", opts.MaxChartStores)
	}
	switch {
	case opts.ProgressEvery == 0:
		opts.ProgressEvery = 10_000
	case opts.ProgressEvery < 0:
		return nil, invalidf("audit workbook: progress interval %d is negative", opts.ProgressEvery)
	}
	if opts.Total < 0 {
		return nil, invalidf("audit workbook: total %d is negative", opts.Total)
	}
	if !opts.Period.From.IsZero() || !opts.Period.To.IsZero() {
		if err := opts.Period.validate(); err != nil {
			return nil, err
		}
	}

	b := &AuditWorkbook{
		w: w, opts: opts, f: excelize.NewFile(),
		nextTick:  opts.ProgressEvery,
		stores:    map[string]*storeAgg{},
		staff:     map[string]*groupAgg{},
		clauses:   map[string]*answerAgg{},
		questions: map[string]*answerAgg{},
		months:    map[monthKey]*meanAgg{},
		storeCats: map[[2]string]*ratioAgg{},
	}
	if err := b.start(); err != nil {
		_ = release(b.f, b.st)
		return nil, err
	}
	return b, nil
}

func (b *AuditWorkbook) start() error {
	if err := b.f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return fmt.Errorf("reports: naming the summary sheet: %w", err)
	}
	for _, name := range []string{sheetByStaff, sheetByClause, sheetByQuestion, sheetTrend, sheetCategories, sheetCharts} {
		if _, err := b.f.NewSheet(name); err != nil {
			return fmt.Errorf("reports: creating sheet %q: %w", name, err)
		}
	}
	var err error
	if b.st, err = newStyles(b.f); err != nil {
		return err
	}
	max := b.opts.MaxRowsPerSheet
	if b.visits, err = newSheetWriter(b.f, b.st, sheetVisits, []column{
		{"Visit", 24}, {"Store", 12}, {"Store name", 24}, {"Region", 14}, {"Visited at", 17},
		{"Checklist", 16}, {"Version", 8}, {"Channel", 10}, {"Shopper", 14}, {"Staff", 28},
		{"Status", 12}, {"Points", 9}, {"Max points", 9}, {"Score", 9}, {"Critical failure", 9}, {"Passed", 8},
	}, max); err != nil {
		return err
	}
	if b.evidence, err = newSheetWriter(b.f, b.st, sheetEvidence, []column{
		{"Visit", 24}, {"Store", 12}, {"Question", 16}, {"Photo", 24}, {"SHA-256", 66},
		{"Link", 50}, {"Taken at", 17}, {"Size (bytes)", 12}, {"Type", 12}, {"Note", 30},
	}, max); err != nil {
		return err
	}
	if b.appeals, err = newSheetWriter(b.f, b.st, sheetAppeals, []column{
		{"Visit", 24}, {"Store", 12}, {"Store name", 24}, {"Visited at", 17}, {"Staff", 24}, {"Questions", 70},
		{"Filed", 17}, {"Filed by", 22}, {"Window closes", 17}, {"Ruled", 17}, {"Ruled by", 22}, {"Outcome", 16},
		{"Score before", 10}, {"Score after", 10}, {"Appeal", 38},
	}, max); err != nil {
		return err
	}
	if b.actions, err = newSheetWriter(b.f, b.st, sheetActions, []column{
		{"Store", 12}, {"Store name", 24}, {"Question", 16}, {"Question text", 40}, {"Standard", 10}, {"Severity", 10},
		{"State", 12}, {"Owner", 22}, {"Opened", 17}, {"Due", 11}, {"Overdue", 8}, {"Visit", 24}, {"Resolved by visit", 24},
		{"Note", 40}, {"Action", 38},
	}, max); err != nil {
		return err
	}
	b.answers, err = newSheetWriter(b.f, b.st, sheetAnswers, []column{
		{"Visit", 24}, {"Store", 12}, {"Visited at", 17}, {"Question", 16}, {"Question text", 40},
		{"Category", 16}, {"Clause", 14}, {"Answer", 18}, {"Points", 9}, {"Max points", 9},
		{"Score", 9}, {"Not applicable", 9}, {"Critical", 8}, {"Critical failed", 9}, {"Staff", 20}, {"Comment", 40},
	}, max)
	return err
}

// AddVisit writes a visit row and counts it. It returns an error wrapping
// ErrInvalid for a row with a missing id, store or time or with points out
// of range, ErrClosed after Close, and any earlier failure again.
func (b *AuditWorkbook) AddVisit(v VisitRow) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := v.validate(); err != nil {
		return err
	}
	at := v.VisitedAt.In(b.opts.Location)
	score, scored := 0.0, v.MaxPoints > 0
	if scored {
		score = v.Points / v.MaxPoints
	}
	passed := scored && !v.CriticalFailed && score >= b.opts.PassScore-1e-9

	s := b.stores[v.StoreID]
	if s == nil {
		s = &storeAgg{}
		b.stores[v.StoreID] = s
	}
	s.name = cmp.Or(v.StoreName, s.name)
	s.region = cmp.Or(v.Region, s.region)
	s.add(v.StoreID, scored, score, passed, v.CriticalFailed)
	for _, ref := range v.Staff {
		g := b.staff[ref.ID]
		if g == nil {
			g = &groupAgg{}
			b.staff[ref.ID] = g
		}
		g.name = cmp.Or(ref.Name, g.name)
		g.number = cmp.Or(ref.EmployeeNumber, g.number)
		g.add(v.StoreID, scored, score, passed, v.CriticalFailed)
	}
	b.addMonth(v.StoreID, at, scored, score)

	var staff []string
	for _, ref := range v.Staff {
		staff = append(staff, ref.Label())
	}
	var scoreCell any
	if scored {
		scoreCell = cell(b.st.percent, score)
	}
	return b.row(b.visits, v.VisitID, v.StoreID, v.StoreName, v.Region, cell(b.st.datetime, at),
		v.ChecklistID, cell(b.st.integer, v.ChecklistVersion), v.Channel, v.ShopperID, strings.Join(staff, ", "),
		v.Status, cell(b.st.decimal, v.Points), cell(b.st.decimal, v.MaxPoints), scoreCell,
		yesNo(v.CriticalFailed), yesNo(passed))
}

// AddPriorVisit counts a visit from before the reported period in the
// month-by-month aggregates only (Trend, the chart, and Summary's change
// against the previous month); it is not listed or counted anywhere else.
// Its errors are AddVisit's.
func (b *AuditWorkbook) AddPriorVisit(v VisitRow) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := v.validate(); err != nil {
		return err
	}
	if v.MaxPoints > 0 {
		b.addMonth(v.StoreID, v.VisitedAt.In(b.opts.Location), true, v.Points/v.MaxPoints)
	}
	return nil
}

// Label names a member of staff for people: "Sergei Morozov (E2001)".
func (r StaffRef) Label() string {
	name := cmp.Or(r.Name, r.ID)
	if r.EmployeeNumber != "" {
		return name + " (" + r.EmployeeNumber + ")"
	}
	return name
}

func (v *VisitRow) validate() error {
	// where names the row in an error; it is built only for one.
	where := func() string { return fmt.Sprintf("visit row %q", v.VisitID) }
	switch {
	case strings.TrimSpace(v.VisitID) == "":
		return invalidf("%s: visit id is empty", where())
	case strings.TrimSpace(v.StoreID) == "":
		return invalidf("%s: store id is empty", where())
	case v.VisitedAt.IsZero():
		return invalidf("%s: visit time is missing", where())
	}
	if err := checkPoints(v.Points, v.MaxPoints); err != nil {
		return invalidf("%s: %v", where(), err)
	}
	for _, s := range v.Staff {
		if strings.TrimSpace(s.ID) == "" {
			return invalidf("%s: a named staff member has no id", where())
		}
	}
	return nil
}

func checkPoints(points, max float64) error {
	switch {
	case math.IsNaN(points) || math.IsInf(points, 0) || math.IsNaN(max) || math.IsInf(max, 0):
		return fmt.Errorf("points %v of %v are not finite", points, max)
	case points < 0 || max < 0:
		return fmt.Errorf("points %v of %v, want non-negative", points, max)
	case max > 0 && points > max*(1+1e-9):
		return fmt.Errorf("points %v exceed the maximum %v", points, max)
	}
	return nil
}

func (g *groupAgg) add(store string, scored bool, score float64, passed, critical bool) {
	if g.stores == nil {
		g.stores = map[string]bool{}
	}
	g.stores[store] = true
	g.Visits++
	if scored {
		g.Scored++
		g.ScoreSum += score
	}
	if passed {
		g.Passed++
	}
	if critical {
		g.Critical++
	}
}

func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

func monthStart(m int, loc *time.Location) time.Time {
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, loc)
}

func (b *AuditWorkbook) addMonth(store string, at time.Time, scored bool, score float64) {
	if !scored {
		return
	}
	m := monthIndex(at)
	for _, k := range []monthKey{{store, m}, {"", m}} {
		a := b.months[k]
		if a == nil {
			a = &meanAgg{}
			b.months[k] = a
		}
		a.sum += score
		a.n++
	}
}

// AddAnswer writes an answer row and counts it. It returns an error
// wrapping ErrInvalid for a row with a missing visit, store, question or
// time, points out of range or an NPS answer outside 0-10, ErrClosed after
// Close, and any earlier failure again.
func (b *AuditWorkbook) AddAnswer(a AnswerRow) error {
	if err := b.usable(); err != nil {
		return err
	}
	if err := a.validate(); err != nil {
		return err
	}
	na := a.MaxPoints == 0
	count := func(m map[string]*answerAgg, key, text string) {
		g := m[key]
		if g == nil {
			g = &answerAgg{}
			m[key] = g
		}
		g.text = cmp.Or(g.text, text)
		g.category = cmp.Or(g.category, a.Category)
		g.clause = cmp.Or(g.clause, a.Clause)
		if na {
			g.na++
			return
		}
		g.answers++
		g.points += a.Points
		g.max += a.MaxPoints
		if a.CriticalFailed {
			g.criticalFailed++
		}
	}
	count(b.questions, a.QuestionID, a.QuestionText)
	if a.Clause != "" {
		count(b.clauses, a.Clause, a.ClauseText)
	}
	if !na && a.Category != "" {
		k := [2]string{a.StoreID, a.Category}
		r := b.storeCats[k]
		if r == nil {
			r = &ratioAgg{}
			b.storeCats[k] = r
		}
		r.points += a.Points
		r.max += a.MaxPoints
	}
	if a.NPS != nil {
		s := b.stores[a.StoreID]
		if s == nil {
			s = &storeAgg{}
			b.stores[a.StoreID] = s
		}
		s.npsAnswers++
		switch {
		case *a.NPS >= 9:
			s.promoters++
		case *a.NPS <= 6:
			s.detractors++
		}
	}

	var score, npsCell any
	if !na {
		score = cell(b.st.percent, a.Points/a.MaxPoints)
	}
	if a.NPS != nil {
		npsCell = cell(b.st.integer, *a.NPS)
	}
	value := any(a.Value)
	switch {
	case a.Numeric && !math.IsNaN(a.Number) && !math.IsInf(a.Number, 0):
		style, err := b.st.unit(a.Unit)
		if err != nil {
			b.err = err
			return err
		}
		value = cell(style, a.Number)
	case a.Value == "":
		value = npsCell
	}
	return b.row(b.answers, a.VisitID, a.StoreID, cell(b.st.datetime, a.VisitedAt.In(b.opts.Location)),
		a.QuestionID, a.QuestionText, a.Category, a.Clause, value,
		cell(b.st.decimal, a.Points), cell(b.st.decimal, a.MaxPoints), score, yesNo(na),
		yesNo(a.Critical), yesNo(a.CriticalFailed), strings.Join(a.StaffIDs, ", "), a.Comment)
}

func (a *AnswerRow) validate() error {
	// where names the row in an error; it is built only for one.
	where := func() string { return fmt.Sprintf("answer row (visit %q, question %q)", a.VisitID, a.QuestionID) }
	switch {
	case strings.TrimSpace(a.VisitID) == "":
		return invalidf("%s: visit id is empty", where())
	case strings.TrimSpace(a.QuestionID) == "":
		return invalidf("%s: question id is empty", where())
	case strings.TrimSpace(a.StoreID) == "":
		return invalidf("%s: store id is empty", where())
	case a.VisitedAt.IsZero():
		return invalidf("%s: visit time is missing", where())
	case a.NPS != nil && (*a.NPS < 0 || *a.NPS > 10):
		return invalidf("%s: recommendation answer %d, want 0 to 10", where(), *a.NPS)
	}
	if err := checkPoints(a.Points, a.MaxPoints); err != nil {
		return invalidf("%s: %v", where(), err)
	}
	return nil
}

// AddEvidence writes a photo row. It returns an error wrapping ErrInvalid
// for a row without a visit id or with a hash that is not 64 hex digits,
// ErrClosed after Close, and any earlier failure again.
func (b *AuditWorkbook) AddEvidence(e EvidenceRow) error {
	if err := b.usable(); err != nil {
		return err
	}
	where := fmt.Sprintf("evidence row (visit %q, photo %q)", e.VisitID, e.PhotoID)
	if strings.TrimSpace(e.VisitID) == "" {
		return invalidf("%s: visit id is empty", where)
	}
	if !isHexHash(e.SHA256) {
		return invalidf("%s: sha-256 %q is not 64 hex digits", where, e.SHA256)
	}
	if e.SizeBytes < 0 {
		return invalidf("%s: size %d is negative", where, e.SizeBytes)
	}
	var link any = e.Link
	if linkable(e.Link) {
		link = excelize.Cell{Formula: fmt.Sprintf(`HYPERLINK("%s","%s")`, e.Link, e.Link), Value: e.Link}
	}
	var taken any
	if !e.TakenAt.IsZero() {
		taken = cell(b.st.datetime, e.TakenAt.In(b.opts.Location))
	}
	return b.row(b.evidence, e.VisitID, e.StoreID, e.QuestionID, e.PhotoID, strings.ToLower(e.SHA256),
		link, taken, cell(b.st.integer, e.SizeBytes), e.ContentType, e.Note)
}

// AddAppeal writes an appeal row. It returns an error wrapping ErrInvalid
// for a row without a visit id or filing time, ErrClosed after Close,
// and any earlier failure again.
func (b *AuditWorkbook) AddAppeal(a AppealRow) error {
	if err := b.usable(); err != nil {
		return err
	}
	if strings.TrimSpace(a.VisitID) == "" || a.FiledAt.IsZero() {
		return invalidf("appeal row %q: visit id or filing time is missing", a.AppealID)
	}
	when := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return cell(b.st.datetime, t.In(b.opts.Location))
	}
	score := func(p *float64) any {
		if p == nil {
			return nil
		}
		return cell(b.st.percent, *p/100)
	}
	return b.row(b.appeals, a.VisitID, a.StoreCode, a.StoreName, when(a.VisitedAt), a.Staff, strings.Join(a.Questions, "; "),
		when(a.FiledAt), a.FiledBy, when(a.Deadline), when(a.RuledAt), a.RuledBy, a.Outcome, score(a.ScoreBefore), score(a.ScoreAfter), a.AppealID)
}

// AddAction writes a corrective action row. It returns an error wrapping
// ErrInvalid for a row without an id or opening time, ErrClosed after
// Close, and any earlier failure again.
func (b *AuditWorkbook) AddAction(a ActionRow) error {
	if err := b.usable(); err != nil {
		return err
	}
	if strings.TrimSpace(a.ActionID) == "" || a.OpenedAt.IsZero() {
		return invalidf("action row %q: id or opening time is missing", a.ActionID)
	}
	overdue := "no"
	if a.Overdue {
		overdue = "yes"
	}
	return b.row(b.actions, a.StoreCode, a.StoreName, a.QuestionID, a.QuestionText, a.Standard, a.Severity, a.State, a.Owner,
		cell(b.st.datetime, a.OpenedAt.In(b.opts.Location)), a.DueDate, overdue, a.VisitID, a.ResolvedByVisitID, a.Note, a.ActionID)
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// linkable reports whether a link can be a HYPERLINK formula: an http(s)
// URL within Excel's 255-character limit for the function's arguments.
func linkable(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) &&
		len(s) <= 255 && !strings.ContainsAny(s, "\"\r\n")
}

func (b *AuditWorkbook) usable() error {
	switch {
	case b.f == nil:
		return ErrClosed
	case b.err != nil:
		return b.err
	}
	return nil
}

// row writes a row to a sheet and reports progress.
func (b *AuditWorkbook) row(s *sheetWriter, values ...any) error {
	if err := s.write(values...); err != nil {
		b.err = err
		return err
	}
	b.done++
	if b.opts.Progress != nil && b.done >= b.nextTick {
		b.nextTick = b.done + b.opts.ProgressEvery
		b.opts.Progress(b.done, b.opts.Total)
	}
	return nil
}

// Close computes the aggregate sheets and the charts, writes the workbook
// to the writer and releases the temporary files. If an earlier call
// failed, Close writes nothing and returns that failure. Calling Close
// again returns ErrClosed.
func (b *AuditWorkbook) Close() error {
	if b.f == nil {
		return ErrClosed
	}
	f := b.f
	b.f = nil
	if b.err != nil {
		_ = release(f, b.st)
		return b.err
	}
	if err := b.finish(f); err != nil {
		_ = release(f, b.st)
		return err
	}
	if err := writeFile(f, b.st, b.w); err != nil {
		return err
	}
	if b.opts.Progress != nil {
		b.opts.Progress(b.done, b.done)
	}
	return nil
}

func (b *AuditWorkbook) finish(f *excelize.File) error {
	order := []string{sheetSummary, sheetByStaff, sheetByClause, sheetByQuestion, sheetTrend, sheetCategories, sheetCharts}
	for _, s := range []*sheetWriter{b.visits, b.evidence, b.appeals, b.actions, b.answers} {
		order = append(order, s.names()...)
	}
	if err := orderSheets(f, order); err != nil {
		return err
	}
	title := "Audit report"
	if b.opts.Scope != "" {
		title += ": " + b.opts.Scope
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: title, Subject: b.periodText(), Creator: "shopscore"}); err != nil {
		return fmt.Errorf("reports: audit workbook properties: %w", err)
	}
	storeIDs := slices.Sorted(maps.Keys(b.stores))
	months := b.monthRange()
	sheets := []*sheetWriter{}
	for _, write := range []func(*excelize.File, []string, []int) (*sheetWriter, error){
		b.writeSummary, b.writeByStaff, b.writeByClause, b.writeByQuestion, b.writeTrend, b.writeCategories,
	} {
		s, err := write(f, storeIDs, months)
		if err != nil {
			return err
		}
		sheets = append(sheets, s)
	}
	if err := b.writeCharts(f, storeIDs, months); err != nil {
		return err
	}
	// orderSheets made the first sheet active; setting it again after the
	// flushes would make excelize parse every flushed sheet back.
	for _, s := range append(sheets, b.visits, b.evidence, b.appeals, b.actions, b.answers) {
		if err := s.finish(); err != nil {
			return err
		}
	}
	return nil
}

func (b *AuditWorkbook) periodText() string {
	p := b.opts.Period
	if p.From.IsZero() {
		return "all visits given"
	}
	return fmt.Sprintf("%s to %s", p.From.In(b.opts.Location).Format("2006-01-02"),
		p.To.Add(-time.Nanosecond).In(b.opts.Location).Format("2006-01-02"))
}

// monthRange returns every month from the first to the last with a scored
// visit, gaps included.
func (b *AuditWorkbook) monthRange() []int {
	lo, hi := math.MaxInt, math.MinInt
	for k := range b.months {
		lo, hi = min(lo, k.month), max(hi, k.month)
	}
	var out []int
	for m := lo; m <= hi; m++ {
		out = append(out, m)
	}
	return out
}

// reportMonth is the month Summary compares with the one before it.
func (b *AuditWorkbook) reportMonth(months []int) int {
	if !b.opts.Period.To.IsZero() {
		return monthIndex(b.opts.Period.To.Add(-time.Nanosecond).In(b.opts.Location))
	}
	if len(months) == 0 {
		return -1
	}
	return months[len(months)-1]
}

func (b *AuditWorkbook) monthMean(store string, m int) (float64, bool) {
	a := b.months[monthKey{store, m}]
	if a == nil || a.n == 0 {
		return 0, false
	}
	return a.sum / float64(a.n), true
}

// sheet starts an aggregate sheet. Aggregates are bounded by stores, staff
// and questions, so they use Excel's own row limit, not MaxRowsPerSheet.
func (b *AuditWorkbook) sheet(f *excelize.File, name string, cols []column) (*sheetWriter, error) {
	return newSheetWriter(f, b.st, name, cols, MaxSheetRows)
}

func (b *AuditWorkbook) groupCells(g *groupAgg) []any {
	var mean, rate any
	if m, ok := g.Mean(); ok {
		mean = cell(b.st.percent, m)
	}
	if r, ok := g.PassRate(); ok {
		rate = cell(b.st.percent, r)
	}
	return []any{cell(b.st.integer, g.Visits), mean, rate, cell(b.st.integer, g.Critical)}
}

func (b *AuditWorkbook) writeSummary(f *excelize.File, storeIDs []string, months []int) (*sheetWriter, error) {
	rm := b.reportMonth(months)
	monthLabel := "report month"
	if rm >= 0 {
		monthLabel = monthStart(rm, b.opts.Location).Format("2006-01")
	}
	s, err := b.sheet(f, sheetSummary, []column{
		{"Store", 12}, {"Store name", 26}, {"Region", 14}, {"Visits", 9}, {"Mean score", 10},
		{"Pass rate", 10}, {"Critical failures", 10}, {"NPS", 8}, {"NPS answers", 9},
		{"Score " + monthLabel, 11}, {"Change vs previous month", 13},
	})
	if err != nil {
		return nil, err
	}
	// writeRow writes one store's row; month is the store id of the monthly
	// aggregates, "" for all stores.
	writeRow := func(id, name, region, month string, a *storeAgg) error {
		var nps any
		if a.npsAnswers > 0 {
			nps = cell(b.st.points, float64(a.promoters-a.detractors)/float64(a.npsAnswers)*100)
		}
		var cur, delta any
		if c, ok := b.monthMean(month, rm); ok {
			cur = cell(b.st.percent, c)
			if p, ok := b.monthMean(month, rm-1); ok {
				delta = cell(b.st.delta, (c-p)*100)
			}
		}
		row := append([]any{id, name, region}, b.groupCells(&a.groupAgg)...)
		return s.write(append(row, nps, cell(b.st.integer, a.npsAnswers), cur, delta)...)
	}
	total := &storeAgg{}
	for _, id := range storeIDs {
		a := b.stores[id]
		total.merge(a)
		if err := writeRow(id, a.name, a.region, id, a); err != nil {
			return nil, err
		}
	}
	// The total stays under the table, outside the filter, so sorting the
	// stores never moves it.
	s.endTable()
	if len(storeIDs) > 0 {
		if err := writeRow("", "All stores", "", "", total); err != nil {
			return nil, err
		}
	}
	if err := s.write(); err != nil {
		return nil, err
	}
	for _, kv := range [][2]string{{"Scope", cmp.Or(b.opts.Scope, "as given")}, {"Period", b.periodText()},
		{"Pass", fmt.Sprintf("score at least %s and no critical failure", formatFraction(b.opts.PassScore))},
		{"NPS", "promoters (9-10) minus detractors (0-6), in points"}} {
		if err := s.write(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (a *storeAgg) merge(o *storeAgg) {
	a.VisitFigures.Add(o.VisitFigures)
	a.promoters += o.promoters
	a.detractors += o.detractors
	a.npsAnswers += o.npsAnswers
}

func (b *AuditWorkbook) writeByStaff(f *excelize.File, _ []string, _ []int) (*sheetWriter, error) {
	s, err := b.sheet(f, sheetByStaff, []column{
		{"Employee number", 12}, {"Name", 26}, {"Stores", 16}, {"Visits", 9}, {"Mean score", 10},
		{"Pass rate", 10}, {"Critical failures", 10},
	})
	if err != nil {
		return nil, err
	}
	ids := slices.Collect(maps.Keys(b.staff))
	slices.SortFunc(ids, func(x, y string) int {
		return cmp.Or(strings.Compare(b.staff[x].name, b.staff[y].name), strings.Compare(x, y))
	})
	for _, id := range ids {
		g := b.staff[id]
		stores := slices.Sorted(maps.Keys(g.stores))
		row := append([]any{g.number, cmp.Or(g.name, id), strings.Join(stores, ", ")}, b.groupCells(g)...)
		if err := s.write(row...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func ratio(points, max float64) float64 {
	if max == 0 {
		return math.NaN()
	}
	return points / max
}

func (b *AuditWorkbook) answerCells(g *answerAgg) []any {
	var compliance any
	if g.max > 0 {
		compliance = cell(b.st.percent, g.points/g.max)
	}
	return []any{cell(b.st.integer, g.answers), cell(b.st.integer, g.na), cell(b.st.decimal, g.points),
		cell(b.st.decimal, g.max), compliance, cell(b.st.integer, g.criticalFailed)}
}

// sortedWorstFirst orders keys by compliance ascending (unscored last),
// then by key.
func sortedWorstFirst(m map[string]*answerAgg) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(x, y string) int {
		a, b := m[x], m[y]
		ra, rb := ratio(a.points, a.max), ratio(b.points, b.max)
		switch {
		case math.IsNaN(ra) && !math.IsNaN(rb):
			return 1
		case !math.IsNaN(ra) && math.IsNaN(rb):
			return -1
		}
		return cmp.Or(cmpFloat(ra, rb), strings.Compare(x, y))
	})
	return keys
}

func (b *AuditWorkbook) writeByClause(f *excelize.File, _ []string, _ []int) (*sheetWriter, error) {
	s, err := b.sheet(f, sheetByClause, []column{
		{"Clause", 14}, {"Clause text", 50}, {"Category", 16}, {"Answers", 9}, {"Not applicable", 9},
		{"Points", 10}, {"Max points", 10}, {"Compliance", 11}, {"Critical failures", 10},
	})
	if err != nil {
		return nil, err
	}
	for _, k := range sortedWorstFirst(b.clauses) {
		g := b.clauses[k]
		if err := s.write(append([]any{k, g.text, g.category}, b.answerCells(g)...)...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (b *AuditWorkbook) writeByQuestion(f *excelize.File, _ []string, _ []int) (*sheetWriter, error) {
	s, err := b.sheet(f, sheetByQuestion, []column{
		{"Question", 16}, {"Question text", 50}, {"Category", 16}, {"Clause", 14}, {"Answers", 9},
		{"Not applicable", 9}, {"Points", 10}, {"Max points", 10}, {"Compliance", 11}, {"Critical failures", 10},
	})
	if err != nil {
		return nil, err
	}
	keys := slices.Collect(maps.Keys(b.questions))
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(strings.Compare(b.questions[x].category, b.questions[y].category), strings.Compare(x, y))
	})
	for _, k := range keys {
		g := b.questions[k]
		if err := s.write(append([]any{k, g.text, g.category, g.clause}, b.answerCells(g)...)...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// writeTrend writes a row per month: the mean score of all stores, then of
// each store.
func (b *AuditWorkbook) writeTrend(f *excelize.File, storeIDs []string, months []int) (*sheetWriter, error) {
	cols := []column{{"Month", 10}, {"All stores", 11}}
	for _, id := range storeIDs {
		cols = append(cols, column{b.storeLabel(id), 12})
	}
	s, err := b.sheet(f, sheetTrend, cols)
	if err != nil {
		return nil, err
	}
	for _, m := range months {
		row := []any{cell(b.st.month, monthStart(m, b.opts.Location))}
		for _, id := range append([]string{""}, storeIDs...) {
			var v any
			if mean, ok := b.monthMean(id, m); ok {
				v = cell(b.st.percent, mean)
			}
			row = append(row, v)
		}
		if err := s.write(row...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (b *AuditWorkbook) storeLabel(id string) string {
	if s := b.stores[id]; s != nil && s.name != "" {
		return s.name
	}
	return id
}

// categories returns the categories with answers, sorted.
func (b *AuditWorkbook) categories() []string {
	set := map[string]bool{}
	for k := range b.storeCats {
		set[k[1]] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// writeCategories writes a row per store: its compliance in each category.
func (b *AuditWorkbook) writeCategories(f *excelize.File, storeIDs []string, _ []int) (*sheetWriter, error) {
	cats := b.categories()
	cols := []column{{"Store", 12}, {"Store name", 24}}
	for _, c := range cats {
		cols = append(cols, column{c, 13})
	}
	s, err := b.sheet(f, sheetCategories, cols)
	if err != nil {
		return nil, err
	}
	for _, id := range storeIDs {
		row := []any{id, b.storeLabel(id)}
		for _, c := range cats {
			var v any
			if r := b.storeCats[[2]string{id, c}]; r != nil && r.max > 0 {
				v = cell(b.st.percent, r.points/r.max)
			}
			row = append(row, v)
		}
		if err := s.write(row...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// writeCharts draws, on the Charts sheet, a line chart of the Trend sheet
// (all stores and the first MaxChartStores stores) and a clustered bar
// chart of the Categories sheet (the first MaxChartStores stores).
func (b *AuditWorkbook) writeCharts(f *excelize.File, storeIDs []string, months []int) error {
	if err := f.SetCellValue(sheetCharts, "A1", "Charts read the Trend and Categories sheets; those list every store."); err != nil {
		return fmt.Errorf("reports: charts sheet: %w", err)
	}
	shown := min(len(storeIDs), b.opts.MaxChartStores)
	ref := func(sheet string, col, row1, row2 int) string {
		c, _ := excelize.ColumnNumberToName(col)
		return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", sheet, c, row1, c, row2)
	}
	nameRef := func(sheet string, col int) string {
		c, _ := excelize.ColumnNumberToName(col)
		return fmt.Sprintf("'%s'!$%s$1", sheet, c)
	}
	if len(months) > 0 {
		var series []excelize.ChartSeries
		for col := 2; col <= 2+shown; col++ {
			series = append(series, excelize.ChartSeries{
				Name:       nameRef(sheetTrend, col),
				Categories: ref(sheetTrend, 1, 2, len(months)+1),
				Values:     ref(sheetTrend, col, 2, len(months)+1),
				Marker:     excelize.ChartMarker{Symbol: "circle", Size: 5},
			})
		}
		if err := f.AddChart(sheetCharts, "A3", &excelize.Chart{
			Type:      excelize.Line,
			Series:    series,
			Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Mean score by month"}}},
			Dimension: chartPage,
			Legend:    excelize.ChartLegend{Position: "right"},
			YAxis:     percentAxis(),
			XAxis:     excelize.ChartAxis{NumFmt: excelize.ChartNumFmt{CustomNumFmt: "yyyy-mm"}},
		}); err != nil {
			return fmt.Errorf("reports: trend chart: %w", err)
		}
	}
	cats := b.categories()
	if shown > 0 && len(cats) > 0 {
		var series []excelize.ChartSeries
		for i := range cats {
			series = append(series, excelize.ChartSeries{
				Name:       nameRef(sheetCategories, 3+i),
				Categories: ref(sheetCategories, 2, 2, shown+1),
				Values:     ref(sheetCategories, 3+i, 2, shown+1),
			})
		}
		if err := f.AddChart(sheetCharts, fmt.Sprintf("A%d", chartSecondRow), &excelize.Chart{
			Type:      excelize.Col,
			Series:    series,
			Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Compliance by category per store"}}},
			Dimension: chartPage,
			Legend:    excelize.ChartLegend{Position: "right"},
			YAxis:     percentAxis(),
		}); err != nil {
			return fmt.Errorf("reports: category chart: %w", err)
		}
	}
	// Each chart prints on a page of its own.
	if err := f.InsertPageBreak(sheetCharts, fmt.Sprintf("A%d", chartSecondRow-1)); err != nil {
		return fmt.Errorf("reports: charts page break: %w", err)
	}
	return printSetup(f, b.st, sheetCharts, false)
}

// chartPage is the size of a chart that fills a printed A4 landscape page
// within its margins (about 26 by 17 cm at 96 dpi), less the heading;
// chartSecondRow is where the second chart starts, on the next page
// (rows are 20 px).
var chartPage = excelize.ChartDimension{Width: 960, Height: 560}

const chartSecondRow = 3 + 560/20 + 2

// percentAxis is a value axis from 0% to 100% with major grid lines.
func percentAxis() excelize.ChartAxis {
	lo, hi := 0.0, 1.0
	return excelize.ChartAxis{
		MajorGridLines: true, Minimum: &lo, Maximum: &hi,
		NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"},
	}
}
