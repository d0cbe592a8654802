// Package migration reads a database's schema migrations: numbered SQL
// files (NNNN_name.sql) embedded in the binary, in the order of their
// numbers, refusing two files with one number. Applying them is the
// database's own (internal/sqlitedb for both SQLite databases).
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// File is one numbered SQL file: NNNN_name.sql.
type File struct {
	Version int
	Name    string // the file's name, 0001_init.sql
	SQL     string
}

// Load reads the *.sql files of folder dir in fsys (an embedded
// folder), in the order of their numbers. A file whose name does not
// start with a number from 1 followed by "_", or two files with the same
// number, are an error: which of the two would count as applied is
// undefined.
func Load(fsys fs.FS, dir string) ([]File, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	byVersion := map[int]string{}
	var out []File
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("migration %s: the name must start with a number from 1 and _ (0001_name.sql)", base)
		}
		if other, dup := byVersion[n]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same number %d", other, base, n)
		}
		byVersion[n] = base
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		out = append(out, File{Version: n, Name: base, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
