package reports

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Employee is a member of staff a bonus run can pay. BasePayMinor is the
// base the policy's shares split (target variable pay or base pay, as the
// policy's Base says), in minor units (kopecks, cents).
type Employee struct {
	StaffID        string `json:"staff_id"`
	EmployeeNumber string `json:"employee_number,omitempty"`
	Name           string `json:"name"`
	Position       string `json:"position,omitempty"`
	Department     string `json:"department,omitempty"`
	StoreID        string `json:"store_id"`
	BasePayMinor   int64  `json:"base_pay_minor"`
}

// Observation is one scored answer of an approved visit, as the bonus
// engine sees it. Points and MaxPoints are after question weights;
// MaxPoints 0 means the question was not applicable and the observation is
// skipped. StaffIDs names the staff the visit's answer is about; when it is
// empty the observation is store-level and counts for every covered
// employee of StoreID.
type Observation struct {
	VisitID        string    `json:"visit_id"`
	StoreID        string    `json:"store_id"`
	StaffIDs       []string  `json:"staff_ids,omitempty"`
	VisitedAt      time.Time `json:"visited_at"`
	QuestionID     string    `json:"question_id"`
	Category       string    `json:"category,omitempty"`
	Clause         string    `json:"clause,omitempty"`
	Points         float64   `json:"points"`
	MaxPoints      float64   `json:"max_points"`
	CriticalFailed bool      `json:"critical_failed,omitempty"`
}

// Period is the half-open interval [From, To) a run covers; observations
// whose VisitedAt falls outside it are counted and ignored.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Month returns the Period of the calendar month containing t, in t's
// location.
func Month(t time.Time) Period {
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
	return Period{From: from, To: from.AddDate(0, 1, 0)}
}

// Key names the calendar month the period starts in, "2006-01": how a
// run's period, an effective month of base pay and a payroll's title
// name it.
func (p Period) Key() string { return p.From.Format("2006-01") }

// Contains reports whether t lies in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

func (p Period) validate() error {
	if p.From.IsZero() || p.To.IsZero() {
		return invalidf("period from %v to %v: both ends are required", p.From, p.To)
	}
	if !p.From.Before(p.To) {
		return invalidf("period from %v to %v: from is not before to", p.From, p.To)
	}
	return nil
}

// Run is the result of running one policy version over one period. It is
// self-contained and reproducible: the same inputs, in any order, give a
// Run whose JSON encoding is byte-identical, InputsHash included. Employees
// are sorted by StaffID.
type Run struct {
	Policy    Policy           `json:"policy"`
	Period    Period           `json:"period"`
	Employees []EmployeeResult `json:"employees"`
	Stats     RunStats         `json:"stats"`

	// InputsHash is the hex SHA-256 of a canonical encoding of the policy,
	// the period, the employees (sorted by StaffID) and the observations (as
	// an order-independent multiset digest). Two runs with the same hash had
	// the same inputs.
	InputsHash string `json:"inputs_hash"`
}

// RunStats counts what happened to the observations of a run.
type RunStats struct {
	// Employees is the number of employees given; Covered those the policy
	// covers, which are the ones in Run.Employees.
	Employees int `json:"employees"`
	Covered   int `json:"covered"`

	Observations  int64 `json:"observations"`   // read from the iterator
	Used          int64 `json:"used"`           // counted for at least one employee
	OutsidePeriod int64 `json:"outside_period"` // visited outside the period
	NotApplicable int64 `json:"not_applicable"` // MaxPoints 0
	Unmatched     int64 `json:"unmatched"`      // no component lists its category or clause
	Unattributed  int64 `json:"unattributed"`   // names no covered employee (or its store has none)
}

// EmployeeResult is one employee's bonus in a run. TotalMinor is exactly
// UnlinkedMinor plus the sum of the components' AmountMinor.
type EmployeeResult struct {
	StaffID        string `json:"staff_id"`
	EmployeeNumber string `json:"employee_number,omitempty"`
	Name           string `json:"name"`
	Position       string `json:"position,omitempty"`
	Department     string `json:"department,omitempty"`
	StoreID        string `json:"store_id"`
	BasePayMinor   int64  `json:"base_pay_minor"`

	UnlinkedMinor int64             `json:"unlinked_minor"`
	Components    []ComponentResult `json:"components"`
	TotalMinor    int64             `json:"total_minor"`
}

