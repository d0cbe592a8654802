package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/sync/protocol"
)

// mustRunSyncServer starts a demo server whose login limit lets the sync
// tests sign in as often as they open devices.
func mustRunSyncServer(tb testing.TB, cfg *server.Config) *TestServer {
	tb.Helper()
	var c server.Config
	if cfg != nil {
		c = *cfg
	}
	c.LoginRate = server.Rate{Burst: 10_000, Every: time.Millisecond}
	return MustRunServer(tb, &c)
}

// field is one shopper's phone against a test server, with an admin to
// set up and change its work.
type field struct {
	ts        *TestServer
	c         Clients
	token     string // the shopper's access token on this device
	shopperID string
	admin     string // an admin's access token
	stores    map[string]string
	seq       int64 // the device's last seq, for submitNext
}

// newField logs the demo shopper in on a new device, so that its seqs
// start at 1.
func newField(tb testing.TB, ts *TestServer, c Clients) *field {
	tb.Helper()
	lr := mustLogin(tb, c, audit.RoleShopper, "phone-"+uuid.NewString())
	f := &field{ts: ts, c: c, token: lr.Tokens.AccessToken, shopperID: lr.User.Id, stores: map[string]string{}}
	f.admin = mustLogin(tb, c, audit.RoleAdmin, "desk-"+uuid.NewString()).Tokens.AccessToken
	stores, err := call(tb, c.Org.ListStores, f.admin, &v1.ListStoresRequest{})
	require.NoError(tb, err)
	for _, s := range stores.Stores {
		f.stores[s.Code] = s.Id
	}
	return f
}

// newShopper creates another shopper and returns his id and an access
// token on a new device.
func (f *field) newShopper(tb testing.TB) (string, string) {
	tb.Helper()
	email := "shopper-" + uuid.NewString()[:8] + "@example.com"
	u, err := call(tb, f.c.Admin.CreateUser, f.admin, &v1.CreateUserRequest{
		Email: email, DisplayName: "Other shopper", Role: v1.Role_ROLE_SHOPPER, Password: demoPassword,
	})
	require.NoError(tb, err)
	lr, err := f.c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
		Email: email, Password: demoPassword, DeviceId: "phone-" + uuid.NewString(),
	}))
	require.NoError(tb, err)
	return u.User.Id, lr.Msg.Tokens.AccessToken
}

// assign creates an assignment of the latest published version of
// checklist at the store with code for shopper.
func (f *field) assign(tb testing.TB, store, checklist, shopper string) *v1.Assignment {
	tb.Helper()
	return f.assignUntil(tb, store, checklist, shopper, time.Now().Add(7*24*time.Hour))
}

// assignUntil is assign with a window from an hour ago until end.
func (f *field) assignUntil(tb testing.TB, store, checklist, shopper string, end time.Time) *v1.Assignment {
	tb.Helper()
	resp, err := call(tb, f.c.Assignment.CreateAssignment, f.admin, &v1.CreateAssignmentRequest{Spec: &v1.AssignmentSpec{
		StoreId: f.stores[store], ChecklistId: checklist, ShopperId: shopper,
		WindowStartTime: timestamppb.New(time.Now().Add(-time.Hour)), WindowEndTime: timestamppb.New(end),
	}})
	require.NoError(tb, err)
	return resp.Assignment
}

// pullAll pulls every page after cursor with the given page size and
// returns the changes, the last cursor and the number of pages.
func pullAll(tb testing.TB, c Clients, token, cursor string, size int32) ([]*v1.Change, string, int) {
	tb.Helper()
	var all []*v1.Change
	for pages := 1; ; pages++ {
		resp, err := call(tb, c.Sync.Pull, token, &v1.PullRequest{Cursor: cursor, PageSize: size})
		require.NoError(tb, err)
		require.NotEmpty(tb, resp.NextCursor)
		all, cursor = append(all, resp.Changes...), resp.NextCursor
		if !resp.HasMore {
			return all, cursor, pages
		}
		require.Less(tb, pages, 1000, "pull does not end")
	}
}

// upsertOf returns the last upsert of an assignment among changes.
func upsertOf(changes []*v1.Change, id string) *v1.AssignmentUpsert {
	var out *v1.AssignmentUpsert
	for _, c := range changes {
		if u := c.GetAssignmentUpsert(); u != nil && u.Assignment.Id == id {
			out = u
		}
	}
	return out
}

// pulledUpsert pulls from the start and returns the assignment's upsert.
func (f *field) pulledUpsert(tb testing.TB, id string) *v1.AssignmentUpsert {
	tb.Helper()
	changes, _, _ := pullAll(tb, f.c, f.token, "", 0)
	up := upsertOf(changes, id)
	require.NotNil(tb, up, "assignment %s not pulled", id)
	return up
}

// domainVersion is the checklist version a device holds after a pull.
func domainVersion(tb testing.TB, cv *v1.ChecklistVersion) *audit.ChecklistVersion {
	tb.Helper()
	var c audit.Checklist
	require.NoError(tb, json.Unmarshal(cv.Content, &c))
	v := &audit.ChecklistVersion{ChecklistID: cv.ChecklistId, Version: int(cv.Version), State: audit.VersionPublished,
		Content: c, ContentHash: cv.ContentHash}
	require.NoError(tb, v.Verify(), "pulled content must match its hash")
	return v
}

