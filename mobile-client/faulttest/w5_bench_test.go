package faulttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/sync/protocol"
)

// W5 sizes: w5Devices() devices at once, each pushing w5Visits visits of
// w1Questions answers in one push.
const (
	w5Visits = 20
	// w5DefaultDevices fits a couple of minutes on two cores (the
	// logins, Argon2id each, are most of the set-up);
	// SHOPSCORE_BENCH_W5_DEVICES=1000 runs the size.
	w5DefaultDevices = 100
	// w5MaxDevices bounds what the variable may ask for.
	w5MaxDevices = 5000
	// w5CallTimeout bounds every call of the benchmark.
	w5CallTimeout = 5 * time.Minute
	// w5SingleBatch is the single device's push size, the field client's
	// (W1's shape: batches of 100).
	w5SingleBatch = 100
	// w5TokenAge is how long the template's access tokens are used
	// before it is built again (they live 15 minutes).
	w5TokenAge = 10 * time.Minute
)

func w5Devices(tb testing.TB) int {
	tb.Helper()
	return devicesVar(tb, "SHOPSCORE_BENCH_W5_DEVICES", w5DefaultDevices)
}

// devicesVar reads a device count from the variable name, def if unset.
func devicesVar(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(tb, err, name)
	require.True(tb, n >= 1 && n <= w5MaxDevices, "%s must be 1 to %d", name, w5MaxDevices)
	return n
}

// w5Template is the state every W5 iteration starts from: a server data
// folder with the 40-question checklist and devices+1 signed-in devices
// of the demo shopper (the last one is the single device), their access
// tokens, and what a visit names (store, checklist version, its hash).
type w5Template struct {
	dir     string
	built   time.Time
	tokens  []string
	storeID string
	version *v1.ChecklistVersion
}

var w5 struct {
	mu   sync.Mutex
	tmpl *w5Template
}

func w5Setup(b *testing.B, devices int) *w5Template {
	b.Helper()
	w5.mu.Lock()
	defer w5.mu.Unlock()
	if t := w5.tmpl; t != nil && len(t.tokens) == devices+1 && time.Since(t.built) < w5TokenAge {
		return t
	}
	start := time.Now()
	t, err := buildW5(server.Config{DataDir: filepath.Join(workDir, "w5", strconv.FormatInt(start.UnixNano(), 36))}, devices+1)
	require.NoError(b, err)
	b.Logf("W5 template: %d devices signed in in %s", devices+1, time.Since(start).Round(time.Millisecond))
	w5.tmpl = t
	return t
}

// buildW5 signs the devices in on the server serve opens with cfg.
func buildW5(cfg server.Config, devices int) (t *w5Template, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	r, err := serve(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, r.stop()) }()
	if err := importPack(ctx, r.url, benchPack("bench-40", w1Questions)); err != nil {
		return nil, err
	}
	t = &w5Template{dir: cfg.DataDir, built: time.Now(), tokens: make([]string, devices)}
	auth := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, r.url)
	// Two logins at a time: each is an Argon2id hash, and the server
	// queues only a few.
	work := make(chan int)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			for i := range work {
				lr, err := auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
					Email: demo.Users[audit.RoleShopper], Password: demoPassword, DeviceId: fmt.Sprintf("w5-%05d", i),
				}))
				if err != nil {
					errs <- err
					for range work {
					}
					return
				}
				t.tokens[i] = lr.Msg.GetTokens().GetAccessToken()
			}
			errs <- nil
		}()
	}
	for i := range devices {
		work <- i
	}
	close(work)
	if err := errors.Join(<-errs, <-errs); err != nil {
		return nil, err
	}
	req := connect.NewRequest(&v1.PullRequest{PageSize: 100})
	req.Header().Set("Authorization", "Bearer "+t.tokens[0])
	pr, err := shopscorev1connect.NewSyncServiceClient(http.DefaultClient, r.url).Pull(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, c := range pr.Msg.GetChanges() {
		cu := c.GetChecklistUpsert()
		if cu.GetChecklist().GetChecklistId() != "bench-40" {
			continue
		}
		t.version = cu.GetChecklist()
		for _, s := range cu.GetStores() {
			if s.GetCode() == "MSK-01" {
				t.storeID = s.GetId()
			}
		}
	}
	if t.version == nil || t.storeID == "" {
		return nil, errors.New("W5: the first pull has no bench-40 checklist open at MSK-01")
	}
	return t, nil
}

