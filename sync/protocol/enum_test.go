package protocol

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// roundTrip checks one enum table against the domain's list of values and
// the wire enum's generated names: every domain value has a row, every
// wire value but UNSPECIFIED has one, and both directions agree.
func roundTrip[D ~string, W ~int32](t *testing.T, e enum[D, W], domain []D, wireNames map[int32]string) {
	t.Helper()
	require.Len(t, e.to, len(domain), "one row per domain value")
	for _, d := range domain {
		w := e.toProto(d)
		require.NotZero(t, w, "%s %q has no wire value", e.what, d)
		back, err := e.fromProto(w)
		require.NoError(t, err)
		assert.Equal(t, d, back)
	}
	assert.Len(t, wireNames, len(domain)+1, "every wire value but UNSPECIFIED has a row")
	for n := range wireNames {
		if n != 0 {
			_, err := e.fromProto(W(n))
			assert.NoError(t, err, "%s %s", e.what, wireNames[n])
		}
	}
	assert.Zero(t, e.toProto("no such value"), "an unknown domain value goes out as UNSPECIFIED, which the other end refuses")
}

// refuses checks that a wire value this side does not know, and
// UNSPECIFIED, are errors, never a default; and that a filter reads
// UNSPECIFIED as "any".
func refuses[D ~string, W ~int32](t *testing.T, e enum[D, W]) {
	t.Helper()
	_, err := e.fromProto(W(99))
	requireInvalid(t, err, "unknown "+e.what+" 99")
	_, err = e.fromProto(0)
	requireInvalid(t, err, e.what+" is not set")
	_, err = e.filterFromProto(W(99))
	requireInvalid(t, err, "unknown "+e.what+" 99")
	any, err := e.filterFromProto(0)
	require.NoError(t, err)
	assert.Empty(t, any)
}

func requireInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%v", err)
	assert.Contains(t, audit.ErrorMessage(err), msg)
}

func TestEnums(t *testing.T) {
	t.Run("Channel", func(t *testing.T) {
		roundTrip(t, channels, audit.Channels, v1.Channel_name)
		refuses(t, channels)
	})
	t.Run("VisitState", func(t *testing.T) {
		roundTrip(t, visitStates, audit.VisitStates, v1.VisitState_name)
		refuses(t, visitStates)
	})
	t.Run("AssignmentState", func(t *testing.T) {
		roundTrip(t, assignmentStates, audit.AssignmentStates, v1.AssignmentState_name)
		refuses(t, assignmentStates)
	})
	t.Run("VersionState", func(t *testing.T) {
		roundTrip(t, versionStates, []audit.VersionState{audit.VersionDraft, audit.VersionPublished, audit.VersionRetired}, v1.ChecklistVersionState_name)
		refuses(t, versionStates)
	})
	t.Run("RemovalReason", func(t *testing.T) {
		roundTrip(t, removalReasons, audit.RemovalReasons, v1.RemovalReason_name)
		refuses(t, removalReasons)
	})
	t.Run("Exported", func(t *testing.T) {
		// The exported functions read the same tables.
		_, err := ChannelFromProto(99)
		requireInvalid(t, err, "unknown channel 99")
		_, err = VisitStateFromProto(99)
		requireInvalid(t, err, "unknown visit state 99")
		_, err = AssignmentStateFromProto(0)
		requireInvalid(t, err, "assignment state is not set")
		_, err = VersionStateFromProto(99)
		requireInvalid(t, err, "unknown checklist version state 99")
		ch, err := ChannelFilterFromProto(v1.Channel_CHANNEL_EMAIL)
		require.NoError(t, err)
		assert.Equal(t, audit.ChannelEmail, ch)
	})
}