// ComponentResult is one component of one employee's bonus.
type ComponentResult struct {
	Name  string  `json:"name"`
	Share float64 `json:"share"`

	// Visits is the number of visits with at least one applicable matching
	// observation for the employee.
	Visits int `json:"visits"`
	// ScorePercent is the combined score (0-100), rounded to six decimals
	// before the rule is applied; nil when there were no visits.
	ScorePercent *float64 `json:"score_percent"`
	// Payout is the fraction (0-1) of the share paid.
	Payout float64 `json:"payout"`
	// AmountMinor is base × share × payout in minor units, computed exactly
	// and rounded half away from zero.
	AmountMinor int64 `json:"amount_minor"`

	// MinSampleDefault is set when fewer visits than the component's
	// MinVisits (or none) were found and DefaultPayout was paid.
	MinSampleDefault bool `json:"min_sample_default"`
	// CriticalForfeit is set when a failed critical question forfeited the
	// component; it takes precedence over MinSampleDefault.
	CriticalForfeit bool `json:"critical_forfeit"`
	// ForfeitedMinor is what the forfeit took: what the component would
	// have paid without it, less what the policy's ForfeitCap paid back
	// (ForfeitRestoredMinor, which AmountMinor includes: a component
	// paid back pays more than base × share × payout).
	ForfeitedMinor       int64 `json:"forfeited_minor,omitempty"`
	ForfeitRestoredMinor int64 `json:"forfeit_restored_minor,omitempty"`

	// Lines explain the figure: a summary, the flags, and one line per visit
	// naming the questions that lost points, up to the policy's
	// ExplanationLimit visits; OmittedVisits counts the visit lines left out.
	Lines         []Line `json:"lines"`
	OmittedVisits int    `json:"omitted_visits,omitempty"`
}

// Line is one line of explanation. A line about a visit names it
// (VisitID, StoreID, VisitedAt) and says what it scored and which
// questions lost points, so that a reader can show the store by code and
// name, the date in its own time zone and the questions by their text;
// Text says the same in words, without ids.
type Line struct {
	VisitID      string         `json:"visit_id,omitempty"`
	StoreID      string         `json:"store_id,omitempty"`
	VisitedAt    *time.Time     `json:"visited_at,omitempty"`
	ScorePercent *float64       `json:"score_percent,omitempty"`
	Lost         []LostQuestion `json:"lost,omitempty"`
	Critical     []string       `json:"critical,omitempty"` // failed critical questions
	// ForfeitCapMinor is set on a component's summary line when the
	// policy's forfeit cap paid some of its forfeit back: the cap, in
	// minor units.
	ForfeitCapMinor *int64 `json:"forfeit_cap_minor,omitempty"`
	Text            string `json:"text"`
}

// LostQuestion is a question that lost points in a visit: Lost of Max
// points, after question weights.
type LostQuestion struct {
	QuestionID string  `json:"question_id"`
	Lost       float64 `json:"lost"`
	Max        float64 `json:"max"`
}

// Limits of the per-visit detail kept for explanations.
const (
	lostQuestionsPerVisit     = 5
	criticalQuestionsPerVisit = 3
	defaultExplanationLimit   = 10
	micro                     = 1_000_000
)

