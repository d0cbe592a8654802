package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopscore/shopscore/audit/demopack"
)

func TestParsePack_Demo(t *testing.T) {
	p, err := ParsePack("demo-pack.json", demopack.JSON)
	if err != nil {
		t.Fatalf("the demo pack does not parse:\n%v", err)
	}
	equal(t, "format", p.Format, PackFormat)
	categories := map[Category]bool{}
	for _, s := range p.Standards {
		categories[s.Category] = true
	}
	for _, c := range []Category{CategoryPoliteness, CategorySpeed, CategoryMerchandising, CategoryPriceTags, CategoryBackOffice,
		CategoryCleanliness, CategoryDelivery, CategoryCompetence, CategoryCommunication, CategoryRecommendation} {
		if !categories[c] {
			t.Errorf("the demo pack has no standard in category %s", c)
		}
	}
	channels := map[Channel]bool{}
	for i := range p.Checklists {
		c := &p.Checklists[i]
		channels[c.Channel] = true
		v, err := Publish(NewDraft(c, 1), testTime)
		if err != nil {
			t.Errorf("checklist %s does not publish: %v", c.ID, err)
			continue
		}
		if _, err := Score(v, nil); err != nil {
			t.Errorf("checklist %s does not score: %v", c.ID, err)
		}
		for _, s := range c.Sections {
			for _, q := range s.Questions {
				if _, ok := c.Standard(q.StandardCode); q.StandardCode != "" && !ok {
					t.Errorf("checklist %s lacks standard %s", c.ID, q.StandardCode)
				}
			}
		}
	}
	for _, ch := range []Channel{ChannelStoreVisit, ChannelBackOfficeCall, ChannelDelivery, ChannelEmail} {
		if !channels[ch] {
			t.Errorf("the demo pack has no %s checklist", ch)
		}
	}
}

func TestParsePack_Errors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"minimal.json", nil},
		{"syntax.json", []string{
			`syntax.json:4:3: invalid character '"' after object key:value pair`,
		}},
		{"truncated.json", []string{
			// The tail is encoding/json's own words, which differ between
			// Go releases ("in string literal" until go1.26, "in string" on).
			`truncated.json:4:39: standards[0].clause: ` + jsonSyntaxMessage(t, "\"a\n\""),
		}},
		{"unknown-field.json", []string{
			`unknown-field.json:5:82: standards[0]: unknown field "Owner"`,
			`unknown-field.json:14:65: checklists[0].sections[0].questions[0]: unknown field "pass_when"`,
		}},
		{"wrong-type.json", []string{
			`wrong-type.json:12:72: checklists[0].sections[0].questions[0].scale_max: want a whole number, not string`,
		}},
		{"semantic.json", []string{
			`semantic.json:2:13: "format" must be "shopscore.pack/v1", not "shopscore.pack/v0"`,
			`semantic.json:6:14: standards[1]: duplicate standard code "SPD-1"`,
			`semantic.json:7:33: standards[2]: "clause" is required`,
			`semantic.json:7:49: standards[2]: "category" must be a lower-case identifier such as "politeness"`,
			`semantic.json:13:18: checklists[0]: unknown channel "store" (want one of store_visit, phone_call, back_office_call, email, chat, social, delivery)`,
			`semantic.json:14:33: checklists[0].critical_cap: critical cap "scope" must be "visit" or "section", not "store"`,
			`semantic.json:17:84: checklists[0].sections[0].questions[0]: unknown standard "SPD-9"`,
			`semantic.json:17:101: checklists[0].sections[0].questions[0]: timer question needs "unit" ms, s, min or h, not "sec"`,
			`semantic.json:18:22: checklists[0].sections[0].questions[0]: target "op" must be "<=" or ">=", not "<"`,
			`semantic.json:19:18: checklists[0].sections[0].questions[1]: duplicate question id "greet"`,
			`semantic.json:19:75: checklists[0].sections[0].questions[1]: "weight" must be > 0`,
			`semantic.json:20:11: checklists[0].sections[0].questions[2]: scale question needs "scale_max" >= 2 and <= 100`,
			`semantic.json:21:11: checklists[0].sections[0].questions[3]: single_choice question needs "options"`,
			`semantic.json:23:42: checklists[0].sections[0].questions[4].rules[0].when: yes_no question has no answer "maybe" (want "yes" or "no")`,
			`semantic.json:24:72: checklists[0].sections[0].questions[5]: text question is not scored and cannot be critical`,
			`semantic.json:28:12: checklists[1]: duplicate checklist id "visit"`,
			`semantic.json:28:70: checklists[1]: checklist needs at least one section`,
		}},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParsePack(tc.file, data)
			equal(t, "errors", packMessages(t, err), tc.want)
		})
	}
}

