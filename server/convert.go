package server

import (
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// timestamp returns nil for the zero time, so that "not set" stays unset.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeFrom returns the time of a timestamp, the zero time for nil.
// Errors: EINVALID for an out-of-range timestamp.
func timeFrom(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, audit.Errorf(audit.EINVALID, "%s: %v", field, err)
	}
	return ts.AsTime(), nil
}

func transferToProto(t *audit.StaffTransfer) *v1.StaffTransfer {
	return &v1.StaffTransfer{
		Id: t.ID, StaffId: t.StaffID, FromStoreId: t.FromStoreID, FromStoreCode: t.FromStoreCode, FromStoreName: t.FromStoreName,
		ToStoreId: t.ToStoreID, ToStoreCode: t.ToStoreCode, ToStoreName: t.ToStoreName, EffectiveDate: t.EffectiveDate,
		Applied: t.Applied, CreatedBy: t.CreatedBy, CreatedByName: t.CreatedByName, CreateTime: timestamp(t.CreatedAt),
	}
}

func settingsToProto(s *audit.OrgSettings) *v1.OrgSettings {
	return &v1.OrgSettings{TimeZone: s.TimeZone, Locale: s.Locale, Currency: s.Currency, UpdateTime: timestamp(s.UpdatedAt), UpdatedBy: s.UpdatedBy,
		AppealWindowDays: int32(s.AppealWindow()), ActionDaysCritical: int32(s.ActionDays(audit.SeverityCritical)),
		ActionDaysMajor: int32(s.ActionDays(audit.SeverityMajor)), ReviewWaitDays: int32(s.ReviewWait())}
}

var questionTypeToProto = map[audit.QuestionType]v1.QuestionType{
	audit.QuestionYesNo:        v1.QuestionType_QUESTION_TYPE_YES_NO,
	audit.QuestionScale:        v1.QuestionType_QUESTION_TYPE_SCALE,
	audit.QuestionNumeric:      v1.QuestionType_QUESTION_TYPE_NUMERIC,
	audit.QuestionTimer:        v1.QuestionType_QUESTION_TYPE_TIMER,
	audit.QuestionSingleChoice: v1.QuestionType_QUESTION_TYPE_SINGLE_CHOICE,
	audit.QuestionMultiChoice:  v1.QuestionType_QUESTION_TYPE_MULTI_CHOICE,
	audit.QuestionText:         v1.QuestionType_QUESTION_TYPE_TEXT,
	audit.QuestionPhoto:        v1.QuestionType_QUESTION_TYPE_PHOTO,
	audit.QuestionNPS:          v1.QuestionType_QUESTION_TYPE_NPS,
}

// readableVersion returns a version with its content as sections and
// questions a screen can show, the raw content bytes left out.
func readableVersion(v *audit.ChecklistVersion) *v1.ChecklistVersion {
	p, _ := protocol.VersionToProto(v, false) // without content it cannot fail
	c := &v.Content
	p.AllowUnplanned = c.AllowUnplanned
	scope := string(c.CriticalCap.Scope)
	if scope == "" {
		scope = string(audit.CapVisit)
	}
	p.CriticalCap = &v1.CriticalCap{Scope: scope, Percent: c.CriticalCap.Percent}
	clauses := map[string]*v1.StandardClause{}
	for _, st := range c.Standards {
		sc := &v1.StandardClause{Code: st.Code, Clause: st.Clause, Category: string(st.Category)}
		clauses[st.Code] = sc
		p.Standards = append(p.Standards, sc)
	}
	for _, s := range c.Sections {
		ps := &v1.ChecklistSection{Id: s.ID, Title: s.Title}
		for i := range s.Questions {
			ps.Questions = append(ps.Questions, questionToProto(&s.Questions[i], clauses[s.Questions[i].StandardCode]))
		}
		p.Sections = append(p.Sections, ps)
	}
	return p
}

func questionToProto(q *audit.Question, clause *v1.StandardClause) *v1.ChecklistQuestion {
	weight := q.Weight
	if weight == 0 {
		weight = 1
	}
	out := &v1.ChecklistQuestion{
		Id: q.ID, Type: questionTypeToProto[q.Type], Text: q.Text, StandardCode: q.StandardCode, Standard: clause,
		Weight: weight, Critical: q.Critical, Required: q.Required, AllowNa: q.AllowNA, PassOnNo: q.PassOnNo,
		ScaleMax: int32(q.ScaleMax), ScalePoints: q.ScalePoints, Unit: q.Unit, MaxPoints: q.MaxPoints,
		RequiredPhotoCount: int32(q.PhotoCount), ScoreNps: q.ScoreNPS, MaxScorePoints: q.MaxScore(),
	}
	if t := q.Target; t != nil {
		op := v1.TargetOperator_TARGET_OPERATOR_AT_MOST
		if t.Op == audit.AtLeast {
			op = v1.TargetOperator_TARGET_OPERATOR_AT_LEAST
		}
		out.Target = &v1.QuestionTarget{Operator: op, Value: t.Value}
	}
	for _, o := range q.Options {
		out.Options = append(out.Options, &v1.ChoiceOption{Value: o.Value, Label: o.Label, Points: o.Points})
	}
	for _, r := range q.Rules {
		out.Rules = append(out.Rules, &v1.ConditionalRule{WhenAnswer: r.When.Answer, WhenFailed: r.When.Failed,
			RequireNote: r.Require.Note, RequirePhotos: int32(r.Require.Photos)})
	}
	return out
}

// proofFlagToProto converts a proof flag with its numbers.
func proofFlagToProto(f audit.ProofFlag) *v1.ProofFlag {
	p := &v1.ProofFlag{
		Code: string(f.Code), Detail: f.Detail, DistanceMeters: f.DistanceMeters, GeofenceMeters: f.GeofenceMeters,
		AccuracyMeters: f.AccuracyMeters, SkewMinutes: f.SkewMinutes, QuestionId: f.QuestionID,
		DurationSeconds: f.DurationSeconds, MinSeconds: f.MinSeconds, MaxSeconds: f.MaxSeconds,
		Time: timestamp(f.Time), WindowStartTime: timestamp(f.WindowStart), WindowEndTime: timestamp(f.WindowEnd),
		GapMinutes: f.GapMinutes, Sha256: f.SHA256,
	}
	if f.PhotoIndex != nil {
		i := int32(*f.PhotoIndex)
		p.PhotoIndex = &i
	}
	return p
}
