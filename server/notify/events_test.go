package notify

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleEvents is one of every event, every user-typed text set to s.
func sampleEvents(s string) map[string]Event {
	score := 72.5
	visited := time.Date(2026, 3, 5, 11, 30, 0, 0, time.UTC)
	staff := []Staff{{Name: s + " staff", EmployeeNumber: "0042"}}
	action := Action{ActionID: "act-7", Store: Store{Code: "M-014", Name: s + " store"}, Question: s + " question",
		Clause: "SB-4.2", VisitID: "visit-7", VisitedAt: visited, Staff: staff, Due: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)}
	events := map[string]Event{
		"visit_returned": VisitReturned{VisitID: "visit-7", Store: action.Store, Checklist: s + " checklist", VisitedAt: visited,
			Score: &score, Staff: staff, ReviewerName: s + " reviewer", Reason: s + " reason"},
		"reviews_waiting": ReviewsWaiting{LimitDays: 3, Visits: []WaitingVisit{
			{VisitID: "visit-7", Store: action.Store, Checklist: s + " checklist", ShopperName: s + " shopper", VisitedAt: visited, Score: &score, DaysWaiting: 4},
			{VisitID: "visit-8", Store: Store{Code: "M-015", Name: s + " other"}, Checklist: s + " checklist", ShopperName: s + " shopper", VisitedAt: visited, DaysWaiting: 5},
		}},
		"action_assigned": ActionAssigned{Action: action, OwnerName: s + " owner", AssignedBy: s + " manager"},
		"action_overdue":  ActionOverdue{Action: action, OwnerName: s + " owner", DaysOverdue: 2},
		"bonus_run_ready": BonusRunReady{RunID: "run-3", Policy: s + " policy", Year: 2026, Month: time.March, Employees: 12,
			TotalMinor: 123456789, Currency: "RUB", ComputedBy: s + " hr", ComputedAt: visited},
	}
	var all []Event
	for _, name := range eventNames {
		if e, ok := events[name]; ok {
			all = append(all, e)
		}
	}
	events["digest"] = NewDigest(visited, all)
	return events
}

func TestEveryEventRendersInEveryLanguage(t *testing.T) {
	events := sampleEvents("Zed")
	require.Len(t, events, len(eventNames), "every event has a sample")
	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	for _, name := range eventNames {
		for _, l := range Languages() {
			c, err := events[name].Render(Reader{Locale: l, TimeZone: msk, ConsoleURL: "https://audit.example.com"})
			require.NoError(t, err, "%s.%s", name, l)
			assert.NotEmpty(t, c.Subject, "%s.%s", name, l)
			assert.NotContains(t, c.Subject, "\n")
			assert.True(t, strings.HasSuffix(c.Text, "\n") && !strings.Contains(c.Text, "\n\n\n"), "%s.%s: tidy text", name, l)
			assert.Contains(t, c.HTML, `<html lang="`+l+`">`)
			assert.Contains(t, c.HTML, "<title>"+c.Subject+"</title>")
			cyrillic := strings.ContainsFunc(c.Subject+c.Text+c.HTML, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) })
			assert.Equal(t, l == "ru", cyrillic, "%s.%s is in its language (user text here is ASCII)", name, l)
			for _, body := range []string{c.Text, c.HTML} {
				if name != "bonus_run_ready" { // a run is the organisation's, not a store's
					assert.Contains(t, body, "M-014", "%s.%s names the store by code", name, l)
				}
				assert.Contains(t, body, "Zed", "%s.%s names people and things", name, l)
				if name != "visit_returned" { // shoppers correct visits in the app, not the console
					assert.Contains(t, body, "https://audit.example.com/", "%s.%s links to the console", name, l)
				}
				assert.NotContains(t, body, "<no value>")
			}
			if name != "bonus_run_ready" {
				assert.Contains(t, c.Text, "14:30 MSK", "%s.%s: the visit's time in the organisation's zone", name, l)
			}
		}
	}
}

