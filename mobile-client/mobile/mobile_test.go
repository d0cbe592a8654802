package mobile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// TestGobind generates the Java and Go bindings of this package with the
// gobind pinned in tools/go.mod, proving that the facade uses only types
// gobind supports.
func TestGobind(t *testing.T) {
	if testing.Short() {
		t.Skip("gobind builds a tool; skipped with -short")
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err)
	root := filepath.Dir(strings.TrimSpace(string(out)))
	require.FileExists(t, filepath.Join(root, "tools", "go.mod"))
	dir := t.TempDir()
	cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "gobind", "-lang=java,go", "-outdir", dir,
		"github.com/shopscore/shopscore/mobile-client/mobile")
	cmd.Dir = root
	done := make(chan struct{})
	var msg []byte
	go func() { msg, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("gobind did not finish in 10 minutes")
	}
	require.NoError(t, err, "gobind: %s", msg)

	var java []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".java") {
			java = append(java, p)
		}
		return err
	}))
	var client string
	for _, p := range java {
		if filepath.Base(p) == "Client.java" {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			client = string(b)
		}
	}
	require.NotEmpty(t, client, "no Client.java among %v", java)
	for _, method := range []string{"login(", "sync(", "startVisit(", "answer(", "addPhoto(", "submit(", "statusJSON("} {
		assert.Contains(t, client, method)
	}
}

func TestCode(t *testing.T) {
	assert.Equal(t, "", Code(nil))
	assert.Equal(t, "not_found", Code(audit.Errorf(audit.ENOTFOUND, "x")))
	assert.Equal(t, "invalid", Code(stringError("shopscore: invalid: bad value")))
	assert.Equal(t, "internal", Code(stringError("boom")))
	assert.True(t, IsCode(audit.Errorf(audit.EUNAVAILABLE, "x"), "unavailable"))
}

type stringError string

func (e stringError) Error() string { return string(e) }

func TestClient_Offline(t *testing.T) {
	_, err := Open("", "http://127.0.0.1:1")
	assert.Equal(t, "invalid", Code(err))
	c, err := Open(t.TempDir(), "http://127.0.0.1:1")
	require.NoError(t, err)
	defer c.Close()
	s, err := c.StatusJSON()
	require.NoError(t, err)
	assert.Contains(t, s, `"Pending":null`)
	_, err = c.StartVisit("a1")
	assert.Equal(t, "unauthenticated", Code(err))
	_, err = c.Sync(nil)
	assert.Equal(t, "unauthenticated", Code(err), "%v", err)
	as, err := c.AssignmentsJSON()
	require.NoError(t, err)
	assert.Equal(t, "null", as)
}
