package faulttest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
)

// TestSync_CutConnections syncs visits with photos through a proxy that
// cuts every connection after a random number of bytes (both directions
// counted), until at least 200 connections were cut, many of them during
// pushes and photo uploads. At the end every visit exists exactly once on
// the server, complete, with every photo verified, and the client has
// nothing waiting. The work is bounded by counts (rounds, and syncs per
// round); each round's time budget is its visits' (visitBudget).
func TestSync_CutConnections(t *testing.T) {
	ts := mustRunServer(t, server.Config{})
	cutConnections(t, ts.single())
}

// cutConnections is TestSync_CutConnections on deployment d.
func cutConnections(t *testing.T, d deployment) {
	const (
		wantCuts      = 200
		wantPushCuts  = 20
		wantPutCuts   = 20
		visitsByRound = 4
		// A round pushes about one batch of four small visits, and few
		// pushes are cut: a CI run made 119 pushes in 100 rounds, cut
		// 19 of them and failed one short of 20. The loop stops as
		// soon as the counts are met; maxRounds only bounds a client
		// that stopped making progress.
		maxRounds = 300
	)
	rnd := rand.New(rand.NewPCG(seed(t, 20261126), 1))
	var rndMu sync.Mutex
	mustImportPack(t, d.AdminURL, faultPack)
	c := mustOpenField(t, d.field(t.TempDir()))

	// Three connections in four are cut at an offset drawn log-uniformly
	// between 32 bytes and 256 KiB: in request headers, small bodies,
	// responses and photo bytes alike. The fourth lives longer (64 KiB to
	// 320 KiB, more than any photo), so that every step gets through
	// eventually.
	lo, hi := math.Log(32), math.Log(256<<10)
	d.SetCut(func() int64 {
		rndMu.Lock()
		defer rndMu.Unlock()
		if rnd.IntN(4) == 0 {
			return 64<<10 + rnd.Int64N(256<<10)
		}
		return int64(math.Exp(lo + rnd.Float64()*(hi-lo)))
	})
	d.CloseConns() // the client's idle connections were opened uncut

	start := time.Now()
	var ids []string
	photos, syncs, rounds := 0, 0, 0
	var slowest time.Duration
	for {
		st := d.Stats()
		if st.Cuts >= wantCuts && st.CutsDuring["Push"] >= wantPushCuts && st.CutsDuring["upload"] >= wantPutCuts {
			break
		}
		require.Less(t, rounds, maxRounds, "not enough cuts after %d rounds: %+v", rounds, st)
		rounds++
		round, allowed := time.Now(), budget(visitsByRound)
		for range visitsByRound {
			rndMu.Lock()
			id, n := recordVisit(t, c, rnd, 4<<10, 48<<10, 6<<10)
			rndMu.Unlock()
			ids, photos = append(ids, id), photos+n
		}
		syncs += syncUntilDone(t, c, 200)
		took := time.Since(round)
		slowest = max(slowest, took)
		require.Less(t, took, allowed, "round %d (%d visits) took %s, more than its budget %s: %+v", rounds, visitsByRound, took, allowed, d.Stats())
	}
	d.SetCut(nil)
	st := d.Stats()
	t.Logf("%d visits with %d photos in %d rounds (the slowest %s), %d syncs, %s: %d connections, %d cut (by request: %v)",
		len(ids), photos, rounds, slowest.Round(time.Millisecond), syncs, time.Since(start).Round(time.Millisecond), st.Conns, st.Cuts, st.CutsDuring)

	// A last sync on a good network changes nothing.
	res, err := c.Sync(context.Background(), nil)
	require.NoError(t, err)
	assert.Zero(t, res.Pushed)
	assert.Empty(t, res.PhotoErrors)
	requireNothingWaits(t, c)
	requireExactlyOnce(t, d.DBDir, ids, photos)
}

// TestSync_LostResponse loses the server's answer to one request after
// the server did the work; the client retries and ends with one visit
// and the original result.
func TestSync_LostResponse(t *testing.T) {
	lostResponse(t, func(t *testing.T) deployment { return mustRunServer(t, server.Config{}).single() })
}

