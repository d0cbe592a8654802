package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// The schema itself refuses to change a version the use cases published,
// whatever code runs against it (the trigger checklist_versions_immutable,
// as SQLite's triggers do): its content, its hash, going back to draft,
// deletion. Retiring it is allowed, and the stored version still matches
// its hash.
func TestChecklistVersions_ImmutableInSchema(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	a := app.New(db, app.Options{})
	_, err := a.SaveDraft(ctx, storagetest.Checklist("c", "Greeted?"), "me")
	require.NoError(t, err)
	_, err = a.PublishVersion(ctx, "c", 1)
	require.NoError(t, err)

	for name, stmt := range map[string]string{
		"content":   `UPDATE checklist_versions SET content = '{}' WHERE checklist_id = 'c'`,
		"hash":      `UPDATE checklist_versions SET content_hash = 'x' WHERE checklist_id = 'c'`,
		"unpublish": `UPDATE checklist_versions SET state = 'draft' WHERE checklist_id = 'c'`,
		"renumber":  `UPDATE checklist_versions SET version = 7 WHERE checklist_id = 'c'`,
		"delete":    `DELETE FROM checklist_versions WHERE checklist_id = 'c'`,
	} {
		t.Run(name, func(t *testing.T) {
			tx, err := db.pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx)
			_, err = tx.Exec(ctx, stmt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "immutable")
		})
	}
	// Through storage, too: a draft's replacement leaves it alone.
	c := storagetest.Checklist("c", "Smiled?")
	require.NoError(t, db.Checklists().ReplaceDraft(ctx, c, 1, "me"))
	v, err := db.Checklists().Find(ctx, "c", 1)
	require.NoError(t, err)
	assert.NoError(t, v.Verify())
	assert.Equal(t, "Greeted?", v.Content.Sections[0].Questions[0].Text)

	_, err = a.RetireVersion(ctx, audit.Scope{All: true}, "c", 1)
	require.NoError(t, err)
	v, err = db.Checklists().Find(ctx, "c", 1)
	require.NoError(t, err)
	assert.Equal(t, audit.VersionRetired, v.State)
	assert.NoError(t, v.Verify())
}

// Drafts saved at once by several servers for a checklist whose latest
// version is published make one next version, as SQLite's single writer
// does (each save after the first replaces the draft): the transactions
// that read the same latest version conflict, and the database runs the
// later ones again.
func TestDraftsSavedAtOnceMakeOneNextVersion(t *testing.T) {
	t.Parallel()
	db, url := open(t)
	ctx := context.Background()
	a := app.New(db, app.Options{})
	_, err := a.SaveDraft(ctx, storagetest.Checklist("c", "v1"), "me")
	require.NoError(t, err)
	_, err = a.PublishVersion(ctx, "c", 1)
	require.NoError(t, err)

	const servers = 4
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range servers {
		other, err := Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(func() { other.Close() })
		wg.Go(func() {
			<-start
			v, err := app.New(other, app.Options{}).SaveDraft(ctx, storagetest.Checklist("c", fmt.Sprintf("draft %d", i)), "me")
			if assert.NoError(t, err, "server %d", i) {
				assert.Equal(t, 2, v.Version, "server %d", i)
			}
		})
	}
	close(start)
	wg.Wait()
	list, err := db.Checklists().List(ctx, audit.VersionFilter{ChecklistID: "c"})
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, audit.VersionDraft, list[1].State)
}

