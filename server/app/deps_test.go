package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoStorageDriver proves the use cases and the storage contract run on
// any backend: neither they nor anything they import reaches a database
// driver or database/sql.
func TestNoStorageDriver(t *testing.T) {
	for _, pkg := range []string{"github.com/shopscore/shopscore/server/app", "github.com/shopscore/shopscore/server/storage"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed %d packages: %q", pkg, len(deps), deps)
		}
		for _, d := range deps {
			for _, banned := range []string{"database/sql", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx", "github.com/shopscore/shopscore/server/sqlite"} {
				if d == banned || strings.HasPrefix(d, banned+"/") {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}
