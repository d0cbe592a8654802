package protocol

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func TestCursor(t *testing.T) {
	c := EncodeCursor("epoch-a", 42)
	seq, ok := DecodeCursor(c, "epoch-a")
	require.True(t, ok)
	assert.Equal(t, int64(42), seq)

	for name, cursor := range map[string]string{
		"empty":         "",
		"other epoch":   EncodeCursor("epoch-b", 42),
		"not base64":    "***",
		"garbage":       "Zm9vOmJhcg",
		"negative":      EncodeCursor("epoch-a", -1),
		"wrong version": "YzI6ZXBvY2gtYTo0Mg",
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := DecodeCursor(cursor, "epoch-a")
			assert.False(t, ok)
		})
	}
}

// TestCursorAt: a two-number position round-trips in the c2 form, one
// whose first number is 0 is the c1 form (cursors saved before c2 stay
// valid), and the one-number decoder refuses the c2 form rather than
// dropping half of it.
func TestCursorAt(t *testing.T) {
	c := EncodeCursorAt("epoch-a", 7, 42)
	tx, seq, ok := DecodeCursorAt(c, "epoch-a")
	require.True(t, ok)
	assert.Equal(t, uint64(7), tx)
	assert.Equal(t, int64(42), seq)
	_, ok = DecodeCursor(c, "epoch-a")
	assert.False(t, ok, "a c2 cursor is no one-number position")

	assert.Equal(t, EncodeCursor("epoch-a", 42), EncodeCursorAt("epoch-a", 0, 42))
	tx, seq, ok = DecodeCursorAt(EncodeCursor("epoch-a", 42), "epoch-a")
	require.True(t, ok)
	assert.Equal(t, uint64(0), tx)
	assert.Equal(t, int64(42), seq)

	for name, cursor := range map[string]string{
		"other epoch":  EncodeCursorAt("epoch-b", 7, 42),
		"zero tx":      "YzI6ZXBvY2gtYTowOjQy", // c2:epoch-a:0:42
		"negative seq": EncodeCursorAt("epoch-a", 7, -1),
		"bad tx":       "YzI6ZXBvY2gtYTp4OjQy", // c2:epoch-a:x:42
	} {
		t.Run(name, func(t *testing.T) {
			_, _, ok := DecodeCursorAt(cursor, "epoch-a")
			assert.False(t, ok)
		})
	}
}

func TestCodes_RoundTrip(t *testing.T) {
	for d, c := range codes {
		assert.Equal(t, c, ConnectCode(d))
		assert.Equal(t, d, DomainCode(c))
	}
	assert.Equal(t, audit.EUNAVAILABLE, DomainCode(connect.CodeDeadlineExceeded))
}

func TestFromConnect(t *testing.T) {
	err := FromConnect(connect.NewError(connect.CodeAlreadyExists, errors.New("visit v1 exists with other content")))
	assert.Equal(t, audit.EEXISTS, audit.ErrorCode(err))
	assert.Equal(t, "visit v1 exists with other content", audit.ErrorMessage(err))
	assert.False(t, Retryable(err))

	cut := fmt.Errorf("read tcp: connection reset by peer")
	assert.Equal(t, audit.EUNAVAILABLE, audit.ErrorCode(FromConnect(cut)))
	assert.ErrorIs(t, FromConnect(cut), cut)
	assert.True(t, Retryable(cut))
	assert.True(t, Retryable(connect.NewError(connect.CodeAborted, errors.New("gap"))))
	assert.False(t, Retryable(connect.NewError(connect.CodeInvalidArgument, errors.New("bad"))))
	assert.Nil(t, FromConnect(nil))
}

func TestVisit_RoundTrip(t *testing.T) {
	yes, n, d := true, 4.5, int64(25_000)
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	v := &audit.Visit{
		ID: "v1", AssignmentID: "a1", StoreID: "s1", ShopperID: "u1", ChecklistID: "store-visit", ChecklistVersion: 2,
		ContentHash: "ab", Channel: audit.ChannelStoreVisit, StartedAt: start, FinishedAt: start.Add(20 * time.Minute),
		Answers: []audit.Answer{
			{QuestionID: "greet", DurationMS: &d},
			{QuestionID: "tags", Bool: &yes, PhotoHashes: []string{"aa"}},
			{QuestionID: "queue", Number: &n, Note: "long queue"},
			{QuestionID: "na", NA: true},
			{QuestionID: "choice", Choices: []string{"x", "y"}},
		},
		Photos:   []audit.Photo{{QuestionID: "tags", Index: 0, SHA256: "aa", Size: 10, ContentType: "image/jpeg", CapturedAt: start}},
		StaffID:  "st1",
		CheckIn:  &audit.GeoPoint{Latitude: 55.7, Longitude: 37.6, AccuracyMeters: 12, Time: start},
		Notes:    "ok",
		CheckOut: nil,
	}
	back := VisitFromProto(VisitToProto(v), "u1")
	assert.Equal(t, v, back)
	assert.Equal(t, VisitDigest(v), VisitDigest(back))

	changed := *back
	changed.Notes = "changed"
	assert.NotEqual(t, VisitDigest(v), VisitDigest(&changed))
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt := range 10 {
		d := b.Delay(attempt)
		assert.GreaterOrEqual(t, d, 50*time.Millisecond)
		assert.LessOrEqual(t, d, time.Second)
	}
	assert.GreaterOrEqual(t, b.Delay(9), 500*time.Millisecond, "late retries wait at least half the maximum")
}
