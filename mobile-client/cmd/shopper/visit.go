package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/mobile-client/field"
)

func init() {
	register(
		command{name: "visit start", run: (*app).visitStart,
			synopsis: "shopper visit start ASSIGNMENT_ID | shopper visit start --unplanned --checklist C --store S"},
		command{name: "visit answer", synopsis: "shopper visit answer VISIT QUESTION VALUE [--note TEXT]", run: (*app).visitAnswer},
		command{name: "visit timer", synopsis: "shopper visit timer start|stop VISIT QUESTION", run: (*app).visitTimer},
		command{name: "visit photo", synopsis: "shopper visit photo VISIT QUESTION PATH", run: (*app).visitPhoto},
		command{name: "visit note", synopsis: "shopper visit note VISIT [--question Q] TEXT", run: (*app).visitNote},
		command{name: "visit staff", synopsis: "shopper visit staff VISIT STAFF_ID | shopper visit staff VISIT --describe TEXT", run: (*app).visitStaff},
		command{name: "visit checkin", synopsis: "shopper visit checkin VISIT LATITUDE LONGITUDE [ACCURACY_METRES]", run: (*app).visitCheckIn},
		command{name: "visit checkout", synopsis: "shopper visit checkout VISIT LATITUDE LONGITUDE [ACCURACY_METRES]", run: (*app).visitCheckOut},
		command{name: "visit show", readOnly: true, synopsis: "shopper visit show VISIT", run: (*app).visitShow},
		command{name: "visit submit", synopsis: "shopper visit submit VISIT", run: (*app).visitSubmit},
		command{name: "visit correct", synopsis: "shopper visit correct VISIT", run: (*app).visitCorrect},
	)
}

