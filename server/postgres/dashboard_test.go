package postgres

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/audit/demopack"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

// The dashboards on PostgreSQL give SQLite's figures for the same rows:
// one set of indexed visits (report_visits, visit_answers), generated
// once, is written into both backends, and every kind of query, drill
// and page is asked of both.

// dashVisit is one indexed visit as both backends store it.
type dashVisit struct {
	id, store, staff, checklist, channel string // store by code, staff by employee number
	version                              int
	state                                audit.VisitState
	at                                   time.Time
	points, max                          float64
	critical, flagged, proofFlagged      bool
	answers                              []dashAnswer
}

type dashAnswer struct {
	question, section, standard, category string
	points, max                           float64
	na, failed, critical, criticalFailure bool
	nps                                   *int
}

// dashBackend is one backend with the organisation the visits name.
type dashBackend struct {
	name    string
	st      storage.Storage
	shopper string
	manager audit.Scope
	stores  map[string]string // id by code
	staff   map[string]string // id by employee number
	insert  func(t *testing.T, v dashVisit)
}

// dashStores are the stores: code, region, managed by the manager.
var dashStores = []struct {
	code, region string
	managed      bool
}{{"MSK-01", "Moscow", true}, {"MSK-02", "Moscow", true}, {"SPB-01", "North-West", false}, {"KZN-01", "Volga", true}}

// setUpDashBackend makes the same organisation on st: users, stores,
// staff, the demo pack published.
func setUpDashBackend(t *testing.T, name string, st storage.Storage) *dashBackend {
	t.Helper()
	ctx := context.Background()
	a := app.New(st, app.Options{})
	b := &dashBackend{name: name, st: st, stores: map[string]string{}, staff: map[string]string{}}
	shopper := &audit.User{Email: "shopper@example.com", Role: audit.RoleShopper}
	require.NoError(t, a.CreateUser(ctx, shopper, "not-a-hash"))
	manager := &audit.User{Email: "manager@example.com", Role: audit.RoleManager}
	require.NoError(t, a.CreateUser(ctx, manager, "not-a-hash"))
	b.shopper, b.manager = shopper.ID, audit.Scope{ManagerID: manager.ID}
	for i, s := range dashStores {
		store := &audit.Store{Code: s.code, Name: "Store " + s.code, Region: s.region}
		if s.managed {
			store.ManagerIDs = []string{manager.ID}
		}
		require.NoError(t, a.CreateStore(ctx, store))
		b.stores[s.code] = store.ID
		for e := range 2 {
			m := &audit.Staff{EmployeeNumber: fmt.Sprintf("E%d%d", i, e), Name: fmt.Sprintf("Employee %d-%d", i, e), StoreID: store.ID}
			require.NoError(t, a.CreateStaff(ctx, audit.Scope{All: true}, m))
			b.staff[m.EmployeeNumber] = m.ID
		}
	}
	_, err := a.ImportPack(ctx, "demo-pack.json", demopack.JSON, true, false, "test")
	require.NoError(t, err)
	return b
}

// dashVisits generates n visits of the pack's versions over four months
// around the period asked, many near the edges of months in Moscow and
// in UTC, in every review state, with answers after each question.
func dashVisits(versions []*audit.ChecklistVersion, n int) []dashVisit {
	rng := rand.New(rand.NewPCG(12, 2026))
	states := []audit.VisitState{audit.VisitSubmitted, audit.VisitComplete, audit.VisitInReview, audit.VisitApproved,
		audit.VisitApproved, audit.VisitReturned, audit.VisitPublished, audit.VisitSuperseded}
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var out []dashVisit
	for i := range n {
		cv := versions[rng.IntN(len(versions))]
		id := fmt.Sprintf("visit-%04d", i)
		if i%3 == 0 { // pages order ids bytewise, upper case first
			id = fmt.Sprintf("Visit-%04d", i)
		}
		v := dashVisit{id: id, checklist: cv.ChecklistID, version: cv.Version, channel: string(cv.Content.Channel),
			state: states[rng.IntN(len(states))], flagged: rng.IntN(4) == 0, proofFlagged: rng.IntN(6) == 0}
		store := rng.IntN(len(dashStores))
		v.store = dashStores[store].code
		if rng.IntN(5) != 0 {
			v.staff = fmt.Sprintf("E%d%d", store, rng.IntN(2))
		}
		month := start.AddDate(0, rng.IntN(4), 0)
		switch rng.IntN(3) {
		case 0: // the last hours of a month in UTC: the next month in Moscow
			v.at = month.AddDate(0, 1, 0).Add(-time.Duration(rng.IntN(4*3600*1000)) * time.Millisecond)
		case 1: // the first hours of a month in UTC
			v.at = month.Add(time.Duration(rng.IntN(4*3600*1000)) * time.Millisecond)
		default:
			v.at = month.Add(time.Duration(rng.Int64N(int64(27*24*time.Hour)/1e6)) * time.Millisecond)
		}
		if i%17 == 0 && i > 0 { // the same instant as the visit before: pages break the tie by id
			v.at = out[i-1].at
		}
		categories := map[string]string{}
		for _, s := range cv.Content.Standards {
			categories[s.Code] = string(s.Category)
		}
		for _, s := range cv.Content.Sections {
			for _, q := range s.Questions {
				a := dashAnswer{question: q.ID, section: s.ID, standard: q.StandardCode, category: categories[q.StandardCode], critical: q.Critical}
				switch {
				case q.Type == audit.QuestionNPS:
					n := rng.IntN(11)
					a.nps = &n
				case !q.Scored():
				case q.AllowNA && rng.IntN(5) == 0:
					a.na = true
				default:
					a.max = float64(1 + rng.IntN(3))
					a.points = a.max
					if rng.IntN(4) == 0 {
						a.points, a.failed = float64(rng.IntN(int(a.max))), true
					}
					a.criticalFailure = a.critical && a.failed
				}
				v.points += a.points
				v.max += a.max
				v.critical = v.critical || a.criticalFailure
				v.answers = append(v.answers, a)
			}
		}
		if i%23 == 0 { // nothing applicable: not scored
			for j := range v.answers {
				v.answers[j].points, v.answers[j].max = 0, 0
			}
			v.points, v.max = 0, 0
		}
		out = append(out, v)
	}
	return out
}

