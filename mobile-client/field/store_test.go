package field

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

func TestOpen(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		c, err := OpenConfig(testConfig(dir, "http://127.0.0.1:1/", &fakeClock{boot: "b"}))
		require.NoError(t, err)
		ctx := context.Background()
		id, err := c.DeviceID(ctx)
		require.NoError(t, err)
		require.Len(t, id, 36)
		ms, err := migrations()
		require.NoError(t, err)
		var applied int
		require.NoError(t, c.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&applied))
		assert.Equal(t, len(ms), applied)
		var mode string
		require.NoError(t, c.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
		assert.Equal(t, "wal", mode)
		var fk int
		require.NoError(t, c.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk))
		assert.Equal(t, 1, fk)
		assert.Equal(t, "http://127.0.0.1:1", c.ServerURL())
		require.NoError(t, c.Close())

		// Reopening applies nothing twice and keeps the device ID.
		c2, err := Open(dir, "http://127.0.0.1:1")
		require.NoError(t, err)
		defer c2.Close()
		id2, err := c2.DeviceID(ctx)
		require.NoError(t, err)
		assert.Equal(t, id, id2)
		require.NoError(t, c2.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&applied))
		assert.Equal(t, len(ms), applied)
	})
	t.Run("Inspect", func(t *testing.T) {
		// Opened only to look: nothing is created where there is no
		// database, every change is refused, and a database this build
		// would migrate is refused rather than read with the wrong schema.
		ctx := context.Background()
		dir := filepath.Join(t.TempDir(), "client")
		cfg := testConfig(dir, "http://127.0.0.1:1", &fakeClock{boot: "b"})
		cfg.Inspect = true
		_, err := OpenConfig(cfg)
		assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err), "%v", err)
		assert.NoDirExists(t, dir)

		cfg.Inspect = false
		c, err := OpenConfig(cfg)
		require.NoError(t, err)
		id, err := c.DeviceID(ctx)
		require.NoError(t, err)
		require.NoError(t, c.Close())

		cfg.Inspect = true
		c, err = OpenConfig(cfg)
		require.NoError(t, err)
		got, err := c.DeviceID(ctx)
		require.NoError(t, err)
		assert.Equal(t, id, got)
		_, err = c.db.Exec(`DELETE FROM schema_migrations`)
		assert.Error(t, err, "an inspecting client changes nothing")
		require.NoError(t, c.Close())

		db, err := openDB(filepath.Join(dir, DatabaseFile))
		require.NoError(t, err)
		_, err = db.Exec(`DELETE FROM schema_migrations WHERE rowid = (SELECT max(rowid) FROM schema_migrations)`)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		_, err = OpenConfig(cfg)
		assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err), "%v", err)
		assert.ErrorContains(t, err, "run `shopper sync`")
	})
	t.Run("OlderDatabase", func(t *testing.T) {
		// A database of a client from before the shared migration runner:
		// its schema_migrations named the time column applied_ms. It opens
		// with its history and device ID, and no migration runs twice.
		dir := t.TempDir()
		db, err := openDB(filepath.Join(dir, DatabaseFile))
		require.NoError(t, err)
		ms, err := migrations()
		require.NoError(t, err)
		_, err = db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)`)
		require.NoError(t, err)
		for _, m := range ms {
			_, err = db.Exec(m.SQL)
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`, m.Version, m.Name, 1_700_000_000_000+m.Version)
			require.NoError(t, err)
		}
		_, err = db.Exec(`INSERT INTO device (id, device_id) VALUES (1, 'phone-1')`)
		require.NoError(t, err)
		require.NoError(t, db.Close())

		c, err := Open(dir, "http://127.0.0.1:1")
		require.NoError(t, err)
		defer c.Close()
		id, err := c.DeviceID(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "phone-1", id)
		var n int
		var first int64
		require.NoError(t, c.db.QueryRow(`SELECT COUNT(*), MIN(applied_at) FROM schema_migrations`).Scan(&n, &first))
		assert.Equal(t, len(ms), n)
		assert.Equal(t, int64(1_700_000_000_000+ms[0].Version), first, "the history is kept")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := Open("", "http://x")
		requireCode(t, audit.EINVALID, err)
		for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
			_, err := Open(t.TempDir(), u)
			requireCode(t, audit.EINVALID, err)
		}
	})
}

