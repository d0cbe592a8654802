package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/audit/demopack"
)

func TestImportPack(t *testing.T) {
	ctx := context.Background()
	a, st := openOrgApp(t, newClock())

	dry, err := a.ImportPack(ctx, "demo-pack.json", demopack.JSON, true, true, "me")
	require.NoError(t, err)
	require.NotEmpty(t, dry)
	for _, v := range dry {
		assert.Equal(t, audit.VersionPublished, v.State, "a dry run shows what it would do")
	}
	none, err := st.Checklists().List(ctx, audit.VersionFilter{})
	require.NoError(t, err)
	assert.Empty(t, none, "and stores nothing")

	_, err = a.ImportPack(ctx, "bad.json", []byte(`{"checklists": [{"id": ""}]}`), true, false, "me")
	requireCode(t, audit.EINVALID, err)
	assert.Contains(t, err.Error(), "bad.json")

	drafts, err := a.ImportPack(ctx, "demo-pack.json", demopack.JSON, false, false, "me")
	require.NoError(t, err)
	require.Len(t, drafts, len(dry))
	for _, v := range drafts {
		assert.Equal(t, audit.VersionDraft, v.State)
		assert.Equal(t, 1, v.Version)
	}
	published, err := a.ImportPack(ctx, "demo-pack.json", demopack.JSON, true, false, "me")
	require.NoError(t, err)
	for _, v := range published {
		assert.Equal(t, audit.VersionPublished, v.State)
		assert.Equal(t, 1, v.Version, "the draft is published, not a new version made")
	}
	again, err := a.ImportPack(ctx, "demo-pack.json", demopack.JSON, false, false, "me")
	require.NoError(t, err)
	for _, v := range again {
		assert.Equal(t, audit.VersionPublished, v.State, "the same content again is the published version")
		assert.Equal(t, 1, v.Version)
	}
	all, err := st.Checklists().List(ctx, audit.VersionFilter{})
	require.NoError(t, err)
	assert.Len(t, all, len(dry))
}

func TestRetireVersion_AfterRetireNewDraft(t *testing.T) {
	ctx := context.Background()
	a, st := openOrgApp(t, newClock())
	c := &audit.Checklist{ID: "c", Name: "C", Channel: audit.ChannelStoreVisit, Sections: []audit.Section{{ID: "s", Title: "S",
		Questions: []audit.Question{{ID: "q", Type: audit.QuestionYesNo, Text: "Greeted?", Required: true}}}}}
	v, err := a.SaveDraft(ctx, c, "me")
	require.NoError(t, err)
	_, err = a.RetireVersion(ctx, audit.Scope{All: true}, "c", v.Version)
	requireCode(t, audit.EPRECONDITION, err) // a draft is not retired
	_, err = a.PublishVersion(ctx, "c", v.Version)
	require.NoError(t, err)
	r, err := a.RetireVersion(ctx, audit.Scope{All: true}, "c", v.Version)
	require.NoError(t, err)
	assert.Equal(t, audit.VersionRetired, r.State)

	// The same content after a retirement is a new version: only an
	// unchanged published version is reused.
	v2, err := a.SaveDraft(ctx, c, "me")
	require.NoError(t, err)
	assert.Equal(t, 2, v2.Version)
	assert.Equal(t, audit.VersionDraft, v2.State)
	_, err = st.Checklists().Find(ctx, "c", 0)
	requireCode(t, audit.ENOTFOUND, err)
	names, err := st.Checklists().Names(ctx)
	require.NoError(t, err)
	assert.Len(t, names, 2)
}