// testPhoto returns n random bytes and their hex SHA-256.
func testPhoto(n int) ([]byte, string) {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(rand.N(256))
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:])
}

// recorded is a visit a test recorded, with the bytes of its photos.
type recorded struct {
	visit  *audit.Visit
	cv     *audit.ChecklistVersion
	photos map[string][]byte // by hex SHA-256
}

// score is the score the device previews (and the server must agree on).
func (r *recorded) score(tb testing.TB) *float64 {
	tb.Helper()
	s, err := audit.Score(r.cv, r.visit.Answers)
	require.NoError(tb, err)
	return s.Overall.Percent
}

// addPhoto attaches a new photo to the answer at i.
func (r *recorded) addPhoto(i int, data []byte, sha string) {
	a := &r.visit.Answers[i]
	a.PhotoHashes = append(a.PhotoHashes, sha)
	r.photos[sha] = data
	r.visit.Photos = append(r.visit.Photos, audit.Photo{QuestionID: a.QuestionID, Index: len(a.PhotoHashes) - 1, SHA256: sha,
		Size: int64(len(data)), ContentType: "image/jpeg", CapturedAt: r.visit.StartedAt})
}

var timerUnits = map[string]float64{"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}

// record fills in a checklist version as a shopper would: every question
// passes except those in fail, with the notes and photos the checklist's
// rules then demand. The visit is valid and complete.
func record(tb testing.TB, cv *v1.ChecklistVersion, assignmentID, storeID string, fail ...string) *recorded {
	tb.Helper()
	r := &recorded{cv: domainVersion(tb, cv), photos: map[string][]byte{}}
	start := time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Millisecond)
	r.visit = &audit.Visit{
		ID: uuid.NewString(), AssignmentID: assignmentID, StoreID: storeID, ChecklistID: cv.ChecklistId,
		ChecklistVersion: int(cv.Version), ContentHash: cv.ContentHash, Channel: r.cv.Content.Channel,
		StartedAt: start, FinishedAt: start.Add(20 * time.Minute), Notes: "recorded by a test",
	}
	for _, sec := range r.cv.Content.Sections {
		for _, q := range sec.Questions {
			failing := slices.Contains(fail, q.ID)
			a := audit.Answer{QuestionID: q.ID}
			switch q.Type {
			case audit.QuestionYesNo:
				b := !q.PassOnNo != failing
				a.Bool = &b
			case audit.QuestionScale:
				n := float64(q.ScaleMax)
				if failing {
					n = 1
				}
				a.Number = &n
			case audit.QuestionNumeric, audit.QuestionTimer:
				x := 1.0
				if q.Target != nil {
					x = q.Target.Value
					if failing && q.Target.Op == audit.AtLeast {
						x--
					} else if failing {
						x++
					}
				}
				if q.Type == audit.QuestionNumeric {
					a.Number = &x
				} else {
					ms := int64(x * timerUnits[q.Unit])
					a.DurationMS = &ms
				}
			case audit.QuestionNPS:
				n := 10.0
				a.Number = &n
			case audit.QuestionSingleChoice:
				best := q.Options[0]
				for _, o := range q.Options {
					if o.Points > best.Points {
						best = o
					}
				}
				a.Choices = []string{best.Value}
			case audit.QuestionMultiChoice:
				for _, o := range q.Options {
					a.Choices = append(a.Choices, o.Value)
				}
			case audit.QuestionText:
				a.Text = "observed"
			}
			r.visit.Answers = append(r.visit.Answers, a)
			if q.Type == audit.QuestionPhoto {
				for range max(q.PhotoCount, 1) {
					data, sha := testPhoto(3000)
					r.addPhoto(len(r.visit.Answers)-1, data, sha)
				}
			}
		}
	}
	for range 3 {
		s, err := audit.Score(r.cv, r.visit.Answers)
		require.NoError(tb, err)
		if s.Complete() {
			return r
		}
		for _, e := range s.Errors {
			i := slices.IndexFunc(r.visit.Answers, func(a audit.Answer) bool { return a.QuestionID == e.QuestionID })
			require.GreaterOrEqual(tb, i, 0, "answer error %v", e)
			switch e.Kind {
			case audit.AnswerNoteRequired:
				r.visit.Answers[i].Note = "see the photo"
			case audit.AnswerPhotosRequired:
				data, sha := testPhoto(3000)
				r.addPhoto(i, data, sha)
			default:
				tb.Fatalf("the test recorded an invalid answer: %v", e)
			}
		}
	}
	tb.Fatal("could not record a complete visit")
	return nil
}

// submit returns a SubmitVisit mutation of the visit at seq.
func submit(seq int64, v *audit.Visit) *v1.Mutation {
	return &v1.Mutation{Seq: seq, MutationId: uuid.NewString(), DeviceTime: timestamppb.Now(),
		Kind: &v1.Mutation_SubmitVisit{SubmitVisit: &v1.SubmitVisit{Visit: protocol.VisitToProto(v)}}}
}

