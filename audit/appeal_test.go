package audit

import (
	"strings"
	"testing"
	"time"
)

// TestCheckAppealWindow: the window runs to the end of the days-th day
// after the approval's day in the organisation's time zone, and the
// refusal names the last day in that zone.
func TestCheckAppealWindow(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	// 3 November 2026, 22:30 UTC is already 4 November in Moscow (UTC+3).
	lateUTC := time.Date(2026, 11, 3, 22, 30, 0, 0, time.UTC)
	noonUTC := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		approved time.Time
		now      time.Time
		days     int
		loc      *time.Location
		lastDay  string // "" when the appeal is taken
	}{
		{"same day", noonUTC, noonUTC.Add(time.Hour), 7, time.UTC, ""},
		{"last minute of the last day", noonUTC, time.Date(2026, 11, 10, 23, 59, 0, 0, time.UTC), 7, time.UTC, ""},
		{"the day after the last", noonUTC, time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC), 7, time.UTC, "2026-11-10"},
		{"a month later", noonUTC, noonUTC.AddDate(0, 1, 0), 7, time.UTC, "2026-11-10"},
		{"one-day window", noonUTC, time.Date(2026, 11, 4, 23, 0, 0, 0, time.UTC), 1, time.UTC, ""},
		{"one-day window, closed", noonUTC, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), 1, time.UTC, "2026-11-04"},
		// Approved late on 3 November UTC, which is 4 November in Moscow:
		// the window counts from the Moscow day and closes at Moscow
		// midnight.
		{"org time zone: still open", lateUTC, time.Date(2026, 11, 11, 20, 59, 0, 0, time.UTC), 7, moscow, ""},
		{"org time zone: closed at Moscow midnight", lateUTC, time.Date(2026, 11, 11, 21, 0, 0, 0, time.UTC), 7, moscow, "2026-11-11"},
		{"the same instants in UTC", lateUTC, time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC), 7, time.UTC, "2026-11-10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAppealWindow("v-1", c.approved, c.now, c.days, c.loc)
			if c.lastDay == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if ErrorCode(err) != EPRECONDITION {
				t.Fatalf("error %v, want failed_precondition", err)
			}
			if msg := ErrorMessage(err); !strings.Contains(msg, "closed on "+c.lastDay) || !strings.Contains(msg, "v-1") {
				t.Errorf("refusal %q does not name visit v-1 and the last day %s", msg, c.lastDay)
			}
		})
	}
}

// TestCheckJudge: four eyes. A reviewer of the visit, the filer and
// roles other than manager and HR are refused, each with a message that
// says why (the reviewer by name).
func TestCheckJudge(t *testing.T) {
	reviewers := map[string]string{"m-review": "Maria Reviewer", "m-approve": ""}
	for _, c := range []struct {
		name  string
		judge Principal
		want  string // "" when allowed
	}{
		{"another manager", Principal{UserID: "m-other", Role: RoleManager}, ""},
		{"HR", Principal{UserID: "hr-1", Role: RoleHR}, ""},
		{"the reviewer", Principal{UserID: "m-review", Role: RoleManager}, "Maria Reviewer reviewed this visit"},
		{"a reviewer without a name", Principal{UserID: "m-approve", Role: RoleManager}, "m-approve reviewed this visit"},
		{"HR who reviewed", Principal{UserID: "m-review", Role: RoleHR}, "Maria Reviewer reviewed"},
		{"the filer", Principal{UserID: "m-filer", Role: RoleManager}, "filer"},
		{"an admin", Principal{UserID: "a-1", Role: RoleAdmin}, "admin role"},
		{"a shopper", Principal{UserID: "s-1", Role: RoleShopper}, "shopper role"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckJudge(c.judge, "m-filer", reviewers)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if ErrorCode(err) != EFORBIDDEN || !strings.Contains(ErrorMessage(err), c.want) {
				t.Fatalf("error %v, want permission_denied saying %q", err, c.want)
			}
		})
	}
}

