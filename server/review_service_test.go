package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
)

// completeVisit pushes a store visit on a new assignment at MSK-01 and
// uploads all its photos, so it is ready for review.
func (f *field) completeVisit(tb testing.TB, fail ...string) *recorded {
	tb.Helper()
	rec, _ := f.pushedVisit(tb, fail...)
	var r *v1.VisitReceipt
	for _, p := range rec.visit.Photos {
		r = f.mustUpload(tb, rec, p)
	}
	require.Equal(tb, v1.VisitState_VISIT_STATE_COMPLETE, r.State)
	return rec
}

func proofCodes(s *v1.VisitSummary) []string {
	var out []string
	for _, f := range s.ProofFlags {
		out = append(out, f.Code)
	}
	return out
}

func TestReviewService(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			f := newField(t, ts, c)
			manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
			hr := mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken

			// Manager B manages only a store of his own.
			email := "reviewer-" + uuid.NewString()[:8] + "@example.com"
			mb, err := call(t, c.Admin.CreateUser, f.admin, &v1.CreateUserRequest{Email: email, Role: v1.Role_ROLE_MANAGER, Password: demoPassword})
			require.NoError(t, err)
			_, err = call(t, c.Org.CreateStore, f.admin, &v1.CreateStoreRequest{Store: &v1.Store{Code: "B-" + uuid.NewString()[:6], Name: "B", ManagerIds: []string{mb.User.Id}}})
			require.NoError(t, err)
			managerB, err := c.Auth.Login(t.Context(), connect.NewRequest(&v1.LoginRequest{Email: email, Password: demoPassword, DeviceId: "b"}))
			require.NoError(t, err)
			otherManager := managerB.Msg.Tokens.AccessToken

			rec := f.completeVisit(t)
			id := rec.visit.ID

			t.Run("Authorization", func(t *testing.T) {
				_, err := call(t, c.Review.GetVisit, otherManager, &v1.GetVisitRequest{VisitId: id})
				requireCode(t, connect.CodeNotFound, err)
				_, err = call(t, c.Review.StartReview, otherManager, &v1.StartReviewRequest{VisitId: id})
				requireCode(t, connect.CodeNotFound, err)
				list, err := call(t, c.Review.ListVisits, otherManager, &v1.ListVisitsRequest{})
				require.NoError(t, err)
				assert.Empty(t, list.Visits, "manager B sees no visit of manager A's stores")

				_, err = call(t, c.Review.ListVisits, f.token, &v1.ListVisitsRequest{})
				requireCode(t, connect.CodePermissionDenied, err)
				_, err = call(t, c.Review.ApproveVisit, f.token, &v1.ApproveVisitRequest{VisitId: id})
				requireCode(t, connect.CodePermissionDenied, err, "a shopper cannot approve")
				_, err = call(t, c.Review.StartReview, hr, &v1.StartReviewRequest{VisitId: id})
				requireCode(t, connect.CodePermissionDenied, err, "HR reads, does not review")
				hrList, err := call(t, c.Review.ListVisits, hr, &v1.ListVisitsRequest{})
				require.NoError(t, err)
				assert.NotEmpty(t, hrList.Visits)
			})

			t.Run("Get", func(t *testing.T) {
				got, err := call(t, c.Review.GetVisit, manager, &v1.GetVisitRequest{VisitId: id})
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, got.Summary.State)
				assert.Equal(t, rec.score(t), got.Score.Overall.Percent, "the breakdown is the authoritative score")
				assert.Len(t, got.Score.Questions, len(rec.visit.Answers))
				assert.Len(t, got.Visit.Answers, len(rec.visit.Answers))
				require.NotEmpty(t, got.Photos)
				for _, ph := range got.Photos {
					require.True(t, ph.Verified)
					resp, err := http.Get(ph.DownloadUrl)
					require.NoError(t, err)
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					require.Equal(t, http.StatusOK, resp.StatusCode)
					sum := sha256.Sum256(body)
					assert.Equal(t, ph.Sha256, hex.EncodeToString(sum[:]), "the download link serves the verified bytes")
				}
				require.NotEmpty(t, got.History)
				assert.Equal(t, "shopper", got.History[0].ActorRole)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, got.History[len(got.History)-1].ToState)
			})

			var correction *recorded
			t.Run("ReturnCorrectApprove", func(t *testing.T) {
				_, err := call(t, c.Review.ApproveVisit, manager, &v1.ApproveVisitRequest{VisitId: id})
				requireCode(t, connect.CodeFailedPrecondition, err, "review starts before approval")
				_, err = call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: id})
				require.NoError(t, err)
				_, err = call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: id})
				requireCode(t, connect.CodeFailedPrecondition, err)

				_, err = call(t, c.Review.ReturnVisit, manager, &v1.ReturnVisitRequest{VisitId: id})
				requireCode(t, connect.CodeInvalidArgument, err)
				_, err = call(t, c.Review.ReturnVisit, manager, &v1.ReturnVisitRequest{VisitId: id,
					Comments: []*v1.ReviewComment{{QuestionId: "no_such_question", Text: "x"}}})
				requireCode(t, connect.CodeInvalidArgument, err)
				comments := []*v1.ReviewComment{{QuestionId: "floor_photo", Text: "The photo shows the warehouse, not the sales floor."}}
				ret, err := call(t, c.Review.ReturnVisit, manager, &v1.ReturnVisitRequest{VisitId: id, Comments: comments})
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_RETURNED, ret.Visit.State)

				// The comments reach the shopper's phone on its next pull.
				receipt := f.receiptOf(t, id)
				assert.Equal(t, v1.VisitState_VISIT_STATE_RETURNED, receipt.State)
				require.Len(t, receipt.Comments, 1)
				assert.Equal(t, "floor_photo", receipt.Comments[0].QuestionId)

				// The shopper corrects offline: a new visit naming the old one.
				correction = &recorded{cv: rec.cv, photos: map[string][]byte{}}
				v := *rec.visit
				v.ID, v.CorrectsVisitID, v.Notes = uuid.NewString(), id, "corrected: new floor photo"
				v.Answers = slices.Clone(rec.visit.Answers)
				v.Photos = nil
				correction.visit = &v
				for i := range v.Answers {
					if len(v.Answers[i].PhotoHashes) > 0 {
						v.Answers[i].PhotoHashes = nil
						data, sha := testPhoto(4000)
						correction.addPhoto(i, data, sha)
					}
				}
				r := f.submitNext(t, correction)
				assert.Contains(t, r.Flags, "correction")
				for _, ph := range correction.visit.Photos {
					r = f.mustUpload(t, correction, ph)
				}
				require.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State)

				old, err := call(t, c.Review.GetVisit, manager, &v1.GetVisitRequest{VisitId: id})
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_SUPERSEDED, old.Summary.State)
				assert.Equal(t, correction.visit.ID, old.Summary.CorrectedByVisitId)
				_, err = call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: id})
				requireCode(t, connect.CodeFailedPrecondition, err, "a superseded visit is not reviewed")

				nid := correction.visit.ID
				_, err = call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: nid})
				require.NoError(t, err)
				ok, err := call(t, c.Review.ApproveVisit, manager, &v1.ApproveVisitRequest{VisitId: nid, Note: "looks right"})
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_APPROVED, ok.Visit.State)
				_, err = call(t, c.Review.ApproveVisit, manager, &v1.ApproveVisitRequest{VisitId: nid})
				requireCode(t, connect.CodeFailedPrecondition, err)
				pub, err := call(t, c.Review.PublishVisit, manager, &v1.PublishVisitRequest{VisitId: nid})
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_PUBLISHED, pub.Visit.State)

				// An approved or published visit cannot be replaced from a phone.
				again := *correction.visit
				again.ID, again.CorrectsVisitID = uuid.NewString(), nid
				f.seq++
				resp := f.mustPush(t, submit(f.seq, &again))
				requireRejected(t, resp.Results[0], connect.CodeFailedPrecondition)
			})

			t.Run("Reopen", func(t *testing.T) {
				nid := correction.visit.ID
				_, err := call(t, c.Review.ReopenVisit, manager, &v1.ReopenVisitRequest{VisitId: nid, Reason: "x"})
				requireCode(t, connect.CodePermissionDenied, err, "only admins reopen")
				_, err = call(t, c.Review.ReopenVisit, f.admin, &v1.ReopenVisitRequest{VisitId: nid})
				requireCode(t, connect.CodeInvalidArgument, err, "a reopen needs a reason")
				re, err := call(t, c.Review.ReopenVisit, f.admin, &v1.ReopenVisitRequest{VisitId: nid, Reason: "store disputes the queue time"})
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_IN_REVIEW, re.Visit.State)

				got, err := call(t, c.Review.GetVisit, f.admin, &v1.GetVisitRequest{VisitId: nid})
				require.NoError(t, err)
				var steps []string
				for _, h := range got.History {
					steps = append(steps, h.ToState.String()+" by "+h.ActorRole)
				}
				assert.Equal(t, []string{
					"VISIT_STATE_SUBMITTED by shopper", "VISIT_STATE_COMPLETE by system", "VISIT_STATE_IN_REVIEW by manager",
					"VISIT_STATE_APPROVED by manager", "VISIT_STATE_PUBLISHED by manager", "VISIT_STATE_IN_REVIEW by admin",
				}, steps)
				assert.Equal(t, "store disputes the queue time", got.History[len(got.History)-1].Reason)
			})

			t.Run("ListFilters", func(t *testing.T) {
				list, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{State: v1.VisitState_VISIT_STATE_SUPERSEDED})
				require.NoError(t, err)
				ids := map[string]bool{}
				for _, v := range list.Visits {
					ids[v.Id] = true
					assert.Equal(t, v1.VisitState_VISIT_STATE_SUPERSEDED, v.State)
				}
				assert.True(t, ids[id])
				future, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{FromTime: timestamppb.New(time.Now().Add(time.Hour))})
				require.NoError(t, err)
				assert.Empty(t, future.Visits)
				_, err = call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{PageToken: "nonsense!"})
				requireCode(t, connect.CodeInvalidArgument, err)
			})
		})
	}
}

