package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// FailedPriceCheck records a store visit at MSK-01 by the archive shopper
// (SeedReports makes him) that fails the critical price-tag question
// "tags_match_till" (with a note and a photo, as its rule demands) and
// passes every other, and has the demo manager approve it: the approval
// opens a corrective action for him. When fail is false the visit passes
// every question. It returns the visit's id.
func FailedPriceCheck(ctx context.Context, srv *server.Server, at time.Time, fail bool) (string, error) {
	db, uc := srv.Storage(), srv.App()
	shopper, _, err := db.Users().FindByEmail(ctx, ArchiveShopper)
	if err != nil {
		return "", fmt.Errorf("demo visit: shopper: %w", err)
	}
	manager, _, err := db.Users().FindByEmail(ctx, Users[audit.RoleManager])
	if err != nil {
		return "", fmt.Errorf("demo visit: manager: %w", err)
	}
	store, err := db.Stores().FindByCode(ctx, audit.Scope{All: true}, "MSK-01")
	if err != nil {
		return "", err
	}
	versions, err := db.Checklists().List(ctx, audit.VersionFilter{PublishedOnly: true, ChecklistID: "store-visit"})
	if err != nil {
		return "", err
	}
	var cv *audit.ChecklistVersion
	for _, v := range versions {
		if v.State == audit.VersionPublished && (cv == nil || v.Version > cv.Version) {
			cv = v
		}
	}
	if cv == nil {
		return "", fmt.Errorf("demo visit: no published store-visit checklist")
	}
	a := &audit.Assignment{StoreID: store.ID, ChecklistID: cv.ChecklistID, ShopperID: shopper.ID, CreatedBy: manager.ID,
		WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(8 * time.Hour)}
	if err := uc.CreateAssignment(ctx, audit.Scope{All: true}, a); err != nil {
		return "", err
	}
	v := &audit.Visit{ID: uuid.NewString(), AssignmentID: a.ID, StoreID: store.ID, ShopperID: shopper.ID, ChecklistID: cv.ChecklistID,
		ChecklistVersion: cv.Version, ContentHash: cv.ContentHash, Channel: cv.Content.Channel, StartedAt: at, FinishedAt: at.Add(30 * time.Minute)}
	addPhoto := func(i, n int) error {
		ph, err := photo(ctx, srv, 1000+n+int(at.Unix()/60%997)*7, at)
		if err != nil {
			return err
		}
		ph.QuestionID, ph.Index = v.Answers[i].QuestionID, len(v.Answers[i].PhotoHashes)
		v.Answers[i].PhotoHashes = append(v.Answers[i].PhotoHashes, ph.SHA256)
		v.Photos = append(v.Photos, ph)
		return nil
	}
	for _, sec := range cv.Content.Sections {
		for _, q := range sec.Questions {
			v.Answers = append(v.Answers, passingAnswer(q, fail && q.ID == "tags_match_till"))
			if q.Type == audit.QuestionPhoto {
				for range max(q.PhotoCount, 1) {
					if err := addPhoto(len(v.Answers)-1, len(v.Photos)); err != nil {
						return "", err
					}
				}
			}
		}
	}
	for range 3 {
		s, err := audit.Score(cv, v.Answers)
		if err != nil {
			return "", err
		}
		if s.Complete() {
			break
		}
		for _, e := range s.Errors {
			i := slices.IndexFunc(v.Answers, func(a audit.Answer) bool { return a.QuestionID == e.QuestionID })
			switch {
			case i >= 0 && e.Kind == audit.AnswerNoteRequired:
				v.Answers[i].Note = "The till charged 1 290 ₽ for a shelf tag of 1 190 ₽."
			case i >= 0 && e.Kind == audit.AnswerPhotosRequired:
				if err := addPhoto(i, len(v.Photos)); err != nil {
					return "", err
				}
			default:
				return "", fmt.Errorf("demo visit: %v", e)
			}
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	hash := sha256.Sum256(secret)
	sess, err := uc.CreateSession(ctx, shopper.ID, "demo-"+v.ID, "demo data", hash[:], srv.Now().Add(time.Hour), "")
	if err != nil {
		return "", err
	}
	res, err := uc.Push(ctx, app.Device{UserID: shopper.ID, SessionID: sess.ID}, time.Time{},
		[]app.Mutation{{Seq: 1, ID: uuid.NewString(), DeviceTime: at.Add(time.Hour), Digest: protocol.VisitDigest(v), Visit: v}})
	if err != nil {
		return "", err
	}
	if r := res.Results[0]; r.Status != storage.MutationApplied {
		return "", fmt.Errorf("demo visit: %s %v", r.Status, r.Err)
	}
	reviewer := audit.Principal{UserID: manager.ID, Role: audit.RoleManager}
	for _, step := range []audit.ReviewAction{audit.ActionStartReview, audit.ActionApprove} {
		if _, err := uc.ReviewVisit(ctx, reviewer, v.ID, step, "", nil); err != nil {
			return "", fmt.Errorf("demo visit: review: %w", err)
		}
	}
	return v.ID, nil
}

// passingAnswer answers q with full points, or fails it.
func passingAnswer(q audit.Question, fail bool) audit.Answer {
	a := audit.Answer{QuestionID: q.ID}
	switch q.Type {
	case audit.QuestionYesNo:
		b := !q.PassOnNo != fail
		a.Bool = &b
	case audit.QuestionScale:
		n := float64(q.ScaleMax)
		a.Number = &n
	case audit.QuestionNumeric, audit.QuestionTimer:
		x := 1.0
		if q.Target != nil {
			x = q.Target.Value
		}
		if q.Type == audit.QuestionNumeric {
			a.Number = &x
		} else {
			per, _ := audit.TimerUnitMS(q.Unit)
			ms := int64(x * per)
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
			if o.Points > 0 {
				a.Choices = append(a.Choices, o.Value)
			}
		}
	case audit.QuestionText:
		a.Text = "observed"
	}
	return a
}
