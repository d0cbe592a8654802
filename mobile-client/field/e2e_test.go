package field_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/sync/protocol"
)

const demoPassword = servertest.DemoPassword

// MustRunServer starts the real shopscore server on 127.0.0.1:0 with a
// fresh data folder and the demo organisation, and stops it when the test
// ends. It returns the server's URL.
func MustRunServer(tb testing.TB) string {
	tb.Helper()
	return servertest.Run(tb, server.Config{}).URL
}

// MustOpenField opens a field client in a fresh folder against url.
func MustOpenField(tb testing.TB, url string) (*field.Client, string) {
	tb.Helper()
	dir := tb.TempDir()
	c, err := field.OpenConfig(field.Config{
		Dir: dir, ServerURL: url, MaxAttempts: 4,
		Backoff: protocol.Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Close() })
	return c, dir
}

func writePNG(tb testing.TB, dir, name string, shade uint8) string {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := range 32 {
		for y := range 24 {
			img.Set(x, y, color.RGBA{shade, uint8(x * 7), uint8(y * 9), 255})
		}
	}
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	require.NoError(tb, err)
	require.NoError(tb, png.Encode(f, img))
	require.NoError(tb, f.Close())
	return p
}

func TestEndToEnd_VisitWithPhotos(t *testing.T) {
	ctx := context.Background()
	url := MustRunServer(t)
	c, _ := MustOpenField(t, url)

	s, err := c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword)
	require.NoError(t, err)
	assert.Equal(t, "shopper", s.Role)
	_, err = c.Pull(ctx)
	require.NoError(t, err)

	assignment := demoStoreVisit(t, c)

	// The visit, recorded without touching the network.
	id := recordStoreVisit(t, c, assignment)
	d, err := c.Visit(ctx, id)
	require.NoError(t, err)
	require.Empty(t, d.Missing)
	require.NotNil(t, d.Preview.Overall.Percent)
	preview := *d.Preview.Overall.Percent
	require.NoError(t, c.Submit(ctx, id))

	var last field.Progress
	res, err := c.Sync(ctx, func(p field.Progress) { last = p })
	require.NoError(t, err)
	require.Empty(t, res.PhotoErrors)
	assert.Equal(t, 1, res.Pushed)
	assert.Equal(t, field.PhaseDone, last.Phase)

	d, err = c.Visit(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, field.StateSent, d.State)
	require.NotNil(t, d.Receipt)
	assert.Equal(t, "complete", d.Receipt.State)
	assert.Empty(t, d.Receipt.Missing)
	require.NotNil(t, d.Receipt.ScorePercent)
	assert.InDelta(t, preview, *d.Receipt.ScorePercent, 1e-9, "the server scores with the same engine")
	for _, p := range d.Photos {
		assert.True(t, p.Verified, "%s[%d]", p.QuestionID, p.Index)
	}

	// A second sync has nothing to send and keeps the visit sent.
	res, err = c.Sync(ctx, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Pushed)
	st, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Pending)
	assert.Empty(t, st.MissingEvidence)
	assert.Empty(t, st.Rejected)
}

// demoStoreVisit returns the demo shopper's store visit at MSK-01, pulled.
func demoStoreVisit(tb testing.TB, c *field.Client) field.AssignmentInfo {
	tb.Helper()
	as, err := c.Assignments(context.Background())
	require.NoError(tb, err)
	for _, a := range as {
		if a.ChecklistID == "store-visit" && a.StoreCode == "MSK-01" {
			return a
		}
	}
	tb.Fatalf("the demo shopper has no store visit at MSK-01: %+v", as)
	return field.AssignmentInfo{}
}

// recordStoreVisit records a whole demo store visit offline, with three
// photos (the same bytes in two slots), and returns its id.
func recordStoreVisit(tb testing.TB, c *field.Client, assignment field.AssignmentInfo) string {
	tb.Helper()
	ctx := context.Background()
	id, err := c.StartVisit(ctx, assignment.ID)
	require.NoError(tb, err)
	require.NoError(tb, c.CheckIn(ctx, id, audit.GeoPoint{Latitude: 55.7652, Longitude: 37.6050, AccuracyMeters: 10}))
	staff, err := c.Staff(ctx, assignment.StoreID)
	require.NoError(tb, err)
	require.NotEmpty(tb, staff)
	require.NoError(tb, c.SetStaff(ctx, id, staff[0].ID))
	photos := tb.TempDir()
	for q, text := range map[string]string{
		"greet_time": "12s", "greet_polite": "yes", "tags_present": "yes", "tags_correct": "no",
		"tags_match_till": "yes", "placement": "4", "signage": "clear", "clean_areas": "entrance,sales_floor,fitting_area,checkout",
		"queue_minutes": "3", "thanked": "yes", "advice": "na", "advice_notes": "asked about tiles", "nps": "9",
	} {
		_, err := c.AnswerText(ctx, id, q, text)
		require.NoError(tb, err, q)
	}
	_, err = c.AddPhoto(ctx, id, "tags_correct", writePNG(tb, photos, "tag.png", 10))
	require.NoError(tb, err)
	_, err = c.AddPhoto(ctx, id, "floor_photo", writePNG(tb, photos, "floor.png", 20))
	require.NoError(tb, err)
	_, err = c.AddPhoto(ctx, id, "floor_photo", writePNG(tb, photos, "floor.png", 20)) // the same bytes in a second slot
	require.NoError(tb, err)
	return id
}

func TestEndToEnd_Replay(t *testing.T) {
	// The same outbox pushed by a second copy of the device database (a
	// lost answer, then a retry): one visit on the server, the original
	// result.
	ctx := context.Background()
	url := MustRunServer(t)
	c, dir := MustOpenField(t, url)
	_, err := c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword)
	require.NoError(t, err)
	_, err = c.Pull(ctx)
	require.NoError(t, err)
	us, err := c.UnplannedChecklists(ctx)
	require.NoError(t, err)
	var checklist, store string
	for _, u := range us {
		if u.ChecklistID == "email-enquiry" && len(u.Stores) > 0 {
			checklist, store = u.ChecklistID, u.Stores[0].ID
		}
	}
	if checklist == "" {
		t.Skipf("the demo feed offers no unplanned e-mail checklist: %+v", us)
	}
	id, err := c.StartUnplannedVisit(ctx, checklist, store)
	require.NoError(t, err)
	_, err = c.AnswerText(ctx, id, "reply_hours", "6")
	require.NoError(t, err)
	require.NoError(t, c.Submit(ctx, id))
	require.NoError(t, c.Close())

	// Copy the database: the copy still has the mutation pending.
	backup := t.TempDir()
	copyDir(t, dir, backup)
	c1, err := field.Open(dir, url)
	require.NoError(t, err)
	defer c1.Close()
	_, err = c1.Push(ctx)
	require.NoError(t, err)
	c2, err := field.Open(backup, url)
	require.NoError(t, err)
	defer c2.Close()
	n, err := c2.Push(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	for _, cl := range []*field.Client{c1, c2} {
		d, err := cl.Visit(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, d.Receipt)
		assert.Equal(t, field.StateSent, d.State)
		assert.Contains(t, d.Receipt.Flags, "unplanned")
	}
}

func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	require.NoError(tb, filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
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
