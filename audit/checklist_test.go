package audit

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleChecklist() Checklist {
	return Checklist{
		ID: "c1", Name: "Sample", Channel: ChannelStoreVisit, Standards: testStandards,
		Sections: []Section{{ID: "s", Title: "S", Questions: []Question{
			{ID: "a", Type: QuestionYesNo, Text: "A", StandardCode: "SPD-1"},
			{ID: "b", Type: QuestionNumeric, Text: "B", Target: &Target{AtMost, 5}, Unit: "min"},
		}}},
	}
}

func TestPublish(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t.Run("OK", func(t *testing.T) {
		c := sampleChecklist()
		draft := NewDraft(&c, 1)
		v, err := Publish(draft, at)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "state", v.State, VersionPublished)
		equal(t, "published at", v.PublishedAt, at)
		want, _ := c.ContentHash()
		equal(t, "hash", v.ContentHash, want)
		equal(t, "hash length", len(v.ContentHash), 64)
		equal(t, "draft untouched", draft.State, VersionDraft)
		equal(t, "verify", v.Verify(), nil)
	})
	t.Run("ImmutableAfterPublish", func(t *testing.T) {
		c := sampleChecklist()
		draft := NewDraft(&c, 1)
		v, err := Publish(draft, at)
		if err != nil {
			t.Fatal(err)
		}
		// Editing the draft or the source checklist does not reach the
		// published version: it holds its own copy.
		draft.Content.Sections[0].Questions[1].Target.Value = 50
		c.Sections[0].Questions[0].Text = "changed"
		equal(t, "verify", v.Verify(), nil)
		near(t, "target", v.Content.Sections[0].Questions[1].Target.Value, 5)
		// Editing the published version itself is detected.
		v.Content.Sections[0].Questions[0].Critical = true
		equal(t, "verify code", ErrorCode(v.Verify()), EPRECONDITION)
	})
	t.Run("ErrNotDraft", func(t *testing.T) {
		c := sampleChecklist()
		v, _ := Publish(NewDraft(&c, 1), at)
		_, err := Publish(v, at)
		equal(t, "code", ErrorCode(err), EPRECONDITION)
		mgr := Scope{ManagerID: "m"}
		_, err = Retire(v, mgr, []string{"B-1"})
		equal(t, "retire in use at another manager's store", ErrorCode(err), EFORBIDDEN)
		if _, err := Retire(v, Scope{All: true}, []string{"B-1"}); err != nil {
			t.Errorf("an admin may retire a version in use anywhere: %v", err)
		}
		r, err := Retire(v, mgr, nil)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "retired", r.State, VersionRetired)
		equal(t, "published still", v.State, VersionPublished)
		_, err = Publish(r, at)
		equal(t, "code after retire", ErrorCode(err), EPRECONDITION)
		_, err = Retire(r, mgr, nil)
		equal(t, "retire twice", ErrorCode(err), EPRECONDITION)
		_, err = Retire(NewDraft(&c, 2), mgr, nil)
		equal(t, "retire draft", ErrorCode(err), EPRECONDITION)
		if _, err := Score(r, []Answer{yes("a")}); err != nil {
			t.Errorf("a retired version still scores: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		c := sampleChecklist()
		c.Sections[0].Questions[1].Target = nil
		_, err := Publish(NewDraft(&c, 1), at)
		equal(t, "code", ErrorCode(err), EINVALID)
		equal(t, "message", ErrorMessage(err), `checklist c1: sections[0].questions[1]: numeric question needs a "target" such as {"op": "<=", "value": 30}`)
		c = sampleChecklist()
		_, err = Publish(NewDraft(&c, 0), at)
		equal(t, "version 0", ErrorCode(err), EINVALID)
	})
}

func TestChecklist_ContentHash(t *testing.T) {
	c := sampleChecklist()
	h1, err := c.ContentHash()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("StableAcrossReencoding", func(t *testing.T) {
		b, _ := json.Marshal(c)
		var back Checklist
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		h2, _ := back.ContentHash()
		equal(t, "hash", h2, h1)
	})
	t.Run("DefaultsAndStandardOrder", func(t *testing.T) {
		d := c.Clone()
		d.Sections[0].Questions[0].Weight = 1
		d.Standards = []Standard{d.Standards[1], d.Standards[0]}
		h2, _ := d.ContentHash()
		equal(t, "hash", h2, h1)
	})
	t.Run("ContentChangesHash", func(t *testing.T) {
		d := c.Clone()
		d.Sections[0].Questions[1].Target.Value = 6
		h2, _ := d.ContentHash()
		if h2 == h1 {
			t.Error("a changed target kept the hash")
		}
	})
	t.Run("NaNIsInvalid", func(t *testing.T) {
		d := c.Clone()
		d.Sections[0].Questions[1].Target.Value = nan()
		_, err := d.ContentHash()
		equal(t, "code", ErrorCode(err), EINVALID)
	})
}