// push sends the mutations in one push.
func (f *field) push(tb testing.TB, muts ...*v1.Mutation) (*v1.PushResponse, error) {
	tb.Helper()
	return call(tb, f.c.Sync.Push, f.token, &v1.PushRequest{Mutations: muts, DeviceTime: timestamppb.Now()})
}

// mustPush pushes and requires one result per mutation.
func (f *field) mustPush(tb testing.TB, muts ...*v1.Mutation) *v1.PushResponse {
	tb.Helper()
	resp, err := f.push(tb, muts...)
	require.NoError(tb, err)
	require.Len(tb, resp.Results, len(muts))
	for i, r := range resp.Results {
		require.Equal(tb, muts[i].Seq, r.Seq)
		require.Equal(tb, muts[i].MutationId, r.MutationId)
	}
	return resp
}

// countVisits returns how many rows the visit id has.
func (f *field) countVisits(tb testing.TB, id string) int {
	tb.Helper()
	var n int
	require.NoError(tb, servertest.Inspect(tb, f.ts.DataDir).QueryRow(`SELECT COUNT(*) FROM visits WHERE id = ?`, id).Scan(&n))
	return n
}

func requireRejected(tb testing.TB, r *v1.MutationResult, code connect.Code) {
	tb.Helper()
	require.Equal(tb, v1.MutationStatus_MUTATION_STATUS_REJECTED, r.Status, "result %v", r)
	require.Equal(tb, code.String(), r.ErrorCode, "result %v", r)
	require.NotEmpty(tb, r.ErrorMessage)
	require.Nil(tb, r.Receipt)
}

