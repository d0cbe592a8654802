package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/sqlite"
)

func TestDB_Push(t *testing.T) {
	ctx := context.Background()
	f := newFeedFixture(t)
	s, err := f.db.CreateSession(ctx, f.shopper, "phone-1", "phone", []byte("refresh-hash"), time.Now().Add(time.Hour), "127.0.0.1")
	require.NoError(t, err)
	dev := sqlite.Device{UserID: f.shopper, SessionID: s.ID}
	bad := sqlite.Mutation{Seq: 1, ID: "m1", Digest: "d1", Err: audit.Errorf(audit.EINVALID, "malformed")}

	t.Run("ErrUnknownSession", func(t *testing.T) {
		_, err := f.db.Push(ctx, sqlite.Device{UserID: f.shopper, SessionID: "nope"}, time.Time{}, []sqlite.Mutation{bad})
		assert.Equal(t, audit.EUNAUTHORIZED, audit.ErrorCode(err))
	})
	t.Run("RejectionConsumesSeq", func(t *testing.T) {
		res, err := f.db.Push(ctx, dev, time.Now(), []sqlite.Mutation{bad})
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.AppliedSeq)
		require.Len(t, res.Results, 1)
		assert.Equal(t, sqlite.MutationRejected, res.Results[0].Status)
		assert.Equal(t, audit.EINVALID, res.Results[0].Err.Code)
	})
	t.Run("ErrGap", func(t *testing.T) {
		res, err := f.db.Push(ctx, dev, time.Now(), []sqlite.Mutation{{Seq: 3, ID: "m3", Digest: "d3", Err: bad.Err}})
		assert.Equal(t, audit.EABORTED, audit.ErrorCode(err))
		require.NotNil(t, res)
		assert.Equal(t, int64(1), res.AppliedSeq)
	})
	t.Run("SameDeviceNewSession", func(t *testing.T) {
		// A new login on the same phone continues its sequence.
		s2, err := f.db.CreateSession(ctx, f.shopper, "phone-1", "phone", []byte("refresh-hash-2"), time.Now().Add(time.Hour), "127.0.0.1")
		require.NoError(t, err)
		res, err := f.db.Push(ctx, sqlite.Device{UserID: f.shopper, SessionID: s2.ID}, time.Time{}, []sqlite.Mutation{bad})
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.AppliedSeq)
		assert.Equal(t, sqlite.MutationRejected, res.Results[0].Status, "a replay of a rejection answers it again")
		assert.Equal(t, "malformed", res.Results[0].Err.Message)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := f.db.Push(ctx, dev, time.Time{}, nil)
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
		_, err = f.db.Push(ctx, dev, time.Time{}, []sqlite.Mutation{{Seq: 2, ID: "a"}, {Seq: 4, ID: "b"}})
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
	})
}