// TestAppeal_ValidateAndRule checks what an appeal needs when filed and
// when ruled, and that amendments lay over the answers in order.
func TestAppeal_ValidateAndRule(t *testing.T) {
	yes, no := true, false
	c := &Checklist{ID: "c", Sections: []Section{{ID: "s", Questions: []Question{
		{ID: "q1", Text: "Greeted?", Type: QuestionYesNo, Weight: 1},
		{ID: "q2", Text: "Receipt given?", Type: QuestionYesNo, Weight: 1},
	}}}}
	sha := strings.Repeat("ab", 32)
	ok := func() *Appeal {
		return &Appeal{ID: "a", State: AppealOpen, Questions: []AppealQuestion{
			{QuestionID: "q1", Reason: "the till receipt shows the greeting time", Evidence: []AppealEvidence{{SHA256: strings.ToUpper(sha), Size: 10, ContentType: "application/pdf"}}},
			{QuestionID: "q2", Reason: "the receipt was handed over"},
		}}
	}
	if err := ok().Validate(c); err != nil {
		t.Fatalf("a good appeal: %v", err)
	}
	for _, bad := range []struct {
		name   string
		change func(*Appeal)
		code   Code
		says   string
	}{
		{"no question", func(a *Appeal) { a.Questions = nil }, EINVALID, "at least one question"},
		{"no reason", func(a *Appeal) { a.Questions[1].Reason = "  " }, EINVALID, "specific reason"},
		{"unknown question", func(a *Appeal) { a.Questions[1].QuestionID = "q9" }, EINVALID, "no such question"},
		{"twice", func(a *Appeal) { a.Questions[1].QuestionID = "q1" }, EINVALID, "named twice"},
		{"a Word file", func(a *Appeal) { a.Questions[0].Evidence[0].ContentType = "application/msword" }, EINVALID, "application/pdf"},
		{"bad hash", func(a *Appeal) { a.Questions[0].Evidence[0].SHA256 = "x" }, EINVALID, "SHA-256"},
		{"empty file", func(a *Appeal) { a.Questions[0].Evidence[0].Size = 0 }, EINVALID, "size 0"},
	} {
		a := ok()
		bad.change(a)
		if err := a.Validate(c); ErrorCode(err) != bad.code || !strings.Contains(ErrorMessage(err), bad.says) {
			t.Errorf("%s: %v, want %s saying %q", bad.name, err, bad.code, bad.says)
		}
	}
	// A PDF is appeal evidence, never a visit's photo.
	for _, ct := range PhotoContentTypes {
		if ct == "application/pdf" {
			t.Fatal("PDF is a photo type")
		}
	}

	for _, bad := range []struct {
		name    string
		rulings []QuestionRuling
		says    string
	}{
		{"a question left out", []QuestionRuling{{QuestionID: "q1", Outcome: OutcomeUpheld, Amended: &Answer{Bool: &yes}}}, "q2 (Receipt given?) has no ruling"},
		{"upheld without an answer", []QuestionRuling{{QuestionID: "q1", Outcome: OutcomeUpheld}, {QuestionID: "q2", Outcome: OutcomeRejected, Reason: "no"}}, "needs the amended answer"},
		{"rejected without a reason", []QuestionRuling{{QuestionID: "q1", Outcome: OutcomeRejected}, {QuestionID: "q2", Outcome: OutcomeRejected, Reason: "no"}}, "needs a reason"},
		{"an answer of the wrong type", []QuestionRuling{{QuestionID: "q1", Outcome: OutcomeUpheld, Amended: &Answer{Text: "yes"}}, {QuestionID: "q2", Outcome: OutcomeRejected, Reason: "no"}}, "not valid"},
		{"a question not appealed", []QuestionRuling{{QuestionID: "q3", Outcome: OutcomeRejected, Reason: "x"}}, "not one the appeal names"},
	} {
		if err := ok().ApplyRulings(c, bad.rulings); ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), bad.says) {
			t.Errorf("%s: %v, want invalid saying %q", bad.name, err, bad.says)
		}
	}
	a := ok()
	if err := a.ApplyRulings(c, []QuestionRuling{{QuestionID: "q1", Outcome: OutcomeUpheld, Amended: &Answer{QuestionID: "other", Bool: &yes}},
		{QuestionID: "q2", Outcome: OutcomeRejected, Reason: " the shopper's photo shows no receipt "}}); err != nil {
		t.Fatal(err)
	}
	if a.Upheld() != 1 || a.Questions[0].Amended.QuestionID != "q1" || a.Questions[1].RulingReason != "the shopper's photo shows no receipt" {
		t.Fatalf("ruled: %+v", a.Questions)
	}
	a.State = AppealClosed
	if err := a.ApplyRulings(c, nil); ErrorCode(err) != EPRECONDITION {
		t.Fatalf("ruling a closed appeal: %v", err)
	}

	answers := []Answer{{QuestionID: "q1", Bool: &no}, {QuestionID: "q2", Bool: &no}}
	got := AmendAnswers(answers, []Answer{{QuestionID: "q1", Bool: &yes}, {QuestionID: "q2", Bool: &yes}, {QuestionID: "q2", Bool: &no}})
	if !*got[0].Bool || *got[1].Bool || *answers[0].Bool {
		t.Fatalf("amended %v (original %v): want q1 yes, q2 no (the later amendment), the original unchanged", got, answers)
	}
}