// openInLanguageOrder opens a fresh database whose text sorts in
// English order (ICU), as many installations' databases do, unlike the
// test cluster's C.UTF-8: there only COLLATE "C" gives SQLite's bytewise
// order.
func openInLanguageOrder(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.URLWith(t, `TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'`))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// Versions are listed by checklist id bytewise, as SQLite orders them
// (upper case before lower case), then by version, whatever the
// database's locale.
func TestChecklistVersionsListedBytewise(t *testing.T) {
	t.Parallel()
	db := openInLanguageOrder(t)
	ctx := context.Background()
	a := app.New(db, app.Options{})
	for _, id := range []string{"b", "B", "a", "A-2"} {
		_, err := a.SaveDraft(ctx, storagetest.Checklist(id, "q"), "me")
		require.NoError(t, err)
	}
	_, err := a.PublishVersion(ctx, "b", 1)
	require.NoError(t, err)
	_, err = a.SaveDraft(ctx, storagetest.Checklist("b", "q2"), "me")
	require.NoError(t, err)
	list, err := db.Checklists().List(ctx, audit.VersionFilter{})
	require.NoError(t, err)
	var got []string
	for _, v := range list {
		got = append(got, fmt.Sprintf("%s/%d", v.ChecklistID, v.Version))
	}
	assert.Equal(t, []string{"A-2/1", "B/1", "a/1", "b/1", "b/2"}, got)
}

// The same calls give SQLite's versions, states, names and errors (the
// messages name the checklist and version), and a checklist's Touch
// writes its row in every shopper's feed.
func TestChecklistsAnswerAsSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 30, 0, 123_000_000, time.UTC)
	lite := sqlite.NewDB(filepath.Join(t.TempDir(), "shopscore.db"))
	lite.Now = func() time.Time { return at }
	require.NoError(t, lite.Open())
	t.Cleanup(func() { lite.Close() })
	pg := clocked(t, &at)

	type answers struct {
		Find0, Find1, Find2, Latest *audit.ChecklistVersion
		States                      []audit.VersionState
		Names                       map[storage.VersionKey]string
		Listed, Published           []*audit.ChecklistVersion
		Errors                      []string
	}
	ask := func(st storage.Storage) answers {
		a := app.New(st, app.Options{})
		c := storagetest.Checklist("c", "Greeted?")
		_, err := a.SaveDraft(ctx, c, "me")
		require.NoError(t, err)
		_, err = a.PublishVersion(ctx, "c", 1)
		require.NoError(t, err)
		c.Name = "Second"
		_, err = a.SaveDraft(ctx, c, "me")
		require.NoError(t, err)
		_, err = a.SaveDraft(ctx, storagetest.Checklist("other", "Smiled?"), "me")
		require.NoError(t, err)
		var out answers
		cl := st.Checklists()
		out.Find0, err = cl.Find(ctx, "c", 0)
		require.NoError(t, err)
		out.Find1, err = cl.Find(ctx, "c", 1)
		require.NoError(t, err)
		out.Find2, err = cl.Find(ctx, "c", 2)
		require.NoError(t, err)
		out.Latest, err = cl.Latest(ctx, "c")
		require.NoError(t, err)
		for _, v := range []int{1, 2} {
			s, err := cl.State(ctx, "c", v)
			require.NoError(t, err)
			out.States = append(out.States, s)
		}
		out.Names, err = cl.Names(ctx)
		require.NoError(t, err)
		out.Listed, err = cl.List(ctx, audit.VersionFilter{Channel: audit.ChannelStoreVisit})
		require.NoError(t, err)
		out.Published, err = cl.List(ctx, audit.VersionFilter{PublishedOnly: true, ChecklistID: "c"})
		require.NoError(t, err)
		for _, f := range []func() error{
			func() error { _, err := cl.Find(ctx, "c", 9); return err },
			func() error { _, err := cl.Find(ctx, "other", 0); return err },
			func() error { _, err := cl.Latest(ctx, "none"); return err },
			func() error { _, err := cl.State(ctx, "c", 9); return err },
		} {
			err := f()
			require.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err), "%v", err)
			out.Errors = append(out.Errors, err.Error())
		}
		return out
	}
	want, got := ask(lite), ask(pg)
	assert.Equal(t, want, got)
	assert.Equal(t, at.Truncate(time.Millisecond), got.Find1.PublishedAt)

	require.NoError(t, pg.Checklists().Touch(ctx, "c"))
	var audience, kind string
	require.NoError(t, pg.pool.QueryRow(ctx, `SELECT audience, kind FROM sync_feed WHERE entity = 'c'`).Scan(&audience, &kind))
	assert.Equal(t, [2]string{"", "checklist"}, [2]string{audience, kind}, "every shopper's feed")
}
