package audit

import (
	"testing"
	"time"
)

func TestAssignment_Transition(t *testing.T) {
	legal := map[[2]AssignmentState]bool{
		{AssignmentOpen, AssignmentAccepted}:      true,
		{AssignmentOpen, AssignmentCancelled}:     true,
		{AssignmentOpen, AssignmentExpired}:       true,
		{AssignmentAccepted, AssignmentOpen}:      true,
		{AssignmentAccepted, AssignmentDone}:      true,
		{AssignmentAccepted, AssignmentCancelled}: true,
		{AssignmentAccepted, AssignmentExpired}:   true,
	}
	for _, from := range AssignmentStates {
		for _, to := range AssignmentStates {
			t.Run(string(from)+"_to_"+string(to), func(t *testing.T) {
				a := &Assignment{ID: "a1", State: from}
				err := a.Transition(to)
				if legal[[2]AssignmentState{from, to}] {
					equal(t, "error", err, nil)
					equal(t, "state", a.State, to)
					return
				}
				equal(t, "code", ErrorCode(err), EPRECONDITION)
				equal(t, "state unchanged", a.State, from)
			})
		}
	}
	t.Run("UnknownState", func(t *testing.T) {
		a := &Assignment{ID: "a1", State: AssignmentOpen}
		equal(t, "code", ErrorCode(a.Transition("lost")), EINVALID)
	})
	t.Run("Final", func(t *testing.T) {
		for _, s := range AssignmentStates {
			want := s == AssignmentCancelled || s == AssignmentExpired || s == AssignmentDone
			equal(t, string(s), s.Final(), want)
		}
	})
}

func TestAssignment_Validate(t *testing.T) {
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	ok := Assignment{ID: "a1", StoreID: "s1", ChecklistID: "c1", ChecklistVersion: 1, Channel: ChannelStoreVisit,
		WindowStart: start, WindowEnd: start.Add(48 * time.Hour), State: AssignmentOpen}
	for _, tc := range []struct {
		name string
		edit func(a *Assignment)
		code Code
	}{
		{"OK", func(a *Assignment) {}, ""},
		{"NoStore", func(a *Assignment) { a.StoreID = "" }, EINVALID},
		{"NoVersion", func(a *Assignment) { a.ChecklistVersion = 0 }, EINVALID},
		{"BadChannel", func(a *Assignment) { a.Channel = "fax" }, EINVALID},
		{"WindowBackwards", func(a *Assignment) { a.WindowEnd = start.Add(-time.Hour) }, EINVALID},
		{"AcceptedWithoutShopper", func(a *Assignment) { a.State = AssignmentAccepted }, EINVALID},
		{"AcceptedWithShopper", func(a *Assignment) { a.State, a.ShopperID = AssignmentAccepted, "u1" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			tc.edit(&a)
			equal(t, "code", ErrorCode(a.Validate()), tc.code)
		})
	}
}
