package storagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Notifications checks storage.Notifications on a fresh database: the
// preferences' default and their change; e-mails queued, a digest's
// items gathered into one row per user and digest hour; claims under a
// lease (two claims at once never share an e-mail, a lease that ran out
// is claimed again and its old holder can no longer record); results;
// the daily marks taken once; pruning. users makes the database's users
// (the rows refer to them); again opens the same database once more, as
// another server would; at is the database's clock, which the test
// moves.
func Notifications(t *testing.T, users storage.Users, n storage.Notifications, again func(t *testing.T) storage.Notifications, at *time.Time) {
	ctx := context.Background()
	start := at.Truncate(time.Millisecond)
	*at = start
	var ids []string
	for i, name := range []string{"Анна", "Boris"} {
		u := &audit.User{Email: fmt.Sprintf("mail-%d@example.com", i), DisplayName: name, Role: audit.RoleManager}
		require.NoError(t, users.Create(ctx, u, ""))
		ids = append(ids, u.ID)
	}
	anna, boris := ids[0], ids[1]

	p, err := n.Prefs(ctx, anna)
	require.NoError(t, err)
	assert.Equal(t, storage.NotificationPrefs{}, p, "nothing set: the defaults")
	require.NoError(t, n.SetPrefs(ctx, anna, storage.NotificationPrefs{Language: "ru", Digest: true}))
	require.NoError(t, n.SetPrefs(ctx, anna, storage.NotificationPrefs{Language: "en", EmailOff: true}))
	p, err = n.Prefs(ctx, anna)
	require.NoError(t, err)
	assert.Equal(t, storage.NotificationPrefs{Language: "en", EmailOff: true}, p, "set again: replaced")

	item := func(s string) []byte { return []byte(`[{"kind":"visit_returned","data":{"Reason":"` + s + `"}}]`) }
	digestAt := start.Add(3 * time.Hour)
	require.NoError(t, n.Add(ctx, &storage.Notification{ID: "m1", UserID: boris, Items: item("one"), NextAt: start}))
	require.NoError(t, n.Add(ctx, &storage.Notification{ID: "d1", UserID: anna, Digest: true, Items: item("first"), NextAt: digestAt}))
	*at = start.Add(time.Minute)
	require.NoError(t, n.Add(ctx, &storage.Notification{ID: "d2", UserID: anna, Digest: true, Items: item("second"), NextAt: digestAt}))
	require.NoError(t, n.Add(ctx, &storage.Notification{ID: "d3", UserID: anna, Digest: true, Items: item("tomorrow"), NextAt: digestAt.Add(24 * time.Hour)}))
	listed, err := n.List(ctx, storage.NotificationFilter{UserID: anna})
	require.NoError(t, err)
	require.Len(t, listed, 2, "one digest per user and digest hour")
	assert.Equal(t, "d1", listed[0].ID)
	assert.True(t, listed[0].Digest)
	assert.Equal(t, storage.NotificationPending, listed[0].State)
	assert.Equal(t, start, listed[0].CreatedAt.UTC())
	assert.Equal(t, digestAt, listed[0].NextAt.UTC())
	var items []struct {
		Kind string
		Data struct{ Reason string }
	}
	require.NoError(t, json.Unmarshal(listed[0].Items, &items))
	require.Len(t, items, 2)
	assert.Equal(t, "first", items[0].Data.Reason)
	assert.Equal(t, "second", items[1].Data.Reason, "the later item appended")
	assert.Equal(t, "d3", listed[1].ID)

	// Due now: boris's message only; the digest waits for its hour.
	claim := func(n storage.Notifications, token string, limit int) []*storage.ClaimedNotification {
		c, err := n.Claim(ctx, storage.Claim{Now: *at, Until: at.Add(time.Minute), Token: token, Limit: limit})
		require.NoError(t, err)
		return c
	}
	got := claim(n, "w1", 10)
	require.Len(t, got, 1)
	assert.Equal(t, "m1", got[0].ID)
	assert.Equal(t, "w1", got[0].Lease)
	assert.JSONEq(t, string(item("one")), string(got[0].Items))
	assert.Empty(t, claim(n, "w2", 10), "leased: nobody else's")

	// The lease runs out: another claims it, and the first can no longer
	// record.
	*at = at.Add(2 * time.Minute)
	other := again(t)
	again2 := claim(other, "w3", 10)
	require.Len(t, again2, 1)
	ok, err := n.Record(ctx, storage.NotificationResult{ID: "m1", Lease: "w1", State: storage.NotificationSent, Attempts: 1, FirstAt: *at, At: *at})
	require.NoError(t, err)
	assert.False(t, ok, "a lost lease records nothing")
	// A transient failure: pending again later, the attempt counted.
	retry := at.Add(30 * time.Second)
	ok, err = other.Record(ctx, storage.NotificationResult{ID: "m1", Lease: "w3", State: storage.NotificationPending, Attempts: 1,
		FirstAt: *at, NextAt: retry, At: *at, Error: "smtp send (transient): 451 try later"})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Empty(t, claim(n, "w4", 10), "not due before its retry")
	*at = retry
	got = claim(n, "w5", 10)
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].Attempts)
	assert.Equal(t, "smtp send (transient): 451 try later", got[0].LastError)
	sentAt := *at
	ok, err = n.Record(ctx, storage.NotificationResult{ID: "m1", Lease: "w5", State: storage.NotificationSent, Attempts: 2,
		FirstAt: got[0].FirstAt, At: sentAt})
	require.NoError(t, err)
	assert.True(t, ok)
	done, err := n.List(ctx, storage.NotificationFilter{UserID: boris})
	require.NoError(t, err)
	require.Len(t, done, 1)
	assert.Equal(t, storage.NotificationSent, done[0].State)
	assert.Equal(t, 2, done[0].Attempts)
	assert.Equal(t, sentAt, done[0].SentAt.UTC())

	// At the digest hour, two servers claiming at once share nothing.
	*at = digestAt
	for i := range 6 {
		require.NoError(t, n.Add(ctx, &storage.Notification{ID: fmt.Sprintf("b%d", i), UserID: boris, Items: item("x"), NextAt: digestAt}))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w, nouns := range []storage.Notifications{n, other} {
		wg.Go(func() {
			for i := range 4 {
				c, err := nouns.Claim(ctx, storage.Claim{Now: digestAt, Until: digestAt.Add(time.Minute), Token: fmt.Sprintf("s%d-%d", w, i), Limit: 2})
				assert.NoError(t, err)
				mu.Lock()
				for _, x := range c {
					seen[x.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 7, "the six messages and the digest")
	for id, k := range seen {
		assert.Equal(t, 1, k, "%s claimed once", id)
	}

	// Daily marks: the first of a day only.
	first, err := n.Mark(ctx, anna, "reviews_waiting", "2026-12-01")
	require.NoError(t, err)
	assert.True(t, first)
	first, err = other.Mark(ctx, anna, "reviews_waiting", "2026-12-01")
	require.NoError(t, err)
	assert.False(t, first, "once a day, whichever server asks")
	first, err = n.Mark(ctx, anna, "reviews_waiting", "2026-12-02")
	require.NoError(t, err)
	assert.True(t, first)

	// Pruning takes finished e-mails older than the cut, never pending ones.
	pruned, err := n.Prune(ctx, sentAt.Add(time.Millisecond), 100)
	require.NoError(t, err)
	assert.Equal(t, 1, pruned)
	pruned, err = n.Prune(ctx, digestAt.Add(time.Hour), 100)
	require.NoError(t, err)
	assert.Equal(t, 0, pruned, "pending e-mails stay")
	left, err := n.List(ctx, storage.NotificationFilter{UserID: boris})
	require.NoError(t, err)
	assert.Len(t, left, 6)
	*at = digestAt.Add(2 * time.Hour)
	first, err = n.Mark(ctx, anna, "reviews_waiting", "2026-12-01")
	require.NoError(t, err)
	assert.True(t, first, "the old marks were pruned with the e-mails")
}
