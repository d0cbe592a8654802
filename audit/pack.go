package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PackFormat is the "format" every standards pack declares.
const PackFormat = "shopscore.pack/v1"

// maxPackDepth bounds the nesting of a pack file; a real pack nests about
// eight levels deep.
const maxPackDepth = 32

// Pack is a parsed standards pack: the corporate standards and the
// checklists that check them. Each checklist carries the standards its
// questions reference, ready to become a draft version.
//
// A pack is written by hand as JSON (a YAML reader would need a dependency
// and the audit package uses only the standard library):
//
//	{
//	  "format": "shopscore.pack/v1",
//	  "name": "Demo",
//	  "standards": [
//	    {"code": "SPD-1", "clause": "Greet a customer within 30 seconds.", "category": "speed"}
//	  ],
//	  "checklists": [{
//	    "id": "store-visit", "name": "Store visit", "channel": "store_visit",
//	    "critical_cap": {"scope": "visit", "percent": 0},
//	    "sections": [{"id": "entrance", "title": "Entrance", "questions": [
//	      {"id": "greet_time", "type": "timer", "text": "Seconds until greeted",
//	       "standard": "SPD-1", "unit": "s", "target": {"op": "<=", "value": 30},
//	       "weight": 2, "required": true},
//	      {"id": "tags_ok", "type": "yes_no", "text": "Price tags present?",
//	       "rules": [{"when": {"answer": "no"}, "require": {"note": true, "photos": 1}}]}
//	    ]}]
//	  }]
//	}
type Pack struct {
	Format     string
	Name       string
	Standards  []Standard
	Checklists []Checklist
}

// Checklist returns the pack's checklist with the given ID.
func (p *Pack) Checklist(id string) (*Checklist, bool) {
	for i := range p.Checklists {
		if p.Checklists[i].ID == id {
			return &p.Checklists[i], true
		}
	}
	return nil, false
}

// packFile is the JSON layout of a pack.
type packFile struct {
	Format     string          `json:"format"`
	Name       string          `json:"name"`
	Standards  []Standard      `json:"standards"`
	Checklists []packChecklist `json:"checklists"`
}

// packChecklist is a checklist as a pack writes it: its standards are the
// pack's.
type packChecklist struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	Channel        Channel     `json:"channel"`
	AllowUnplanned bool        `json:"allow_unplanned"`
	CriticalCap    CriticalCap `json:"critical_cap"`
	Sections       []Section   `json:"sections"`
}

// PackError is one problem of a pack file: where it is (line and column,
// both from 1, the column counted in characters) and the path of the value
// that is wrong ("checklists[0].sections[1].questions[3]").
type PackError struct {
	File string
	Line int
	Col  int
	Path string
	Msg  string
}

// Error renders the problem as "file:line:col: path: msg".
func (e PackError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Path, e.Msg)
}

// PackErrors is every problem found in a pack file, in the order of the
// file where possible.
type PackErrors []PackError

// Error renders one problem per line.
func (es PackErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// As lets errors.As see pack errors as a domain error with code EINVALID,
// so that ErrorCode and ErrorMessage classify them.
func (es PackErrors) As(target any) bool {
	if t, ok := target.(**Error); ok {
		*t = &Error{Code: EINVALID, Message: es.Error()}
		return true
	}
	return false
}

// ParsePack parses and validates a standards pack. name is the file name
// used in error messages. It returns PackErrors listing every problem it
// finds: a syntax error alone, else every unknown or duplicate key and
// wrongly typed value, else every semantic problem (missing fields,
// duplicate codes and IDs, unknown standards, weights <= 0, bad targets,
// choices without options, rules that can never apply). PackErrors
// classifies as EINVALID.
func ParsePack(name string, data []byte) (*Pack, error) {
	p := &packParser{file: name, data: data, spans: map[string]span{}}
	if err := p.walk(); err != nil {
		return nil, PackErrors{p.syntaxError(err)}
	}
	p.checkKeys()
	var f packFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		p.decodeError(err)
	}
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	pack := p.build(&f)
	if len(p.errs) > 0 {
		return nil, p.sorted()
	}
	return pack, nil
}

