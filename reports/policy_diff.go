package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// PolicyChange is one field that differs between two versions of a
// policy. Path names it for people: components by name rather than
// position ("components[politeness].rule.thresholds[1].payout"); Old and
// New are its values as JSON, "" where the field is absent.
type PolicyChange struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// String formats the change on one line.
func (c PolicyChange) String() string {
	switch {
	case c.Old == "":
		return fmt.Sprintf("%s: added %s", c.Path, c.New)
	case c.New == "":
		return fmt.Sprintf("%s: removed (was %s)", c.Path, c.Old)
	}
	return fmt.Sprintf("%s: %s → %s", c.Path, c.Old, c.New)
}

// DiffPolicies lists the fields that differ between two policies, in path
// order; the version numbers themselves are not compared. Components are
// matched by name, so a reordering is not a difference.
func DiffPolicies(from, to Policy) ([]PolicyChange, error) {
	from.Version, to.Version = 0, 0
	a, err := policyTree(from)
	if err != nil {
		return nil, err
	}
	b, err := policyTree(to)
	if err != nil {
		return nil, err
	}
	var out []PolicyChange
	diffTree("", a, b, &out)
	return out, nil
}

// policyTree is the policy as a JSON tree whose component list is an
// object keyed by component name.
func policyTree(p Policy) (any, error) {
	body, err := json.Marshal(p.clone())
	if err != nil {
		return nil, fmt.Errorf("reports: encode policy: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("reports: decode policy: %w", err)
	}
	if list, ok := tree["components"].([]any); ok {
		byName := map[string]any{}
		for _, c := range list {
			if m, ok := c.(map[string]any); ok {
				name, _ := m["name"].(string)
				delete(m, "name")
				byName[name] = m
			}
		}
		tree["components"] = keyed(byName)
	}
	return tree, nil
}

// keyed marks an object whose keys are shown in brackets in paths.
type keyed map[string]any

func diffTree(path string, a, b any, out *[]PolicyChange) {
	join := func(key string, bracket bool) string {
		switch {
		case bracket:
			return path + "[" + key + "]"
		case path == "":
			return key
		}
		return path + "." + key
	}
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			for _, k := range unionKeys(x, y) {
				diffTree(join(k, false), x[k], y[k], out)
			}
			return
		}
	case keyed:
		if y, ok := b.(keyed); ok {
			for _, k := range unionKeys(x, y) {
				diffTree(join(k, true), x[k], y[k], out)
			}
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := range max(len(x), len(y)) {
				var l, r any
				if i < len(x) {
					l = x[i]
				}
				if i < len(y) {
					r = y[i]
				}
				diffTree(join(strconv.Itoa(i+1), true), l, r, out)
			}
			return
		}
	}
	old, nw := jsonText(a), jsonText(b)
	if old != nw {
		*out = append(*out, PolicyChange{Path: path, Old: old, New: nw})
	}
}

func unionKeys[M ~map[string]any](x, y M) []string {
	set := map[string]bool{}
	for k := range maps.Keys(x) {
		set[k] = true
	}
	for k := range maps.Keys(y) {
		set[k] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
