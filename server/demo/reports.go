package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"time"

	"github.com/google/uuid"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// ArchiveShopper is the e-mail of the demo shopper who recorded the
// demo's past visits; nobody can log in as him.
const ArchiveShopper = "past-visits@demo.shopscore.test"

// PolicyID is the id of the demo bonus policy: the delivery drivers of
// the source documents' example.
const PolicyID = "drivers"

// DriverPolicy returns the source documents' driver example as a bonus
// policy: 55% of the target variable pay for the number of trips (not
// audited), 15% for on-time delivery, 10% for politeness, 10% for a clean
// truck and 10% for the hand-over of goods; a component's period score of
// at least 90% pays it in full, at least 75% pays half, less pays nothing.
func DriverPolicy() reports.Policy {
	rule := reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 90, Payout: 1}, {MinPercent: 75, Payout: 0.5}}}
	comp := func(name string, share float64, clause string) reports.Component {
		return reports.Component{Name: name, Share: share, Clauses: []string{clause}, Rule: rule, DefaultPayout: 1}
	}
	return reports.Policy{
		ID: PolicyID, Version: 1, Name: "Delivery drivers: 55% trips, 45% audited quality",
		Positions: []string{"driver"}, Base: reports.BaseTargetVariable, UnlinkedShare: 0.55,
		Components: []reports.Component{
			comp("on-time delivery", 0.15, "DLV-1"),
			comp("politeness", 0.10, "POL-1"),
			comp("clean truck", 0.10, "CLN-2"),
			comp("hand-over", 0.10, "DLV-2"),
		},
	}
}

// demoDelivery is one audited delivery of the demo: the driver (employee
// number), the day of the month, and what the shopper saw.
type demoDelivery struct {
	driver   string
	day      int
	late     float64 // minutes late
	polite   bool
	clean    bool
	handover string // checked, unchecked or problem
}

// demoDeliveries are a month of audited deliveries per driver: Sergei
// Morozov is on time in 9 of 10 (90%), polite in 8 (80%), clean in 6
// (60%) and hands over well every time; Dmitri Lebedev does better on
// politeness and the truck and worse on time.
func demoDeliveries() []demoDelivery {
	var out []demoDelivery
	for i := range 10 {
		out = append(out,
			demoDelivery{driver: "E2001", day: 2 + 2*i, late: map[bool]float64{true: 7}[i == 6], polite: i%5 != 1, clean: i < 6, handover: "checked"},
			demoDelivery{driver: "E2002", day: 3 + 2*i, late: map[bool]float64{true: 12}[i%5 == 3], polite: true, clean: i != 4,
				handover: map[bool]string{true: "unchecked", false: "checked"}[i == 8]},
		)
	}
	return out
}

// ReportMonths are the two months of the demo's audited deliveries,
// the same whatever day the demo is seeded, so that the README's report
// commands give the figures it prints on any day.
var ReportMonths = [2]string{"2026-09", "2026-10"}