func TestParsePack_Inline(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"Empty", ``, []string{`p.json:1:1: unexpected end of file`}},
		{"EOF", "{\n  \"format\": \"shopscore.pack/v1\",", []string{`p.json:2:33: unexpected end of file`}},
		{"Trailing", "{}\n{}", []string{`p.json:2:1: invalid character '{' after top-level value`}},
		{"NotAnObject", `[1]`, []string{`p.json:1:1: want an object, not array`}},
		{"DuplicateKey", `{"name": "a", "name": "b"}`, []string{`p.json:1:15: duplicate key "name"`}},
		{"CaseMismatch", `{"Format": "shopscore.pack/v1"}`, []string{`p.json:1:2: unknown field "Format" (did you mean "format"?)`}},
		{"TooDeep", strings.Repeat("[", 40) + strings.Repeat("]", 40), []string{`p.json:1:34: [0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: values are nested too deeply`}},
		{"BracketInKey", `{"a[b": 1}`, []string{`p.json:1:2: unknown field "a[b"`}},
		{"KeyLikeAPath", `{"checklists": [{"sections[0]": {"x": 1}}]}`, []string{`p.json:1:18: checklists[0]: unknown field "sections[0]"`}},
		{"NonASCIIColumns", "{\"name\": \"Магазин\", \"formt\": 1}", []string{`p.json:1:21: unknown field "formt"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePack("p.json", []byte(tc.data))
			equal(t, "errors", packMessages(t, err), tc.want)
		})
	}
}

func TestPackErrors_Code(t *testing.T) {
	_, err := ParsePack("p.json", []byte(`{`))
	equal(t, "code", ErrorCode(err), EINVALID)
	equal(t, "message", ErrorMessage(err), "p.json:1:2: unexpected end of file")
	var pe PackErrors
	if !errors.As(err, &pe) || pe[0].Line != 1 || pe[0].Col != 2 || pe[0].File != "p.json" {
		t.Errorf("errors.As(PackErrors) = %v", pe)
	}
}

// packMessages returns the messages of a ParsePack error, nil for none.
func packMessages(tb testing.TB, err error) []string {
	tb.Helper()
	if err == nil {
		return nil
	}
	var pe PackErrors
	if !errors.As(err, &pe) {
		tb.Fatalf("ParsePack error %T is not PackErrors: %v", err, err)
	}
	msgs := make([]string, len(pe))
	for i, e := range pe {
		msgs[i] = e.Error()
	}
	return msgs
}

func FuzzParsePack(f *testing.F) {
	f.Add(demopack.JSON)
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePack("fuzz.json", data)
		if err != nil {
			var pe PackErrors
			if !errors.As(err, &pe) || len(pe) == 0 {
				t.Fatalf("error %T %v is not a non-empty PackErrors", err, err)
			}
			lines := strings.Count(string(data), "\n") + 1
			for _, e := range pe {
				if e.Line < 1 || e.Line > lines || e.Col < 1 || e.File != "fuzz.json" || e.Msg == "" {
					t.Fatalf("badly located error %+v in %d lines", e, lines)
				}
			}
			return
		}
		for i := range p.Checklists {
			v, err := Publish(NewDraft(&p.Checklists[i], 1), testTime)
			if err != nil {
				t.Fatalf("a parsed checklist does not publish: %v", err)
			}
			if _, err := Score(v, nil); err != nil {
				t.Fatalf("a parsed checklist does not score: %v", err)
			}
		}
	})
}

// jsonSyntaxMessage returns encoding/json's message for the syntax error
// in data.
func jsonSyntaxMessage(tb testing.TB, data string) string {
	tb.Helper()
	var v any
	err := json.Unmarshal([]byte(data), &v)
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		tb.Fatalf("%q: want a syntax error, got %v", data, err)
	}
	return syn.Error()
}