// w5Visit returns a new unplanned visit of 40 yes/no answers on the
// template's checklist at MSK-01.
func (t *w5Template) w5Visit(rnd *rand.Rand, at time.Time) *v1.Visit {
	v := &audit.Visit{
		ID: uuid.NewString(), StoreID: t.storeID, ChecklistID: t.version.GetChecklistId(),
		ChecklistVersion: int(t.version.GetVersion()), ContentHash: t.version.GetContentHash(), Channel: audit.ChannelStoreVisit,
		StartedAt: at.Add(-30 * time.Minute).Truncate(time.Millisecond), FinishedAt: at.Add(-10 * time.Minute).Truncate(time.Millisecond),
	}
	for q := range w1Questions {
		yes := rnd.IntN(5) > 0
		v.Answers = append(v.Answers, audit.Answer{QuestionID: fmt.Sprintf("q%02d", q), Bool: &yes})
	}
	return protocol.VisitToProto(v)
}

// w5Pushes returns a push of w5Visits new visits for each of n devices.
func (t *w5Template) w5Pushes(rnd *rand.Rand, n int, now time.Time) []*v1.PushRequest {
	pushes := make([]*v1.PushRequest, n)
	for d := range pushes {
		vs := make([]*v1.Visit, w5Visits)
		for j := range vs {
			vs[j] = t.w5Visit(rnd, now)
		}
		pushes[d] = w5Push(1, vs, now)
	}
	return pushes
}

// w5Run sends, at base, the push pushes[d] of each device d with the
// template's token d, all released together, after two bursts of WhoAmI
// from as many devices (the first opens the connections; the second is
// returned, as the limit of a no-op call): the latencies, the time from
// the release to the last answer, and the failures (an error or any
// mutation not applied).
func (t *w5Template) w5Run(b *testing.B, base string, pushes []*v1.PushRequest) (whoLat []time.Duration, whoWall time.Duration, lat []time.Duration, wall time.Duration, errs []error) {
	b.Helper()
	devices := len(pushes)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: devices + 1}}
	defer hc.CloseIdleConnections()
	auth := shopscorev1connect.NewAuthServiceClient(hc, base)
	syncc := shopscorev1connect.NewSyncServiceClient(hc, base)
	whoAmI := func(ctx context.Context, d int) error {
		req := connect.NewRequest(&v1.WhoAmIRequest{})
		req.Header().Set("Authorization", "Bearer "+t.tokens[d])
		_, err := auth.WhoAmI(ctx, req)
		return err
	}
	for range 2 {
		var errs []error
		whoLat, whoWall, errs = burst(devices, whoAmI)
		require.Empty(b, errs, "WhoAmI")
	}
	lat, wall, errs = burst(devices, func(ctx context.Context, d int) error {
		req := connect.NewRequest(pushes[d])
		req.Header().Set("Authorization", "Bearer "+t.tokens[d])
		resp, err := syncc.Push(ctx, req)
		if err != nil {
			return err
		}
		for _, m := range resp.Msg.GetResults() {
			if m.GetStatus() != v1.MutationStatus_MUTATION_STATUS_APPLIED {
				return fmt.Errorf("seq %d: %s %s: %s", m.GetSeq(), m.GetStatus(), m.GetErrorCode(), m.GetErrorMessage())
			}
		}
		if n := len(resp.Msg.GetResults()); n != w5Visits {
			return fmt.Errorf("%d results for %d mutations", n, w5Visits)
		}
		return nil
	})
	return whoLat, whoWall, lat, wall, errs
}

// w5Push returns a push of the given visits as seqs first, first+1...
func w5Push(first int64, visits []*v1.Visit, at time.Time) *v1.PushRequest {
	req := &v1.PushRequest{DeviceTime: timestamppb.New(at)}
	for i, v := range visits {
		req.Mutations = append(req.Mutations, &v1.Mutation{
			Seq: first + int64(i), MutationId: uuid.NewString(), DeviceTime: timestamppb.New(at),
			Kind: &v1.Mutation_SubmitVisit{SubmitVisit: &v1.SubmitVisit{Visit: v}},
		})
	}
	return req
}

