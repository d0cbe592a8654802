package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// The events that send e-mail (issue 16), each a typed value with names,
// not ids (ids only make links), and each rendered by its Render method
// into the reader's language from the templates in templates/:
// <event>.<lang>.txt defines "subject" and "text" (text/template), and
// <event>.<lang>.html defines "body" (html/template, inside the layout,
// so that every user-typed text is escaped).

// Store names a store.
type Store struct {
	Code string
	Name string
}

// Staff names an audited employee.
type Staff struct {
	Name           string
	EmployeeNumber string
}

// Event is what the messages are rendered from.
type Event interface {
	Render(r Reader) (Content, error)
}

// VisitReturned: a reviewer sent a visit back to its shopper for
// correction. To the shopper.
type VisitReturned struct {
	VisitID      string
	Store        Store
	Checklist    string // the checklist's title
	VisitedAt    time.Time
	Score        *float64 // nil: nothing applicable
	Staff        []Staff  // the employees the visit names
	ReviewerName string
	Reason       string // the reviewer's words
}

// ReviewsWaiting: visits have waited for review longer than the
// organisation's limit. To a manager of their stores; also the daily
// digest's shape.
type ReviewsWaiting struct {
	LimitDays int
	Visits    []WaitingVisit
}

// WaitingVisit is one visit of ReviewsWaiting.
type WaitingVisit struct {
	VisitID     string
	Store       Store
	Checklist   string
	ShopperName string
	VisitedAt   time.Time
	Score       *float64
	DaysWaiting int
}

// Action is a corrective action as its messages show it.
type Action struct {
	ActionID  string
	Store     Store
	Question  string // the question's text
	Clause    string // the standard's code and clause ("SB-4.2")
	Critical  bool   // opened by a failed critical question
	VisitID   string
	VisitedAt time.Time
	Staff     []Staff
	Due       time.Time // the day it is due, in the organisation's zone
}

// ActionAssigned: an action was opened for its owner or reassigned to
// him. To the owner. AssignedBy is empty when a failed question opened it.
type ActionAssigned struct {
	Action     Action
	OwnerName  string
	AssignedBy string
}

// ActionOverdue: an action passed its due day unfinished. To its owner
// and the store's manager.
type ActionOverdue struct {
	Action      Action
	OwnerName   string
	DaysOverdue int
}

// BonusRunReady: a bonus run was computed and waits for approval. To HR.
type BonusRunReady struct {
	RunID      string
	Policy     string // the policy's name
	Year       int
	Month      time.Month
	Employees  int
	TotalMinor int64  // the run's total in minor units
	Currency   string // ISO 4217, the organisation's
	ComputedBy string
	ComputedAt time.Time
}

// Render writes the message to the shopper.
func (e VisitReturned) Render(r Reader) (Content, error) { return render("visit_returned", r, e) }

// Render writes the message to the manager.
func (e ReviewsWaiting) Render(r Reader) (Content, error) { return render("reviews_waiting", r, e) }

// Render writes the message to the action's owner.
func (e ActionAssigned) Render(r Reader) (Content, error) { return render("action_assigned", r, e) }

// Render writes the message to the owner or the manager.
func (e ActionOverdue) Render(r Reader) (Content, error) { return render("action_overdue", r, e) }

// Render writes the message to HR.
func (e BonusRunReady) Render(r Reader) (Content, error) { return render("bonus_run_ready", r, e) }

// Digest is the day's messages of one reader in one e-mail, each kind
// listed under its heading (the daily digest, docs/DESIGN.md §12).
type Digest struct {
	Day             time.Time // the digest's day, in the organisation's zone
	VisitsReturned  []VisitReturned
	ReviewsWaiting  []ReviewsWaiting
	ActionsAssigned []ActionAssigned
	ActionsOverdue  []ActionOverdue
	BonusRuns       []BonusRunReady
}

// Count is how many messages the digest holds.
func (d Digest) Count() int {
	return len(d.VisitsReturned) + len(d.ReviewsWaiting) + len(d.ActionsAssigned) + len(d.ActionsOverdue) + len(d.BonusRuns)
}

// Render writes the digest.
func (d Digest) Render(r Reader) (Content, error) { return render("digest", r, d) }

//go:embed templates/*
var templateFiles embed.FS

// eventNames are the events with templates; init parses every one in
// every language, so a missing or broken template stops the program at
// start (and TestTemplatesParse) rather than at the first e-mail.
var eventNames = []string{"visit_returned", "reviews_waiting", "action_assigned", "action_overdue", "bonus_run_ready", "digest"}

type pair struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var templates = parseTemplates()

func parseTemplates() map[string]pair {
	out := map[string]pair{}
	for _, name := range eventNames {
		for _, l := range Languages() {
			t := texttemplate.Must(texttemplate.New("").Option("missingkey=error").
				ParseFS(templateFiles, "templates/_*."+l+".txt", "templates/"+name+"."+l+".txt"))
			h := htmltemplate.Must(htmltemplate.New("").Option("missingkey=error").
				ParseFS(templateFiles, "templates/_*."+l+".html", "templates/"+name+"."+l+".html"))
			out[name+"."+l] = pair{t, h}
		}
	}
	return out
}

// view is what every template gets: L formats, E is the event.
type view struct {
	L       *lang
	E       any
	Subject string // for the HTML title; set once the subject is rendered
}

func render(name string, r Reader, e any) (Content, error) {
	l := newLang(r)
	p := templates[name+"."+l.Code]
	v := view{L: l, E: e}
	var subject, text, html bytes.Buffer
	if err := p.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Content{}, fmt.Errorf("notify: %s subject: %w", name, err)
	}
	v.Subject = headerText(subject.String())
	if err := p.text.ExecuteTemplate(&text, "text", v); err != nil {
		return Content{}, fmt.Errorf("notify: %s text: %w", name, err)
	}
	if err := p.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Content{}, fmt.Errorf("notify: %s html: %w", name, err)
	}
	return Content{Subject: v.Subject, Text: tidyText(text.String()), HTML: html.String()}, nil
}

// tidyText drops the blank lines templates leave around their actions
// (at most one empty line in a row) and ends the text with one newline.
func tidyText(s string) string {
	var out []string
	blank := 0
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}