// Compute runs policy p for the period over the employees and the
// observations, which are read once, in any order. Memory grows with the
// covered employees, the components and the visits attributed to them (a
// few numbers per visit), never with the number of observations.
//
// Attribution: an observation counts for each covered employee it names; a
// store-level observation (no StaffIDs) counts for every covered employee of
// its store. A visit's component score is the sum of points over the sum of
// maximum points of its matching observations for that employee; visits
// combine by the component's Combine rule.
//
// Amounts: each component pays base × share × payout, with share and payout
// taken to six decimals and the product computed exactly in integers, then
// rounded half away from zero to a whole minor unit; the unlinked share is
// rounded the same way, and the total is the sum of those rounded amounts,
// so the parts always add up to the total.
//
// Compute returns an error wrapping ErrInvalid for an invalid policy,
// period, employee or observation (naming it and its position), and wraps
// any error the iterator yields.
func Compute(p Policy, period Period, employees []Employee, obs iter.Seq2[Observation, error]) (*Run, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := period.validate(); err != nil {
		return nil, err
	}
	period = Period{From: period.From.UTC(), To: period.To.UTC()}
	p = p.clone()

	emps := slices.Clone(employees)
	slices.SortFunc(emps, func(a, b Employee) int { return strings.Compare(a.StaffID, b.StaffID) })
	for i := range emps {
		e := &emps[i]
		if strings.TrimSpace(e.StaffID) == "" {
			return nil, invalidf("employee %q (number %q): staff id is empty", e.Name, e.EmployeeNumber)
		}
		if i > 0 && emps[i-1].StaffID == e.StaffID {
			return nil, invalidf("employee %q: listed twice", e.StaffID)
		}
		if strings.TrimSpace(e.StoreID) == "" {
			return nil, invalidf("employee %q: store id is empty", e.StaffID)
		}
		if e.BasePayMinor < 0 {
			return nil, invalidf("employee %q: base pay %d is negative", e.StaffID, e.BasePayMinor)
		}
	}

	hasher := newInputsHasher(&p, period, emps)
	defer hasher.stop()
	st := &computeState{
		policy:  &p,
		staff:   map[string]*target{},
		stores:  map[string]*target{},
		covered: map[string]bool{},
	}
	for i := range emps {
		if p.covers(&emps[i]) {
			st.covered[emps[i].StaffID] = true
			if st.stores[emps[i].StoreID] == nil {
				st.stores[emps[i].StoreID] = newTarget(len(p.Components))
			}
			st.staff[emps[i].StaffID] = newTarget(len(p.Components))
		}
	}

	run := &Run{Policy: p, Period: period, Stats: RunStats{Employees: len(emps), Covered: len(st.staff)}}
	var n int64
	for o, err := range obs {
		n++
		if err != nil {
			return nil, fmt.Errorf("reports: reading observation %d: %w", n, err)
		}
		if err := o.validate(); err != nil {
			return nil, fmt.Errorf("observation %d: %w", n, err)
		}
		hasher.addObservation(&o)
		if err := st.add(&o, period, &run.Stats); err != nil {
			return nil, fmt.Errorf("observation %d: %w", n, err)
		}
	}
	run.Stats.Observations = n

	limit := p.ExplanationLimit
	if limit == 0 {
		limit = defaultExplanationLimit
	}
	for i := range emps {
		e := &emps[i]
		if !st.covered[e.StaffID] {
			continue
		}
		res, err := st.result(e, period, limit)
		if err != nil {
			return nil, err
		}
		run.Employees = append(run.Employees, res)
	}
	if run.Employees == nil {
		run.Employees = []EmployeeResult{}
	}
	run.InputsHash = hasher.sum()
	return run, nil
}

func (o *Observation) validate() error {
	if o.plausible() {
		return nil
	}
	where := fmt.Sprintf("visit %q question %q", o.VisitID, o.QuestionID)
	switch {
	case strings.TrimSpace(o.VisitID) == "":
		return invalidf("%s: visit id is empty", where)
	case strings.TrimSpace(o.QuestionID) == "":
		return invalidf("%s: question id is empty", where)
	case strings.TrimSpace(o.StoreID) == "":
		return invalidf("%s: store id is empty", where)
	case o.VisitedAt.IsZero():
		return invalidf("%s: visit time is missing", where)
	case math.IsNaN(o.Points) || math.IsInf(o.Points, 0) || math.IsNaN(o.MaxPoints) || math.IsInf(o.MaxPoints, 0):
		return invalidf("%s: points %v of %v are not finite", where, o.Points, o.MaxPoints)
	case o.MaxPoints < 0 || o.Points < 0:
		return invalidf("%s: points %v of %v, want non-negative", where, o.Points, o.MaxPoints)
	case o.MaxPoints > 0 && toMicro(o.Points) > toMicro(o.MaxPoints):
		return invalidf("%s: points %v exceed the maximum %v", where, o.Points, o.MaxPoints)
	case o.MaxPoints > 1e6:
		return invalidf("%s: maximum points %v is too large", where, o.MaxPoints)
	}
	if slices.Contains(o.StaffIDs, "") {
		return invalidf("%s: staff ids contain an empty value", where)
	}
	return nil
}