func TestRemovalReasonFromProto(t *testing.T) {
	for _, r := range audit.RemovalReasons {
		c := AssignmentRemovalToProto("a1", r).GetAssignmentRemoval()
		assert.Equal(t, string(r), c.GetReason(), "the text says the same as the code, for older clients")
		got, err := RemovalReasonFromProto(c)
		require.NoError(t, err)
		assert.Equal(t, r, got)

		got, err = RemovalReasonFromProto(&v1.AssignmentRemoval{AssignmentId: "a1", Reason: string(r)})
		require.NoError(t, err, "a server before reason_code sends the text only")
		assert.Equal(t, r, got)
	}
	t.Run("CodeWins", func(t *testing.T) {
		got, err := RemovalReasonFromProto(&v1.AssignmentRemoval{Reason: "cancelled", ReasonCode: v1.RemovalReason_REMOVAL_REASON_EXPIRED})
		require.NoError(t, err)
		assert.Equal(t, audit.RemovalExpired, got)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := RemovalReasonFromProto(&v1.AssignmentRemoval{AssignmentId: "a1", ReasonCode: 99})
		requireInvalid(t, err, "unknown removal reason 99")
		_, err = RemovalReasonFromProto(&v1.AssignmentRemoval{AssignmentId: "a1", Reason: "lost"})
		requireInvalid(t, err, `unknown removal reason "lost"`)
		_, err = RemovalReasonFromProto(&v1.AssignmentRemoval{AssignmentId: "a1"})
		requireInvalid(t, err, `unknown removal reason ""`)
	})
}

func TestReceipt_RoundTrip(t *testing.T) {
	score := 87.5
	r := &audit.VisitReceipt{
		VisitID: "v1", State: audit.VisitReturned, ScorePercent: &score,
		Missing:    []audit.MissingPhoto{{QuestionID: "q", Index: 1, SHA256: "ab"}},
		Flags:      []audit.VisitFlag{audit.FlagOutsideWindow},
		ReceivedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		Comments:   []audit.ReviewComment{{QuestionID: "q", Text: "blurred"}},
	}
	back, err := ReceiptFromProto(ReceiptToProto(r))
	require.NoError(t, err)
	assert.Equal(t, r, back)
	assert.Nil(t, ReceiptToProto(nil))

	p := ReceiptToProto(r)
	p.State = 99
	_, err = ReceiptFromProto(p)
	requireInvalid(t, err, "receipt of visit v1: unknown visit state 99")
	p.State = v1.VisitState_VISIT_STATE_UNSPECIFIED
	_, err = ReceiptFromProto(p)
	requireInvalid(t, err, "visit state is not set")
}

func TestAssignment_RoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	a := &audit.Assignment{
		ID: "a1", StoreID: "s1", ChecklistID: "c1", ChecklistVersion: 2, Channel: audit.ChannelPhoneCall,
		WindowStart: at, WindowEnd: at.Add(time.Hour), ShopperID: "u1", State: audit.AssignmentAccepted,
		CancelReason: "", CreatedAt: at, UpdatedAt: at,
	}
	back, err := AssignmentFromProto(AssignmentToProto(a))
	require.NoError(t, err)
	assert.Equal(t, a, back)

	p := AssignmentToProto(a)
	p.State = 99
	_, err = AssignmentFromProto(p)
	requireInvalid(t, err, "assignment a1: unknown assignment state 99")
	p = AssignmentToProto(a)
	p.Channel = 99
	_, err = AssignmentFromProto(p)
	requireInvalid(t, err, "assignment a1: unknown channel 99")
	p.Id = ""
	_, err = AssignmentFromProto(p)
	requireInvalid(t, err, "assignment without an id")
}

func TestVersion_RoundTrip(t *testing.T) {
	c := &audit.Checklist{ID: "c1", Name: "Visit", Channel: audit.ChannelStoreVisit, Sections: []audit.Section{{ID: "s", Title: "S",
		Questions: []audit.Question{{ID: "q", Type: audit.QuestionYesNo, Text: "Greeted?"}}}}}
	v, err := audit.Publish(audit.NewDraft(c, 3), time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	p, err := VersionToProto(v, true)
	require.NoError(t, err)
	assert.Equal(t, int32(1), p.GetQuestionCount())
	back, err := VersionFromProto(p)
	require.NoError(t, err)
	require.NoError(t, back.Verify(), "the content comes back as it was hashed")
	assert.Equal(t, v.State, back.State)
	assert.Equal(t, v.ContentHash, back.ContentHash)
	assert.True(t, v.PublishedAt.Equal(back.PublishedAt))

	p.State = 99
	_, err = VersionFromProto(p)
	requireInvalid(t, err, "checklist c1 version 3: unknown checklist version state 99")
	p.State = v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED
	p.Content = []byte("{")
	_, err = VersionFromProto(p)
	requireInvalid(t, err, "content is not a checklist")
}
