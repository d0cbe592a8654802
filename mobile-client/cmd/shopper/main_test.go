package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

const demoPassword = servertest.DemoPassword

func mustRunServer(tb testing.TB) string {
	tb.Helper()
	return servertest.Run(tb, server.Config{}).URL
}

// shopper runs the command in dir against url and returns its exit code
// and output.
type shopper struct {
	tb  testing.TB
	dir string
	url string
	env map[string]string
}

func (s shopper) run(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	all := append([]string{"--dir", s.dir, "--server", s.url}, args...)
	code := run(context.Background(), all, strings.NewReader(stdin), &out, &errOut, func(k string) string { return s.env[k] })
	return code, out.String(), errOut.String()
}

func (s shopper) ok(args ...string) string {
	s.tb.Helper()
	code, out, errOut := s.run("", args...)
	require.Equal(s.tb, 0, code, "shopper %v: %s%s", args, out, errOut)
	return out
}

func writePNG(tb testing.TB, dir string, shade uint8) string {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		img.Set(x, x, color.RGBA{shade, 0, 0, 255})
	}
	p := filepath.Join(dir, "photo.png")
	var buf bytes.Buffer
	require.NoError(tb, png.Encode(&buf, img))
	require.NoError(tb, os.WriteFile(p, buf.Bytes(), 0o600))
	return p
}

func TestShopper_FullVisit(t *testing.T) {
	url := mustRunServer(t)
	sh := shopper{tb: t, dir: t.TempDir(), url: url, env: map[string]string{}}

	// The password from stdin.
	code, _, errOut := sh.run("wrong\n", "login", "--email", demo.Users[audit.RoleShopper])
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "unauthenticated")
	code, out, errOut := sh.run(demoPassword+"\n", "login", "--email", demo.Users[audit.RoleShopper])
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "signed in as")

	out = sh.ok("sync")
	assert.Contains(t, out, "change(s) pulled")
	out = sh.ok("assignments")
	m := regexp.MustCompile(`(?m)^(\S+)\s+MSK-01\s.*store-visit`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assignment := m[1]

	visit := strings.TrimSpace(sh.ok("visit", "start", assignment))
	assert.Equal(t, visit, strings.TrimSpace(sh.ok("visit", "start", assignment)), "resumed")
	sh.ok("visit", "checkin", visit, "55.7652", "37.6050", "12")
	sh.ok("visit", "timer", "start", visit, "greet_time")
	out = sh.ok("visit", "timer", "stop", visit, "greet_time")
	assert.Contains(t, out, "greet_time:")
	for q, v := range map[string]string{
		"greet_polite": "yes", "tags_present": "yes", "tags_correct": "yes", "tags_match_till": "y",
		"clean_areas": "entrance,sales_floor,fitting_area,checkout", "queue_minutes": "4", "nps": "10",
	} {
		sh.ok("visit", "answer", visit, q, v)
	}
	out = sh.ok("visit", "answer", visit, "tags_present", "no")
	assert.Contains(t, out, "still needed")
	sh.ok("visit", "answer", visit, "tags_present", "no", "--note", "no tag on the paint shelf")
	sh.ok("visit", "photo", visit, "tags_present", writePNG(t, t.TempDir(), 1))
	sh.ok("visit", "photo", visit, "floor_photo", writePNG(t, t.TempDir(), 2))
	sh.ok("visit", "note", visit, "friendly staff, long queue")
	sh.ok("visit", "staff", visit, "--describe", "young woman at the till")
	sh.ok("visit", "checkout", visit, "55.7653", "37.6051", "8")
	out = sh.ok("visit", "show", visit)
	assert.Regexp(t, `(?m)^ \* floor_photo\s+photo\s`, out, "a required photo is marked like any required question")
	assert.Regexp(t, `(?m)^ \* greet_polite\s`, out)
	assert.Regexp(t, `(?m)^     - entrance\s+\S.* \(\d+ points\)$`, out, "a choice question lists its options")
	assert.Contains(t, out, "check-in: 55.765200, 37.605000 (±12 m)")
	assert.Contains(t, out, "check-out: 55.765300, 37.605100 (±8 m)")
	assert.Contains(t, out, "score preview:")
	assert.Contains(t, out, "complete: submit")
	sh.ok("visit", "submit", visit)

	out = sh.ok("status")
	assert.Contains(t, out, "outbox: 1 visit(s) waiting")
	out = sh.ok("sync")
	assert.Contains(t, out, "pushed 1 visit(s), 2 photo(s) verified")
	assert.Contains(t, out, "visits [", "plain progress lines")
	out = sh.ok("status")
	assert.Contains(t, out, "outbox: 0 visit(s)")
	assert.Contains(t, out, "evidence missing: 0 photo(s)")
	assert.Regexp(t, visit+`\s+sent\s+MSK-01\s+store-visit\s+server: complete score`, out)
}