// plausible is the fast path of validate: true when every check passes,
// so that the message is only formatted for a bad observation.
func (o *Observation) plausible() bool {
	if o.VisitID == "" || o.QuestionID == "" || o.StoreID == "" || o.VisitedAt.IsZero() ||
		!(o.MaxPoints >= 0 && o.MaxPoints <= 1e6 && o.Points >= 0) || math.IsInf(o.Points, 0) ||
		(o.MaxPoints > 0 && toMicro(o.Points) > toMicro(o.MaxPoints)) {
		return false
	}
	for _, s := range [...]string{o.VisitID, o.QuestionID, o.StoreID} {
		if s[0] <= ' ' || s[len(s)-1] <= ' ' {
			return false // perhaps only spaces: let validate decide
		}
	}
	for _, id := range o.StaffIDs {
		if id == "" {
			return false
		}
	}
	return true
}

// computeState accumulates per-visit sums for each attribution target: a
// covered employee (named observations) or a store with covered employees
// (store-level observations).
type computeState struct {
	policy  *Policy
	staff   map[string]*target
	stores  map[string]*target
	covered map[string]bool
	comps   []int     // scratch: matching component indexes
	targets []*target // scratch: the targets of an observation
}

type target struct {
	visits []map[string]*visitAcc // per component, by visit id
}

func newTarget(components int) *target {
	t := &target{visits: make([]map[string]*visitAcc, components)}
	for i := range t.visits {
		t.visits[i] = map[string]*visitAcc{}
	}
	return t
}

// visitAcc is what is kept of one visit for one target and component:
// sums in millionths of a point (exact and order-independent), and a few
// question ids for the explanation.
type visitAcc struct {
	id        string
	storeID   string
	at        time.Time
	points    int64
	max       int64
	questions int
	critical  []string   // smallest ids of failed critical questions
	lost      []lostItem // questions that lost the most points
}

type lostItem struct {
	question    string
	lost, maxPt int64
}

func toMicro(f float64) int64 { return int64(math.Round(f * micro)) }

func (st *computeState) add(o *Observation, period Period, stats *RunStats) error {
	if !period.Contains(o.VisitedAt) {
		stats.OutsidePeriod++
		return nil
	}
	if o.MaxPoints == 0 {
		stats.NotApplicable++
		return nil
	}
	st.comps = st.comps[:0]
	for i := range st.policy.Components {
		if st.policy.Components[i].Matches(o.Category, o.Clause) {
			st.comps = append(st.comps, i)
		}
	}
	if len(st.comps) == 0 {
		stats.Unmatched++
		return nil
	}
	targets := st.targets[:0]
	switch len(o.StaffIDs) {
	case 0:
		if t := st.stores[o.StoreID]; t != nil {
			targets = append(targets, t)
		}
	case 1:
		if t := st.staff[o.StaffIDs[0]]; t != nil {
			targets = append(targets, t)
		}
	default:
		ids := slices.Clone(o.StaffIDs)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			if t := st.staff[id]; t != nil {
				targets = append(targets, t)
			}
		}
	}
	st.targets = targets
	if len(targets) == 0 {
		stats.Unattributed++
		return nil
	}
	stats.Used++
	pts, max := toMicro(o.Points), toMicro(o.MaxPoints)
	for _, t := range targets {
		for _, ci := range st.comps {
			v := t.visits[ci][o.VisitID]
			if v == nil {
				v = &visitAcc{id: o.VisitID, storeID: o.StoreID, at: o.VisitedAt}
				t.visits[ci][o.VisitID] = v
			} else if err := v.check(o.StoreID, o.VisitedAt); err != nil {
				return err
			}
			v.points += pts
			v.max += max
			v.questions++
			if o.CriticalFailed {
				v.addCritical(o.QuestionID)
			}
			if pts < max {
				v.addLost(lostItem{question: o.QuestionID, lost: max - pts, maxPt: max})
			}
		}
	}
	return nil
}