func TestSyncService_Push(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)

			f := newField(t, ts, c)
			a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
			up := f.pulledUpsert(t, a.Id)
			rec := record(t, up.Checklist, a.Id, a.StoreId, "tags_correct", "placement")
			first := &v1.PushRequest{Mutations: []*v1.Mutation{submit(1, rec.visit)}, DeviceTime: timestamppb.Now()}
			var receipt *v1.VisitReceipt

			t.Run("OK", func(t *testing.T) {
				resp, err := call(t, c.Sync.Push, f.token, first)
				require.NoError(t, err)
				require.Len(t, resp.Results, 1)
				r := resp.Results[0]
				require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, r.Status, "result %v", r)
				assert.Equal(t, int64(1), resp.AppliedSeq)
				receipt = r.Receipt
				require.NotNil(t, receipt)
				assert.Equal(t, rec.visit.ID, receipt.VisitId)
				want := rec.score(t)
				require.NotNil(t, want)
				require.NotNil(t, receipt.ScorePercent)
				assert.InDelta(t, *want, receipt.GetScorePercent(), 1e-9, "the server's score is the device's preview")
				assert.Less(t, *receipt.ScorePercent, 100.0, "a failed question costs points")
				assert.Equal(t, v1.VisitState_VISIT_STATE_SUBMITTED, receipt.State, "photos are still missing")
				assert.Len(t, receipt.MissingPhotos, len(rec.photos))
				assert.Empty(t, receipt.Flags)
				assert.WithinDuration(t, time.Now(), receipt.ReceiveTime.AsTime(), time.Minute)
				assert.Equal(t, 1, f.countVisits(t, rec.visit.ID))

				changes, _, _ := pullAll(t, c, f.token, "", 0)
				done := upsertOf(changes, a.Id)
				require.NotNil(t, done)
				assert.Equal(t, v1.AssignmentState_ASSIGNMENT_STATE_DONE, done.Assignment.State)
				i := slices.IndexFunc(changes, func(ch *v1.Change) bool { return ch.GetVisitReceipt().GetVisitId() == rec.visit.ID })
				require.GreaterOrEqual(t, i, 0, "the receipt is pulled")
				assert.Equal(t, receipt.ScorePercent, changes[i].GetVisitReceipt().ScorePercent)
			})
			t.Run("Replay", func(t *testing.T) {
				// The answer was lost after the commit: the same batch again.
				resp, err := call(t, c.Sync.Push, f.token, first)
				require.NoError(t, err)
				r := resp.Results[0]
				require.Equal(t, v1.MutationStatus_MUTATION_STATUS_REPLAYED, r.Status, "result %v", r)
				assert.Equal(t, int64(1), resp.AppliedSeq)
				// The first answer was built from memory, the replay's is read
				// from the database: they are the same receipt.
				assert.True(t, proto.Equal(receipt, r.Receipt), "applied %v, replayed %v", receipt, r.Receipt)
				assert.Equal(t, 1, f.countVisits(t, rec.visit.ID))
			})
			t.Run("SameVisitNewMutation", func(t *testing.T) {
				// The device lost its outbox answer and queued the visit
				// again: the same content under a new seq is a replay too.
				resp := f.mustPush(t, submit(2, rec.visit))
				assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_REPLAYED, resp.Results[0].Status)
				assert.Equal(t, receipt.ScorePercent, resp.Results[0].Receipt.ScorePercent)
				assert.Equal(t, int64(2), resp.AppliedSeq)
				assert.Equal(t, 1, f.countVisits(t, rec.visit.ID))
			})
			t.Run("ErrAlreadyExists", func(t *testing.T) {
				changed := *rec.visit
				changed.Notes = "edited after submitting"
				resp := f.mustPush(t, submit(3, &changed))
				requireRejected(t, resp.Results[0], connect.CodeAlreadyExists)
				assert.Equal(t, int64(3), resp.AppliedSeq, "a rejection consumes its seq")
				stored, err := ts.Storage().Visits().Find(context.Background(), rec.visit.ID)
				require.NoError(t, err)
				assert.Equal(t, f.shopperID, stored.Visit.ShopperID)
				assert.Equal(t, rec.visit.Notes, stored.Visit.Notes, "the original is kept")
				assert.Equal(t, 1, f.countVisits(t, rec.visit.ID))
			})
			t.Run("ErrSeqReused", func(t *testing.T) {
				other := record(t, up.Checklist, a.Id, a.StoreId)
				resp := f.mustPush(t, submit(1, other.visit))
				requireRejected(t, resp.Results[0], connect.CodeAlreadyExists)
				assert.Equal(t, 0, f.countVisits(t, other.visit.ID))
				// The stored answer of seq 1 is unchanged.
				again, err := call(t, c.Sync.Push, f.token, first)
				require.NoError(t, err)
				assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_REPLAYED, again.Results[0].Status)
			})
			t.Run("ErrMutationIDReused", func(t *testing.T) {
				other := record(t, up.Checklist, a.Id, a.StoreId)
				m := submit(4, other.visit)
				m.MutationId = first.Mutations[0].MutationId
				resp := f.mustPush(t, m)
				requireRejected(t, resp.Results[0], connect.CodeAlreadyExists)
				assert.Equal(t, 0, f.countVisits(t, other.visit.ID))
				assert.Equal(t, int64(4), resp.AppliedSeq)
			})
			t.Run("ErrGap", func(t *testing.T) {
				_, err := f.push(t, submit(7, rec.visit))
				requireCode(t, connect.CodeAborted, err)
				assert.Contains(t, err.Error(), "applied_seq=4")
				var ce *connect.Error
				require.ErrorAs(t, err, &ce)
				require.Len(t, ce.Details(), 1)
				d, derr := ce.Details()[0].Value()
				require.NoError(t, derr)
				require.IsType(t, &v1.PushResponse{}, d)
				assert.Equal(t, int64(4), d.(*v1.PushResponse).AppliedSeq)
			})
			t.Run("ErrInvalidBatch", func(t *testing.T) {
				_, err := f.push(t)
				requireCode(t, connect.CodeInvalidArgument, err)
				_, err = f.push(t, submit(5, rec.visit), submit(7, rec.visit))
				requireCode(t, connect.CodeInvalidArgument, err)
				m := submit(5, rec.visit)
				_, err = f.push(t, m, &v1.Mutation{Seq: 6, MutationId: m.MutationId, Kind: m.Kind})
				requireCode(t, connect.CodeInvalidArgument, err)
				var many []*v1.Mutation
				for i := range server.MaxPushMutations + 1 {
					many = append(many, &v1.Mutation{Seq: int64(5 + i), MutationId: uuid.NewString()})
				}
				_, err = f.push(t, many...)
				requireCode(t, connect.CodeResourceExhausted, err)
			})
			t.Run("RejectedDoesNotBlock", func(t *testing.T) {
				f := newField(t, ts, c)
				a := f.assign(t, "MSK-02", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				unknown := record(t, up.Checklist, a.Id, a.StoreId)
				unknown.visit.ChecklistVersion = 99
				invalid := record(t, up.Checklist, a.Id, a.StoreId)
				invalid.visit.StoreID = ""
				good := record(t, up.Checklist, a.Id, a.StoreId)
				muts := []*v1.Mutation{submit(1, unknown.visit), submit(2, invalid.visit), {Seq: 3, MutationId: uuid.NewString()}, submit(4, good.visit)}
				resp := f.mustPush(t, muts...)
				requireRejected(t, resp.Results[0], connect.CodeNotFound)
				requireRejected(t, resp.Results[1], connect.CodeInvalidArgument)
				requireRejected(t, resp.Results[2], connect.CodeInvalidArgument)
				assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, resp.Results[3].Status, "result %v", resp.Results[3])
				assert.Equal(t, int64(4), resp.AppliedSeq)

				again := f.mustPush(t, muts...)
				for i := range 3 {
					assert.Equal(t, resp.Results[i].ErrorCode, again.Results[i].ErrorCode, "a rejection answers the same again")
					assert.Equal(t, resp.Results[i].ErrorMessage, again.Results[i].ErrorMessage)
				}
				assert.Equal(t, v1.MutationStatus_MUTATION_STATUS_REPLAYED, again.Results[3].Status)
				assert.Equal(t, 1, f.countVisits(t, good.visit.ID))
				assert.Equal(t, 0, f.countVisits(t, unknown.visit.ID))
			})
			t.Run("ErrAnswers", func(t *testing.T) {
				f := newField(t, ts, c)
				a := f.assign(t, "MSK-02", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				rec := record(t, up.Checklist, a.Id, a.StoreId)
				rec.visit.Answers = rec.visit.Answers[1:] // a required answer is missing
				resp := f.mustPush(t, submit(1, rec.visit))
				requireRejected(t, resp.Results[0], connect.CodeInvalidArgument)
				assert.Contains(t, resp.Results[0].ErrorMessage, "required")
			})
			t.Run("Parallel", func(t *testing.T) {
				f := newField(t, ts, c)
				a := f.assign(t, "MSK-02", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				rec := record(t, up.Checklist, a.Id, a.StoreId, "thanked")
				req := &v1.PushRequest{Mutations: []*v1.Mutation{submit(1, rec.visit)}, DeviceTime: timestamppb.Now()}
				results := make([]*v1.PushResponse, 5)
				errs := make([]error, 5)
				var wg sync.WaitGroup
				for i := range 5 {
					wg.Go(func() { results[i], errs[i] = call(t, c.Sync.Push, f.token, req) })
				}
				wg.Wait()
				applied := 0
				for i := range 5 {
					require.NoError(t, errs[i])
					r := results[i].Results[0]
					switch r.Status {
					case v1.MutationStatus_MUTATION_STATUS_APPLIED:
						applied++
					case v1.MutationStatus_MUTATION_STATUS_REPLAYED:
					default:
						t.Fatalf("push %d: %v", i, r)
					}
					assert.Equal(t, results[0].Results[0].Receipt.ScorePercent, r.Receipt.ScorePercent)
					assert.Equal(t, results[0].Results[0].Receipt.ReceiveTime.AsTime(), r.Receipt.ReceiveTime.AsTime())
					assert.Equal(t, int64(1), results[i].AppliedSeq)
				}
				assert.Equal(t, 1, applied, "exactly one push applies the visit")
				assert.Equal(t, 1, f.countVisits(t, rec.visit.ID))
			})
			t.Run("CancelledWhileOffline", func(t *testing.T) {
				f := newField(t, ts, c)
				a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				rec := record(t, up.Checklist, a.Id, a.StoreId)
				_, err := call(t, c.Assignment.CancelAssignment, f.admin, &v1.CancelAssignmentRequest{AssignmentId: a.Id, Reason: "store closed"})
				require.NoError(t, err)
				resp := f.mustPush(t, submit(1, rec.visit))
				r := resp.Results[0]
				require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, r.Status, "result %v", r)
				assert.Contains(t, r.Receipt.Flags, string(audit.FlagAssignmentCancelled))
				assert.InDelta(t, *rec.score(t), *r.Receipt.ScorePercent, 1e-9)
				stored, err := ts.Storage().Assignments().Find(context.Background(), audit.Scope{All: true}, a.Id)
				require.NoError(t, err)
				assert.Equal(t, audit.AssignmentCancelled, stored.State, "a cancelled assignment is never marked done")
			})
			t.Run("ReassignedWhileOffline", func(t *testing.T) {
				f := newField(t, ts, c)
				other, _ := f.newShopper(t)
				a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				rec := record(t, up.Checklist, a.Id, a.StoreId)
				_, err := call(t, c.Assignment.ReassignAssignment, f.admin, &v1.ReassignAssignmentRequest{AssignmentId: a.Id, ShopperId: other})
				require.NoError(t, err)
				resp := f.mustPush(t, submit(1, rec.visit))
				r := resp.Results[0]
				require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, r.Status, "result %v", r)
				assert.Contains(t, r.Receipt.Flags, "assignment_reassigned")
				stored, err := ts.Storage().Assignments().Find(context.Background(), audit.Scope{All: true}, a.Id)
				require.NoError(t, err)
				assert.Equal(t, other, stored.ShopperID)
				assert.Equal(t, audit.AssignmentAccepted, stored.State, "the other shopper's assignment stays his")
			})
			t.Run("ErrNotYourAssignment", func(t *testing.T) {
				f := newField(t, ts, c)
				other, _ := f.newShopper(t)
				mine := f.assign(t, "MSK-01", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, mine.Id)
				theirs := f.assign(t, "MSK-01", "store-visit", other)
				rec := record(t, up.Checklist, theirs.Id, theirs.StoreId)
				resp := f.mustPush(t, submit(1, rec.visit))
				requireRejected(t, resp.Results[0], connect.CodeNotFound)
			})
			t.Run("Correction", func(t *testing.T) {
				f := newField(t, ts, c)
				a := f.assign(t, "MSK-02", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				orig := record(t, up.Checklist, a.Id, a.StoreId, "thanked")
				fixed := record(t, up.Checklist, a.Id, a.StoreId)
				fixed.visit.CorrectsVisitID = orig.visit.ID
				resp := f.mustPush(t, submit(1, orig.visit), submit(2, fixed.visit))
				require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, resp.Results[1].Status, "result %v", resp.Results[1])
				assert.Contains(t, resp.Results[1].Receipt.Flags, "correction")
				assert.NotContains(t, resp.Results[1].Receipt.Flags, string(audit.FlagAssignmentDone))
				changes, _, _ := pullAll(t, c, f.token, "", 0)
				i := slices.IndexFunc(changes, func(ch *v1.Change) bool { return ch.GetVisitReceipt().GetVisitId() == orig.visit.ID })
				require.GreaterOrEqual(t, i, 0)
				assert.Equal(t, v1.VisitState_VISIT_STATE_SUPERSEDED, changes[i].GetVisitReceipt().State)

				twice := record(t, up.Checklist, a.Id, a.StoreId)
				twice.visit.CorrectsVisitID = orig.visit.ID
				resp = f.mustPush(t, submit(3, twice.visit))
				requireRejected(t, resp.Results[0], connect.CodeFailedPrecondition)
			})
		})
	}
}

