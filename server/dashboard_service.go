package server

import (
	"context"
	"slices"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// dashboardService implements shopscore.v1.DashboardService: the
// aggregates are grouped in SQLite (storage.Dashboards), the comparisons
// and rankings made by package reports, and every figure carries the
// drill that lists its visits.
type dashboardService struct{ s *Server }

// dashboard is one request's resolved filter.
type dashboard struct {
	filter *v1.DashboardFilter
	query  storage.DashboardQuery
	loc    *time.Location
}

// newDashboard resolves a filter for the caller: his scope, the
// organisation's time zone, the channel and basis. Errors: EINVALID.
func (d *dashboardService) newDashboard(ctx context.Context, f *v1.DashboardFilter) (*dashboard, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, audit.Errorf(audit.EINVALID, "filter is required: at least from, a month written YYYY-MM")
	}
	loc, err := d.s.orgLocation(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := protocol.ChannelFilterFromProto(f.GetChannel())
	if err != nil {
		return nil, err
	}
	q := storage.DashboardQuery{
		Scope: audit.ScopeOf(p), From: f.GetFrom(), To: f.GetTo(), Location: loc,
		Region: f.GetRegion(), StoreCode: f.GetStoreCode(), ChecklistID: f.GetChecklistId(), Channel: string(ch),
	}
	switch f.GetBasis() {
	case v1.DashboardBasis_DASHBOARD_BASIS_UNSPECIFIED, v1.DashboardBasis_DASHBOARD_BASIS_SCORED:
	case v1.DashboardBasis_DASHBOARD_BASIS_APPROVED:
		q.Approved = true
	default:
		return nil, audit.Errorf(audit.EINVALID, "unknown basis %d", f.GetBasis())
	}
	return &dashboard{filter: f, query: q, loc: loc}, nil
}

// counted says which states the dashboard counted.
func (b *dashboard) counted() *v1.Counted {
	c := &v1.Counted{Basis: v1.DashboardBasis_DASHBOARD_BASIS_SCORED, TimeZone: b.loc.String(), PassScore: reports.DefaultPassScore}
	if b.query.Approved {
		c.Basis = v1.DashboardBasis_DASHBOARD_BASIS_APPROVED
	}
	for _, s := range b.query.States() {
		c.States = append(c.States, protocol.VisitStateToProto(s))
	}
	return c
}

// drill returns the filter narrowed by change.
func (b *dashboard) drill(change func(*v1.VisitDrill)) *v1.VisitDrill {
	d := &v1.VisitDrill{Filter: proto.Clone(b.filter).(*v1.DashboardFilter)}
	if change != nil {
		change(d)
	}
	return d
}

// storeDrill narrows a drill to one store.
func (b *dashboard) storeDrill(code string, change func(*v1.VisitDrill)) *v1.VisitDrill {
	return b.drill(func(d *v1.VisitDrill) {
		d.Filter.StoreCode, d.Filter.Region = code, ""
		if change != nil {
			change(d)
		}
	})
}

func optional(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func figuresToProto(g reports.VisitFigures) *v1.ScoreFigures {
	mean, okMean := g.Mean()
	rate, okRate := g.PassRate()
	share, okShare := g.FlaggedShare()
	return &v1.ScoreFigures{
		Visits: g.Visits, ScoredVisits: g.Scored, MeanScore: optional(mean, okMean), PassRate: optional(rate, okRate),
		PassedVisits: g.Passed, CriticalFailureVisits: g.Critical, FlaggedVisits: g.Flagged, FlaggedShare: optional(share, okShare),
	}
}

// monthText formats a month index (storage.MonthIndex) as YYYY-MM.
func monthText(m int) string {
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

func comparisonToProto(c reports.Comparison) *v1.SameStoreChange {
	out := &v1.SameStoreChange{PreviousMonth: monthText(c.Previous), StoresCompared: int32(c.Stores), StoresLeftOut: int32(c.LeftOut), Note: c.Note()}
	if c.Stores == 0 {
		return out
	}
	cur, _ := c.Current.Mean()
	prev, _ := c.Before.Mean()
	curRate, _ := c.Current.PassRate()
	prevRate, _ := c.Before.PassRate()
	change, rateChange := (cur-prev)*100, (curRate-prevRate)*100
	out.MeanScore, out.PreviousMeanScore, out.ChangePoints = &cur, &prev, &change
	out.PassRate, out.PreviousPassRate, out.PassRateChangePoints = &curRate, &prevRate, &rateChange
	return out
}

// total sums the figures of the period's months of the stores in keep
// (nil: all).
func total(d *storage.Dashboard, keep func(store string) bool) reports.VisitFigures {
	var g reports.VisitFigures
	first := d.Months[0]
	for k, f := range d.ByStoreMonth {
		if k.Month >= first && (keep == nil || keep(k.Store)) {
			g.Add(f)
		}
	}
	return g
}

func (d *dashboardService) load(ctx context.Context, f *v1.DashboardFilter, parts storage.DashboardParts) (*dashboard, *storage.Dashboard, error) {
	b, err := d.newDashboard(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	data, err := d.s.st.Dashboards().Figures(ctx, b.query, parts)
	if err != nil {
		return nil, nil, err
	}
	return b, data, nil
}

// GetDashboardSummary returns the period's totals. Errors: EINVALID,
// ENOTFOUND.
func (d *dashboardService) GetDashboardSummary(ctx context.Context, req *connect.Request[v1.GetDashboardSummaryRequest]) (*connect.Response[v1.GetDashboardSummaryResponse], error) {
	b, data, err := d.load(ctx, req.Msg.GetFilter(), storage.DashVisits|storage.DashNPS|storage.DashCritical)
	if err != nil {
		return nil, err
	}
	resp := &v1.GetDashboardSummaryResponse{
		Counted:               b.counted(),
		Figures:               figuresToProto(total(data, nil)),
		Drill:                 b.drill(nil),
		CriticalFailuresDrill: b.drill(func(v *v1.VisitDrill) { v.CriticalFailuresOnly = true }),
		FlaggedDrill:          b.drill(func(v *v1.VisitDrill) { v.FlaggedOnly = true }),
		FailedDrill:           b.drill(func(v *v1.VisitDrill) { v.Pass = v1.PassFilter_PASS_FILTER_FAILED }),
		LastMonthChange:       comparisonToProto(data.ByStoreMonth.Compare(data.Months[len(data.Months)-1], nil)),
	}
	score, ok := reports.NPS(data.Promoters, data.Passives, data.Detractors)
	nps := func(g v1.NpsGroup) *v1.VisitDrill { return b.drill(func(v *v1.VisitDrill) { v.NpsGroup = g }) }
	resp.Nps = &v1.Nps{
		Answers: data.Promoters + data.Passives + data.Detractors, Promoters: data.Promoters, Passives: data.Passives,
		Detractors: data.Detractors, Score: optional(score, ok),
		PromotersDrill: nps(v1.NpsGroup_NPS_GROUP_PROMOTERS), PassivesDrill: nps(v1.NpsGroup_NPS_GROUP_PASSIVES),
		DetractorsDrill: nps(v1.NpsGroup_NPS_GROUP_DETRACTORS),
	}
	for _, c := range data.CriticalQuestions {
		id := c.QuestionID
		resp.CriticalQuestions = append(resp.CriticalQuestions, &v1.CriticalQuestion{
			QuestionId: c.QuestionID, QuestionText: c.Text, Clause: c.Clause, Category: c.Category, Failures: c.Failures,
			Drill: b.drill(func(v *v1.VisitDrill) { v.QuestionId, v.CriticalFailuresOnly = id, true }),
		})
	}
	return connect.NewResponse(resp), nil
}

// GetScoreTrend returns every month's figures with its same-store
// change. Errors: EINVALID, ENOTFOUND.
func (d *dashboardService) GetScoreTrend(ctx context.Context, req *connect.Request[v1.GetScoreTrendRequest]) (*connect.Response[v1.GetScoreTrendResponse], error) {
	b, data, err := d.load(ctx, req.Msg.GetFilter(), storage.DashVisits)
	if err != nil {
		return nil, err
	}
	resp := &v1.GetScoreTrendResponse{Counted: b.counted()}
	for _, m := range data.Months {
		var g reports.VisitFigures
		for k, f := range data.ByStoreMonth {
			if k.Month == m {
				g.Add(f)
			}
		}
		month := monthText(m)
		resp.Months = append(resp.Months, &v1.MonthScores{
			Month: month, Figures: figuresToProto(g), Change: comparisonToProto(data.ByStoreMonth.Compare(m, nil)),
			Drill: b.drill(func(v *v1.VisitDrill) { v.Month = month }),
		})
	}
	return connect.NewResponse(resp), nil
}

// GetStoreScores ranks stores and regions and returns the heat map.
// Errors: EINVALID, ENOTFOUND.
func (d *dashboardService) GetStoreScores(ctx context.Context, req *connect.Request[v1.GetStoreScoresRequest]) (*connect.Response[v1.GetStoreScoresResponse], error) {
	b, data, err := d.load(ctx, req.Msg.GetFilter(), storage.DashVisits|storage.DashAnswers)
	if err != nil {
		return nil, err
	}
	last := data.Months[len(data.Months)-1]
	resp := &v1.GetStoreScoresResponse{Counted: b.counted()}
	byStore := map[string]reports.VisitFigures{}
	byRegion := map[string]reports.VisitFigures{}
	regionStores := map[string]map[string]bool{}
	for id, st := range data.Stores {
		g := total(data, func(s string) bool { return s == id })
		if g.Visits == 0 {
			continue // visits only in the month before the period
		}
		byStore[id] = g
		r := byRegion[st.Region]
		r.Add(g)
		byRegion[st.Region] = r
		if regionStores[st.Region] == nil {
			regionStores[st.Region] = map[string]bool{}
		}
		regionStores[st.Region][id] = true
	}
	for i, id := range reports.Ranked(byStore) {
		st := data.Stores[id]
		resp.Stores = append(resp.Stores, &v1.StoreScores{
			StoreId: id, StoreCode: st.Code, StoreName: st.Name, Region: st.Region, Rank: int32(i + 1),
			Figures:         figuresToProto(byStore[id]),
			LastMonthChange: comparisonToProto(data.ByStoreMonth.Compare(last, map[string]bool{id: true})),
			Drill:           b.storeDrill(st.Code, nil),
		})
	}
	for i, region := range reports.Ranked(byRegion) {
		resp.Regions = append(resp.Regions, &v1.RegionScores{
			Region: region, Rank: int32(i + 1), Stores: int32(len(regionStores[region])), Figures: figuresToProto(byRegion[region]),
			LastMonthChange: comparisonToProto(data.ByStoreMonth.Compare(last, regionStores[region])),
			Drill:           b.drill(func(v *v1.VisitDrill) { v.Filter.Region, v.Filter.StoreCode = region, "" }),
		})
	}
	for c := range data.Categories {
		resp.Categories = append(resp.Categories, c)
	}
	slices.Sort(resp.Categories)
	for _, s := range resp.Stores {
		for _, c := range resp.Categories {
			f, ok := data.StoreCategories[[2]string{s.StoreId, c}]
			if !ok {
				continue
			}
			comp, okc := f.Compliance()
			category := c
			resp.Cells = append(resp.Cells, &v1.HeatCell{
				StoreCode: s.StoreCode, Category: c, Answers: f.Answers, Compliance: optional(comp, okc),
				Drill: b.storeDrill(s.StoreCode, func(v *v1.VisitDrill) { v.Category = category }),
			})
		}
	}
	return connect.NewResponse(resp), nil
}

func complianceToProto(f reports.AnswerFigures) *v1.ComplianceFigures {
	c, ok := f.Compliance()
	return &v1.ComplianceFigures{
		Answers: f.Answers, NotApplicable: f.NotApplicable, Points: f.Points, MaxPoints: f.MaxPoints,
		Compliance: optional(c, ok), CriticalFailures: f.CriticalFailures, Visits: f.Visits,
	}
}

// GetCategoryScores returns compliance by category and clause, worst
// first. Errors: EINVALID, ENOTFOUND.
func (d *dashboardService) GetCategoryScores(ctx context.Context, req *connect.Request[v1.GetCategoryScoresRequest]) (*connect.Response[v1.GetCategoryScoresResponse], error) {
	b, data, err := d.load(ctx, req.Msg.GetFilter(), storage.DashAnswers)
	if err != nil {
		return nil, err
	}
	resp := &v1.GetCategoryScoresResponse{Counted: b.counted()}
	for _, c := range reports.WorstFirst(data.Categories) {
		category := c
		resp.Categories = append(resp.Categories, &v1.CategoryScores{
			Category: c, Figures: complianceToProto(data.Categories[c]),
			Drill: b.drill(func(v *v1.VisitDrill) { v.Category = category }),
		})
	}
	clauses := map[string]reports.AnswerFigures{}
	for k, c := range data.Clauses {
		clauses[k] = c.AnswerFigures
	}
	for _, k := range reports.WorstFirst(clauses) {
		c, clause := data.Clauses[k], k
		resp.Clauses = append(resp.Clauses, &v1.ClauseScores{
			Clause: k, ClauseText: c.Text, Category: c.Category, Figures: complianceToProto(c.AnswerFigures),
			Drill: b.drill(func(v *v1.VisitDrill) { v.Clause = clause }),
		})
	}
	return connect.NewResponse(resp), nil
}

// ListDashboardVisits lists the visits behind a figure. Errors: EINVALID,
// ENOTFOUND.
func (d *dashboardService) ListDashboardVisits(ctx context.Context, req *connect.Request[v1.ListDashboardVisitsRequest]) (*connect.Response[v1.ListDashboardVisitsResponse], error) {
	drill := req.Msg.GetDrill()
	if drill == nil {
		return nil, audit.Errorf(audit.EINVALID, "drill is required: the drill of the figure whose visits to list")
	}
	b, err := d.newDashboard(ctx, drill.GetFilter())
	if err != nil {
		return nil, err
	}
	q := b.query
	q.Month, q.Category, q.Clause, q.QuestionID = drill.GetMonth(), drill.GetCategory(), drill.GetClause(), drill.GetQuestionId()
	q.CriticalOnly, q.FlaggedOnly = drill.GetCriticalFailuresOnly(), drill.GetFlaggedOnly()
	q.NPS, q.Pass = storage.NPSGroup(drill.GetNpsGroup()), storage.PassFilter(drill.GetPass())
	size := int(req.Msg.GetPageSize())
	if size == 0 {
		size = 100
	}
	if size < 1 || size > 500 {
		return nil, audit.Errorf(audit.EINVALID, "page size %d, want 1 to 500", size)
	}
	visits, next, err := d.s.st.Dashboards().Visits(ctx, q, size, req.Msg.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &v1.ListDashboardVisitsResponse{Counted: b.counted(), NextPageToken: next}
	for _, v := range visits {
		pv := &v1.DashboardVisit{
			VisitId: v.VisitID, StoreCode: v.StoreCode, StoreName: v.StoreName, Region: v.Region, VisitTime: timestamp(v.VisitedAt),
			ChecklistId: v.ChecklistID, ChecklistVersion: int32(v.ChecklistVersion), Channel: protocol.ChannelToProto(audit.Channel(v.Channel)),
			State: protocol.VisitStateToProto(v.State), Passed: v.Passed, CriticalFailure: v.CriticalFailed, Flagged: v.Flagged,
			StaffName: v.StaffName, StaffEmployeeNumber: v.StaffNumber,
		}
		if v.MaxPoints > 0 {
			s := v.Points / v.MaxPoints
			pv.Score = &s
		}
		if v.DrillMax > 0 {
			c := v.DrillPoints / v.DrillMax
			pv.DrillCompliance = &c
		}
		resp.Visits = append(resp.Visits, pv)
	}
	return connect.NewResponse(resp), nil
}
