package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// TestEvidence shows a visit waiting for its photo until the server has
// verified the bytes, and the same bytes counting at once for a visit
// that references them later (flagged as reused).
func TestEvidence(t *testing.T) {
	ctx := context.Background()
	f := newPushFixture(t)
	sum := sha256.Sum256([]byte("a photo"))
	sha := hex.EncodeToString(sum[:])
	withPhoto := func(v *audit.Visit) {
		v.Answers[0].PhotoHashes = []string{sha}
		v.Photos = []audit.Photo{{QuestionID: "q", Index: 0, SHA256: sha, Size: 7, ContentType: "image/jpeg"}}
	}
	first := f.visit(1, false, withPhoto)
	res, err := f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{first})
	require.NoError(t, err)
	r := res.Results[0].Receipt
	require.NotNil(t, r, "%v", res.Results[0].Err)
	assert.Equal(t, audit.VisitSubmitted, r.State)
	assert.Equal(t, []audit.MissingPhoto{{QuestionID: "q", Index: 0, SHA256: sha}}, r.Missing)

	linked, err := f.app.LinkVerifiedPhoto(ctx, sha)
	require.NoError(t, err)
	assert.False(t, linked, "nothing verified yet")

	require.NoError(t, f.app.RecordVerifiedPhoto(ctx, storage.VerifiedBlob{SHA256: sha, Size: 7, ContentType: "image/jpeg"}))
	r, err = f.db.Visits().Receipt(ctx, f.shopper, first.Visit.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.VisitComplete, r.State, "its one photo is verified")
	assert.Empty(t, r.Missing)
	detail, err := f.db.Visits().FindDetail(ctx, audit.Scope{All: true}, first.Visit.ID)
	require.NoError(t, err)
	last := detail.History[len(detail.History)-1]
	assert.Equal(t, []audit.VisitState{audit.VisitSubmitted, audit.VisitComplete, "system"}, []audit.VisitState{last.From, last.To, audit.VisitState(last.ActorRole)})

	second := f.visit(2, false, withPhoto)
	res, err = f.app.Push(ctx, f.dev, time.Time{}, []app.Mutation{second})
	require.NoError(t, err)
	r = res.Results[0].Receipt
	require.NotNil(t, r, "%v", res.Results[0].Err)
	assert.Equal(t, audit.VisitComplete, r.State, "the bytes are verified already")
	assert.Equal(t, []audit.VisitFlag{audit.FlagUnplanned, audit.FlagPhotoReused}, r.Flags)
	detail, err = f.db.Visits().FindDetail(ctx, audit.Scope{All: true}, second.Visit.ID)
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(detail.ProofFlags, func(p audit.ProofFlag) bool { return p.Code == audit.FlagPhotoReused && p.SHA256 == sha }),
		"the proof flag names the photo: %v", detail.ProofFlags)
}