func TestRenderedTextSpeaksTheReadersLanguage(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	events := sampleEvents("Анна")
	ru, err := events["bonus_run_ready"].Render(Reader{Locale: "ru-RU", TimeZone: msk, ConsoleURL: "https://audit.example.com"})
	require.NoError(t, err)
	assert.Equal(t, "Расчёт премий ждёт утверждения: Анна policy, март 2026", ru.Subject)
	assert.Contains(t, ru.Text, "Итого: 1\u00a0234\u00a0567,89\u00a0₽")
	assert.Contains(t, ru.Text, "Проверить и утвердить: https://audit.example.com/hr/runs/run-3")
	en, err := events["bonus_run_ready"].Render(Reader{Locale: "en", TimeZone: msk})
	require.NoError(t, err)
	assert.Equal(t, "Bonus run awaiting approval: Анна policy, March 2026", en.Subject)
	assert.Contains(t, en.Text, "Total: ₽1,234,567.89")
	assert.NotContains(t, en.Text, "http", "no console address, no link")
	assert.NotContains(t, en.HTML, "<a ")

	waiting, err := events["reviews_waiting"].Render(Reader{Locale: "ru", TimeZone: msk})
	require.NoError(t, err)
	assert.Equal(t, "2 визита ждут проверки дольше 3 дней", waiting.Subject)
	assert.Contains(t, waiting.Text, "ждёт 4 дня")
	assert.Contains(t, waiting.Text, "ждёт 5 дней")
	assert.Contains(t, waiting.Text, "оценка 72,5\u00a0%")
	assert.Contains(t, waiting.Text, "оценка —", "a visit with nothing applicable")

	returned, err := events["visit_returned"].Render(Reader{Locale: "ru", TimeZone: msk})
	require.NoError(t, err)
	assert.Contains(t, returned.Text, "Сотрудники: Анна staff (таб. № 0042)")
	assert.Contains(t, returned.Text, "Проверяющий: Анна reviewer")
	assert.NotContains(t, returned.Text, "visit-7", "ids stay out of what people read")
}

func TestRenderEscapesUserTextInHTML(t *testing.T) {
	evil := `<script>alert("x")</script><a href="javascript:x">&`
	for name, e := range sampleEvents(evil) {
		for _, l := range Languages() {
			c, err := e.Render(Reader{Locale: l, ConsoleURL: "https://audit.example.com"})
			require.NoError(t, err)
			assert.NotContains(t, c.HTML, "<script>", "%s.%s", name, l)
			assert.NotContains(t, c.HTML, `href="javascript:`, "%s.%s", name, l)
			assert.Contains(t, c.HTML, "&lt;script&gt;", "%s.%s", name, l)
			assert.Contains(t, c.Text, evil, "%s.%s: the plain part shows the text as typed", name, l)
		}
	}
	// A console address that is not http(s) never becomes a link target.
	c, err := sampleEvents("x")["bonus_run_ready"].Render(Reader{Locale: "en", ConsoleURL: "javascript:alert(1)//"})
	require.NoError(t, err)
	assert.NotContains(t, c.HTML, `href="javascript:`)
}

func TestSubjectIsOneLine(t *testing.T) {
	c, err := sampleEvents("Тверская\r\nBcc: evil@example.com")["action_overdue"].Render(Reader{Locale: "ru"})
	require.NoError(t, err)
	assert.Equal(t, "Просрочено корректирующее действие: M-014 «Тверская Bcc: evil@example.com store», SB-4.2 (срок 12.03.2026)", c.Subject)
}

// TestItemsRoundTrip: every kept event reads back as it was, and the
// digest of them holds each once, under its kind.
func TestItemsRoundTrip(t *testing.T) {
	events := sampleEvents("Zed")
	var back []Event
	for _, name := range eventNames {
		if name == "digest" {
			_, err := Encode(events[name])
			assert.Error(t, err, "a digest is made when sent, not kept")
			continue
		}
		it, err := Encode(events[name])
		require.NoError(t, err)
		assert.Equal(t, name, it.Kind)
		e, err := it.Decode()
		require.NoError(t, err)
		assert.Equal(t, events[name], e, name)
		back = append(back, e)
	}
	d := NewDigest(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), back)
	assert.Equal(t, 5, d.Count())
	_, err := Item{Kind: "nope", Data: []byte("{}")}.Decode()
	assert.Error(t, err)
}
