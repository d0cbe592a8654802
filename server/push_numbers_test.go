package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to plant rows on PostgreSQL
	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/storage/testdb"
)

// plantLegacyVersion writes a published checklist version straight into
// the database, as a server before the number limits could have stored
// it: two questions of weight 1e308, whose maximum overflows to +Inf.
func plantLegacyVersion(t *testing.T, ts *TestServer, id string) *audit.ChecklistVersion {
	t.Helper()
	c := audit.Checklist{ID: id, Name: "Legacy", Channel: audit.ChannelStoreVisit, AllowUnplanned: true,
		Sections: []audit.Section{{ID: "s", Title: "S", Questions: []audit.Question{
			{ID: "a", Type: audit.QuestionYesNo, Text: "A", Weight: 1e308, Required: true},
			{ID: "b", Type: audit.QuestionYesNo, Text: "B", Weight: 1e308, Required: true},
		}}}}
	content, err := c.CanonicalJSON()
	require.NoError(t, err)
	hash, err := c.ContentHash()
	require.NoError(t, err)
	// SQLite keeps milliseconds, PostgreSQL timestamptz.
	driver, dsn, ph := "sqlite3", "file:"+filepath.Join(ts.DataDir, "shopscore.db")+"?_busy_timeout=10000", func(n int) string { return "?" }
	var now any = time.Now().UnixMilli()
	if url, ok := testdb.URLAt(ts.DataDir); ok {
		driver, dsn, ph, now = "pgx", url, func(n int) string { return fmt.Sprintf("$%d", n) }, time.Now()
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO checklists (id, created_at) VALUES (`+ph(1)+`, `+ph(2)+`)`, id, now)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, content_hash, question_count, created_at, published_at)
		VALUES (`+ph(1)+`, 1, `+ph(2)+`, `+ph(3)+`, 'published', `+ph(4)+`, `+ph(5)+`, 2, `+ph(6)+`, `+ph(7)+`)`, id, c.Name, string(c.Channel), string(content), hash, now, now)
	require.NoError(t, err)
	return &audit.ChecklistVersion{ChecklistID: id, Version: 1, State: audit.VersionPublished, Content: c, ContentHash: hash}
}

// TestSyncService_PushUnscorableItem checks that a visit which cannot be
// scored for a deterministic reason (its checklist version's points
// overflow) is that item's rejection and does not block the queue behind
// it: the next visit of the same push is applied, and so is the next push.
func TestSyncService_PushUnscorableItem(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	legacy := plantLegacyVersion(t, ts, "legacy-weights")

	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	bad := &audit.Visit{ID: uuid.NewString(), StoreID: f.stores["MSK-01"], ChecklistID: legacy.ChecklistID, ChecklistVersion: 1,
		ContentHash: legacy.ContentHash, Channel: audit.ChannelStoreVisit, StartedAt: start, FinishedAt: start.Add(time.Minute),
		Answers: []audit.Answer{{QuestionID: "a", Bool: new(true)}, {QuestionID: "b", Bool: new(true)}}}
	a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	good := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)

	first := submit(1, bad)
	resp := f.mustPush(t, first, submit(2, good.visit))
	requireRejected(t, resp.Results[0], connect.CodeInvalidArgument)
	assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, resp.Results[1].Status, "the visit behind it is applied")
	assert.Equal(t, int64(2), resp.AppliedSeq)
	assert.Equal(t, 0, f.countVisits(t, bad.ID))
	assert.Equal(t, 1, f.countVisits(t, good.visit.ID))

	// Replayed, the rejection is the same; the queue goes on.
	again := f.mustPush(t, first)
	requireRejected(t, again.Results[0], connect.CodeInvalidArgument)
}

// TestNumbers_RefusedAtCreate checks that non-finite and out-of-range
// numbers are refused with InvalidArgument where they enter: stores,
// standards packs and bonus policies.
func TestNumbers_RefusedAtCreate(t *testing.T) {
	ts := MustRunServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "numbers").Tokens.AccessToken
	manager := mustLogin(t, c, audit.RoleManager, "numbers").Tokens.AccessToken
	hr := mustLogin(t, c, audit.RoleHR, "numbers").Tokens.AccessToken

	t.Run("Store", func(t *testing.T) {
		for name, edit := range map[string]func(s *v1.Store){
			"NaN latitude":      func(s *v1.Store) { s.Latitude = math.NaN() },
			"NaN longitude":     func(s *v1.Store) { s.Longitude = math.NaN() },
			"infinite geofence": func(s *v1.Store) { s.GeofenceMeters = math.Inf(1) },
			"huge geofence":     func(s *v1.Store) { s.GeofenceMeters = 5e6 },
		} {
			s := &v1.Store{Code: "N-" + uuid.NewString()[:6], Name: "Numbers", Latitude: 55, Longitude: 37, GeofenceMeters: 100}
			edit(s)
			_, err := call(t, c.Org.CreateStore, admin, &v1.CreateStoreRequest{Store: s})
			requireCode(t, connect.CodeInvalidArgument, err, name)
		}
	})
	t.Run("Pack", func(t *testing.T) {
		pack := readPack(t)
		for name, edit := range map[string][]byte{
			"weight 1e308": bytes.Replace(pack, []byte(`"type": "yes_no",`), []byte(`"type": "yes_no", "weight": 1e308,`), 1),
			"target 1e300": bytes.Replace(pack, []byte(`"value": 30}`), []byte(`"value": 1e300}`), 1),
			"3 MiB text":   bytes.Replace(pack, []byte(`"Seconds until greeted"`), []byte(`"`+strings.Repeat("x", 3<<20)+`"`), 1),
		} {
			require.False(t, bytes.Equal(pack, edit), "the edit applies: %s", name)
			_, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "pack.json", Content: edit})
			requireCode(t, connect.CodeInvalidArgument, err, name)
		}
	})
	t.Run("Policy", func(t *testing.T) {
		rc := shopscorev1connect.NewReportServiceClient(http.DefaultClient, ts.URL)
		p := demo.DriverPolicy()
		p.ID = "tiny-half-life"
		p.Components[0].Combine, p.Components[0].HalfLifeDays = reports.CombineRecencyWeighted, 0.001
		body, err := json.Marshal(p)
		require.NoError(t, err)
		_, err = call(t, rc.CreatePolicy, hr, &v1.CreatePolicyRequest{PolicyJson: string(body)})
		requireCode(t, connect.CodeInvalidArgument, err)
	})
}