// sorted returns the errors in file order.
func (p *packParser) sorted() PackErrors {
	slices.SortStableFunc(p.errs, func(a, b PackError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return p.errs
}

// span is where a value lies in the file: [start, end) byte offsets.
type span struct{ start, end int }

// keyAt is an object key as it appears in the file.
type keyAt struct {
	parent string // the path of the object
	key    string
	off    int
}

type packParser struct {
	file  string
	data  []byte
	dec   *json.Decoder
	spans map[string]span // the span of the value at each path
	keys  []keyAt         // every key, in file order
	path  string          // where the walk is, for syntax errors
	errs  PackErrors
}

// walk reads the whole file token by token, recording the span of every
// value and every key, and checks that nothing follows the top-level value.
func (p *packParser) walk() error {
	p.dec = json.NewDecoder(bytes.NewReader(p.data))
	p.dec.UseNumber()
	if err := p.value("", 0); err != nil {
		return err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the pack")
	}
	return nil
}

func (p *packParser) value(path string, depth int) error {
	p.path = path
	if depth > maxPackDepth {
		return errors.New("values are nested too deeply")
	}
	start := p.skip(int(p.dec.InputOffset()))
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for p.dec.More() {
			off := p.skip(int(p.dec.InputOffset()))
			k, err := p.dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				p.errs = append(p.errs, p.errorAt(off, path, fmt.Sprintf("duplicate key %q", key)))
			}
			seen[key] = true
			p.keys = append(p.keys, keyAt{path, key, off})
			if err := p.value(joinPath(path, keySegment(key)), depth+1); err != nil {
				return err
			}
			p.path = path
		}
	case json.Delim('['):
		for i := 0; p.dec.More(); i++ {
			if err := p.value(fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
			p.path = path
		}
	default:
		p.spans[path] = span{start, int(p.dec.InputOffset())}
		return nil
	}
	if _, err := p.dec.Token(); err != nil {
		return err
	}
	p.spans[path] = span{start, int(p.dec.InputOffset())}
	return nil
}

// keySegment renders an object key as a path segment: as it is when it is
// a plain name, else quoted in brackets (["odd key"]), so that no key can
// pass for another path.
func keySegment(key string) string {
	plain := key != ""
	for _, c := range key {
		plain = plain && (c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}
	if plain {
		return key
	}
	return "[" + strconv.Quote(key) + "]"
}

// skip returns the offset of the next token at or after off.
func (p *packParser) skip(off int) int {
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return off
}

// syntaxError locates an error of the token walk. The decoder's token
// offsets are relative to the token being read, so the position comes from
// a whole-file check, whose offset counts the byte that broke the syntax.
func (p *packParser) syntaxError(walkErr error) PackError {
	var se *json.SyntaxError
	if err := json.Unmarshal(p.data, new(json.RawMessage)); errors.As(err, &se) {
		if int(se.Offset) >= len(p.data) && strings.Contains(se.Error(), "end of JSON input") {
			return p.errorAt(len(p.data), p.path, "unexpected end of file")
		}
		return p.errorAt(int(se.Offset)-1, p.path, se.Error())
	}
	return p.errorAt(int(p.dec.InputOffset()), p.path, strings.TrimPrefix(walkErr.Error(), "json: "))
}

// checkKeys reports every key the pack format does not know.
func (p *packParser) checkKeys() {
	for _, k := range p.keys {
		t := deref(p.parentType(k.parent))
		if t == nil || t.Kind() != reflect.Struct {
			continue
		}
		var fold string
		known := false
		for i := 0; i < t.NumField(); i++ {
			name := jsonName(t.Field(i))
			known = known || name == k.key
			if strings.EqualFold(name, k.key) {
				fold = name
			}
		}
		if known {
			continue
		}
		msg := fmt.Sprintf("unknown field %q", k.key)
		if fold != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", fold)
		}
		p.errs = append(p.errs, p.errorAt(k.off, k.parent, msg))
	}
}

// parentType returns the Go type of the value at a path of the file, or
// nil when the path does not fit the pack format.
func (p *packParser) parentType(path string) reflect.Type {
	t := reflect.TypeFor[packFile]()
	for path != "" && t != nil {
		var seg string
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			if end < 0 || path[1] == '"' || t.Kind() != reflect.Slice {
				return nil // a quoted key is never a field of the format
			}
			path = path[end+1:]
			t = t.Elem()
			continue
		}
		path = strings.TrimPrefix(path, ".")
		end := strings.IndexAny(path, ".[")
		if end < 0 {
			end = len(path)
		}
		seg, path = path[:end], path[end:]
		t = fieldType(deref(t), seg)
	}
	return t
}