// republish publishes a new version of a demo checklist whose question
// weighs more, and returns it.
func republish(tb testing.TB, ts *TestServer, checklist, question string) *audit.ChecklistVersion {
	tb.Helper()
	ctx := context.Background()
	cur, err := ts.Storage().Checklists().Find(ctx, checklist, 0)
	require.NoError(tb, err)
	c := cur.Content.Clone()
	q, _, ok := c.Question(question)
	require.True(tb, ok)
	q.Weight = 10
	q.Text += " (revised)"
	draft, err := ts.App().SaveDraft(ctx, &c, "test")
	require.NoError(tb, err)
	v, err := ts.App().PublishVersion(ctx, checklist, draft.Version)
	require.NoError(tb, err)
	require.Greater(tb, v.Version, cur.Version)
	return v
}

func TestSyncService_Push_Republished(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, protocols[0].client, protocols[0].opts...)
	f := newField(t, ts, c)

	// The device pulls, goes offline, records; meanwhile both checklists
	// are republished with a failed question weighing much more.
	a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
	changes, _, _ := pullAll(t, c, f.token, "", 0)
	up := upsertOf(changes, a.Id)
	require.NotNil(t, up)
	planned := record(t, up.Checklist, a.Id, a.StoreId, "thanked")
	i := slices.IndexFunc(changes, func(ch *v1.Change) bool {
		return ch.GetChecklistUpsert().GetChecklist().GetChecklistId() == "back-office-call"
	})
	require.GreaterOrEqual(t, i, 0, "a checklist open to unplanned visits is pulled")
	cu := changes[i].GetChecklistUpsert()
	require.NotEmpty(t, cu.Stores)
	unplanned := record(t, cu.Checklist, "", f.stores["HQ"], "resolved")

	newStore := republish(t, ts, "store-visit", "thanked")
	newCall := republish(t, ts, "back-office-call", "resolved")

	resp := f.mustPush(t, submit(1, planned.visit), submit(2, unplanned.visit))
	for i, rec := range []*recorded{planned, unplanned} {
		r := resp.Results[i]
		require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, r.Status, "result %v", r)
		assert.InDelta(t, *rec.score(t), *r.Receipt.ScorePercent, 1e-9, "scored against the version it was recorded with")
	}
	assert.Contains(t, resp.Results[1].Receipt.Flags, string(audit.FlagUnplanned))
	for _, x := range []struct {
		rec *recorded
		cv  *audit.ChecklistVersion
	}{{planned, newStore}, {unplanned, newCall}} {
		s, err := audit.Score(x.cv, x.rec.visit.Answers)
		require.NoError(t, err)
		assert.NotEqual(t, *x.rec.score(t), *s.Overall.Percent, "the new version would score differently")
	}

	// The device learns of the new version of the unplanned checklist.
	changes, _, _ = pullAll(t, c, f.token, "", 0)
	i = slices.IndexFunc(changes, func(ch *v1.Change) bool {
		return ch.GetChecklistUpsert().GetChecklist().GetChecklistId() == "back-office-call"
	})
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, int32(newCall.Version), changes[i].GetChecklistUpsert().Checklist.Version)
}