// lostResponse is TestSync_LostResponse on the deployments deploy starts,
// a fresh one for each request whose answer is lost.
func lostResponse(t *testing.T, deploy func(t *testing.T) deployment) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, request := range []string{"Push", "upload", "FinalizeUpload"} {
		t.Run(request, func(t *testing.T) {
			ctx := context.Background()
			d := deploy(t)
			mustImportPack(t, d.AdminURL, faultPack)
			c := mustOpenField(t, d.field(t.TempDir()))
			id, photos := recordVisit(t, c, rnd, 4<<10, 32<<10, 2<<10)

			var mu sync.Mutex
			var responses [][]byte
			seen := 0
			d.SetOnRequest(func(method, path string) Fault {
				if RequestName(method, path) != request {
					return Fault{}
				}
				mu.Lock()
				defer mu.Unlock()
				seen++
				f := Fault{Response: func(raw []byte) {
					mu.Lock()
					defer mu.Unlock()
					responses = append(responses, raw)
				}}
				if seen == 1 {
					f.Action = DropResponse
				}
				return f
			})

			res, err := c.Sync(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, res.PhotoErrors)
			mu.Lock()
			require.GreaterOrEqual(t, seen, 2, "the client sent the request again")
			require.NotEmpty(t, responses)
			first := responses[0]
			mu.Unlock()
			code, _, _, err := ParseResponse(first)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code, "the server did the work before its answer was lost")

			requireNothingWaits(t, c)
			requireExactlyOnce(t, d.DBDir, []string{id}, photos)
			detail, err := c.Visit(ctx, id)
			require.NoError(t, err)
			require.NotNil(t, detail.Receipt)

			if request != "Push" {
				return
			}
			// The lost answer applied the visit; the retry answered the
			// same receipt as a replay.
			mu.Lock()
			require.Len(t, responses, 2)
			results := make([]*v1.MutationResult, 2)
			for i, raw := range responses {
				code, _, body, err := ParseResponse(raw)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, code)
				var pr v1.PushResponse
				require.NoError(t, proto.Unmarshal(body, &pr))
				require.Len(t, pr.Results, 1)
				results[i] = pr.Results[0]
			}
			mu.Unlock()
			assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, results[0].Status)
			assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_REPLAYED, results[1].Status)
			assert.True(t, proto.Equal(results[0].Receipt, results[1].Receipt), "the original result: %v, then %v", results[0].Receipt, results[1].Receipt)
			assert.Equal(t, results[0].Receipt.ReceiveTime.AsTime(), detail.Receipt.ReceiveTime, "the device keeps the original receipt time")
		})
	}
}

// TestSync_ParallelPushes pushes the same outbox from five copies of one
// device's database at once (the same device, session, seqs and
// mutations), through the real field client: one visit on the server,
// and every copy ends with the same receipt. The same race with the
// generated client is TestSyncService_Push/*/Parallel in server/.
func TestSync_ParallelPushes(t *testing.T) {
	parallelPushes(t, mustRunServer(t, server.Config{}).single())
}

// parallelPushes is TestSync_ParallelPushes on deployment d. It returns
// the targets (server addresses) the pushes reached.
func parallelPushes(t *testing.T, d deployment) map[string]int {
	ctx := context.Background()
	mustImportPack(t, d.AdminURL, faultPack)
	dir := t.TempDir()
	c := mustOpenField(t, d.field(dir))
	id, photos := recordVisit(t, c, rand.New(rand.NewPCG(3, 4)), 4<<10, 16<<10, 2<<10)
	require.NoError(t, c.Close())

	var statuses sync.Map
	var pushes atomic.Int32
	var targetsMu sync.Mutex
	targets := map[string]int{}
	d.proxies[0].SetOnTargetRequest(func(target, method, path string) Fault {
		if RequestName(method, path) != "Push" {
			return Fault{}
		}
		targetsMu.Lock()
		targets[target]++
		targetsMu.Unlock()
		n := pushes.Add(1)
		return Fault{Response: func(raw []byte) {
			code, _, body, err := ParseResponse(raw)
			var pr v1.PushResponse
			if err == nil && code == http.StatusOK && proto.Unmarshal(body, &pr) == nil && len(pr.Results) == 1 {
				statuses.Store(n, pr.Results[0].Status)
				return
			}
			statuses.Store(n, fmt.Sprintf("HTTP %d: %s (%v)", code, body, err))
		}}
	})
	t.Cleanup(func() { d.proxies[0].SetOnRequest(nil) })

	clients := make([]*field.Client, 5)
	for i := range clients {
		copyTo := filepath.Join(t.TempDir(), "copy")
		copyDir(t, dir, copyTo)
		cl, err := field.OpenConfig(d.field(copyTo))
		require.NoError(t, err)
		t.Cleanup(func() { cl.Close() })
		clients[i] = cl
	}
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	begin := make(chan struct{})
	for i, cl := range clients {
		wg.Go(func() {
			<-begin
			_, errs[i] = cl.Push(ctx)
		})
	}
	close(begin)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "copy %d", i)
	}

	applied, replayed := 0, 0
	var answers []string
	statuses.Range(func(_, v any) bool {
		switch v {
		case v1.MutationStatus_MUTATION_STATUS_APPLIED:
			applied++
		case v1.MutationStatus_MUTATION_STATUS_REPLAYED:
			replayed++
		}
		answers = append(answers, fmt.Sprint(v))
		return true
	})
	assert.Equal(t, 1, applied, "exactly one push applied the visit: %v", answers)
	assert.Equal(t, int(pushes.Load())-1, replayed, "every other push is a replay: %v", answers)
	v := readServer(t, d.DBDir)
	require.Len(t, v.States, 1, "one visit row")
	require.Contains(t, v.States, id)
	var first *field.Receipt
	for i, cl := range clients {
		detail, err := cl.Visit(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, detail.Receipt, "copy %d", i)
		if first == nil {
			first = detail.Receipt
			continue
		}
		assert.Equal(t, first.ReceiveTime, detail.Receipt.ReceiveTime, "copy %d: the same receipt", i)
		assert.Equal(t, first.ScorePercent, detail.Receipt.ScorePercent, "copy %d: the same score", i)
	}

	// Any one copy then completes the evidence.
	_, err := clients[0].Sync(ctx, nil)
	require.NoError(t, err)
	requireExactlyOnce(t, d.DBDir, []string{id}, photos)
	targetsMu.Lock()
	defer targetsMu.Unlock()
	return maps.Clone(targets)
}

// copyDir copies the files of a folder tree.
func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	require.NoError(tb, filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	}))
}
