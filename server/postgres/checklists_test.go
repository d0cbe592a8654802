package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
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

// Versions are listed by checklist id bytewise, as SQLite orders them
// (upper case before lower case), then by version.
func TestChecklistVersionsListedBytewise(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
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
