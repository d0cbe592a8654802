package audit

import (
	"errors"
	"testing"
)

// TestReviewTransition walks every state, action and role: the legal moves
// are exactly the ones listed; every other is refused with the right code.
func TestReviewTransition(t *testing.T) {
	legal := map[VisitState]map[ReviewAction]VisitState{
		VisitComplete:  {ActionStartReview: VisitInReview},
		VisitInReview:  {ActionApprove: VisitApproved, ActionReturn: VisitReturned},
		VisitApproved:  {ActionPublish: VisitPublished, ActionReopen: VisitInReview},
		VisitPublished: {ActionReopen: VisitInReview},
	}
	actions := []ReviewAction{ActionStartReview, ActionApprove, ActionReturn, ActionPublish, ActionReopen}
	for _, from := range VisitStates {
		for _, action := range actions {
			for _, role := range Roles {
				to, err := ReviewTransition(from, action, role)
				want, ok := legal[from][action]
				allowedRole := role == RoleAdmin || (role == RoleManager && action != ActionReopen)
				switch {
				case !allowedRole:
					if ErrorCode(err) != EFORBIDDEN {
						t.Errorf("%s %s by %s: err %v, want forbidden", from, action, role, err)
					}
				case !ok:
					if ErrorCode(err) != EPRECONDITION {
						t.Errorf("%s %s by %s: err %v, want failed precondition", from, action, role, err)
					}
				case err != nil || to != want:
					t.Errorf("%s %s by %s = %s, %v; want %s", from, action, role, to, err, want)
				}
			}
		}
	}
	if _, err := ReviewTransition(VisitComplete, "delete", RoleAdmin); ErrorCode(err) != EINVALID {
		t.Errorf("unknown action: %v", err)
	}
}

func TestVisitState_Counts(t *testing.T) {
	for _, s := range VisitStates {
		want := s == VisitApproved || s == VisitPublished
		if s.Counts() != want {
			t.Errorf("%s.Counts() = %v", s, !want)
		}
		if s.Correctable() == (s == VisitApproved || s == VisitPublished || s == VisitSuperseded) {
			t.Errorf("%s.Correctable() = %v", s, s.Correctable())
		}
	}
}

func TestCheckReturn(t *testing.T) {
	c := &Checklist{ID: "c", Sections: []Section{{ID: "s", Questions: []Question{{ID: "tags"}}}}}
	tests := []struct {
		name     string
		comments []ReviewComment
		code     Code
	}{
		{"ok", []ReviewComment{{QuestionID: "tags", Text: "photo is blurred"}, {Text: "check-in missing"}}, ""},
		{"none", nil, EINVALID},
		{"empty text", []ReviewComment{{QuestionID: "tags"}}, EINVALID},
		{"unknown question", []ReviewComment{{QuestionID: "nope", Text: "x"}}, EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(CheckReturn(c, tc.comments)); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
		})
	}
}

// TestReviewTransition_Words checks that refusals speak as a person reads
// them: no state or action codes, no Go slice syntax.
func TestReviewTransition_Words(t *testing.T) {
	for _, tc := range []struct {
		from   VisitState
		action ReviewAction
		role   Role
		want   string
	}{
		{VisitApproved, ActionApprove, RoleManager, "the visit is approved, so it cannot be approved: only a visit in review can be"},
		{VisitComplete, ActionReopen, RoleAdmin, "the visit is waiting for review, so it cannot be reopened: only a visit approved or published can be"},
		{VisitSuperseded, ActionStartReview, RoleManager, "the visit is replaced by a correction, so it cannot be taken into review: only a visit waiting for review can be"},
		{VisitInReview, ActionApprove, RoleHR, "a visit cannot be approved by a user with the hr role"},
	} {
		_, err := ReviewTransition(tc.from, tc.action, tc.role)
		var e *Error
		if !errors.As(err, &e) || e.Message != tc.want {
			t.Errorf("ReviewTransition(%s, %s, %s) = %v, want %q", tc.from, tc.action, tc.role, err, tc.want)
		}
	}
	for st := range stateWords {
		if !st.Valid() {
			t.Errorf("stateWords has unknown state %q", st)
		}
	}
	for _, st := range VisitStates {
		if stateWords[st] == "" {
			t.Errorf("state %q has no words", st)
		}
	}
	for a := range reviewRules {
		if actionWords[a] == "" {
			t.Errorf("action %q has no words", a)
		}
	}
}