func TestClient_Login(t *testing.T) {
	ctx := context.Background()
	f := newFakeServer(t)
	c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		_, err := c.Login(ctx, "shopper@test", "wrong")
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "wrong e-mail or password")
		_, err = c.Pull(ctx)
		requireCode(t, audit.EUNAUTHORIZED, err)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := c.Login(ctx, " ", "x")
		requireCode(t, audit.EINVALID, err)
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		_, err := c.Login(ctx, "manager@test", "secret")
		requireCode(t, audit.EFORBIDDEN, err)
		s, err := c.Session(ctx)
		require.NoError(t, err)
		assert.False(t, s.LoggedIn())
	})
	t.Run("OK", func(t *testing.T) {
		s := mustLogin(t, c)
		assert.Equal(t, fakeShopper, s.UserID)
		assert.Equal(t, "shopper", s.Role)
		assert.True(t, s.AccessExpiry.After(time.Now()))
	})
}

func TestClient_Refresh(t *testing.T) {
	ctx := context.Background()
	f := newFakeServer(t)
	f.setFeed(newFixture(t).assignment("a1"))
	c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
	mustLogin(t, c)

	t.Run("NearExpiry", func(t *testing.T) {
		f.with(func(f *fakeServer) { f.accessTTL = 30 * time.Second })
		mustLogin(t, c) // the access token now expires within RefreshBefore
		_, err := c.Pull(ctx)
		require.NoError(t, err)
		f.with(func(f *fakeServer) { assert.Equal(t, 1, f.refreshes) })
	})
	t.Run("Unauthenticated", func(t *testing.T) {
		f.with(func(f *fakeServer) { f.accessTTL = time.Hour; f.revokeAccess = true; f.refreshes = 0 })
		mustLogin(t, c)
		_, err := c.Pull(ctx)
		require.NoError(t, err, "refreshed and retried")
		f.with(func(f *fakeServer) { assert.Equal(t, 1, f.refreshes) })
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		// The refresh token was used elsewhere: the session is over.
		f.with(func(f *fakeServer) { f.refresh = "rotated-elsewhere"; f.revokeAccess = true })
		_, err := c.Pull(ctx)
		requireCode(t, audit.EUNAUTHORIZED, err)
		assert.Contains(t, err.Error(), "log in again")
	})
}

func TestClient_Pull(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	f := newFakeServer(t)
	f.setFeed(fx.assignment("a1"), fx.assignment("a2"), fx.unplanned(),
		&v1.Change{Kind: &v1.Change_AssignmentRemoval{AssignmentRemoval: &v1.AssignmentRemoval{AssignmentId: "a2", Reason: "cancelled"}}})
	c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
	mustLogin(t, c)

	t.Run("OK", func(t *testing.T) {
		res, err := c.Pull(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Pages)
		assert.Equal(t, 4, res.Changes)
		as, err := c.Assignments(ctx)
		require.NoError(t, err)
		require.Len(t, as, 1, "the cancelled one is hidden")
		assert.Equal(t, "a1", as[0].ID)
		assert.Equal(t, "MSK-01", as[0].StoreCode)
		assert.Equal(t, audit.AssignmentAccepted, as[0].State)
		staff, err := c.Staff(ctx, "MSK-01")
		require.NoError(t, err)
		assert.Len(t, staff, 2)
		us, err := c.UnplannedChecklists(ctx)
		require.NoError(t, err)
		require.Len(t, us, 1)
		assert.Equal(t, "back-office-call", us[0].ChecklistID)
		require.Len(t, us[0].Stores, 1)

		// Nothing new: one empty page.
		res, err = c.Pull(ctx)
		require.NoError(t, err)
		assert.Equal(t, 0, res.Changes)
	})

	t.Run("FailureMidPage", func(t *testing.T) {
		var before string
		require.NoError(t, c.db.QueryRow(`SELECT cursor FROM device`).Scan(&before))
		f.appendFeed(fx.assignment("a3"), fx.assignment("a4"))
		c.beforeChange = func(i int) error {
			if i == 1 {
				return errors.New("power cut")
			}
			return nil
		}
		_, err := c.Pull(ctx)
		require.Error(t, err)
		var after string
		require.NoError(t, c.db.QueryRow(`SELECT cursor FROM device`).Scan(&after))
		assert.Equal(t, before, after, "the cursor must not advance past a page that was not applied")
		var n int
		require.NoError(t, c.db.QueryRow(`SELECT COUNT(*) FROM assignments WHERE id = 'a3'`).Scan(&n))
		assert.Zero(t, n, "nothing of the failed page is kept")

		c.beforeChange = nil
		_, err = c.Pull(ctx)
		require.NoError(t, err)
		require.NoError(t, c.db.QueryRow(`SELECT COUNT(*) FROM assignments WHERE id IN ('a3', 'a4')`).Scan(&n))
		assert.Equal(t, 2, n)
	})

	t.Run("ErrInvalidContent", func(t *testing.T) {
		bad := fx.assignment("a5")
		up := bad.GetAssignmentUpsert()
		up.Checklist = proto.Clone(fx.storeVisit).(*v1.ChecklistVersion)
		up.Checklist.Version = 9
		up.Checklist.ContentHash = hex.EncodeToString(make([]byte, 32)) // does not match the content
		up.Assignment.ChecklistVersion = 9
		f.appendFeed(bad)
		_, err := c.Pull(ctx)
		requireCode(t, audit.EINVALID, err)
		assert.Contains(t, err.Error(), "does not match its hash")
		f.setFeed() // the server fixes its feed and resets
		f.with(func(f *fakeServer) { f.epoch = "e-fixed" })
	})
}