func TestChecklist_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *Checklist)
		want string // a fragment of the message; "" for valid
	}{
		{"OK", func(c *Checklist) {}, ""},
		{"NoChannel", func(c *Checklist) { c.Channel = "fax" }, `unknown channel "fax"`},
		{"DuplicateQuestion", func(c *Checklist) { c.Sections[0].Questions[1].ID = "a" }, `duplicate question id "a"`},
		{"UnknownStandard", func(c *Checklist) { c.Sections[0].Questions[0].StandardCode = "X-1" }, `unknown standard "X-1"`},
		{"NegativeWeight", func(c *Checklist) { c.Sections[0].Questions[0].Weight = -1 }, `"weight" must be > 0`},
		{"CapOver100", func(c *Checklist) { c.CriticalCap.Percent = 101 }, `within 0..100`},
		{"BadOp", func(c *Checklist) { c.Sections[0].Questions[1].Target.Op = "<" }, `target "op" must be "<=" or ">=", not "<"`},
		{"FieldOfOtherType", func(c *Checklist) { c.Sections[0].Questions[0].ScaleMax = 5 }, `"scale_max" applies only to scale questions`},
		{"CriticalText", func(c *Checklist) {
			c.Sections[0].Questions[0] = Question{ID: "a", Type: QuestionText, Text: "T", Critical: true}
		}, "text question is not scored and cannot be critical"},
		{"ImpossibleRule", func(c *Checklist) {
			c.Sections[0].Questions[0].Rules = []Rule{{When: Condition{Answer: "maybe"}, Require: Requirement{Note: true}}}
		}, `yes_no question has no answer "maybe"`},
		{"EmptyRule", func(c *Checklist) {
			c.Sections[0].Questions[0].Rules = []Rule{{When: Condition{Answer: "no"}}}
		}, `rule must require a "note" or "photos"`},
		{"NoSections", func(c *Checklist) { c.Sections = nil }, "at least one section"},
		{"HugeWeight", func(c *Checklist) { c.Sections[0].Questions[0].Weight = 1e308 }, `"weight" must be > 0 and at most 1000`},
		{"NaNWeight", func(c *Checklist) { c.Sections[0].Questions[0].Weight = math.NaN() }, `"weight"`},
		{"HugeTarget", func(c *Checklist) { c.Sections[0].Questions[1].Target.Value = -1e300 }, `target "value" must be a finite number`},
		{"HugeOptionPoints", func(c *Checklist) {
			c.Sections[0].Questions[0] = Question{ID: "a", Type: QuestionSingleChoice, Text: "A",
				Options: []Option{{Value: "x", Points: 1e308}, {Value: "y", Points: 1}}}
		}, `option "points" must be 0 to 1000000`},
		{"HugeScalePoints", func(c *Checklist) {
			c.Sections[0].Questions[0] = Question{ID: "a", Type: QuestionScale, Text: "A", ScaleMax: 2, ScalePoints: []float64{0, math.Inf(1)}}
		}, `"scale_points" must be 0 to`},
		{"HugeMaxPoints", func(c *Checklist) {
			c.Sections[0].Questions[0] = Question{ID: "a", Type: QuestionMultiChoice, Text: "A", MaxPoints: 1e9,
				Options: []Option{{Value: "x", Points: 1}}}
		}, `"max_points" must be > 0 and at most`},
		{"ManyPhotos", func(c *Checklist) {
			c.Sections[0].Questions[0] = Question{ID: "a", Type: QuestionPhoto, Text: "A", PhotoCount: 1 << 20}
		}, `"required_count" must be 0 to 50`},
		{"LongText", func(c *Checklist) { c.Sections[0].Questions[0].Text = strings.Repeat("x", MaxTextLen+1) }, `"text" has 2001 bytes`},
		{"LongName", func(c *Checklist) { c.Name = strings.Repeat("x", MaxNameLen+1) }, `"name" has 201 bytes`},
		{"LongSectionID", func(c *Checklist) { c.Sections[0].ID = strings.Repeat("x", MaxIDLen+1) }, `sections[0]: "id" has 129 bytes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sampleChecklist()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				equal(t, "error", err, nil)
				return
			}
			equal(t, "code", ErrorCode(err), EINVALID)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v does not mention %q", err, tc.want)
			}
		})
	}
}
