// Package e2e drives the web console in a real browser (Debian's Chromium
// through playwright-core) against a real server on :0 with the demo
// organisation, and the real field client (the shopper CLI) for the
// shopper's side of a visit.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/console"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

const chromium = "/usr/bin/chromium"

// accessTTL is short so that the tests see access tokens expire and the
// console renew them without the user noticing.
const accessTTL = 4 * time.Second

func consoleDir(tb testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// needBrowser skips (or, with SHOPSCORE_REQUIRE_BROWSER=1, fails) when
// Chromium or the console's Node packages are missing.
func needBrowser(tb testing.TB) {
	tb.Helper()
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(consoleDir(tb), "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "console/node_modules (cd console && npm ci)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if len(missing) == 0 {
		return
	}
	msg := "browser tests need " + strings.Join(missing, ", ")
	if os.Getenv("SHOPSCORE_REQUIRE_BROWSER") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip("SKIPPED: " + msg)
}

// shopper runs the real field CLI against the server.
type shopper struct {
	tb  testing.TB
	bin string
	dir string
	url string
}

func (s shopper) ok(args ...string) string {
	s.tb.Helper()
	cmd := exec.Command(s.bin, append([]string{"--dir", s.dir, "--server", s.url}, args...)...)
	cmd.Env = append(os.Environ(), "SHOPSCORE_PASSWORD="+servertest.DemoPassword)
	out, err := cmd.CombinedOutput()
	require.NoError(s.tb, err, "shopper %v: %s", args, out)
	return string(out)
}

func buildShopper(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "shopper")
	cmd := exec.Command("go", "build", "-o", bin, "./mobile-client/cmd/shopper")
	cmd.Dir = filepath.Dir(consoleDir(tb))
	out, err := cmd.CombinedOutput()
	require.NoError(tb, err, "%s", out)
	return bin
}

func writePNG(tb testing.TB, shade uint8) string {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{shade, uint8(x * 4), uint8(y * 5), 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(tb, png.Encode(&buf, img))
	p := filepath.Join(tb.TempDir(), "photo.png")
	require.NoError(tb, os.WriteFile(p, buf.Bytes(), 0o600))
	return p
}

// journey runs one phase of journeys.mjs and returns what it printed last
// (one JSON object).
func journey(tb testing.TB, url, phase string, extra map[string]string) map[string]any {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(consoleDir(tb), "e2e", "journeys.mjs"), phase)
	cmd.Dir = consoleDir(tb)
	// The screenshots go to a temporary folder, so that a test run leaves
	// the work tree as it was; `make screenshots` sets
	// SHOPSCORE_SCREENSHOTS to docs/screenshots to renew the committed ones.
	shots := os.Getenv("SHOPSCORE_SCREENSHOTS")
	if shots == "" {
		shots = tb.TempDir()
	}
	cmd.Env = append(os.Environ(),
		"SHOPSCORE_URL="+url,
		"SHOPSCORE_PASSWORD="+servertest.DemoPassword,
		"SHOPSCORE_CHROMIUM="+chromium,
		"SHOPSCORE_SCREENSHOTS="+shots,
		"SHOPSCORE_TMP="+tb.TempDir(),
	)
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	tb.Logf("journey %s:\n%s", phase, stderr.String())
	require.NoError(tb, err, "journey %s failed:\n%s", phase, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res map[string]any
	require.NoError(tb, json.Unmarshal([]byte(lines[len(lines)-1]), &res), stdout.String())
	return res
}

func adminClient(tb testing.TB, url string) (shopscorev1connect.AdminServiceClient, func(*connect.Request[v1.StreamSecurityEventsRequest])) {
	tb.Helper()
	token := accessToken(tb, url, demo.Users[audit.RoleAdmin])
	return shopscorev1connect.NewAdminServiceClient(http.DefaultClient, url), func(r *connect.Request[v1.StreamSecurityEventsRequest]) {
		r.Header().Set("Authorization", "Bearer "+token)
	}
}

// securityEvents counts the security log's events by kind.
func securityEvents(tb testing.TB, url string) map[string]int {
	tb.Helper()
	admin, authz := adminClient(tb, url)
	req := connect.NewRequest(&v1.StreamSecurityEventsRequest{})
	authz(req)
	stream, err := admin.StreamSecurityEvents(context.Background(), req)
	require.NoError(tb, err)
	kinds := map[string]int{}
	for stream.Receive() {
		kinds[stream.Msg().Kind]++
	}
	require.NoError(tb, stream.Err())
	return kinds
}

func TestConsole_Journeys(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		AccessTTL: accessTTL,
		// The journeys log in many times from one address.
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
	})
	sh := shopper{tb: t, bin: buildShopper(t), dir: t.TempDir(), url: srv.URL}
	sh.ok("login", "--email", demo.Users[audit.RoleShopper])
	sh.ok("sync")
	out := sh.ok("assignments")
	assignment := func(code string) string {
		m := regexp.MustCompile(`(?m)^(\S+)\s+` + code + `\s.*store-visit`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		return m[1]
	}

	// A visit to MSK-01 the manager will return, and one to MSK-02 with a
	// check-in far from the store, which is flagged.
	first := strings.TrimSpace(sh.ok("visit", "start", assignment("MSK-01")))
	sh.ok("visit", "checkin", first, "55.7652", "37.6050", "12")
	sh.ok("visit", "timer", "start", first, "greet_time")
	time.Sleep(1100 * time.Millisecond)
	sh.ok("visit", "timer", "stop", first, "greet_time")
	for q, v := range map[string]string{
		"greet_polite": "yes", "tags_present": "yes", "tags_correct": "no", "tags_match_till": "y",
		"clean_areas": "entrance,sales_floor,checkout", "queue_minutes": "7", "nps": "8",
	} {
		sh.ok("visit", "answer", first, q, v)
	}
	sh.ok("visit", "answer", first, "tags_correct", "no", "--note", "paint shelf: old prices")
	sh.ok("visit", "photo", first, "tags_correct", writePNG(t, 90))
	sh.ok("visit", "answer", first, "clean_areas", "entrance,sales_floor,checkout", "--note", "fitting area closed")
	sh.ok("visit", "photo", first, "floor_photo", writePNG(t, 40))
	sh.ok("visit", "staff", first, "E1001")
	sh.ok("visit", "note", first, "Busy Saturday morning, two tills open.")
	sh.ok("visit", "submit", first)

	second := strings.TrimSpace(sh.ok("visit", "start", assignment("MSK-02")))
	sh.ok("visit", "checkin", second, "55.7000", "37.6000", "15")
	sh.ok("visit", "timer", "start", second, "greet_time")
	time.Sleep(1100 * time.Millisecond)
	sh.ok("visit", "timer", "stop", second, "greet_time")
	for q, v := range map[string]string{
		"greet_polite": "yes", "tags_present": "yes", "tags_correct": "yes", "tags_match_till": "y",
		"clean_areas": "entrance,sales_floor,fitting_area,checkout", "queue_minutes": "3", "nps": "10",
	} {
		sh.ok("visit", "answer", second, q, v)
	}
	sh.ok("visit", "photo", second, "floor_photo", writePNG(t, 200))
	sh.ok("visit", "staff", second, "E1003")
	sh.ok("visit", "submit", second)
	require.Contains(t, sh.ok("sync"), "pushed 2 visit(s)")

	t.Run("ReviewAndReturn", func(t *testing.T) {
		res := journey(t, srv.URL, "review", map[string]string{"SHOPSCORE_VISIT": first, "SHOPSCORE_FLAGGED": second})
		assert.Equal(t, first, res["returned"])
	})
	t.Run("CorrectedByTheFieldClient", func(t *testing.T) {
		sh.ok("sync") // pulls the reviewer's comments
		correction := strings.TrimSpace(sh.ok("visit", "correct", first))
		require.NotEmpty(t, correction)
		sh.ok("visit", "answer", correction, "tags_correct", "yes")
		sh.ok("visit", "submit", correction)
		require.Contains(t, sh.ok("sync"), "pushed 1 visit(s)")
		res := journey(t, srv.URL, "approve", map[string]string{"SHOPSCORE_VISIT": correction[strings.LastIndex(correction, "\n")+1:]})
		assert.Equal(t, "published", res["state"])
	})
	t.Run("ManagerJourneys", func(t *testing.T) {
		res := journey(t, srv.URL, "manager", nil)
		assert.EqualValues(t, 2, res["created"])
		assert.Greater(t, res["problems"], float64(1))
		assert.NotEmpty(t, res["workbook"])
	})
	t.Run("AdminJourneys", func(t *testing.T) {
		res := journey(t, srv.URL, "admin", nil)
		assert.Equal(t, true, res["revoked"])
	})
	t.Run("SilentRefresh", func(t *testing.T) {
		before := securityEvents(t, srv.URL)
		// Two tabs stay open well past the access token's lifetime and the
		// server's 30 s leeway; both keep working, and no refresh token is
		// ever presented twice.
		res := journey(t, srv.URL, "refresh", map[string]string{"SHOPSCORE_IDLE_MS": "38000"})
		assert.Equal(t, true, res["stillSignedIn"])
		after := securityEvents(t, srv.URL)
		assert.Zero(t, after["refresh_reuse"], "a refresh token was presented twice: %v", after)
		assert.GreaterOrEqual(t, after["refresh"]-before["refresh"], 5, "the console renewed its tokens: %v", after)
	})
}

// TestConsole_BonusAndDashboards drives HR's bonus workspace and a
// manager's dashboards against a server with the demo's audited
// deliveries (2026-09 and 2026-10) and driver policy.
func TestConsole_BonusAndDashboards(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
	})
	require.NoError(t, demo.SeedReports(context.Background(), srv.Server))
	t.Run("HR", func(t *testing.T) {
		res := journey(t, srv.URL, "hr", nil)
		assert.Equal(t, "85 000,00 ₽", res["morozov"])
		assert.Equal(t, true, res["approved"])
		assert.Equal(t, true, res["staleRefused"])
		assert.NotEmpty(t, res["payroll"])
	})
	t.Run("Dashboards", func(t *testing.T) {
		res := journey(t, srv.URL, "dashboard", nil)
		assert.Greater(t, res["visits"], float64(0))
	})
}