// TestReviewService_ProofFlags shows the proof-of-visit flags a reviewer
// sees, computed by the server from the pushed visit and the photo bytes.
func TestReviewService_ProofFlags(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	manager := mustLogin(t, c, audit.RoleManager, "desk").Tokens.AccessToken
	flagsOf := func(id string) []string {
		got, err := call(t, c.Review.GetVisit, manager, &v1.GetVisitRequest{VisitId: id})
		require.NoError(t, err)
		return proofCodes(got.Summary)
	}

	t.Run("clean visit", func(t *testing.T) {
		rec, _ := f.pushedVisit(t)
		assert.Empty(t, flagsOf(rec.visit.ID))
	})
	t.Run("check-in far from the store", func(t *testing.T) {
		a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
		rec := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
		rec.visit.CheckIn = &audit.GeoPoint{Latitude: 47.0245, Longitude: 28.8323, AccuracyMeters: 15, Time: rec.visit.StartedAt} // Chisinau
		f.submitNext(t, rec)
		assert.Contains(t, flagsOf(rec.visit.ID), string(audit.FlagCheckInOutsideGeofence))

		flagged, err := call(t, c.Review.ListVisits, manager, &v1.ListVisitsRequest{FlaggedOnly: true})
		require.NoError(t, err)
		assert.True(t, slices.ContainsFunc(flagged.Visits, func(v *v1.VisitSummary) bool { return v.Id == rec.visit.ID }))
	})
	t.Run("implausible timer", func(t *testing.T) {
		a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
		rec := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
		i := slices.IndexFunc(rec.visit.Answers, func(a audit.Answer) bool { return a.QuestionID == "greet_time" })
		ms := int64(100)
		rec.visit.Answers[i].DurationMS = &ms
		f.submitNext(t, rec)
		assert.Contains(t, flagsOf(rec.visit.ID), string(audit.FlagTimerImplausible))
	})
	t.Run("photo reused and EXIF from the bytes", func(t *testing.T) {
		// A photo taken three days before the visit, 1.6 km away.
		old := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
		photo := server.JPEGWithExif(t, old, 55.7520, 37.6175, "", "")
		sum := sha256.Sum256(photo)
		sha := hex.EncodeToString(sum[:])

		first, _ := f.pushedVisit(t)
		i := slices.IndexFunc(first.visit.Answers, func(a audit.Answer) bool { return a.QuestionID == "floor_photo" })
		a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
		rec := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
		rec.visit.Answers[i].PhotoHashes = nil
		rec.visit.Photos = slices.DeleteFunc(rec.visit.Photos, func(p audit.Photo) bool { return p.QuestionID == "floor_photo" })
		rec.addPhoto(i, photo, sha)
		f.submitNext(t, rec)
		assert.Empty(t, flagsOf(rec.visit.ID), "nothing is known of the bytes before they arrive")
		for _, p := range rec.visit.Photos {
			f.mustUpload(t, rec, p)
		}
		assert.ElementsMatch(t, []string{string(audit.FlagExifOutsideGeofence), string(audit.FlagExifTimeFar)}, flagsOf(rec.visit.ID))

		// The same bytes in another visit are flagged as reused, in both.
		b := f.assign(t, "MSK-01", "store-visit", f.shopperID)
		again := record(t, f.pulledUpsert(t, b.Id).Checklist, b.Id, b.StoreId)
		again.visit.Answers[i].PhotoHashes = nil
		again.visit.Photos = slices.DeleteFunc(again.visit.Photos, func(p audit.Photo) bool { return p.QuestionID == "floor_photo" })
		again.addPhoto(i, photo, sha)
		f.submitNext(t, again)
		assert.Contains(t, flagsOf(again.visit.ID), string(audit.FlagPhotoReused))
		assert.Contains(t, flagsOf(again.visit.ID), string(audit.FlagExifTimeFar), "verified bytes are known at once")
	})
}
