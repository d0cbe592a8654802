package migrateto

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

const password = "correct horse battery staple"

// seeded is what a test reads of the SQLite installation before it moves.
type seeded struct {
	dir, path string
	shopper   audit.Principal // the demo shopper, whose phone pulled
	cursor    string          // the cursor his phone holds
	first     []string        // the changes of his first pull
	users     []*audit.User
	visits    []*storage.VisitSummary
	run       *storage.BonusRun
	appeals   []string // their ids
}

// seed makes a SQLite installation through the real use cases: the demo
// organisation, its reports (visits pushed through the sync path with
// their photos, reviewed), a changed setting, a bonus run, and the demo
// shopper's phone having pulled its feed.
func seed(t *testing.T, reports bool) *seeded {
	ctx := t.Context()
	s := &seeded{dir: t.TempDir()}
	s.path = filepath.Join(s.dir, "shopscore.db")
	db, err := sqlite.Open(s.path, nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{DataDir: s.dir, Storage: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer srv.Close()
	_, err = demo.Seed(ctx, srv, password)
	require.NoError(t, err)
	admin, _, err := db.Users().FindByEmail(ctx, demo.Users[audit.RoleAdmin])
	require.NoError(t, err)
	_, err = srv.App().UpdateOrgSettings(ctx, audit.Principal{UserID: admin.ID, Role: audit.RoleAdmin},
		audit.OrgSettings{TimeZone: "Europe/Chisinau", Locale: "ro-MD", Currency: "MDL"})
	require.NoError(t, err)
	if reports {
		require.NoError(t, demo.SeedReports(ctx, srv))
		seedAppeals(t, srv, db)
		s.run, err = srv.App().RunBonus(ctx, demo.PolicyID, 0, demo.ReportMonths[1], admin.ID)
		require.NoError(t, err)
	}
	shopper, _, err := db.Users().FindByEmail(ctx, demo.Users[audit.RoleShopper])
	require.NoError(t, err)
	s.shopper = audit.Principal{UserID: shopper.ID, Role: audit.RoleShopper}
	s.cursor, s.first = pullAll(t, srv.App(), s.shopper, "")
	require.NotEmpty(t, s.first, "the demo shopper has assignments")
	aps, err := db.Appeals().List(ctx, storage.AppealFilter{Scope: audit.Scope{All: true}})
	require.NoError(t, err)
	for _, ap := range aps {
		s.appeals = append(s.appeals, ap.ID)
	}
	require.Equal(t, reports, len(s.appeals) == 2)
	s.users, err = db.Users().List(ctx, storage.UserFilter{})
	require.NoError(t, err)
	s.visits, err = db.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, Limit: 1000})
	require.NoError(t, err)
	return s
}

// seedAppeals files two appeals against approved deliveries of the demo
// reports, as the demo manager, each with an evidence file: HR rules on
// the first (one question upheld with its amended answer, one
// rejected), the second stays open.
func seedAppeals(t *testing.T, srv *server.Server, db *sqlite.DB) {
	ctx := t.Context()
	manager, _, err := db.Users().FindByEmail(ctx, demo.Users[audit.RoleManager])
	require.NoError(t, err)
	hr, _, err := db.Users().FindByEmail(ctx, demo.Users[audit.RoleHR])
	require.NoError(t, err)
	visits, err := db.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, Limit: 1000})
	require.NoError(t, err)
	var approved []string
	for _, v := range visits {
		if v.State.Counts() && v.ChecklistID == "delivery" {
			approved = append(approved, v.ID)
		}
	}
	require.GreaterOrEqual(t, len(approved), 2)
	filer := audit.Principal{UserID: manager.ID, Role: audit.RoleManager}
	var ids []string
	for i, visit := range approved[:2] {
		doc := sha256.Sum256([]byte("the waybill, signed " + itoa(int64(i))))
		ap, err := srv.App().FileAppeal(ctx, filer, &audit.Appeal{VisitID: visit, Questions: []audit.AppealQuestion{
			{QuestionID: "driver_polite", Reason: "Клиент подтвердил, что водитель был вежлив",
				Evidence: []audit.AppealEvidence{{Index: 0, SHA256: hex.EncodeToString(doc[:]), Size: 1234, ContentType: "application/pdf", FileName: "накладная.pdf"}}},
			{QuestionID: "truck_clean", Reason: "The truck was washed that morning"},
		}})
		require.NoError(t, err)
		ids = append(ids, ap.ID)
	}
	yes := true
	_, err = srv.App().RuleAppeal(ctx, audit.Principal{UserID: hr.ID, Role: audit.RoleHR}, ids[0], []audit.QuestionRuling{
		{QuestionID: "driver_polite", Outcome: audit.OutcomeUpheld, Amended: &audit.Answer{QuestionID: "driver_polite", Bool: &yes}, Reason: "the customer's letter"},
		{QuestionID: "truck_clean", Outcome: audit.OutcomeRejected, Reason: "the photo shows it dirty"},
	})
	require.NoError(t, err)
}