// TestConsole_StaffResults drives employees' accounts: HR invites a
// driver from the staff list, he sets his password from the link on his
// phone, and the demo's staff account (Sergei Morozov) sees his September
// visits and pay line but not the other driver's visit.
func TestConsole_StaffResults(t *testing.T) {
	needBrowser(t)
	srv := servertest.Run(t, server.Config{
		Console:   mustConsole(t),
		LoginRate: server.Rate{Burst: 100, Every: time.Second},
	})
	require.NoError(t, demo.SeedReports(context.Background(), srv.Server))
	admin := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, srv.URL)
	login, err := admin.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[audit.RoleAdmin], Password: servertest.DemoPassword, DeviceId: "e2e-staff",
	}))
	require.NoError(t, err)
	bearer := func(r connect.AnyRequest) { r.Header().Set("Authorization", "Bearer "+login.Msg.Tokens.AccessToken) }
	staffReq := connect.NewRequest(&v1.GetStaffRequest{EmployeeNumber: "E2002"})
	bearer(staffReq)
	other, err := shopscorev1connect.NewOrgServiceClient(http.DefaultClient, srv.URL).GetStaff(context.Background(), staffReq)
	require.NoError(t, err)
	visitsReq := connect.NewRequest(&v1.ListVisitsRequest{StaffId: other.Msg.Staff.Id, State: v1.VisitState_VISIT_STATE_APPROVED})
	bearer(visitsReq)
	visits, err := shopscorev1connect.NewReviewServiceClient(http.DefaultClient, srv.URL).ListVisits(context.Background(), visitsReq)
	require.NoError(t, err)
	require.NotEmpty(t, visits.Msg.Visits)
	// One of Sergei Morozov's own visits with a photo, as he would open it.
	staffLogin, err := admin.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[audit.RoleStaff], Password: servertest.DemoPassword, DeviceId: "e2e-staff-check",
	}))
	require.NoError(t, err)
	my := shopscorev1connect.NewMyResultsServiceClient(http.DefaultClient, srv.URL)
	mine := connect.NewRequest(&v1.ListMyVisitsRequest{Month: demo.ReportMonths[0]})
	mine.Header().Set("Authorization", "Bearer "+staffLogin.Msg.Tokens.AccessToken)
	own, err := my.ListMyVisits(context.Background(), mine)
	require.NoError(t, err)
	withPhoto := ""
	for _, v := range own.Msg.Visits {
		one := connect.NewRequest(&v1.GetMyVisitRequest{VisitId: v.VisitId})
		one.Header().Set("Authorization", "Bearer "+staffLogin.Msg.Tokens.AccessToken)
		d, err := my.GetMyVisit(context.Background(), one)
		require.NoError(t, err)
		if len(d.Msg.Photos) > 0 {
			withPhoto = v.VisitId
			break
		}
	}
	require.NotEmpty(t, withPhoto, "a visit of his with a photo")
	res := journey(t, srv.URL, "staff", map[string]string{"SHOPSCORE_OTHER_VISIT": visits.Msg.Visits[0].Id, "SHOPSCORE_PHOTO_VISIT": withPhoto})
	assert.Equal(t, true, res["otherRefused"])
}

// mustConsole returns the embedded console's handler.
func mustConsole(tb testing.TB) http.Handler {
	tb.Helper()
	h, err := console.Handler(console.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
