package field

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// pulledClient is a logged-in client that pulled the fixture feed.
func pulledClient(t *testing.T, f *fakeServer, dir string, clock MonotonicClock) *Client {
	t.Helper()
	fx := newFixture(t)
	if len(f.feed) == 0 {
		f.setFeed(fx.assignment("a1"), fx.assignment("a2"), fx.assignment("a3"), fx.unplanned())
	}
	c := MustOpenClient(t, dir, f.URL, clock)
	mustLogin(t, c)
	_, err := c.Pull(context.Background())
	require.NoError(t, err)
	return c
}

func TestClient_Visit(t *testing.T) {
	ctx := context.Background()
	f := newFakeServer(t)
	c := pulledClient(t, f, t.TempDir(), &fakeClock{boot: "b"})

	t.Run("Start", func(t *testing.T) {
		id, err := c.StartVisit(ctx, "a1")
		require.NoError(t, err)
		again, err := c.StartVisit(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, id, again, "the draft is resumed")
		_, err = c.StartVisit(ctx, "nope")
		requireCode(t, audit.ENOTFOUND, err)
		_, err = c.StartUnplannedVisit(ctx, "back-office-call", "HQ")
		require.NoError(t, err)
		_, err = c.StartUnplannedVisit(ctx, "back-office-call", "MSK-01")
		requireCode(t, audit.EINVALID, err)
		_, err = c.StartUnplannedVisit(ctx, "nope", "HQ")
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("Answer", func(t *testing.T) {
		id, err := c.StartVisit(ctx, "a2")
		require.NoError(t, err)
		_, err = c.Answer(ctx, id, "greet_polite", num(3))
		requireCode(t, audit.EINVALID, err)
		_, err = c.Answer(ctx, id, "greet_polite", Value{NA: true})
		requireCode(t, audit.EINVALID, err)
		_, err = c.Answer(ctx, id, "nps", num(11))
		requireCode(t, audit.EINVALID, err)
		_, err = c.Answer(ctx, id, "ghost", yes())
		requireCode(t, audit.EINVALID, err)
		_, err = c.AnswerText(ctx, id, "signage", "clearly")
		requireCode(t, audit.EINVALID, err)
		_, err = c.AnswerText(ctx, id, "signage", "clear")
		require.NoError(t, err)
		_, err = c.AnswerText(ctx, id, "queue_minutes", "na")
		require.NoError(t, err)

		d, err := c.Visit(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, StateDraft, d.State)
		assert.NotEmpty(t, d.Missing)
		require.NotNil(t, d.Preview.Overall.Percent, "signage is scored")

		require.NoError(t, c.SetStaff(ctx, id, "E1002"))
		requireCode(t, audit.ENOTFOUND, c.SetStaff(ctx, id, "staff-9"))
		require.NoError(t, c.DescribeStaff(ctx, id, "tall man in a green vest"))
		requireCode(t, audit.EINVALID, c.DescribeStaff(ctx, id, " "))
		require.NoError(t, c.CheckIn(ctx, id, audit.GeoPoint{Latitude: 55.76, Longitude: 37.6, AccuracyMeters: 8}))
		requireCode(t, audit.EINVALID, c.CheckIn(ctx, id, audit.GeoPoint{Latitude: 91}))
		require.NoError(t, c.SetNotes(ctx, id, "busy Saturday"))
		d, err = c.Visit(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "tall man in a green vest", d.Visit.StaffDescription)
		assert.Empty(t, d.Visit.StaffID)
		require.NotNil(t, d.Visit.CheckIn)
		assert.Equal(t, 55.76, d.Visit.CheckIn.Latitude)
		assert.Equal(t, "busy Saturday", d.Visit.Notes)
	})
	t.Run("SubmitIncomplete", func(t *testing.T) {
		id, err := c.StartVisit(ctx, "a3")
		require.NoError(t, err)
		_, err = c.Answer(ctx, id, "greet_polite", yes())
		require.NoError(t, err)
		err = c.Submit(ctx, id)
		requireCode(t, audit.EINVALID, err)
		assert.Contains(t, err.Error(), "greet_time")
		assert.Contains(t, err.Error(), "floor_photo")
		st, err := c.Status(ctx)
		require.NoError(t, err)
		assert.Empty(t, st.Pending)
	})
}

func TestClient_Timer(t *testing.T) {
	ctx := context.Background()
	f := newFakeServer(t)
	dir := t.TempDir()
	clock := &fakeClock{boot: "boot-1", ns: int64(time.Hour)}
	c := pulledClient(t, f, dir, clock)
	id, err := c.StartVisit(ctx, "a1")
	require.NoError(t, err)
	outer := t

	t.Run("AcrossProcesses", func(t *testing.T) {
		require.NoError(t, c.TimerStart(ctx, id, "greet_time"))
		requireCode(t, audit.EEXISTS, c.TimerStart(ctx, id, "greet_time"))
		// The process ends; another one stops the timer.
		require.NoError(t, c.Close())
		clock.advance(42*time.Second + 500*time.Millisecond)
		c = MustOpenClient(outer, dir, f.URL, clock)
		d, err := c.Visit(ctx, id)
		require.NoError(t, err)
		require.Len(t, d.Timers, 1)
		assert.Equal(t, int64(42_500), d.Timers[0].ElapsedMS)
		requireCode(t, audit.EPRECONDITION, c.Submit(ctx, id))
		ms, _, err := c.TimerStop(ctx, id, "greet_time")
		require.NoError(t, err)
		assert.Equal(t, int64(42_500), ms)
		d, err = c.Visit(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, d.Timers)
		for _, a := range d.Visit.Answers {
			if a.QuestionID == "greet_time" {
				require.NotNil(t, a.DurationMS)
				assert.Equal(t, int64(42_500), *a.DurationMS)
			}
		}
	})
	t.Run("ErrReboot", func(t *testing.T) {
		require.NoError(t, c.TimerStart(ctx, id, "greet_time"))
		clock.reboot()
		_, _, err := c.TimerStop(ctx, id, "greet_time")
		requireCode(t, audit.EPRECONDITION, err)
		assert.Contains(t, err.Error(), "restarted")
		_, _, err = c.TimerStop(ctx, id, "greet_time")
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		requireCode(t, audit.EINVALID, c.TimerStart(ctx, id, "greet_polite"))
		_, _, err := c.TimerStop(ctx, id, "queue_minutes")
		requireCode(t, audit.EINVALID, err)
	})
}

func TestBootClock(t *testing.T) {
	a, err := BootClock{}.Now()
	if err != nil {
		t.Skipf("no boot-time clock here: %v", err)
	}
	time.Sleep(5 * time.Millisecond)
	b, err := BootClock{}.Now()
	require.NoError(t, err)
	assert.Equal(t, a.BootID, b.BootID)
	assert.GreaterOrEqual(t, b.NS-a.NS, int64(5*time.Millisecond))
}

func TestParseValue(t *testing.T) {
	q := func(typ audit.QuestionType, mod func(*audit.Question)) *audit.Question {
		qq := &audit.Question{ID: "q", Type: typ, Unit: "s", ScaleMax: 5,
			Options: []audit.Option{{Value: "clear", Label: "Clear"}, {Value: "none", Label: "None"}}}
		if mod != nil {
			mod(qq)
		}
		return qq
	}
	ms := func(x int64) *int64 { return &x }
	for _, tc := range []struct {
		q    *audit.Question
		in   string
		want Value
		err  bool
	}{
		{q(audit.QuestionYesNo, nil), "Yes", yes(), false},
		{q(audit.QuestionYesNo, nil), "na", Value{NA: true}, false},
		{q(audit.QuestionYesNo, nil), "maybe", Value{}, true},
		{q(audit.QuestionScale, nil), "4", num(4), false},
		{q(audit.QuestionNumeric, nil), "2,5", num(2.5), false},
		{q(audit.QuestionNumeric, nil), "lots", Value{}, true},
		{q(audit.QuestionTimer, nil), "1m30s", Value{DurationMS: ms(90_000)}, false},
		{q(audit.QuestionTimer, nil), "12", Value{DurationMS: ms(12_000)}, false},
		{q(audit.QuestionTimer, func(q *audit.Question) { q.Unit = "min" }), "1.5", Value{DurationMS: ms(90_000)}, false},
		{q(audit.QuestionSingleChoice, nil), "clear", Value{Choices: []string{"clear"}}, false},
		{q(audit.QuestionMultiChoice, nil), "clear, None", Value{Choices: []string{"clear", "none"}}, false},
		{q(audit.QuestionMultiChoice, nil), "blurry", Value{}, true},
		{q(audit.QuestionText, nil), " fine ", Value{Text: "fine"}, false},
		{q(audit.QuestionPhoto, nil), "x", Value{}, true},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.q.Type, tc.in), func(t *testing.T) {
			got, err := ParseValue(tc.q, tc.in)
			if tc.err {
				requireCode(t, audit.EINVALID, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestClient_Sync(t *testing.T) {
	ctx := context.Background()
	f := newFakeServer(t)
	c := pulledClient(t, f, t.TempDir(), &fakeClock{boot: "b"})
	photos := t.TempDir()
	submit := func(assignment string, shade uint8) string {
		t.Helper()
		id, err := c.StartVisit(ctx, assignment)
		require.NoError(t, err)
		fillStoreVisit(t, c, id, photos, shade)
		require.NoError(t, c.Submit(ctx, id))
		return id
	}
	states := func() map[string]string {
		t.Helper()
		vs, err := c.Visits(ctx)
		require.NoError(t, err)
		out := map[string]string{}
		for _, v := range vs {
			out[v.ID] = v.State
		}
		return out
	}

	t.Run("OK", func(t *testing.T) {
		id := submit("a1", 1)
		assert.Equal(t, StateQueued, states()[id])
		var last Progress
		var sawBytes bool
		res, err := c.Sync(ctx, func(p Progress) {
			last = p
			if p.Phase == PhaseUpload && p.PhotoBytesTotal > 0 && p.PhotoBytesUploaded == p.PhotoBytesTotal {
				sawBytes = true
			}
		})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Pushed)
		assert.Equal(t, 1, res.PhotosVerified)
		assert.Empty(t, res.PhotoErrors)
		assert.Equal(t, PhaseDone, last.Phase)
		assert.True(t, sawBytes)
		assert.Equal(t, StateSent, states()[id])
		d, err := c.Visit(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, d.Receipt)
		assert.Equal(t, "complete", d.Receipt.State)
		assert.Empty(t, d.Receipt.Missing)
	})
	t.Run("RejectionDoesNotBlock", func(t *testing.T) {
		f.appendFeed(newFixture(t).assignment("a4"), newFixture(t).assignment("a5"))
		_, err := c.Pull(ctx)
		require.NoError(t, err)
		bad := submit("a2", 2)
		good := submit("a3", 3)
		f.with(func(f *fakeServer) {
			f.rejectVisit = func(v *v1.Visit) string {
				if v.GetId() == bad {
					return "assignment a2 belongs to another shopper"
				}
				return ""
			}
		})
		res, err := c.Sync(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Pushed)
		s := states()
		assert.Equal(t, StateRejected, s[bad])
		assert.Equal(t, StateSent, s[good])
		st, err := c.Status(ctx)
		require.NoError(t, err)
		require.Len(t, st.Rejected, 1)
		assert.Equal(t, "assignment a2 belongs to another shopper", st.Rejected[0].ErrorMessage)
		assert.Empty(t, st.MissingEvidence, "a rejected visit's photos are not uploaded")
		f.with(func(f *fakeServer) { f.rejectVisit = nil })

		// The rejected visit may be corrected as a new visit.
		fix, err := c.StartCorrection(ctx, bad)
		require.NoError(t, err)
		d, err := c.Visit(ctx, fix)
		require.NoError(t, err)
		assert.Equal(t, bad, d.Visit.CorrectsVisitID)
		assert.Len(t, d.Visit.Photos, 1)
		assert.Empty(t, d.Missing)
	})
	t.Run("TransientAndGap", func(t *testing.T) {
		a := submit("a4", 4)
		b := submit("a5", 5)
		f.with(func(f *fakeServer) { f.pushFailures = 2; f.abortOnce = true })
		_, err := c.Sync(ctx, nil)
		require.NoError(t, err)
		s := states()
		assert.Equal(t, StateSent, s[a])
		assert.Equal(t, StateSent, s[b])
	})
	t.Run("ErrUnavailable", func(t *testing.T) {
		f.appendFeed(newFixture(t).assignment("a6"))
		_, err := c.Pull(ctx)
		require.NoError(t, err)
		id := submit("a6", 6)
		f.with(func(f *fakeServer) { f.pushFailures = 100 })
		_, err = c.Sync(ctx, nil)
		requireCode(t, audit.EUNAVAILABLE, err)
		assert.Equal(t, StateQueued, states()[id], "the outbox is intact")
		f.with(func(f *fakeServer) { f.pushFailures = 0 })
		_, err = c.Sync(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, StateSent, states()[id])
	})
	t.Run("DataLossAndFailingPhoto", func(t *testing.T) {
		f.appendFeed(newFixture(t).assignment("a7"), newFixture(t).assignment("a8"))
		_, err := c.Pull(ctx)
		require.NoError(t, err)
		corrupt := submit("a7", 7)
		refused := submit("a8", 8)
		d, err := c.Visit(ctx, refused)
		require.NoError(t, err)
		f.with(func(f *fakeServer) { f.corruptUploads = 1; f.refuseUpload[d.Photos[0].SHA256] = true })
		res, err := c.Sync(ctx, nil)
		require.NoError(t, err)
		require.Len(t, res.PhotoErrors, 1, "one failing photo does not stop the others")
		s := states()
		assert.Equal(t, StateSent, s[corrupt], "uploaded again after DataLoss")
		assert.Equal(t, StateUploading, s[refused], "never shown sent while evidence is missing")
		st, err := c.Status(ctx)
		require.NoError(t, err)
		require.Len(t, st.MissingEvidence, 1)
		assert.Contains(t, st.MissingEvidence[0].LastError, "403")

		f.with(func(f *fakeServer) { f.refuseUpload = map[string]bool{} })
		res, err = c.Sync(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, res.PhotoErrors)
		assert.Equal(t, StateSent, states()[refused])
	})
}