func TestShopper_Errors(t *testing.T) {
	sh := shopper{tb: t, dir: filepath.Join(t.TempDir(), "client"), url: "http://127.0.0.1:1", env: map[string]string{"SHOPSCORE_PASSWORD": "x"}}
	// The commands that only look create nothing on a new device: no
	// folder, no database, and they say why there is nothing to show.
	for _, args := range [][]string{{"status"}, {"assignments"}, {"checklists"}, {"visit", "show", "v"}} {
		code, out, errOut := sh.run("", args...)
		assert.Equal(t, 1, code, "%v: %s", args, errOut)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "nothing is recorded on this device yet", args)
		assert.Contains(t, errOut, "shopper login --email E", args)
		assert.NoDirExists(t, sh.dir, "%v created the client's folder", args)
	}
	sh.ok("logout") // a command that writes makes the folder and database
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no command":      {nil, 2, "usage: shopper"},
		"unknown":         {[]string{"dance"}, 2, `unknown command "dance"`},
		"login no email":  {[]string{"login"}, 2, "login needs --email E"},
		"login offline":   {[]string{"login", "--email", "a@b.c"}, 1, "run `shopper sync` again later"},
		"sync logged out": {[]string{"sync"}, 1, "log in"},
		"visit start":     {[]string{"visit", "start"}, 2, "visit start takes ASSIGNMENT_ID"},
		"unplanned":       {[]string{"visit", "start", "--unplanned", "--checklist", "x"}, 2, "--checklist C --store S"},
		"start offline":   {[]string{"visit", "start", "a1"}, 1, "not signed in"},
		"answer args":     {[]string{"visit", "answer", "v", "q"}, 2, "VISIT QUESTION VALUE"},
		"timer":           {[]string{"visit", "timer", "go", "v", "q"}, 2, "start|stop"},
		"checkin":         {[]string{"visit", "checkin", "v", "55°", "37"}, 2, "not a number"},
		"show unknown":    {[]string{"visit", "show", "v"}, 1, `no visit "v"`},
		"staff":           {[]string{"visit", "staff", "v"}, 2, "--describe TEXT"},
		"visit sub":       {[]string{"visit", "fly"}, 2, `unknown visit subcommand "fly"`},
		"bad server":      {[]string{"--server", "localhost:8080", "status"}, 1, "http://127.0.0.1:8080"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := sh.run("", tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
	// Everything local works offline, and looking leaves no file behind
	// (the read-only connection removes the WAL files it made).
	before := dirNames(t, sh.dir)
	out := sh.ok("status")
	assert.Contains(t, out, "not signed in")
	out = sh.ok("assignments")
	assert.Contains(t, out, "no assignments")
	assert.Equal(t, before, dirNames(t, sh.dir))
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestShopper_Flags: each command has its own flags, refused elsewhere
// with that command's usage; flags, the program's too, may follow the
// arguments; negative coordinates are numbers; an error has one prefix.
func TestShopper_Flags(t *testing.T) {
	dir := t.TempDir()
	sh := shopper{tb: t, dir: dir, url: "http://127.0.0.1:1", env: map[string]string{}}
	for name, tc := range map[string]struct {
		args []string
		code int
		want []string
	}{
		"status takes no --note": {[]string{"status", "--note", "x"}, 2,
			[]string{"shopper: shopper status: flag provided but not defined: -note", "usage: shopper status"}},
		"sync takes no --unplanned": {[]string{"sync", "--unplanned"}, 2,
			[]string{"flag provided but not defined: -unplanned", "usage: shopper sync"}},
		"show takes no --describe": {[]string{"visit", "show", "v", "--describe", "x"}, 2,
			[]string{"flag provided but not defined: -describe", "usage: shopper visit show VISIT"}},
		"status takes no arguments": {[]string{"status", "now"}, 2, []string{"status takes no arguments", "usage: shopper status"}},
		"negative coordinates": {[]string{"visit", "checkin", "v", "-33.8688", "-151.2093", "10"}, 1,
			[]string{`no visit "v"`}},
		"program flags after the command": {[]string{"visit", "show", "v", "--server", "localhost:8080"}, 1,
			[]string{"http://127.0.0.1:8080"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := sh.run("", tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Empty(t, out)
			for _, w := range tc.want {
				assert.Contains(t, errOut, w)
			}
			assert.Equal(t, 1, strings.Count(errOut, "shopper: "), errOut)
			assert.NotContains(t, errOut, "shopscore: ")
		})
	}
	t.Run("help", func(t *testing.T) {
		code, out, errOut := sh.run("", "visit", "answer", "-h")
		assert.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "usage: shopper visit answer VISIT QUESTION VALUE [--note TEXT]")
		assert.Contains(t, out, "-note")
	})
	t.Run("--dir after the command", func(t *testing.T) {
		other := t.TempDir()
		var out, errOut bytes.Buffer
		noenv := func(string) string { return "" }
		code := run(context.Background(), []string{"logout", "--dir", other}, strings.NewReader(""), &out, &errOut, noenv)
		require.Equal(t, 0, code, errOut.String())
		assert.FileExists(t, filepath.Join(other, "field.db"), "the client's database is in --dir")
		code = run(context.Background(), []string{"status", "--dir", other}, strings.NewReader(""), &out, &errOut, noenv)
		require.Equal(t, 0, code, errOut.String())
		assert.Contains(t, out.String(), "not signed in")
	})
}