// kinds summarizes changes as "upsert:<id>", "removal:<id>:<reason>",
// "checklist:<id>" and "receipt:<id>".
func kinds(changes []*v1.Change) []string {
	var out []string
	for _, c := range changes {
		switch {
		case c.GetAssignmentUpsert() != nil:
			out = append(out, "upsert:"+c.GetAssignmentUpsert().Assignment.Id)
		case c.GetAssignmentRemoval() != nil:
			out = append(out, "removal:"+c.GetAssignmentRemoval().AssignmentId+":"+c.GetAssignmentRemoval().Reason)
		case c.GetChecklistUpsert() != nil:
			out = append(out, "checklist:"+c.GetChecklistUpsert().Checklist.ChecklistId)
		case c.GetVisitReceipt() != nil:
			out = append(out, "receipt:"+c.GetVisitReceipt().VisitId)
		}
	}
	return out
}

func TestSyncService_Pull(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			f := newField(t, ts, c)

			t.Run("OK", func(t *testing.T) {
				resp, err := call(t, c.Sync.Pull, f.token, &v1.PullRequest{})
				require.NoError(t, err)
				assert.False(t, resp.FullResync, "an empty cursor is a first pull, not a reset")
				assert.False(t, resp.HasMore)
				assert.WithinDuration(t, time.Now(), resp.ServerTime.AsTime(), time.Minute)
				var upserts int
				for _, ch := range resp.Changes {
					up := ch.GetAssignmentUpsert()
					if up == nil {
						continue
					}
					upserts++
					assert.Equal(t, f.shopperID, up.Assignment.ShopperId)
					assert.Equal(t, up.Assignment.StoreId, up.Store.Id)
					assert.Equal(t, up.Assignment.ChecklistVersion, up.Checklist.Version)
					domainVersion(t, up.Checklist)
					for _, st := range up.Staff {
						assert.Equal(t, up.Store.Id, st.StoreId)
					}
					if up.Store.Code == "MSK-01" {
						assert.Len(t, up.Staff, 2, "the store's staff list")
					}
				}
				assert.GreaterOrEqual(t, upserts, 5, "the demo shopper's assignments")
				got := kinds(resp.Changes)
				assert.Contains(t, got, "checklist:back-office-call")
				assert.Contains(t, got, "checklist:email-enquiry")
				assert.NotContains(t, got, "checklist:store-visit", "store visits take no unplanned visits")
			})
			t.Run("Pagination", func(t *testing.T) {
				whole, cursor, pages := pullAll(t, c, f.token, "", 500)
				require.Equal(t, 1, pages)
				paged, pagedCursor, pages := pullAll(t, c, f.token, "", 2)
				assert.Greater(t, pages, 2)
				assert.Equal(t, kinds(whole), kinds(paged))
				assert.Equal(t, cursor, pagedCursor)

				// Nothing new: an empty page keeps the cursor.
				resp, err := call(t, c.Sync.Pull, f.token, &v1.PullRequest{Cursor: cursor})
				require.NoError(t, err)
				assert.Empty(t, resp.Changes)
				assert.False(t, resp.HasMore)
				assert.Equal(t, cursor, resp.NextCursor)
			})
			t.Run("Tombstones", func(t *testing.T) {
				other, otherToken := f.newShopper(t)
				cancel := f.assign(t, "MSK-01", "store-visit", f.shopperID)
				moved := f.assign(t, "MSK-02", "store-visit", f.shopperID)
				_, cursor, _ := pullAll(t, c, f.token, "", 0)

				_, err := call(t, c.Assignment.CancelAssignment, f.admin, &v1.CancelAssignmentRequest{AssignmentId: cancel.Id})
				require.NoError(t, err)
				_, err = call(t, c.Assignment.ReassignAssignment, f.admin, &v1.ReassignAssignmentRequest{AssignmentId: moved.Id, ShopperId: other})
				require.NoError(t, err)
				changes, next, _ := pullAll(t, c, f.token, cursor, 0)
				assert.Equal(t, []string{"removal:" + cancel.Id + ":cancelled", "removal:" + moved.Id + ":reassigned"}, kinds(changes))

				// The other shopper gets it as an upsert.
				theirs, _, _ := pullAll(t, c, otherToken, "", 0)
				assert.Contains(t, kinds(theirs), "upsert:"+moved.Id)

				// Given back: an upsert again, and a removal for the other.
				_, err = call(t, c.Assignment.ReassignAssignment, f.admin, &v1.ReassignAssignmentRequest{AssignmentId: moved.Id, ShopperId: f.shopperID})
				require.NoError(t, err)
				changes, _, _ = pullAll(t, c, f.token, next, 0)
				assert.Equal(t, []string{"upsert:" + moved.Id}, kinds(changes))
				theirs, _, _ = pullAll(t, c, otherToken, "", 0)
				assert.Contains(t, kinds(theirs), "removal:"+moved.Id+":reassigned")
			})
			t.Run("OwnOnly", func(t *testing.T) {
				other, otherToken := f.newShopper(t)
				theirs := f.assign(t, "KIV-01", "store-visit", other)
				a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
				rec := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
				require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, f.mustPush(t, submit(1, rec.visit)).Results[0].Status)
				mine, _, _ := pullAll(t, c, f.token, "", 0)
				assert.Contains(t, kinds(mine), "receipt:"+rec.visit.ID)
				for _, ch := range mine {
					if up := ch.GetAssignmentUpsert(); up != nil {
						assert.Equal(t, f.shopperID, up.Assignment.ShopperId)
					}
					assert.NotEqual(t, theirs.Id, ch.GetAssignmentRemoval().GetAssignmentId())
				}
				assert.NotContains(t, kinds(mine), "upsert:"+theirs.Id)
				got, _, _ := pullAll(t, c, otherToken, "", 0)
				for _, ch := range got {
					if up := ch.GetAssignmentUpsert(); up != nil {
						assert.Equal(t, other, up.Assignment.ShopperId, "a shopper never sees another's assignments")
					}
					assert.Nil(t, ch.GetVisitReceipt(), "nor his visits")
				}
			})
			t.Run("ResetOnForeignCursor", func(t *testing.T) {
				whole, cursor, _ := pullAll(t, c, f.token, "", 0)
				raw, err := base64.RawURLEncoding.DecodeString(cursor)
				require.NoError(t, err)
				parts := strings.Split(string(raw), ":")
				require.Greater(t, len(parts), 2, "form, epoch, position")
				tx, _, ok := protocol.DecodeCursorAt(cursor, parts[1])
				require.True(t, ok)
				// Past the head in the feed's own form: one number on
				// SQLite, the transaction first on PostgreSQL.
				ahead := protocol.EncodeCursor(parts[1], 1<<40)
				if tx != 0 {
					ahead = protocol.EncodeCursorAt(parts[1], 1<<62, 1)
				}
				for name, foreign := range map[string]string{
					"other epoch":   protocol.EncodeCursor("another-database", 3),
					"garbage":       "not a cursor",
					"ahead of head": ahead,
				} {
					t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
						resp, err := call(t, c.Sync.Pull, f.token, &v1.PullRequest{Cursor: foreign, PageSize: 500})
						require.NoError(t, err)
						assert.True(t, resp.FullResync)
						assert.Equal(t, kinds(whole), kinds(resp.Changes), "a full snapshot from the start")
						assert.Equal(t, cursor, resp.NextCursor)
					})
				}
			})
			t.Run("ErrPageSize", func(t *testing.T) {
				for _, n := range []int32{-1, server.MaxPullPage + 1} {
					_, err := call(t, c.Sync.Pull, f.token, &v1.PullRequest{PageSize: n})
					requireCode(t, connect.CodeInvalidArgument, err)
				}
			})
			t.Run("ErrNotShopper", func(t *testing.T) {
				_, err := call(t, c.Sync.Pull, f.admin, &v1.PullRequest{})
				requireCode(t, connect.CodePermissionDenied, err)
				_, err = call(t, c.Sync.Push, f.admin, &v1.PushRequest{})
				requireCode(t, connect.CodePermissionDenied, err)
			})
		})
	}
}