// burst runs call(i) for every i < n at once, released together, each
// under w5CallTimeout, and returns every call's latency, the time from
// the release to the last answer, and the failures.
func burst(n int, call func(ctx context.Context, i int) error) (lat []time.Duration, wall time.Duration, errs []error) {
	lat = make([]time.Duration, n)
	failed := make([]error, n)
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ctx, cancel := context.WithTimeout(context.Background(), w5CallTimeout)
			defer cancel()
			ready.Done()
			<-release
			t0 := time.Now()
			failed[i] = call(ctx, i)
			lat[i] = time.Since(t0)
		}()
	}
	ready.Wait()
	start := time.Now()
	close(release)
	done.Wait()
	wall = time.Since(start)
	for _, err := range failed {
		if err != nil {
			errs = append(errs, err)
		}
	}
	slices.Sort(lat)
	return lat, wall, errs
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkW5_ConcurrentPush measures many devices pushing at once: each
// of w5Devices devices (100 by default, SHOPSCORE_BENCH_W5_DEVICES) sends
// one push of 20 visits of 40 answers through the generated Connect
// client to the real server over loopback, all released together. It
// reports the throughput, the p50 and p99 push latency and the failures
// (an error or any mutation not applied), against two limits measured in
// the same iteration: the no-op AuthService/WhoAmI called by as many
// devices at once on the same server (calls/s and p50), and one device
// pushing the same number of visits in batches of 100, one after the
// other, on a fresh copy of the same database (W1's shape). Every call
// has a deadline and only loopback is used.
func BenchmarkW5_ConcurrentPush(b *testing.B) {
	devices := w5Devices(b)
	var thru, single, p50, p99, whoRate, whoP50, pushRate []float64
	failures := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t := w5Setup(b, devices)
		now := time.Now()
		rnd := rand.New(rand.NewPCG(5, uint64(i)))
		pushes := t.w5Pushes(rnd, devices, now)
		var backlog []*v1.Visit
		for range devices * w5Visits {
			backlog = append(backlog, t.w5Visit(rnd, now))
		}
		dir := b.TempDir()
		burstDir, singleDir := filepath.Join(dir, "burst"), filepath.Join(dir, "single")
		copyDir(b, t.dir, burstDir)
		copyDir(b, t.dir, singleDir)
		b.StartTimer()

		// The burst: WhoAmI twice (the first opens the connections), then
		// the pushes, on one server.
		r, err := serve(server.Config{DataDir: burstDir})
		require.NoError(b, err)
		whoLat, whoWall, lat, wall, errs := t.w5Run(b, r.url, pushes)
		require.NoError(b, r.stop())
		failures += len(errs)
		if len(errs) > 0 {
			b.Logf("W5: %d of %d pushes failed; the first: %v", len(errs), devices, errs[0])
		}
		stored := readServer(b, burstDir)
		require.Len(b, stored.States, devices*w5Visits-len(errs)*w5Visits, "every applied visit is stored once")

		// One device, the same number of visits, batches of 100 in turn;
		// beyond the default push rate's burst of 120 pushes at 1 000
		// devices' visits, so the rate is raised for it.
		r, err = serve(server.Config{DataDir: singleDir, PushRate: server.Rate{Burst: 10_000, Every: time.Millisecond}})
		require.NoError(b, err)
		syncc := shopscorev1connect.NewSyncServiceClient(http.DefaultClient, r.url)
		t0 := time.Now()
		for first := 0; first < len(backlog); first += w5SingleBatch {
			ctx, cancel := context.WithTimeout(context.Background(), w5CallTimeout)
			req := connect.NewRequest(w5Push(int64(first+1), backlog[first:min(first+w5SingleBatch, len(backlog))], now))
			req.Header().Set("Authorization", "Bearer "+t.tokens[devices])
			_, err := syncc.Push(ctx, req)
			cancel()
			require.NoError(b, err)
		}
		singleWall := time.Since(t0)
		require.NoError(b, r.stop())

		visits := float64(devices * w5Visits)
		thru = append(thru, visits/wall.Seconds())
		single = append(single, visits/singleWall.Seconds())
		p50 = append(p50, float64(quantile(lat, 0.5).Milliseconds()))
		p99 = append(p99, float64(quantile(lat, 0.99).Milliseconds()))
		whoRate = append(whoRate, float64(devices)/whoWall.Seconds())
		whoP50 = append(whoP50, float64(quantile(whoLat, 0.5).Microseconds())/1000)
		pushRate = append(pushRate, float64(devices)/wall.Seconds())
	}
	// Medians of the iterations: one slow iteration on a shared machine
	// does not decide the figure.
	b.ReportMetric(median(thru), "visits/s")
	b.ReportMetric(median(single), "single-visits/s")
	b.ReportMetric(median(thru)/median(single), "ratio-single")
	b.ReportMetric(median(p50), "p50-ms")
	b.ReportMetric(median(p99), "p99-ms")
	b.ReportMetric(median(p99)/median(p50), "p99/p50")
	b.ReportMetric(float64(failures), "errors")
	b.ReportMetric(median(whoRate), "whoami-calls/s")
	b.ReportMetric(median(whoP50), "whoami-p50-ms")
	b.ReportMetric(median(pushRate)/median(whoRate), "ratio-whoami")
}