// deref dereferences pointer types.
func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func fieldType(t reflect.Type, name string) reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		if jsonName(t.Field(i)) == name {
			return t.Field(i).Type
		}
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// decodeError reports an error of the typed decode that checkKeys has not
// already reported.
func (p *packParser) decodeError(err error) {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		path := p.pathAt(int(te.Offset))
		p.errs = append(p.errs, p.errorAt(p.spans[path].start, path,
			fmt.Sprintf("want %s, not %s", describeType(te.Type), strings.TrimPrefix(te.Value, "number "))))
	case len(p.errs) == 0:
		p.errs = append(p.errs, p.errorAt(0, "", strings.TrimPrefix(err.Error(), "json: ")))
	}
}

// pathAt returns the innermost path whose value holds byte offset off.
func (p *packParser) pathAt(off int) string {
	best, bestStart := "", -1
	for path, s := range p.spans {
		if s.start < off && off <= s.end && (s.start > bestStart || s.start == bestStart && len(path) > len(best)) {
			best, bestStart = path, s.start
		}
	}
	return best
}

func describeType(t reflect.Type) string {
	switch deref(t).Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

// build turns the decoded file into a pack, reporting every semantic
// problem.
func (p *packParser) build(f *packFile) *Pack {
	if f.Format != PackFormat {
		p.problem("", problem{field: "format", msg: fmt.Sprintf("%q must be %q, not %q", "format", PackFormat, f.Format)})
	}
	if strings.TrimSpace(f.Name) == "" {
		p.problem("", problem{field: "name", msg: `"name" is required`})
	}
	if len(f.Checklists) == 0 {
		p.problem("", problem{field: "checklists", msg: "a pack needs at least one checklist"})
	}
	pack := &Pack{Format: f.Format, Name: f.Name, Standards: f.Standards}
	standards := map[string]Standard{}
	for i, s := range f.Standards {
		path := fmt.Sprintf("standards[%d]", i)
		for _, pr := range s.problems() {
			p.problem(path, pr)
		}
		if _, dup := standards[s.Code]; dup && s.Code != "" {
			p.problem(path, problem{field: "code", msg: fmt.Sprintf("duplicate standard code %q", s.Code)})
			continue
		}
		standards[s.Code] = s
	}
	known := map[string]bool{}
	for code := range standards {
		known[code] = true
	}
	ids := map[string]bool{}
	for i, pc := range f.Checklists {
		path := fmt.Sprintf("checklists[%d]", i)
		c := Checklist{
			ID: pc.ID, Name: pc.Name, Channel: pc.Channel, AllowUnplanned: pc.AllowUnplanned,
			CriticalCap: pc.CriticalCap, Sections: pc.Sections,
		}
		if ids[c.ID] && c.ID != "" {
			p.problem(path, problem{field: "id", msg: fmt.Sprintf("duplicate checklist id %q", c.ID)})
		}
		ids[c.ID] = true
		for _, pr := range c.bodyProblems(known) {
			p.problem(path, pr)
		}
		for si, s := range c.Sections {
			for qi, q := range s.Questions {
				qpath := fmt.Sprintf("%s.sections[%d].questions[%d]", path, si, qi)
				if _, explicit := p.spans[qpath+".weight"]; explicit && q.Weight == 0 {
					p.problem(qpath, problem{field: "weight", msg: `"weight" must be > 0`})
				}
			}
		}
		for _, s := range f.Standards {
			if c.references(s.Code) && standards[s.Code] == s {
				c.Standards = append(c.Standards, s)
			}
		}
		pack.Checklists = append(pack.Checklists, c)
	}
	return pack
}

// references reports whether a question of the checklist checks the
// standard with the given code.
func (c *Checklist) references(code string) bool {
	for _, s := range c.Sections {
		for _, q := range s.Questions {
			if q.StandardCode == code {
				return true
			}
		}
	}
	return false
}

// problem records a semantic problem found at base (a path of the file),
// located at the problem's field when the file has it, else at the
// innermost enclosing value the file has.
func (p *packParser) problem(base string, pr problem) {
	path := joinPath(base, pr.path)
	at := path
	if pr.field != "" {
		at = joinPath(path, pr.field)
	}
	for {
		if s, ok := p.spans[at]; ok {
			p.errs = append(p.errs, p.errorAt(s.start, path, pr.msg))
			return
		}
		if at == "" {
			p.errs = append(p.errs, p.errorAt(0, path, pr.msg))
			return
		}
		at = parentPath(at)
	}
}

// parentPath drops the last segment of a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// errorAt builds a PackError at byte offset off.
func (p *packParser) errorAt(off int, path, msg string) PackError {
	off = min(max(off, 0), len(p.data))
	before := p.data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return PackError{File: p.file, Line: line, Col: col, Path: path, Msg: msg}
}
