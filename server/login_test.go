package server_test

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/demo"
)

// fromAddr returns an HTTP client whose connections leave from the given
// loopback address, so that one test can play several client addresses.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func TestAuthService_LoginLimits(t *testing.T) {
	ts := MustRunServer(t, &server.Config{
		LoginRate:        server.Rate{Burst: 3, Every: time.Hour},
		LoginAccountRate: server.Rate{Burst: 6, Every: time.Hour},
	})
	ctx := context.Background()
	login := func(c Clients, password string) connect.Code {
		_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
			Email: demo.Users[audit.RoleHR], Password: password, DeviceId: "d"}))
		return connect.CodeOf(err)
	}
	attacker := clientsOf(ts, fromAddr("127.0.0.2"))
	owner := clientsOf(ts, fromAddr("127.0.0.1"))

	t.Run("GuessesLockOnlyTheGuesser", func(t *testing.T) {
		var codes []connect.Code
		for range 5 {
			codes = append(codes, login(attacker, "guess"))
		}
		assert.Equal(t, []connect.Code{connect.CodeUnauthenticated, connect.CodeUnauthenticated, connect.CodeUnauthenticated,
			connect.CodeResourceExhausted, connect.CodeResourceExhausted}, codes)
		_, err := owner.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
			Email: demo.Users[audit.RoleHR], Password: demoPassword, DeviceId: "d"}))
		assert.NoError(t, err, "the owner, from his own address, still logs in")
	})
	t.Run("ManyAddressesMeetTheAccountLimit", func(t *testing.T) {
		// The account has spent 4 of its 6: two more from a third address.
		other := clientsOf(ts, fromAddr("127.0.0.3"))
		assert.Equal(t, connect.CodeUnauthenticated, login(other, "guess"))
		assert.Equal(t, connect.CodeUnauthenticated, login(other, "guess"))
		assert.Equal(t, connect.CodeResourceExhausted, login(other, "guess"))
		assert.Equal(t, connect.CodeResourceExhausted, login(clientsOf(ts, fromAddr("127.0.0.4")), demoPassword))
	})
}

func TestAuthService_FailedLoginEvent(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "events").Tokens.AccessToken
	typed := []string{"Tr0ub4dor&3-my-password", "somebody@example.org"}
	for _, e := range typed {
		_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: e, Password: "whatever it is", DeviceId: "d"}))
		requireCode(t, connect.CodeUnauthenticated, err)
	}
	stream, err := c.Admin.StreamSecurityEvents(ctx, withToken(connect.NewRequest(&v1.StreamSecurityEventsRequest{}), admin))
	require.NoError(t, err)
	var details []string
	for stream.Receive() {
		if stream.Msg().Kind == audit.EventLoginFailed {
			details = append(details, stream.Msg().Detail)
		}
	}
	require.NoError(t, stream.Err())
	require.Len(t, details, 2)
	assert.Equal(t, "unknown e-mail, not an address (23 characters)", details[0], "a password typed as the e-mail is not kept")
	assert.Equal(t, "unknown e-mail …@example.org (20 characters)", details[1])
	for i, d := range details {
		assert.NotContains(t, d, typed[i][:8])
	}
}

func TestInterceptor_BearerSchemeCaseInsensitive(t *testing.T) {
	ts := MustRunServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	token := mustLogin(t, c, audit.RoleShopper, "bearer").Tokens.AccessToken
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		req := connect.NewRequest(&v1.WhoAmIRequest{})
		req.Header().Set("Authorization", scheme+" "+token)
		_, err := c.Auth.WhoAmI(context.Background(), req)
		assert.NoError(t, err, scheme)
	}
	for _, header := range []string{"Basic " + token, "Bearer", "Bearer ", token} {
		req := connect.NewRequest(&v1.WhoAmIRequest{})
		req.Header().Set("Authorization", header)
		_, err := c.Auth.WhoAmI(context.Background(), req)
		requireCode(t, connect.CodeUnauthenticated, err, header)
	}
}

// TestAuthService_LoginHashMemory runs 200 concurrent logins for unknown
// e-mails (each an Argon2id hash of 64 MiB) and checks that the heap stays
// within the configured hash budget: logins beyond the budget and its
// short queue are refused with ResourceExhausted instead of each taking
// its 64 MiB.
func TestAuthService_LoginHashMemory(t *testing.T) {
	const budget = 2 * auth.HashMemory
	ts := MustRunServer(t, &server.Config{
		PasswordHashMemory: budget,
		PasswordHashQueue:  8,
		LoginRate:          server.Rate{Burst: 1000, Every: time.Millisecond},
		LoginAccountRate:   server.Rate{Burst: 1000, Every: time.Millisecond},
	})
	c := clientsOf(ts, http.DefaultClient)

	runtime.GC()
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(samples)
	baseLive, baseHeap := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	var peakLive, peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peakLive.Load() {
				peakLive.Store(v)
			}
			if v := s[1].Value.Uint64(); v > peakHeap.Load() {
				peakHeap.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[connect.Code]int{}
	for i := range 200 {
		wg.Go(func() {
			_, err := c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
				Email: "nobody" + string(rune('a'+i%26)) + "@example.com", Password: "a guess", DeviceId: "d"}))
			mu.Lock()
			codes[connect.CodeOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	close(stop)
	<-sampled

	t.Logf("answers %v; live heap %d -> %d MiB, heap objects %d -> %d MiB, budget %d MiB",
		codes, baseLive>>20, peakLive.Load()>>20, baseHeap>>20, peakHeap.Load()>>20, budget>>20)
	assert.Equal(t, 200, codes[connect.CodeUnauthenticated]+codes[connect.CodeResourceExhausted], "only wrong-password and busy answers")
	assert.GreaterOrEqual(t, codes[connect.CodeUnauthenticated], 2+8, "the budget's hashes and the queue are served")
	assert.Positive(t, codes[connect.CodeResourceExhausted], "beyond the queue, refused")
	// What the collector finds live is the budget's hashes, plus the ones
	// begun while a collection runs (allocated during marking, they count
	// as live): at most twice the budget. The heap also holds garbage,
	// finished hashes, up to as much as the live heap again before the
	// next collection (GOGC=100). So the bound is a few budgets whatever
	// the number of logins; without the gate, 200 hashes would take
	// 12.5 GiB, and with eight times the budget the test fails.
	const slack = 32 << 20
	assert.LessOrEqual(t, peakLive.Load(), baseLive+2*budget+slack, "live heap beyond the hash budget")
	assert.LessOrEqual(t, peakHeap.Load(), 2*baseHeap+4*budget+slack, "heap beyond the budget and the collector's headroom")
}