func (v *visitAcc) check(storeID string, at time.Time) error {
	if v.storeID != storeID {
		return invalidf("visit %q: observations name two stores, %q and %q", v.id, v.storeID, storeID)
	}
	if !v.at.Equal(at) {
		return invalidf("visit %q: observations disagree on the visit time, %v and %v", v.id, v.at, at)
	}
	return nil
}

func (v *visitAcc) addCritical(q string) {
	i, found := slices.BinarySearch(v.critical, q)
	if found {
		return
	}
	v.critical = slices.Insert(v.critical, i, q)
	if len(v.critical) > criticalQuestionsPerVisit {
		// Keep one id beyond the cap so an explanation can say there were more.
		v.critical = v.critical[:criticalQuestionsPerVisit+1]
	}
}

func lostOrder(a, b lostItem) int {
	if c := cmp.Compare(b.lost, a.lost); c != 0 {
		return c
	}
	return strings.Compare(a.question, b.question)
}

func (v *visitAcc) addLost(it lostItem) {
	i, _ := slices.BinarySearchFunc(v.lost, it, lostOrder)
	if i >= lostQuestionsPerVisit {
		return
	}
	v.lost = slices.Insert(v.lost, i, it)
	if len(v.lost) > lostQuestionsPerVisit {
		v.lost = v.lost[:lostQuestionsPerVisit]
	}
}

// merge folds another accumulator of the same visit into v.
func (v *visitAcc) merge(o *visitAcc) error {
	if err := v.check(o.storeID, o.at); err != nil {
		return err
	}
	v.points += o.points
	v.max += o.max
	v.questions += o.questions
	for _, q := range o.critical {
		v.addCritical(q)
	}
	for _, it := range o.lost {
		v.addLost(it)
	}
	return nil
}

func (v *visitAcc) clone() *visitAcc {
	c := *v
	c.critical = slices.Clone(v.critical)
	c.lost = slices.Clone(v.lost)
	return &c
}