func TestSyncService_Expiry(t *testing.T) {
	ts := mustRunSyncServer(t, &server.Config{ExpireEvery: 50 * time.Millisecond})
	c := clientsOf(ts, protocols[0].client, protocols[0].opts...)
	f := newField(t, ts, c)
	a := f.assignUntil(t, "MSK-01", "store-visit", f.shopperID, time.Now().Add(1500*time.Millisecond))
	changes, cursor, _ := pullAll(t, c, f.token, "", 0)
	up := upsertOf(changes, a.Id)
	require.NotNil(t, up)
	rec := record(t, up.Checklist, a.Id, a.StoreId) // recorded in time, pushed late

	require.Eventually(t, func() bool {
		changes, _, _ := pullAll(t, c, f.token, cursor, 0)
		return slices.Contains(kinds(changes), "removal:"+a.Id+":expired")
	}, 10*time.Second, 50*time.Millisecond, "the device learns that the window closed")

	r := f.mustPush(t, submit(1, rec.visit)).Results[0]
	require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, r.Status, "result %v", r)
	assert.Contains(t, r.Receipt.Flags, string(audit.FlagAssignmentExpired))
	assert.NotContains(t, r.Receipt.Flags, string(audit.FlagOutsideWindow))
	stored, err := ts.Storage().Assignments().Find(context.Background(), audit.Scope{All: true}, a.Id)
	require.NoError(t, err)
	assert.Equal(t, audit.AssignmentExpired, stored.State)
}