func TestClient_PullFullResync(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	f := newFakeServer(t)
	f.setFeed(fx.assignment("a1"), fx.assignment("a2"), fx.unplanned())
	c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
	mustLogin(t, c)
	_, err := c.Pull(ctx)
	require.NoError(t, err)

	// A visit submitted (outbox) and a draft, both on a1.
	submitted, err := c.StartVisit(ctx, "a1")
	require.NoError(t, err)
	fillStoreVisit(t, c, submitted, t.TempDir(), 1)
	require.NoError(t, c.Submit(ctx, submitted))
	draft, err := c.StartVisit(ctx, "a2")
	require.NoError(t, err)

	// The server lost its feed (restored backup): the cursor is unknown and
	// the new snapshot no longer has a1, a2 or the checklist.
	f.with(func(f *fakeServer) { f.epoch = "e2" })
	f.setFeed(fx.unplanned())
	res, err := c.Pull(ctx)
	require.NoError(t, err)
	assert.True(t, res.FullResync)

	f.with(func(f *fakeServer) {
		assert.Contains(t, f.visits, submitted, "the outbox was pushed before the reset")
	})
	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Pending)
	var states = map[string]string{}
	for _, v := range st.Visits {
		states[v.ID] = v.State
	}
	assert.Equal(t, StateDraft, states[draft], "the draft is kept")
	assert.Contains(t, []string{StateUploading, StateSent}, states[submitted])
	as, err := c.Assignments(ctx)
	require.NoError(t, err)
	assert.Empty(t, as, "server-owned data replaced")

	// The draft's checklist version is kept: it can still be scored.
	d, err := c.Visit(ctx, draft)
	require.NoError(t, err)
	assert.Equal(t, "store-visit", d.Checklist.ID)
	_, err = c.Answer(ctx, draft, "greet_polite", yes())
	require.NoError(t, err)
}

func TestClient_Outbox(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	f := newFakeServer(t)
	f.setFeed(fx.assignment("a1"), fx.assignment("a2"), fx.assignment("a3"))
	dir := t.TempDir()
	clock := &fakeClock{boot: "b"}
	c := MustOpenClient(t, dir, f.URL, clock)
	mustLogin(t, c)
	_, err := c.Pull(ctx)
	require.NoError(t, err)

	var ids []string
	for _, a := range []string{"a2", "a1", "a3"} {
		id, err := c.StartVisit(ctx, a)
		require.NoError(t, err)
		fillStoreVisit(t, c, id, t.TempDir(), uint8(len(ids)))
		ids = append(ids, id)
	}
	// Submitted out of start order: seqs follow submission, without gaps.
	for _, i := range []int{2, 0, 1} {
		require.NoError(t, c.Submit(ctx, ids[i]))
	}
	st, err := c.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.Pending, 3)
	for i, want := range []string{ids[2], ids[0], ids[1]} {
		assert.Equal(t, int64(i+1), st.Pending[i].Seq)
		assert.Equal(t, want, st.Pending[i].VisitID)
	}
	assert.Equal(t, int64(4), st.NextSeq)

	// The outbox and drafts survive a restart of the process.
	draft, err := c.StartUnplannedVisit(ctx, "store-visit", "MSK-01")
	requireCode(t, audit.EPRECONDITION, err) // store-visit takes no unplanned visits
	assert.Empty(t, draft)
	require.NoError(t, c.Close())
	c2 := MustOpenClient(t, dir, f.URL, clock)
	st2, err := c2.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, st.Pending, st2.Pending)
	assert.Equal(t, fakeShopper, st2.Session.UserID, "the session survives too")

	// The frozen payload is what Submit encoded: a visit with its photos.
	var payload []byte
	require.NoError(t, c2.db.QueryRow(`SELECT payload FROM outbox WHERE seq = 1`).Scan(&payload))
	m := &v1.Mutation{}
	require.NoError(t, proto.Unmarshal(payload, m))
	assert.Equal(t, int64(1), m.GetSeq())
	v := m.GetSubmitVisit().GetVisit()
	assert.Equal(t, ids[2], v.GetId())
	assert.Equal(t, fx.storeVisit.ContentHash, v.GetContentHash())
	require.Len(t, v.GetPhotos(), 1)
	assert.Equal(t, "image/png", v.GetPhotos()[0].GetContentType())

	// A submitted visit is frozen.
	_, err = c2.Answer(ctx, ids[0], "greet_polite", yes())
	requireCode(t, audit.EPRECONDITION, err)
	requireCode(t, audit.EPRECONDITION, c2.Submit(ctx, ids[0]))
}