// pullAll pulls p's feed from cursor to its end and returns the last
// cursor and the changes, in order; it fails the test when a
// page says FullResync after the first.
func pullAll(t *testing.T, uc *app.App, p audit.Principal, cursor string) (string, []string) {
	var ids []string
	for i := 0; ; i++ {
		page, err := uc.Pull(t.Context(), p, cursor, 0)
		require.NoError(t, err)
		require.False(t, i > 0 && page.FullResync, "only the first page may restart the feed")
		for _, c := range page.Changes {
			ids = append(ids, changeID(c))
		}
		cursor = page.NextCursor
		if !page.HasMore {
			return cursor, ids
		}
	}
}

// changeID is a change's whole content, to compare.
func changeID(c *v1.Change) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// fileState is what the data folder holds: each file's name and digest.
func fileState(t *testing.T, dir string) map[string][32]byte {
	out := map[string][32]byte{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

// TestRun_MovesAnInstallation: the demo organisation with its reports
// moves whole (every table's count and checksum verified, progress per
// table), the SQLite folder is left exactly as it was, a second move into
// the now full database and a URL that is not PostgreSQL's are refused;
// and PostgreSQL then answers as SQLite did: the same users (the same
// password logs in), visits and bonus run, and the shopper's phone, whose
// cursor is the SQLite feed's, is told to resync and gets the same feed.
func TestRun_MovesAnInstallation(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := seed(t, true)
	before := fileState(t, s.dir)

	var progress bytes.Buffer
	report, err := Run(ctx, Options{SQLite: s.path, Postgres: url, Progress: &progress})
	require.NoError(t, err)
	require.True(t, report.OK())
	assert.Equal(t, before, fileState(t, s.dir), "the SQLite folder is as it was")

	names := make([]string, len(report.Tables))
	rows := map[string]int64{}
	for i, tr := range report.Tables {
		names[i] = tr.Table
		rows[tr.Table] = tr.SourceRows
		assert.Equal(t, tr.SourceRows, tr.TargetRows, tr.Table)
		assert.Equal(t, tr.SourceCheck, tr.TargetCheck, tr.Table)
		assert.Contains(t, progress.String(), tr.Table+": "+itoa(tr.SourceRows)+" of "+itoa(tr.SourceRows)+" rows\n")
	}
	for _, tb := range tables {
		assert.Contains(t, names, tb.name)
	}
	assert.Equal(t, int64(len(s.users)), rows["users"])
	assert.Equal(t, int64(len(s.visits)), rows["visits"])
	for _, tb := range []string{"visit_photos", "verified_blobs", "visit_answers", "report_visits", "sync_feed", "bonus_runs", "security_events", "visit_transitions", "base_pay", "sync_mutations", "device_seqs",
		"appeals", "appeal_questions", "appeal_evidence", "user_invitations", "signing_keys", "outbox_events"} {
		assert.Positive(t, rows[tb], "the seed wrote %s", tb)
	}
	var printed bytes.Buffer
	require.NoError(t, report.Write(&printed))
	assert.Regexp(t, `(?m)^table\s+rows\s+checksum\s+ok\s*$`, printed.String())
	assert.Regexp(t, `(?m)^visits\s+`+itoa(rows["visits"])+`\s+[0-9a-f]{16}\s+ok\s*$`, printed.String())

	// Into a database that holds data: refused, naming what it holds.
	_, err = Run(ctx, Options{SQLite: s.path, Postgres: url})
	require.Error(t, err)
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err))
	assert.Regexp(t, `is not empty: it has users \(\d+ rows\), sessions .*stores \(5 rows\).*visits \(\d+ rows\)`, err.Error())
	// Not a PostgreSQL URL: refused before anything is opened.
	_, err = Run(ctx, Options{SQLite: s.path, Postgres: "mysql://root:hunter2@db/shopscore"})
	require.Error(t, err)
	assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
	assert.NotContains(t, err.Error(), "hunter2")
	// A URL that names no reachable server.
	_, err = Run(ctx, Options{SQLite: s.path, Postgres: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1")
	assert.Equal(t, before, fileState(t, s.dir), "the SQLite folder is as it was")

	pg, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	srv := servertest.Run(t, server.Config{DataDir: s.dir, Storage: pg})
	uc := srv.App()

	users, err := pg.Users().List(ctx, storage.UserFilter{})
	require.NoError(t, err)
	assert.Equal(t, s.users, users)
	visits, err := pg.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, Limit: 1000})
	require.NoError(t, err)
	assert.Equal(t, s.visits, visits)
	for _, v := range s.visits {
		want, err := sqliteVisit(t, s.path, v.ID)
		require.NoError(t, err)
		got, err := pg.Visits().Find(ctx, v.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "visit %s", v.ID)
	}
	// The appeals, the ruled one with its amended answer and scores, the
	// open one with its evidence, read as SQLite read them.
	for _, id := range s.appeals {
		want, err := sqliteAppeal(t, s.path, id)
		require.NoError(t, err)
		got, err := pg.Appeals().Find(ctx, audit.Scope{All: true}, id)
		require.NoError(t, err)
		assert.Equal(t, want, got, "appeal %s", id)
	}
	// The same month's run on PostgreSQL reads the same inputs, so it is
	// the run SQLite stored, reused.
	admin, _, err := pg.Users().FindByEmail(ctx, demo.Users[audit.RoleAdmin])
	require.NoError(t, err)
	run, err := uc.RunBonus(ctx, demo.PolicyID, 0, demo.ReportMonths[1], admin.ID)
	require.NoError(t, err)
	assert.Equal(t, s.run.ID, run.ID)
	assert.Equal(t, s.run.InputsStamp, run.InputsStamp)
	assert.JSONEq(t, string(s.run.Result), string(run.Result))

	auth := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, srv.URL)
	_, err = auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: demo.Users[audit.RoleManager], Password: password, DeviceId: "after-the-move"}))
	require.NoError(t, err, "the same password logs in")
	_, err = auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: demo.Users[audit.RoleManager], Password: "wrong", DeviceId: "after-the-move"}))
	assert.Equal(t, connect.CodeUnauthenticated, connect.CodeOf(err))

	// The archive shopper's phone goes on pushing where it was: its last
	// seq is replayed with its stored answer, a seq past the next is a
	// gap named from the seq SQLite had applied.
	archive, _, err := pg.Users().FindByEmail(ctx, demo.ArchiveShopper)
	require.NoError(t, err)
	hash := sha256.Sum256([]byte("after the move"))
	sess, err := uc.CreateSession(ctx, archive.ID, "demo-seed", "the same phone", hash[:], time.Now().Add(time.Hour), "")
	require.NoError(t, err)
	dev := storage.Device{UserID: archive.ID, DeviceID: "demo-seed"}
	last := int64(len(s.visits))
	stored, err := pg.Devices().Result(ctx, dev, last)
	require.NoError(t, err)
	visit, err := pg.Visits().Find(ctx, stored.VisitID)
	require.NoError(t, err)
	res, err := uc.Push(ctx, app.Device{UserID: archive.ID, SessionID: sess.ID}, time.Time{},
		[]app.Mutation{{Seq: last, ID: stored.MutationID, Digest: stored.Digest, DeviceTime: stored.DeviceTime, Visit: visit.Visit}})
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Equal(t, storage.MutationReplayed, res.Results[0].Status)
	assert.Equal(t, stored.VisitID, res.Results[0].Receipt.VisitID)
	assert.Equal(t, last, res.AppliedSeq)
	_, err = uc.Push(ctx, app.Device{UserID: archive.ID, SessionID: sess.ID}, time.Time{},
		[]app.Mutation{{Seq: last + 5, ID: "gap", Digest: stored.Digest, Visit: visit.Visit}})
	assert.Equal(t, audit.EABORTED, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), "applied_seq="+itoa(last))

	// The phone's cursor is the SQLite feed's: its first pull starts over
	// and brings what a first pull from SQLite brought; then it goes on.
	page, err := uc.Pull(ctx, s.shopper, s.cursor, 0)
	require.NoError(t, err)
	assert.True(t, page.FullResync)
	_, ids := pullAll(t, uc, s.shopper, s.cursor)
	assert.ElementsMatch(t, s.first, ids)
	next, _ := pullAll(t, uc, s.shopper, s.cursor)
	page, err = uc.Pull(ctx, s.shopper, next, 0)
	require.NoError(t, err)
	assert.False(t, page.FullResync)
	assert.Empty(t, page.Changes)
}

// sqliteAppeal reads an appeal from the (closed) SQLite installation.
func sqliteAppeal(t *testing.T, path, id string) (*audit.Appeal, error) {
	db := sqlite.NewDB(path)
	require.NoError(t, db.OpenReadOnly())
	defer db.Close()
	return db.Appeals().Find(t.Context(), audit.Scope{All: true}, id)
}

// sqliteVisit reads a stored visit from the (closed) SQLite installation.
func sqliteVisit(t *testing.T, path, id string) (*storage.StoredVisit, error) {
	db := sqlite.NewDB(path)
	require.NoError(t, db.OpenReadOnly())
	defer db.Close()
	return db.Visits().Find(t.Context(), id)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
