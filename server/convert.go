package server

import (
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// channelFromProto returns the domain channel, through the one table in
// sync/protocol; CHANNEL_UNSPECIFIED is "". Errors: EINVALID for an unknown
// value.
func channelFromProto(c v1.Channel) (audit.Channel, error) {
	if c == v1.Channel_CHANNEL_UNSPECIFIED {
		return "", nil
	}
	if ch := protocol.ChannelFromProto(c); ch != "" {
		return ch, nil
	}
	return "", audit.Errorf(audit.EINVALID, "unknown channel %d", c)
}

var versionStateToProto = map[audit.VersionState]v1.ChecklistVersionState{
	audit.VersionDraft:     v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_DRAFT,
	audit.VersionPublished: v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED,
	audit.VersionRetired:   v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_RETIRED,
}

var assignmentStateToProto = map[audit.AssignmentState]v1.AssignmentState{
	audit.AssignmentOpen:      v1.AssignmentState_ASSIGNMENT_STATE_OPEN,
	audit.AssignmentAccepted:  v1.AssignmentState_ASSIGNMENT_STATE_ACCEPTED,
	audit.AssignmentCancelled: v1.AssignmentState_ASSIGNMENT_STATE_CANCELLED,
	audit.AssignmentExpired:   v1.AssignmentState_ASSIGNMENT_STATE_EXPIRED,
	audit.AssignmentDone:      v1.AssignmentState_ASSIGNMENT_STATE_DONE,
}

// assignmentStateFromProto returns the domain state; UNSPECIFIED is "".
// Errors: EINVALID for an unknown value.
func assignmentStateFromProto(s v1.AssignmentState) (audit.AssignmentState, error) {
	if s == v1.AssignmentState_ASSIGNMENT_STATE_UNSPECIFIED {
		return "", nil
	}
	for k, v := range assignmentStateToProto {
		if v == s {
			return k, nil
		}
	}
	return "", audit.Errorf(audit.EINVALID, "unknown assignment state %d", s)
}

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

// versionToProto converts a version; content is included when withContent.
func versionToProto(v *audit.ChecklistVersion, withContent bool) (*v1.ChecklistVersion, error) {
	p := &v1.ChecklistVersion{
		ChecklistId: v.ChecklistID,
		Version:     int32(v.Version),
		Name:        v.Content.Name,
		Channel:     protocol.ChannelToProto(v.Content.Channel),
		State:       versionStateToProto[v.State],
		ContentHash: v.ContentHash,
		PublishTime: timestamp(v.PublishedAt),
	}
	for _, s := range v.Content.Sections {
		p.QuestionCount += int32(len(s.Questions))
	}
	if withContent {
		b, err := v.Content.CanonicalJSON()
		if err != nil {
			return nil, err
		}
		p.Content = b
	}
	return p, nil
}

func storeToProto(s *audit.Store) *v1.Store {
	return &v1.Store{
		Id: s.ID, Code: s.Code, Name: s.Name, Address: s.Address, Region: s.Region,
		Latitude: s.Latitude, Longitude: s.Longitude, GeofenceMeters: s.GeofenceMeters,
		ManagerIds: s.ManagerIDs, CreateTime: timestamp(s.CreatedAt),
		Deactivated: !s.DeactivatedAt.IsZero(), DeactivateTime: timestamp(s.DeactivatedAt), ManagerNames: s.ManagerNames,
	}
}

func staffToProto(s *audit.Staff) *v1.Staff {
	return &v1.Staff{
		Id: s.ID, EmployeeNumber: s.EmployeeNumber, Name: s.Name, Position: s.Position,
		Department: string(s.Department), BackOffice: s.BackOffice, StoreId: s.StoreID, CreateTime: timestamp(s.CreatedAt),
		StoreCode: s.StoreCode, StoreName: s.StoreName, Deactivated: !s.DeactivatedAt.IsZero(),
		DeactivateTime: timestamp(s.DeactivatedAt), StoreSinceDate: s.StoreSince,
	}
}

func transferToProto(t *audit.StaffTransfer) *v1.StaffTransfer {
	return &v1.StaffTransfer{
		Id: t.ID, StaffId: t.StaffID, FromStoreId: t.FromStoreID, FromStoreCode: t.FromStoreCode, FromStoreName: t.FromStoreName,
		ToStoreId: t.ToStoreID, ToStoreCode: t.ToStoreCode, ToStoreName: t.ToStoreName, EffectiveDate: t.EffectiveDate,
		Applied: t.Applied, CreatedBy: t.CreatedBy, CreatedByName: t.CreatedByName, CreateTime: timestamp(t.CreatedAt),
	}
}

func settingsToProto(s *audit.OrgSettings) *v1.OrgSettings {
	return &v1.OrgSettings{TimeZone: s.TimeZone, Locale: s.Locale, Currency: s.Currency, UpdateTime: timestamp(s.UpdatedAt), UpdatedBy: s.UpdatedBy}
}

func assignmentToProto(a *audit.Assignment) *v1.Assignment {
	return &v1.Assignment{
		Id: a.ID, StoreId: a.StoreID, ChecklistId: a.ChecklistID, ChecklistVersion: int32(a.ChecklistVersion),
		Channel: protocol.ChannelToProto(a.Channel), WindowStartTime: timestamp(a.WindowStart), WindowEndTime: timestamp(a.WindowEnd),
		ShopperId: a.ShopperID, State: assignmentStateToProto[a.State], CancelReason: a.CancelReason,
		CreateTime: timestamp(a.CreatedAt), UpdateTime: timestamp(a.UpdatedAt),
	}
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
	p, _ := versionToProto(v, false) // without content it cannot fail
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
		Code: f.Code, Detail: f.Detail, DistanceMeters: f.DistanceMeters, GeofenceMeters: f.GeofenceMeters,
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