// visitStart starts (or resumes) a visit of an assignment, or an
// unplanned one, and prints its id.
func (a *app) visitStart(fs *cli.FlagSet, args []string) error {
	unplanned := fs.Bool("unplanned", false, "a visit no assignment asked for")
	checklist := fs.String("checklist", "", "--unplanned: the checklist (see `shopper checklists`)")
	store := fs.String("store", "", "--unplanned: the store, by code")
	pos, err := a.args(fs, args, -1, "")
	if err != nil {
		return err
	}
	if *unplanned && (len(pos) != 0 || *checklist == "" || *store == "") {
		return fs.Usagef("visit start --unplanned takes --checklist C --store S (see `shopper checklists`)")
	}
	if !*unplanned && len(pos) != 1 {
		return fs.Usagef("visit start takes ASSIGNMENT_ID (see `shopper assignments`), or --unplanned --checklist C --store S")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var id string
	if *unplanned {
		id, err = c.StartUnplannedVisit(a.ctx, *checklist, *store)
	} else {
		id, err = c.StartVisit(a.ctx, pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, id)
	return nil
}

// visitAnswer records an answer, and a note on it with --note.
func (a *app) visitAnswer(fs *cli.FlagSet, args []string) error {
	note := fs.String("note", "", "a note on the answer")
	c, pos, err := a.parseOpen(fs, args, 3, "VISIT QUESTION VALUE")
	if err != nil {
		return err
	}
	pending, err := c.AnswerText(a.ctx, pos[0], pos[1], pos[2])
	if err != nil {
		return err
	}
	if *note != "" {
		if pending, err = c.AnswerNote(a.ctx, pos[0], pos[1], *note); err != nil {
			return err
		}
	}
	a.saved(pending)
	return nil
}

// visitTimer starts or stops a timer question's timer.
func (a *app) visitTimer(fs *cli.FlagSet, args []string) error {
	pos, err := a.args(fs, args, -1, "")
	if err != nil {
		return err
	}
	if len(pos) != 3 || (pos[0] != "start" && pos[0] != "stop") {
		return fs.Usagef("visit timer takes start|stop VISIT QUESTION")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if pos[0] == "start" {
		if err := c.TimerStart(a.ctx, pos[1], pos[2]); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "timer for %s started; stop it with `shopper visit timer stop %s %s`\n", pos[2], pos[1], pos[2])
		return nil
	}
	ms, pending, err := c.TimerStop(a.ctx, pos[1], pos[2])
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: %s\n", pos[2], time.Duration(ms)*time.Millisecond)
	a.saved(pending)
	return nil
}

// visitPhoto attaches a photo to a question.
func (a *app) visitPhoto(fs *cli.FlagSet, args []string) error {
	c, pos, err := a.parseOpen(fs, args, 3, "VISIT QUESTION PATH")
	if err != nil {
		return err
	}
	p, err := c.AddPhoto(a.ctx, pos[0], pos[1], pos[2])
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "photo %s[%d]: %s, %d bytes, sha256 %s\n", p.QuestionID, p.Index, p.ContentType, p.Size, p.SHA256)
	return nil
}

// visitNote sets the visit's notes, or with --question a note on one
// answer.
func (a *app) visitNote(fs *cli.FlagSet, args []string) error {
	question := fs.String("question", "", "the question the note is on")
	c, pos, err := a.parseOpen(fs, args, 2, "VISIT TEXT")
	if err != nil {
		return err
	}
	if *question != "" {
		pending, err := c.AnswerNote(a.ctx, pos[0], *question, pos[1])
		if err != nil {
			return err
		}
		a.saved(pending)
		return nil
	}
	return c.SetNotes(a.ctx, pos[0], pos[1])
}

// visitStaff names who served, or with --describe how they looked.
func (a *app) visitStaff(fs *cli.FlagSet, args []string) error {
	describeText := fs.String("describe", "", "how the staff member looked")
	pos, err := a.args(fs, args, -1, "")
	if err != nil {
		return err
	}
	named := *describeText == "" && len(pos) == 2
	if !named && (*describeText == "" || len(pos) != 1) {
		return fs.Usagef("visit staff takes VISIT STAFF_ID, or VISIT --describe TEXT")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if named {
		return c.SetStaff(a.ctx, pos[0], pos[1])
	}
	return c.DescribeStaff(a.ctx, pos[0], *describeText)
}

// visitCheckIn records where the visit began.
func (a *app) visitCheckIn(fs *cli.FlagSet, args []string) error {
	return a.visitPlace(fs, args, "checkin")
}

// visitCheckOut records where the visit ended.
func (a *app) visitCheckOut(fs *cli.FlagSet, args []string) error {
	return a.visitPlace(fs, args, "checkout")
}

// visitPlace records a check-in or check-out at LATITUDE LONGITUDE
// [ACCURACY_METRES]; negative coordinates are numbers, not flags.
func (a *app) visitPlace(fs *cli.FlagSet, args []string, sub string) error {
	pos, err := a.args(fs, args, -1, "")
	if err != nil {
		return err
	}
	if len(pos) != 3 && len(pos) != 4 {
		return fs.Usagef("visit %s takes VISIT LATITUDE LONGITUDE [ACCURACY_METRES]", sub)
	}
	var nums []float64
	for _, s := range pos[1:] {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fs.Usagef("visit %s: %q is not a number (write 55.7652, not 55°45')", sub, s)
		}
		nums = append(nums, x)
	}
	p := audit.GeoPoint{Latitude: nums[0], Longitude: nums[1]}
	if len(nums) == 3 {
		p.AccuracyMeters = nums[2]
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if sub == "checkin" {
		return c.CheckIn(a.ctx, pos[0], p)
	}
	return c.CheckOut(a.ctx, pos[0], p)
}

// visitShow prints a visit: its questions and answers, the score
// preview and what is still missing.
func (a *app) visitShow(fs *cli.FlagSet, args []string) error {
	c, pos, err := a.parseOpen(fs, args, 1, "VISIT")
	if err != nil {
		return err
	}
	return a.show(c, pos[0])
}

// visitSubmit queues a complete visit for sync.
func (a *app) visitSubmit(fs *cli.FlagSet, args []string) error {
	c, pos, err := a.parseOpen(fs, args, 1, "VISIT")
	if err != nil {
		return err
	}
	if err := c.Submit(a.ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "queued; run `shopper sync` when online")
	return nil
}

// visitCorrect starts a correction of a returned or rejected visit and
// prints its id.
func (a *app) visitCorrect(fs *cli.FlagSet, args []string) error {
	c, pos, err := a.parseOpen(fs, args, 1, "VISIT")
	if err != nil {
		return err
	}
	id, err := c.StartCorrection(a.ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, id)
	return nil
}

// saved confirms an answer and lists the evidence it still demands.
func (a *app) saved(pending []audit.AnswerError) {
	fmt.Fprintln(a.stdout, "saved")
	for _, e := range pending {
		fmt.Fprintf(a.stdout, "  still needed: %s\n", e.Error())
	}
}

func (a *app) show(c *field.Client, id string) error {
	d, err := c.Visit(a.ctx, id)
	if err != nil {
		return err
	}
	w := a.stdout
	v := d.Visit
	fmt.Fprintf(w, "visit %s  %s  %s %s (%s)  checklist %s v%d\n", v.ID, d.State, d.StoreCode, d.StoreName, v.StoreID, v.ChecklistID, v.ChecklistVersion)
	fmt.Fprintln(w, "(* must be answered before submit; choice questions list their options)")
	answers := map[string]audit.Answer{}
	for _, x := range v.Answers {
		answers[x.QuestionID] = x
	}
	for _, s := range d.Checklist.Sections {
		fmt.Fprintf(w, "\n[%s] %s\n", s.ID, s.Title)
		for _, q := range s.Questions {
			req := " "
			if q.MustAnswer() {
				req = "*"
			}
			fmt.Fprintf(w, " %s %-16s %-13s %s\n", req, q.ID, q.Type, q.Text)
			if q.Type == audit.QuestionPhoto && q.PhotoCount > 1 {
				fmt.Fprintf(w, "     (%d photos)\n", q.PhotoCount)
			}
			for _, o := range q.Options {
				fmt.Fprintf(w, "     - %-14s %s (%s points)\n", o.Value, o.Label, strconv.FormatFloat(o.Points, 'f', -1, 64))
			}
			if x, ok := answers[q.ID]; ok {
				fmt.Fprintf(w, "     = %s\n", render(x))
			}
		}
	}
	for _, t := range d.Timers {
		if t.ElapsedMS < 0 {
			fmt.Fprintf(w, "\ntimer %s: lost (the device restarted): start it again\n", t.QuestionID)
		} else {
			fmt.Fprintf(w, "\ntimer %s running: %s\n", t.QuestionID, time.Duration(t.ElapsedMS)*time.Millisecond)
		}
	}
	if v.StaffID != "" || v.StaffDescription != "" {
		fmt.Fprintf(w, "\nstaff: %s%s\n", v.StaffID, v.StaffDescription)
	}
	for _, p := range []struct {
		what string
		at   *audit.GeoPoint
	}{{"check-in", v.CheckIn}, {"check-out", v.CheckOut}} {
		if p.at != nil {
			fmt.Fprintf(w, "%s: %.6f, %.6f (±%.0f m)\n", p.what, p.at.Latitude, p.at.Longitude, p.at.AccuracyMeters)
		}
	}
	if v.Notes != "" {
		fmt.Fprintf(w, "notes: %s\n", v.Notes)
	}
	if p := d.Preview.Overall.Percent; p != nil {
		fmt.Fprintf(w, "\nscore preview: %.1f%% (%.2f of %.2f points)\n", *p, d.Preview.Overall.Points, d.Preview.Overall.Max)
	} else {
		fmt.Fprintln(w, "\nscore preview: nothing scorable answered yet")
	}
	if len(d.Missing) > 0 {
		fmt.Fprintln(w, "still missing before submit:")
		for _, e := range d.Missing {
			fmt.Fprintf(w, "  %s\n", e.Error())
		}
	} else if d.State == field.StateDraft {
		fmt.Fprintf(w, "complete: submit with `shopper visit submit %s`\n", v.ID)
	}
	if r := d.Receipt; r != nil {
		fmt.Fprintf(w, "server: %s", r.State)
		if r.ScorePercent != nil {
			fmt.Fprintf(w, ", score %.1f%%", *r.ScorePercent)
		}
		fmt.Fprintf(w, ", %d photo(s) missing\n", len(r.Missing))
	}
	if o := d.Rejection; o != nil {
		fmt.Fprintf(w, "rejected: %s: %s\n", o.ErrorCode, o.ErrorMessage)
	}
	return nil
}

// render shows an answer's value and evidence.
func render(a audit.Answer) string {
	var parts []string
	switch {
	case a.NA:
		parts = append(parts, "n/a")
	case a.Bool != nil:
		parts = append(parts, map[bool]string{true: "yes", false: "no"}[*a.Bool])
	case a.Number != nil:
		parts = append(parts, strconv.FormatFloat(*a.Number, 'f', -1, 64))
	case a.DurationMS != nil:
		parts = append(parts, (time.Duration(*a.DurationMS) * time.Millisecond).String())
	case a.Choices != nil:
		parts = append(parts, strings.Join(a.Choices, ", "))
	case a.Text != "":
		parts = append(parts, strconv.Quote(a.Text))
	default:
		parts = append(parts, "(no value yet)")
	}
	if a.Note != "" {
		parts = append(parts, "note: "+strconv.Quote(a.Note))
	}
	if n := len(a.PhotoHashes); n > 0 {
		parts = append(parts, fmt.Sprintf("%d photo(s)", n))
	}
	return strings.Join(parts, "; ")
}