// SeedReports adds what the reports need to a freshly seeded demo
// organisation: the driver bonus policy, the drivers' target variable pay,
// and two months of audited deliveries (ReportMonths), pushed
// by a second demo shopper (ArchiveShopper) through the sync path and approved by the demo
// manager, but for the first two, left for him to review; the first
// month's bonus run, approved by the demo HR user. Last month's
// figures are the driver example: Sergei Morozov earns 85,000.00 of his
// 100,000.00. It returns an error when the demo
// organisation is not there.
func SeedReports(ctx context.Context, srv *server.Server) error {
	db := srv.Storage()
	// The server's own use cases: the ones a console's or a phone's calls run.
	uc := srv.App()
	// The audited deliveries are another shopper's, so that the demo
	// shopper's phone starts with an empty history.
	secret := make([]byte, 32)
	rand.Read(secret)
	unusable, err := auth.HashPassword(rand.Text())
	if err != nil {
		return err
	}
	shopper := &audit.User{Email: ArchiveShopper, DisplayName: "Vera Ionescu (mystery shopper, past visits)", Role: audit.RoleShopper}
	if err := srv.App().CreateUser(ctx, shopper, unusable); err != nil {
		return fmt.Errorf("demo reports: shopper: %w", err)
	}
	manager, _, err := db.Users().FindByEmail(ctx, Users[audit.RoleManager])
	if err != nil {
		return fmt.Errorf("demo reports: manager: %w", err)
	}
	stores, err := db.Stores().List(ctx, audit.StoreFilter{Scope: audit.Scope{All: true}})
	if err != nil {
		return err
	}
	var depot string
	for _, st := range stores {
		if st.Code == "DEPOT-1" {
			depot = st.ID
		}
	}
	staff, err := db.Staff().List(ctx, audit.StaffFilter{Scope: audit.Scope{All: true}})
	if err != nil {
		return err
	}
	drivers := map[string]string{}
	for _, st := range staff {
		if st.Position == "driver" {
			drivers[st.EmployeeNumber] = st.ID
		}
	}
	versions, err := db.Checklists().List(ctx, audit.VersionFilter{PublishedOnly: true})
	if err != nil {
		return err
	}
	var cv *audit.ChecklistVersion
	for _, v := range versions {
		if v.ChecklistID == "delivery" && v.State == audit.VersionPublished && (cv == nil || v.Version > cv.Version) {
			cv = v
		}
	}
	if depot == "" || len(drivers) < 2 || cv == nil {
		return fmt.Errorf("demo reports: the demo depot, its drivers or the delivery checklist is missing")
	}

	if _, _, err := uc.CreatePolicy(ctx, DriverPolicy(), manager.ID); err != nil {
		return fmt.Errorf("demo reports: policy: %w", err)
	}
	var months []time.Time
	for _, m := range ReportMonths {
		from, err := audit.ParseMonth("demo month", m, nil)
		if err != nil {
			return err
		}
		months = append(months, from)
	}
	if err := uc.SetBasePay(ctx, []storage.BasePayRow{
		{EmployeeNumber: "E2001", Kind: storage.PayKindTargetVariable, EffectiveMonth: months[0].Format("2006-01"), AmountMinor: 100_000_00},
		{EmployeeNumber: "E2002", Kind: storage.PayKindTargetVariable, EffectiveMonth: months[0].Format("2006-01"), AmountMinor: 90_000_00},
	}, "demo", manager.ID); err != nil {
		return fmt.Errorf("demo reports: base pay: %w", err)
	}

	hash := sha256.Sum256(secret)
	sess, err := srv.App().CreateSession(ctx, shopper.ID, "demo-seed", "demo data", hash[:], srv.Now().Add(time.Hour), "")
	if err != nil {
		return err
	}
	var muts []app.Mutation
	for mi, month := range months {
		for i, d := range demoDeliveries() {
			at := month.AddDate(0, 0, d.day-1).Add(time.Duration(9+i%8) * time.Hour)
			a := &audit.Assignment{StoreID: depot, ChecklistID: cv.ChecklistID, ShopperID: shopper.ID, CreatedBy: manager.ID,
				WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(8 * time.Hour)}
			if err := uc.CreateAssignment(ctx, audit.Scope{All: true}, a); err != nil {
				return fmt.Errorf("demo reports: assignment: %w", err)
			}
			late, polite, clean := d.late, d.polite, d.clean
			if mi == 0 { // the month before: a little worse on time
				late, clean = d.late+float64(i%4/3*5), d.clean || i%3 == 0
			}
			var photos []audit.Photo
			var hashes []string
			if !clean {
				ph, err := photo(ctx, srv, len(muts), at)
				if err != nil {
					return err
				}
				photos, hashes = []audit.Photo{ph}, []string{ph.SHA256}
			}
			v := &audit.Visit{
				Photos: photos,
				ID:     uuid.NewString(), AssignmentID: a.ID, StoreID: depot, ShopperID: shopper.ID,
				ChecklistID: cv.ChecklistID, ChecklistVersion: cv.Version, ContentHash: cv.ContentHash, Channel: cv.Content.Channel,
				StartedAt: at, FinishedAt: at.Add(25 * time.Minute), StaffID: drivers[d.driver],
				Answers: []audit.Answer{
					{QuestionID: "minutes_late", Number: &late},
					{QuestionID: "driver_polite", Bool: &polite},
					{QuestionID: "truck_clean", Bool: &clean, PhotoHashes: hashes},
					{QuestionID: "handover", Choices: []string{d.handover}},
				},
			}
			muts = append(muts, app.Mutation{Seq: int64(len(muts) + 1), ID: uuid.NewString(), DeviceTime: at.Add(time.Hour),
				Digest: protocol.VisitDigest(v), Visit: v})
		}
	}
	res, err := uc.Push(ctx, app.Device{UserID: shopper.ID, SessionID: sess.ID}, time.Time{}, muts)
	if err != nil {
		return fmt.Errorf("demo reports: push: %w", err)
	}
	reviewer := audit.Principal{UserID: manager.ID, Role: audit.RoleManager}
	for i, r := range res.Results {
		if r.Status != storage.MutationApplied {
			return fmt.Errorf("demo reports: visit %d: %s %v", i+1, r.Status, r.Err)
		}
		if i < 2 {
			continue // the first two are left for the manager to review
		}
		for _, action := range []audit.ReviewAction{audit.ActionStartReview, audit.ActionApprove} {
			if _, err := uc.ReviewVisit(ctx, reviewer, r.Receipt.VisitID, action, "", nil); err != nil {
				return fmt.Errorf("demo reports: review: %w", err)
			}
		}
	}
	if _, err := srv.App().RevokeSession(ctx, sess.ID, string(audit.EventLogout), "demo data seeded", ""); err != nil {
		return err
	}
	if _, err = db.AuditReports().Index(ctx); err != nil {
		return err
	}
	// The first month's pay is approved by HR, so that the demo's staff
	// account (Sergei Morozov) sees his bonus explained; the last month is
	// left for HR to run in the console.
	hr, _, err := db.Users().FindByEmail(ctx, Users[audit.RoleHR])
	if err != nil {
		return fmt.Errorf("demo reports: HR: %w", err)
	}
	run, err := uc.RunBonus(ctx, PolicyID, 0, ReportMonths[0], hr.ID)
	if err != nil {
		return fmt.Errorf("demo reports: bonus run %s: %w", ReportMonths[0], err)
	}
	if _, err := uc.ApproveBonusRun(ctx, run.ID, hr.ID, ""); err != nil {
		return fmt.Errorf("demo reports: approve the bonus run of %s: %w", ReportMonths[0], err)
	}
	return nil
}

// photo makes a small PNG, a different one for each n, and stores it as
// verified evidence of srv, so that the visit that references it arrives
// complete.
func photo(ctx context.Context, srv *server.Server, n int, at time.Time) (audit.Photo, error) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for i := range img.Pix {
		img.Pix[i] = byte(90 + (i*7+n*31)%60)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return audit.Photo{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	ph := audit.Photo{QuestionID: "truck_clean", SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len()), ContentType: "image/png", CapturedAt: at.Add(10 * time.Minute)}
	if err := srv.PutPhoto(ctx, ph, buf.Bytes()); err != nil {
		return ph, fmt.Errorf("demo photo: %w", err)
	}
	return ph, nil
}