func (st *computeState) result(e *Employee, period Period, limit int) (EmployeeResult, error) {
	p := st.policy
	unlinked, _ := sharePPM(p.UnlinkedShare)
	res := EmployeeResult{
		StaffID: e.StaffID, EmployeeNumber: e.EmployeeNumber, Name: e.Name,
		Position: e.Position, Department: e.Department, StoreID: e.StoreID,
		BasePayMinor:  e.BasePayMinor,
		UnlinkedMinor: amountMinor(e.BasePayMinor, unlinked, ppm),
	}
	res.TotalMinor = res.UnlinkedMinor
	for ci := range p.Components {
		var visits []*visitAcc
		byID := map[string]*visitAcc{}
		for _, src := range []*target{st.staff[e.StaffID], st.stores[e.StoreID]} {
			for id, v := range src.visits[ci] {
				if have := byID[id]; have != nil {
					if err := have.merge(v); err != nil {
						return res, err
					}
					continue
				}
				c := v.clone()
				byID[id] = c
				visits = append(visits, c)
			}
		}
		slices.SortFunc(visits, func(a, b *visitAcc) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		res.Components = append(res.Components, judge(&p.Components[ci], e.BasePayMinor, visits, period, limit))
	}
	capForfeits(p.ForfeitCap, e.BasePayMinor, res.Components)
	for ci := range res.Components {
		res.TotalMinor += res.Components[ci].AmountMinor
	}
	return res, nil
}

// capForfeits holds what the forfeited components of one employee take in
// the period to capShare of his base (no cap when 0): what they would take
// beyond it is paid back, component by component in the policy's order,
// and each component paid back says so in its summary line.
func capForfeits(capShare float64, base int64, comps []ComponentResult) {
	if capShare == 0 {
		return
	}
	capPPM, _ := sharePPM(capShare)
	limit := amountMinor(base, capPPM, ppm)
	var taken int64
	for i := range comps {
		taken += comps[i].ForfeitedMinor
	}
	excess := taken - limit
	for i := range comps {
		c := &comps[i]
		if excess <= 0 {
			break
		}
		if c.ForfeitedMinor == 0 {
			continue
		}
		back := min(excess, c.ForfeitedMinor)
		excess -= back
		c.ForfeitRestoredMinor = back
		c.ForfeitedMinor -= back
		c.AmountMinor += back
		c.Lines[0].Text += fmt.Sprintf("; forfeits capped at %s of base pay %s in the period (%s): %s of the forfeit paid back → amount %s",
			formatPercentShare(capShare), FormatMoney(base), FormatMoney(limit), FormatMoney(back), FormatMoney(c.AmountMinor))
		c.Lines[0].ForfeitCapMinor = &limit
	}
}

// formatPercentShare says a fraction as a percentage: 0.2 → "20%".
func formatPercentShare(f float64) string { return formatNumber(math.Round(f*1e6)/1e4) + "%" }

// judge computes one component for one employee from its visits, sorted by
// time then id.
func judge(c *Component, base int64, visits []*visitAcc, period Period, limit int) ComponentResult {
	share, _ := sharePPM(c.Share)
	r := ComponentResult{Name: c.Name, Share: c.Share, Visits: len(visits)}
	weights := make([]float64, len(visits))
	var sum, wsum float64
	var critical []string
	for i, v := range visits {
		w := 1.0
		if c.Combine == CombineRecencyWeighted {
			age := period.To.Sub(v.at).Hours() / 24
			w = math.Exp2(-age / c.HalfLifeDays)
		}
		weights[i] = w
		sum += w * visitScore(v)
		wsum += w
		for _, q := range v.critical[:min(len(v.critical), criticalQuestionsPerVisit)] {
			critical = append(critical, fmt.Sprintf("%s on %s", q, v.at.UTC().Format("2006-01-02 15:04 UTC")))
		}
	}
	// pay is what the component pays without a forfeit: the default
	// payout of too small a sample, else the rule's payout of the score.
	var pay int64
	how := ""
	if len(visits) == 0 || len(visits) < c.MinVisits {
		r.MinSampleDefault = true
		pay = int64(math.Round(c.DefaultPayout * ppm))
		need := max(c.MinVisits, 1)
		how = fmt.Sprintf("%d visit(s), %d required: default payout %s used", len(visits), need, formatFraction(c.DefaultPayout))
	}
	if len(visits) > 0 {
		s := math.Round(sum/wsum*micro) / micro
		r.ScorePercent = &s
		if how == "" {
			pay = c.Rule.payout(s)
			how = c.Rule.describe()
		}
	}
	if len(critical) > 0 && c.ForfeitOnCritical {
		r.CriticalForfeit, r.MinSampleDefault = true, false
		r.ForfeitedMinor = amountMinor(base, share, pay)
		pay = 0
		how = "critical failure (" + strings.Join(critical, ", ") + "): component forfeited"
	}
	r.Payout = float64(pay) / ppm
	r.AmountMinor = amountMinor(base, share, pay)

	combine := "mean"
	if c.Combine == CombineRecencyWeighted {
		combine = fmt.Sprintf("recency-weighted, half-life %s days", formatNumber(c.HalfLifeDays))
	}
	score := "no score"
	if r.ScorePercent != nil {
		score = fmt.Sprintf("score %s%% (%s)", formatNumber(math.Round(*r.ScorePercent*100)/100), combine)
	}
	r.Lines = append(r.Lines, Line{Text: fmt.Sprintf("%s: %d visit(s), %s; %s → payout %s of share %s of %s = %s",
		c.Name, len(visits), score, how, formatFraction(r.Payout), formatFraction(c.Share), FormatMoney(base), FormatMoney(r.AmountMinor))})
	for i, v := range visits {
		if i == limit {
			r.OmittedVisits = len(visits) - limit
			r.Lines = append(r.Lines, Line{Text: fmt.Sprintf("%s: %d more visit(s) not listed", c.Name, r.OmittedVisits)})
			break
		}
		at, score := v.at.UTC(), math.Round(visitScore(v)*100)/100
		l := Line{VisitID: v.id, StoreID: v.storeID, VisitedAt: &at, ScorePercent: &score, Text: describeVisit(c, v, weights[i])}
		for _, it := range v.lost {
			l.Lost = append(l.Lost, LostQuestion{QuestionID: it.question, Lost: float64(it.lost) / micro, Max: float64(it.maxPt) / micro})
		}
		l.Critical = slices.Clone(v.critical[:min(len(v.critical), criticalQuestionsPerVisit)])
		r.Lines = append(r.Lines, l)
	}
	return r
}

func visitScore(v *visitAcc) float64 { return float64(v.points) / float64(v.max) * 100 }

func describeVisit(c *Component, v *visitAcc, w float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: visit on %s: %s of %s points = %s%% over %d question(s)",
		c.Name, v.at.UTC().Format("2006-01-02 15:04 UTC"),
		formatMicro(v.points), formatMicro(v.max), formatNumber(math.Round(visitScore(v)*100)/100), v.questions)
	if c.Combine == CombineRecencyWeighted {
		fmt.Fprintf(&b, ", weight %s", formatNumber(math.Round(w*1000)/1000))
	}
	if len(v.lost) > 0 {
		var qs []string
		for _, it := range v.lost {
			qs = append(qs, fmt.Sprintf("%s (−%s of %s)", it.question, formatMicro(it.lost), formatMicro(it.maxPt)))
		}
		fmt.Fprintf(&b, "; points lost on %s", strings.Join(qs, ", "))
	}
	if len(v.critical) > 0 {
		qs := v.critical[:min(len(v.critical), criticalQuestionsPerVisit)]
		more := ""
		if len(v.critical) > criticalQuestionsPerVisit {
			more = " and more"
		}
		fmt.Fprintf(&b, "; critical failure on %s%s", strings.Join(qs, ", "), more)
	}
	return b.String()
}