// TestSyncService_Push_RetiredAfterKept: the server keeps a checklist
// version's content and scorer once it has checked them, but reads its
// state in every push's transaction: a visit pushed after its version was
// retired is flagged so, scored as before, and a visit with a bad answer
// is still that item's rejection after its admission.
func TestSyncService_Push_RetiredAfterKept(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, protocols[0].client, protocols[0].opts...)
	f := newField(t, ts, c)
	changes, _, _ := pullAll(t, c, f.token, "", 0)
	i := slices.IndexFunc(changes, func(ch *v1.Change) bool {
		return ch.GetChecklistUpsert().GetChecklist().GetChecklistId() == "back-office-call"
	})
	require.GreaterOrEqual(t, i, 0)
	cv := changes[i].GetChecklistUpsert().Checklist
	first := record(t, cv, "", f.stores["HQ"])
	second := record(t, cv, "", f.stores["HQ"], "resolved")
	bad := record(t, cv, "", f.stores["HQ"])
	bad.visit.Answers = append(bad.visit.Answers, audit.Answer{QuestionID: "no-such-question", Text: "x"})

	resp := f.mustPush(t, submit(1, first.visit))
	require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, resp.Results[0].Status)
	assert.NotContains(t, resp.Results[0].Receipt.Flags, string(audit.FlagVersionRetired))

	_, err := ts.App().RetireVersion(context.Background(), audit.Scope{All: true}, cv.ChecklistId, int(cv.Version))
	require.NoError(t, err)
	resp = f.mustPush(t, submit(2, second.visit), submit(3, bad.visit))
	require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, resp.Results[0].Status, "result %v", resp.Results[0])
	assert.Contains(t, resp.Results[0].Receipt.Flags, string(audit.FlagVersionRetired), "the retirement is seen by the next push")
	assert.InDelta(t, *second.score(t), *resp.Results[0].Receipt.ScorePercent, 1e-9)
	requireRejected(t, resp.Results[1], connect.CodeInvalidArgument)
	assert.Zero(t, f.countVisits(t, bad.visit.ID))
}