func flagsJSON(set bool) string {
	if set {
		return `["outside_window"]`
	}
	return `[]`
}

func openDashBackends(t *testing.T) []*dashBackend {
	t.Helper()
	ctx := context.Background()
	lite := sqlite.NewDB(filepath.Join(t.TempDir(), "shopscore.db"))
	require.NoError(t, lite.Open())
	t.Cleanup(func() { lite.Close() })
	sb := setUpDashBackend(t, "sqlite", lite)
	sb.insert = func(t *testing.T, v dashVisit) {
		tx, err := lite.BeginTx(ctx)
		require.NoError(t, err)
		defer tx.Rollback()
		at := v.at.UnixMilli()
		_, err = tx.ExecContext(ctx, `INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body,
			digest, state, score, flags, proof_flags, started_at, received_at, device_id, session_id, mutation_id)
			VALUES (?, ?, ?, ?, ?, '', ?, '{}', '', ?, '{}', ?, ?, ?, ?, 'd', 's', ?)`,
			v.id, sb.shopper, sb.stores[v.store], v.checklist, v.version, v.channel, string(v.state), flagsJSON(v.flagged), flagsJSON(v.proofFlagged),
			at, at, v.id)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.id, sb.stores[v.store], sb.staff[v.staff], at, v.points, v.max, v.critical, len(v.answers))
		require.NoError(t, err)
		for i, a := range v.answers {
			_, err = tx.ExecContext(ctx, `INSERT INTO visit_answers (visit_id, ord, question_id, section_id, standard_code, category, points,
				max_points, not_applicable, failed, critical, critical_failure, nps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				v.id, i, a.question, a.section, a.standard, a.category, a.points, a.max, a.na, a.failed, a.critical, a.criticalFailure, a.nps)
			require.NoError(t, err)
		}
		require.NoError(t, tx.Commit())
	}

	pg := openInLanguageOrder(t)
	pb := setUpDashBackend(t, "postgres", pg)
	pb.insert = func(t *testing.T, v dashVisit) {
		tx, err := pg.pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx)
		_, err = tx.Exec(ctx, `INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body,
			digest, state, score, flags, proof_flags, started_at, received_at, device_id, session_id, mutation_id)
			VALUES ($1, $2, $3, $4, $5, '', $6, '{}', '', $7, '{}', $8, $9, $10, $10, 'd', 's', $1)`,
			v.id, pb.shopper, pb.stores[v.store], v.checklist, v.version, v.channel, string(v.state), flagsJSON(v.flagged), flagsJSON(v.proofFlagged), v.at)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `INSERT INTO report_visits (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, v.id, pb.stores[v.store], pb.staff[v.staff], v.at, v.points, v.max, v.critical, len(v.answers))
		require.NoError(t, err)
		for i, a := range v.answers {
			_, err = tx.Exec(ctx, `INSERT INTO visit_answers (visit_id, ord, question_id, section_id, standard_code, category, points,
				max_points, not_applicable, failed, critical, critical_failure, nps) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				v.id, i, a.question, a.section, a.standard, a.category, a.points, a.max, a.na, a.failed, a.critical, a.criticalFailure, a.nps)
			require.NoError(t, err)
		}
		require.NoError(t, tx.Commit(ctx))
	}

	versions, err := lite.Checklists().List(ctx, audit.VersionFilter{PublishedOnly: true})
	require.NoError(t, err)
	require.NotEmpty(t, versions)
	for _, v := range dashVisits(versions, 400) {
		sb.insert(t, v)
		pb.insert(t, v)
	}
	return []*dashBackend{sb, pb}
}

// dashFigures is a storage.Dashboard in names both backends share: store
// codes for store ids, sums rounded far below what a report shows (the
// backends add the same numbers in different orders).
type dashFigures struct {
	Months          []int
	MonthStarts     []time.Time
	ByStoreMonth    map[string]reports.VisitFigures
	Stores          map[string]storage.DashboardStore
	StoreCategories map[string]reports.AnswerFigures
	Categories      map[string]reports.AnswerFigures
	Clauses         map[string]storage.DashboardClause
	NPS             [3]int64
	Critical        []storage.DashboardCritical
}

func round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func roundAnswers(f reports.AnswerFigures) reports.AnswerFigures {
	f.Points, f.MaxPoints = round(f.Points), round(f.MaxPoints)
	return f
}

func (b *dashBackend) figures(t *testing.T, q storage.DashboardQuery) (*dashFigures, error) {
	t.Helper()
	var d *storage.Dashboard
	// Inside a transaction, as the visits are indexed already (a query on
	// its own would index first).
	err := b.st.View(context.Background(), func(tx storage.Tx) error {
		var err error
		d, err = tx.Dashboards().Figures(context.Background(), q, storage.DashVisits|storage.DashAnswers|storage.DashNPS|storage.DashCritical)
		return err
	})
	if err != nil {
		return nil, err
	}
	code := map[string]string{}
	for c, id := range b.stores {
		code[id] = c
	}
	out := &dashFigures{Months: d.Months, MonthStarts: d.MonthStarts, ByStoreMonth: map[string]reports.VisitFigures{},
		Stores: map[string]storage.DashboardStore{}, StoreCategories: map[string]reports.AnswerFigures{}, Categories: map[string]reports.AnswerFigures{},
		Clauses: map[string]storage.DashboardClause{}, NPS: [3]int64{d.Promoters, d.Passives, d.Detractors}, Critical: d.CriticalQuestions}
	for i := range out.MonthStarts {
		out.MonthStarts[i] = out.MonthStarts[i].UTC()
	}
	for k, f := range d.ByStoreMonth {
		f.ScoreSum = round(f.ScoreSum)
		out.ByStoreMonth[code[k.Store]+"/"+strconv.Itoa(k.Month)] = f
	}
	for id, s := range d.Stores {
		out.Stores[code[id]] = s
	}
	for k, f := range d.StoreCategories {
		out.StoreCategories[code[k[0]]+"/"+k[1]] = roundAnswers(f)
	}
	for k, f := range d.Categories {
		out.Categories[k] = roundAnswers(f)
	}
	for k, c := range d.Clauses {
		c.AnswerFigures = roundAnswers(c.AnswerFigures)
		out.Clauses[k] = c
	}
	return out, nil
}

func (b *dashBackend) visits(t *testing.T, q storage.DashboardQuery, limit int) ([]storage.DashboardVisit, []string, error) {
	t.Helper()
	var all []storage.DashboardVisit
	var tokens []string
	token := ""
	for range 1000 {
		var page []storage.DashboardVisit
		err := b.st.View(context.Background(), func(tx storage.Tx) error {
			var err error
			page, token, err = tx.Dashboards().Visits(context.Background(), q, limit, token)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		for _, v := range page {
			v.VisitedAt = v.VisitedAt.UTC()
			v.Points, v.MaxPoints, v.DrillPoints, v.DrillMax = round(v.Points), round(v.MaxPoints), round(v.DrillPoints), round(v.DrillMax)
			all = append(all, v)
		}
		tokens = append(tokens, token)
		if token == "" {
			return all, tokens, nil
		}
	}
	t.Fatal("the pages never end")
	return nil, nil, nil
}

func TestDashboardsGiveSQLitesFigures(t *testing.T) {
	t.Parallel()
	backends := openDashBackends(t)
	moscow, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	period := func(q storage.DashboardQuery) storage.DashboardQuery {
		q.From, q.To, q.Location = "2024-06", "2024-07", moscow
		return q
	}
	queries := map[string]storage.DashboardQuery{
		"Period":          period(storage.DashboardQuery{}),
		"Approved":        period(storage.DashboardQuery{Approved: true}),
		"UTC":             {From: "2024-06", To: "2024-08"},
		"OneMonth":        {From: "2024-07", Location: moscow},
		"MonthDrill":      period(storage.DashboardQuery{Month: "2024-07"}),
		"Region":          period(storage.DashboardQuery{Region: "Moscow"}),
		"Store":           period(storage.DashboardQuery{StoreCode: "SPB-01"}),
		"Checklist":       period(storage.DashboardQuery{ChecklistID: "store-visit"}),
		"Channel":         period(storage.DashboardQuery{Channel: string(audit.ChannelStoreVisit)}),
		"Category":        period(storage.DashboardQuery{Category: "politeness"}),
		"Clause":          period(storage.DashboardQuery{Clause: "PRC-3"}),
		"Question":        period(storage.DashboardQuery{QuestionID: "greet_polite"}),
		"Critical":        period(storage.DashboardQuery{CriticalOnly: true}),
		"CriticalOne":     period(storage.DashboardQuery{CriticalOnly: true, QuestionID: "tags_match_till"}),
		"Flagged":         period(storage.DashboardQuery{FlaggedOnly: true}),
		"Passed":          period(storage.DashboardQuery{Pass: storage.PassPassed}),
		"Failed":          period(storage.DashboardQuery{Pass: storage.PassFailed, Approved: true}),
		"Manager":         period(storage.DashboardQuery{}),
		"ManagerStore":    period(storage.DashboardQuery{StoreCode: "MSK-02"}),
		"ManagerCategory": period(storage.DashboardQuery{Category: "speed", Month: "2024-06"}),
	}
	for g := storage.NPSPromoters; g <= storage.NPSAny; g++ {
		queries[fmt.Sprintf("NPS%d", g)] = period(storage.DashboardQuery{NPS: g})
	}
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	slices.Sort(names)
	scoped := func(b *dashBackend, name string, q storage.DashboardQuery) storage.DashboardQuery {
		q.Scope = audit.Scope{All: true}
		if len(name) >= 7 && name[:7] == "Manager" {
			q.Scope = b.manager
		}
		return q
	}
	counted := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, err := backends[0].figures(t, scoped(backends[0], name, queries[name]))
			require.NoError(t, err)
			got, err := backends[1].figures(t, scoped(backends[1], name, queries[name]))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			for _, f := range want.ByStoreMonth {
				counted += int(f.Visits)
			}
			if name == "Period" { // the figures compared are not empty ones
				assert.NotEmpty(t, want.Critical)
				assert.NotEmpty(t, want.Critical[0].Text)
				assert.NotEmpty(t, want.Clauses["POL-1"].Text)
				assert.NotEmpty(t, want.StoreCategories)
				assert.Positive(t, want.NPS[0]+want.NPS[1]+want.NPS[2])
			}

			wantVisits, wantTokens, err := backends[0].visits(t, scoped(backends[0], name, queries[name]), 7)
			require.NoError(t, err)
			gotVisits, gotTokens, err := backends[1].visits(t, scoped(backends[1], name, queries[name]), 7)
			require.NoError(t, err)
			assert.Equal(t, wantVisits, gotVisits)
			if name == "Category" {
				require.NotEmpty(t, wantVisits)
				assert.Positive(t, wantVisits[0].DrillMax, "the drill's points are compared")
			}
			assert.Equal(t, wantTokens, gotTokens, "the same page tokens")
		})
	}
	assert.Greater(t, counted, 500, "the queries count visits")

	// The same refusals.
	for name, q := range map[string]storage.DashboardQuery{
		"StoreOutsideScope": {From: "2024-06", StoreCode: "SPB-01", Scope: backends[0].manager},
		"NoSuchStore":       {From: "2024-06", StoreCode: "NOPE", Scope: audit.Scope{All: true}},
		"BadNPS":            {From: "2024-06", NPS: storage.NPSGroup(99), Scope: audit.Scope{All: true}},
		"BadPass":           {From: "2024-06", Pass: storage.PassFilter(9), Scope: audit.Scope{All: true}},
		"BadMonth":          {From: "2024-06", Month: "2024-09", Scope: audit.Scope{All: true}},
		"BadPeriod":         {From: "2024-13", Scope: audit.Scope{All: true}},
	} {
		t.Run("Refused"+name, func(t *testing.T) {
			var errs [2]error
			for i, b := range backends {
				if q.Scope.ManagerID != "" {
					q.Scope = b.manager
				}
				_, errs[i] = b.figures(t, q)
				require.Error(t, errs[i])
			}
			assert.Equal(t, audit.ErrorCode(errs[0]), audit.ErrorCode(errs[1]))
			assert.Equal(t, errs[0].Error(), errs[1].Error())
			for i, b := range backends {
				_, _, errs[i] = b.visits(t, q, 5)
			}
			assert.Equal(t, errs[0].Error(), errs[1].Error())
			_, _, err := backends[1].st.Dashboards().Visits(context.Background(), q, 5, "not a token")
			requireCode(t, audit.EINVALID, err)
		})
	}
}