// amountMinor returns base × share/1e6 × payout/1e6 rounded half away from
// zero, computed exactly.
func amountMinor(base, sharePPM, payoutPPM int64) int64 {
	num := new(big.Int).Mul(big.NewInt(base), big.NewInt(sharePPM))
	num.Mul(num, big.NewInt(payoutPPM))
	den := big.NewInt(ppm * ppm)
	return roundHalfAway(num, den)
}

// roundHalfAway returns num/den rounded to the nearest integer, halves away
// from zero. den must be positive.
func roundHalfAway(num, den *big.Int) int64 {
	abs := new(big.Int).Abs(num)
	q, m := new(big.Int).QuoRem(abs, den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if num.Sign() < 0 {
		q.Neg(q)
	}
	return q.Int64()
}

// FormatMoney formats minor units as a decimal amount with two decimals and
// thousands separators, as the workbooks' money format (#,##0.00) shows
// it: 8500000 → "85,000.00". Explanations, differences between runs and
// the command line all use it.
func FormatMoney(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	whole, frac := v/100, v%100
	s := fmt.Sprint(whole)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := fmt.Sprintf("%s.%02d", b.String(), frac)
	if neg {
		out = "-" + out
	}
	return out
}

// formatMicro formats millionths of a point without trailing zeros.
func formatMicro(v int64) string { return formatNumber(float64(v) / micro) }

// clone returns a deep copy of the policy with its canonical defaults
// filled in, so a Run never shares slices with its caller.
func (p Policy) clone() Policy {
	c := p
	c.Positions = slices.Clone(p.Positions)
	c.Departments = slices.Clone(p.Departments)
	c.StoreIDs = slices.Clone(p.StoreIDs)
	c.Components = make([]Component, len(p.Components))
	for i, comp := range p.Components {
		comp.Categories = slices.Clone(comp.Categories)
		comp.Clauses = slices.Clone(comp.Clauses)
		comp.Rule.Thresholds = slices.Clone(comp.Rule.Thresholds)
		if comp.Rule.Linear != nil {
			l := *comp.Rule.Linear
			comp.Rule.Linear = &l
		}
		if comp.Combine == "" {
			comp.Combine = CombineMean
		}
		c.Components[i] = comp
	}
	return c
}
