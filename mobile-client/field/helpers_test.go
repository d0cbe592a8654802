package field

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"
)

// fakeClock is a boot-time clock the test moves by hand.
type fakeClock struct {
	mu   sync.Mutex
	boot string
	ns   int64
}

func (c *fakeClock) Now() (Instant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Instant{BootID: c.boot, NS: c.ns}, nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ns += int64(d)
}

func (c *fakeClock) reboot() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.boot += "'"
	c.ns = int64(time.Second)
}

// testConfig is a client configuration for tests: fast retries.
func testConfig(dir, url string, clock MonotonicClock) Config {
	return Config{
		Dir: dir, ServerURL: url, Clock: clock, MaxAttempts: 4, CallTimeout: 10 * time.Second,
		Backoff: protocol.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
}

// MustOpenClient opens a client in dir against url and closes it when the
// test ends.
func MustOpenClient(tb testing.TB, dir, url string, clock MonotonicClock) *Client {
	tb.Helper()
	c, err := OpenConfig(testConfig(dir, url, clock))
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Close() })
	return c
}

// mustLogin logs the fake shopper in.
func mustLogin(tb testing.TB, c *Client) Session {
	tb.Helper()
	s, err := c.Login(context.Background(), "shopper@test", "secret")
	require.NoError(tb, err)
	return s
}

// writePhoto writes a small real image (PNG or JPEG) of one colour and
// returns its path.
func writePhoto(tb testing.TB, dir, name string, shade uint8) string {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		for y := range 16 {
			img.Set(x, y, color.RGBA{shade, uint8(x * 8), uint8(y * 8), 255})
		}
	}
	var buf bytes.Buffer
	if filepath.Ext(name) == ".jpg" {
		require.NoError(tb, jpeg.Encode(&buf, img, nil))
	} else {
		require.NoError(tb, png.Encode(&buf, img))
	}
	p := filepath.Join(dir, name)
	require.NoError(tb, os.WriteFile(p, buf.Bytes(), 0o600))
	return p
}

func requireCode(tb testing.TB, want audit.Code, err error) {
	tb.Helper()
	require.Error(tb, err)
	require.Equal(tb, want, audit.ErrorCode(err), "error: %v", err)
}

func yes() Value {
	b := true
	return Value{Bool: &b}
}

func num(x float64) Value { return Value{Number: &x} }

// fillStoreVisit answers every required question of the demo store-visit
// checklist so that the visit is complete, with a photo on floor_photo.
func fillStoreVisit(tb testing.TB, c *Client, visitID, photoDir string, shade uint8) {
	tb.Helper()
	ctx := context.Background()
	d := int64(12_000)
	for q, v := range map[string]Value{
		"greet_time": {DurationMS: &d}, "greet_polite": yes(), "tags_present": yes(), "tags_correct": yes(),
		"tags_match_till": yes(), "clean_areas": {Choices: []string{"entrance", "sales_floor", "fitting_area", "checkout"}},
		"queue_minutes": num(3), "nps": num(9),
	} {
		_, err := c.Answer(ctx, visitID, q, v)
		require.NoError(tb, err, q)
	}
	_, err := c.AddPhoto(ctx, visitID, "floor_photo", writePhoto(tb, photoDir, "floor.png", shade))
	require.NoError(tb, err)
}
