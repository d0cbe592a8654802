// Command vulndb builds a local copy of the Go vulnerability database for
// govulncheck from the golang.org/x/vulndb module, so that `make vulncheck`
// needs only the Go module proxy, never vuln.go.dev.
//
// The module holds the database's OSV entries (data/osv/GO-*.json), the
// source from which vuln.go.dev is published. govulncheck's -db file://DIR
// reads the database API's layout (https://go.dev/security/vuln/database):
//
//	DIR/index/db.json       {"modified": time of the newest entry}
//	DIR/index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}]
//	DIR/ID/GO-YYYY-NNNN.json  each OSV entry
//
// Usage:
//
//	go -C tools run ./cmd/vulndb [-version latest] [-dir CACHE]
//
// It downloads the module version through the module proxy (`go mod
// download`), builds the database once per version under the cache folder
// (default: the user cache folder, shopscore/vulndb/VERSION) and prints the
// database folder on stdout.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

const module = "golang.org/x/vulndb"

func main() {
	version := flag.String("version", "latest", "version of "+module+" to build the database from (a module query)")
	dir := flag.String("dir", "", "cache folder for built databases (default: the user cache folder's shopscore/vulndb)")
	flag.Parse()
	db, err := build(*version, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
	fmt.Println(db)
}

// download fetches the module through the module proxy and returns its
// resolved version, extracted folder and the version's commit time.
func download(query string) (version, dir string, at time.Time, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+query)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("go mod download %s@%s: %w", module, query, err)
	}
	var m struct{ Version, Dir, Info, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", "", time.Time{}, fmt.Errorf("go mod download: %w", err)
	}
	if m.Error != "" {
		return "", "", time.Time{}, errors.New(m.Error)
	}
	var info struct{ Time time.Time }
	if b, err := os.ReadFile(m.Info); err == nil {
		_ = json.Unmarshal(b, &info)
	}
	return m.Version, m.Dir, info.Time, nil
}

func build(query, cache string) (string, error) {
	version, src, at, err := download(query)
	if err != nil {
		return "", err
	}
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(base, "shopscore", "vulndb")
	}
	out := filepath.Join(cache, version)
	if _, err := os.Stat(filepath.Join(out, "index", "modules.json")); err == nil {
		return out, nil // built before: a module version never changes
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := write(filepath.Join(src, "data", "osv"), tmp, at); err != nil {
		return "", err
	}
	// Built in a temporary folder and renamed into place, so that an
	// interrupted build is never taken for a database; another build that
	// won the race is as good.
	if err := os.Rename(tmp, out); err != nil && !isExist(err) {
		return "", err
	}
	return out, nil
}

func isExist(err error) bool {
	return errors.Is(err, os.ErrExist) || strings.Contains(err.Error(), "directory not empty")
}

// entry is the part of an OSV entry the indexes need.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// write reads every OSV entry in src and writes the database into dst.
// The entries' "modified" times are not filled in the module's sources, so
// the database's time is at least the module version's.
func write(src, dst string, at time.Time) error {
	files, err := filepath.Glob(filepath.Join(src, "GO-*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no OSV entries in %s", src)
	}
	if err := os.MkdirAll(filepath.Join(dst, "ID"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dst, "index"), 0o755); err != nil {
		return err
	}
	modified := at.UTC()
	modules := map[string]*moduleMeta{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if e.ID+".json" != filepath.Base(f) {
			return fmt.Errorf("%s: holds entry %q", f, e.ID)
		}
		if e.Modified.After(modified) {
			modified = e.Modified
		}
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name, Vulns: []moduleVuln{}}
				modules[a.Package.Name] = m
			}
			fixed := ""
			for _, r := range a.Ranges {
				if r.Type != "SEMVER" {
					continue
				}
				for _, ev := range r.Events {
					if ev.Fixed != "" && less(fixed, ev.Fixed) {
						fixed = ev.Fixed
					}
				}
				// Reintroduced after the latest fix: no version fixes it.
				for _, ev := range r.Events {
					if ev.Introduced != "" && ev.Introduced != "0" && less(fixed, ev.Introduced) {
						fixed = ""
						break
					}
				}
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: fixed})
		}
		if err := os.WriteFile(filepath.Join(dst, "ID", filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(dst, "index", "modules.json"), list); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dst, "index", "db.json"), map[string]time.Time{"modified": modified})
}

// less compares OSV versions, which are semantic versions without the
// leading "v"; "" is less than any version.
func less(a, b string) bool {
	if a == "" {
		return b != ""
	}
	return semver.Compare("v"+a, "v"+b) < 0
}

func writeJSON(path string, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
