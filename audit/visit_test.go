package audit

import (
	"testing"
	"time"
)

func TestVisit_Admit(t *testing.T) {
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	c := sampleChecklist()
	cv := mustPublish(t, c)
	assignment := func() *Assignment {
		return &Assignment{ID: "a1", StoreID: "s1", ChecklistID: "c1", ChecklistVersion: 1, Channel: ChannelStoreVisit,
			WindowStart: start, WindowEnd: start.Add(24 * time.Hour), ShopperID: "u1", State: AssignmentAccepted}
	}
	visit := func() *Visit {
		return &Visit{ID: "v1", AssignmentID: "a1", StoreID: "s1", ShopperID: "u1", ChecklistID: "c1", ChecklistVersion: 1,
			ContentHash: cv.ContentHash, Channel: ChannelStoreVisit, StartedAt: start.Add(time.Hour)}
	}
	unplanned := func(allow bool) *ChecklistVersion {
		c := sampleChecklist()
		c.AllowUnplanned = allow
		return mustPublish(t, c)
	}
	for _, tc := range []struct {
		name  string
		edit  func(v *Visit, cv **ChecklistVersion, a **Assignment)
		flags []VisitFlag
		code  Code
	}{
		{"OK", func(v *Visit, cv **ChecklistVersion, a **Assignment) {}, nil, ""},
		{"Cancelled", func(v *Visit, cv **ChecklistVersion, a **Assignment) { (*a).State = AssignmentCancelled }, []VisitFlag{FlagAssignmentCancelled}, ""},
		{"OutsideWindow", func(v *Visit, cv **ChecklistVersion, a **Assignment) { v.StartedAt = start.Add(48 * time.Hour) }, []VisitFlag{FlagOutsideWindow}, ""},
		{"Retired", func(v *Visit, cv **ChecklistVersion, a **Assignment) { *cv, _ = Retire(*cv, Scope{All: true}, nil) }, []VisitFlag{FlagVersionRetired}, ""},
		{"OtherShopper", func(v *Visit, cv **ChecklistVersion, a **Assignment) { (*a).ShopperID = "u2" }, nil, EFORBIDDEN},
		{"WrongHash", func(v *Visit, cv **ChecklistVersion, a **Assignment) { v.ContentHash = hashA }, nil, EINVALID},
		{"WrongChannel", func(v *Visit, cv **ChecklistVersion, a **Assignment) { v.Channel = ChannelEmail }, nil, EINVALID},
		{"Draft", func(v *Visit, cv **ChecklistVersion, a **Assignment) { c := sampleChecklist(); *cv = NewDraft(&c, 1) }, nil, EPRECONDITION},
		{"UnplannedRefused", func(v *Visit, cv **ChecklistVersion, a **Assignment) { *a, v.AssignmentID = nil, "" }, nil, EPRECONDITION},
		{"UnplannedAllowed", func(v *Visit, cv **ChecklistVersion, a **Assignment) {
			*a, v.AssignmentID, *cv = nil, "", unplanned(true)
			v.ContentHash = (*cv).ContentHash
		}, []VisitFlag{FlagUnplanned}, ""},
		{"Invalid", func(v *Visit, cv **ChecklistVersion, a **Assignment) { v.StartedAt = time.Time{} }, nil, EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, version, a := visit(), cv, assignment()
			tc.edit(v, &version, &a)
			flags, err := v.Admit(version, a)
			equal(t, "code", ErrorCode(err), tc.code)
			equal(t, "flags", flags, tc.flags)
		})
	}
}
