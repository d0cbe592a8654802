package audit

import (
	"strings"
	"testing"
	"time"
)

func TestActionTransition(t *testing.T) {
	for _, c := range []struct {
		from ActionState
		step ActionStep
		to   ActionState
		code Code
	}{
		{ActionOpen, StepStart, ActionInProgress, ""},
		{ActionReopened, StepStart, ActionInProgress, ""},
		{ActionInProgress, StepStart, "", EPRECONDITION},
		{ActionOpen, StepDone, ActionDone, ""},
		{ActionInProgress, StepDone, ActionDone, ""},
		{ActionReopened, StepDone, ActionDone, ""},
		{ActionDone, StepDone, "", EPRECONDITION},
		{ActionDone, StepVerify, ActionVerified, ""},
		{ActionOpen, StepVerify, "", EPRECONDITION},
		{ActionInProgress, StepVerify, "", EPRECONDITION},
		{ActionDone, StepReopen, ActionReopened, ""},
		{ActionVerified, StepReopen, ActionReopened, ""},
		{ActionOpen, StepReopen, "", EPRECONDITION},
		{ActionVerified, StepDone, "", EPRECONDITION},
		{ActionOpen, "close", "", EINVALID},
	} {
		got, err := ActionTransition(c.from, c.step)
		if ErrorCode(err) != c.code || got != c.to {
			t.Errorf("%s on %s: got %q, %v; want %q, code %q", c.step, c.from, got, err, c.to, c.code)
		}
		if err != nil && c.code == EPRECONDITION && !strings.Contains(ErrorMessage(err), actionStateWords[c.from]) {
			t.Errorf("%s on %s: the refusal %q does not say where the action is", c.step, c.from, ErrorMessage(err))
		}
	}
}

func TestActionDueDate(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s      OrgSettings
		sev    Severity
		opened time.Time
		want   string
	}{
		{OrgSettings{}, SeverityCritical, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), "2026-12-04"},
		{OrgSettings{}, SeverityMajor, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), "2026-12-15"},
		// 22:30 UTC is already the next day in Moscow.
		{OrgSettings{}, SeverityCritical, time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC), "2026-12-05"},
		{OrgSettings{ActionDaysCritical: 1}, SeverityCritical, time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), "2027-01-01"},
		{OrgSettings{ActionDaysMajor: 30}, SeverityMajor, time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC), "2027-03-03"},
	} {
		if got := ActionDueDate(c.s, c.sev, c.opened, msk); got != c.want {
			t.Errorf("%s opened %s with %+v: due %s, want %s", c.sev, c.opened, c.s, got, c.want)
		}
	}
}

func TestActionOverdue(t *testing.T) {
	for _, c := range []struct {
		st         ActionState
		due, today string
		want       bool
	}{
		{ActionOpen, "2026-12-04", "2026-12-04", false},
		{ActionOpen, "2026-12-04", "2026-12-05", true},
		{ActionInProgress, "2026-12-04", "2027-01-01", true},
		{ActionReopened, "2026-12-04", "2026-12-05", true},
		{ActionDone, "2026-12-04", "2026-12-05", false},
		{ActionVerified, "2026-12-04", "2026-12-05", false},
	} {
		if got := ActionOverdue(c.st, c.due, c.today); got != c.want {
			t.Errorf("%s due %s on %s: overdue %v, want %v", c.st, c.due, c.today, got, c.want)
		}
	}
}

func TestOrgSettings_ActionDaysValidated(t *testing.T) {
	base := OrgSettings{TimeZone: "Europe/Moscow", Locale: "ru-RU", Currency: "RUB"}
	for _, c := range []struct {
		crit, major int
		field       string
	}{{-1, 0, "action_days_critical"}, {0, 366, "action_days_major"}, {366, 1, "action_days_critical"}} {
		s := base
		s.ActionDaysCritical, s.ActionDaysMajor = c.crit, c.major
		err := s.Validate()
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), c.field) {
			t.Errorf("%d/%d: %v, want EINVALID naming %s", c.crit, c.major, err, c.field)
		}
	}
	s := base
	s.ActionDaysCritical, s.ActionDaysMajor = 365, 1
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestQuestion_OpensActionOnScoredOnly(t *testing.T) {
	q := Question{ID: "n", Type: QuestionText, Text: "Notes", OpensAction: true}
	ps := q.problems()
	if len(ps) != 1 || ps[0].field != "opens_action" {
		t.Fatalf("problems %+v, want one on opens_action", ps)
	}
	q = Question{ID: "y", Type: QuestionYesNo, Text: "Clean?", OpensAction: true}
	if ps := q.problems(); len(ps) != 0 {
		t.Fatalf("problems %+v", ps)
	}
	if sev, ok := ActionSeverity(&q); !ok || sev != SeverityMajor {
		t.Errorf("severity %q %v", sev, ok)
	}
	q.Critical = true
	if sev, ok := ActionSeverity(&q); !ok || sev != SeverityCritical {
		t.Errorf("severity %q %v", sev, ok)
	}
}