func TestClient_AddPhoto(t *testing.T) {
	ctx := context.Background()
	f := newFakeServer(t)
	f.setFeed(newFixture(t).assignment("a1"))
	c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
	mustLogin(t, c)
	_, err := c.Pull(ctx)
	require.NoError(t, err)
	visit, err := c.StartVisit(ctx, "a1")
	require.NoError(t, err)
	src := t.TempDir()

	t.Run("OK", func(t *testing.T) {
		path := writePhoto(t, src, "tag.jpg", 7)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		sum := sha256.Sum256(raw)
		p, err := c.AddPhoto(ctx, visit, "tags_present", path)
		require.NoError(t, err)
		assert.Equal(t, hex.EncodeToString(sum[:]), p.SHA256)
		assert.Equal(t, int64(len(raw)), p.Size)
		assert.Equal(t, "image/jpeg", p.ContentType)
		assert.Equal(t, 0, p.Index)
		// The copy is the client's own: the original may go.
		require.NoError(t, os.Remove(path))
		stored, err := os.ReadFile(filepath.Join(c.photoDir, p.SHA256))
		require.NoError(t, err)
		assert.Equal(t, raw, stored)

		// A second photo on the same answer takes the next slot; the answer
		// keeps its value and photos across a new value.
		p2, err := c.AddPhoto(ctx, visit, "tags_present", writePhoto(t, src, "tag2.png", 8))
		require.NoError(t, err)
		assert.Equal(t, 1, p2.Index)
		no := false
		pending, err := c.Answer(ctx, visit, "tags_present", Value{Bool: &no})
		require.NoError(t, err)
		require.Len(t, pending, 1, "a no demands a note")
		assert.Equal(t, audit.AnswerNoteRequired, pending[0].Kind)
		pending, err = c.AnswerNote(ctx, visit, "tags_present", "three tags missing in aisle 4")
		require.NoError(t, err)
		assert.Empty(t, pending)
		d, err := c.Visit(ctx, visit)
		require.NoError(t, err)
		for _, a := range d.Visit.Answers {
			if a.QuestionID == "tags_present" {
				assert.Equal(t, []string{p.SHA256, p2.SHA256}, a.PhotoHashes)
			}
		}
		assert.Len(t, d.Visit.Photos, 2)
		entries, err := os.ReadDir(c.photoDir)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "no temporary files are left behind")
	})
	t.Run("HEIC", func(t *testing.T) {
		head := append([]byte{0, 0, 0, 0x18}, []byte("ftypheic\x00\x00\x00\x00mif1heic")...)
		path := filepath.Join(src, "x.heic")
		require.NoError(t, os.WriteFile(path, append(head, make([]byte, 100)...), 0o600))
		p, err := c.AddPhoto(ctx, visit, "floor_photo", path)
		require.NoError(t, err)
		assert.Equal(t, "image/heic", p.ContentType)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		text := filepath.Join(src, "notes.txt")
		require.NoError(t, os.WriteFile(text, []byte("not a photo at all"), 0o600))
		_, err := c.AddPhoto(ctx, visit, "floor_photo", text)
		requireCode(t, audit.EINVALID, err)
		assert.Contains(t, err.Error(), "not a photo")
		empty := filepath.Join(src, "empty.jpg")
		require.NoError(t, os.WriteFile(empty, nil, 0o600))
		_, err = c.AddPhoto(ctx, visit, "floor_photo", empty)
		requireCode(t, audit.EINVALID, err)
		_, err = c.AddPhoto(ctx, visit, "floor_photo", filepath.Join(src, "missing.jpg"))
		requireCode(t, audit.EINVALID, err)
		_, err = c.AddPhoto(ctx, visit, "no_such_question", writePhoto(t, src, "q.png", 9))
		requireCode(t, audit.EINVALID, err)
		_, err = c.AddPhoto(ctx, "no-such-visit", "floor_photo", writePhoto(t, src, "q.png", 9))
		requireCode(t, audit.ENOTFOUND, err)
	})
}

func TestDetectPhotoType(t *testing.T) {
	for name, tc := range map[string]struct {
		head []byte
		want string
	}{
		"jpeg": {[]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		"png":  {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		"webp": {[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp"},
		"heic": {[]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic"},
		"mif1": {[]byte("\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00"), "image/heic"},
		"mp4":  {[]byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00"), "application/octet-stream"},
		"text": {[]byte("hello"), "text/plain"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, DetectPhotoType(tc.head))
		})
	}
}
