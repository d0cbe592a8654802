package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/storage"
)

// E-mail notifications (issue 16 §4, docs/DESIGN.md §12). The use cases
// that make a change someone is told of by e-mail queue one message per
// recipient in the change's transaction (mailTo, through the builders
// below), so that a committed change always has its e-mail and a
// rolled-back one never does; the sender (mail_sender.go) renders and
// sends them later, in the recipient's language of that moment.
//
// Who is told of what, in this one file:
//   - a visit returned for correction: its shopper (mailVisitReturned);
//   - an action opened for an owner or reassigned: the owner
//     (mailActionAssigned);
//   - an action overdue: its owner and the store's managers
//     (mailActionOverdue);
//   - a bonus run computed: every enabled HR user (mailBonusRunReady);
//   - visits waiting for review longer than the organisation's
//     ReviewWaitDays: the managers of their stores, once a day
//     (RemindWaitingReviews).
//
// Nobody is queued anything when the server has no SMTP configuration
// (Options.Mail), and a disabled user, one without an address or one who
// opted out gets nothing (wantsMail, checked when queued and again when
// sent).

// DigestHour is the hour of the day, in the organisation's time zone, at
// which the daily digests go out.
const DigestHour = 8

// ReviewReminderHour is the hour of the day, in the organisation's time
// zone, from which the day's review reminders are queued: an hour before
// the digests, so that a manager with the digest gets his in the day's.
const ReviewReminderHour = DigestHour - 1

// reviewReminderKey names the review reminder among the daily marks.
const reviewReminderKey = "reviews_waiting"

// Languages a user may choose for his e-mail; "" is the organisation's.
var mailLanguages = []string{"", "ru", "en"}

// NotificationPrefs returns the user's own e-mail preferences.
func (a *App) NotificationPrefs(ctx context.Context, userID string) (storage.NotificationPrefs, error) {
	return a.st.Notifications().Prefs(ctx, userID)
}

// SetNotificationPrefs stores the user's own e-mail preferences and
// returns them as stored. Errors: EINVALID (an unknown language).
func (a *App) SetNotificationPrefs(ctx context.Context, userID string, p storage.NotificationPrefs) (storage.NotificationPrefs, error) {
	p.Language = strings.ToLower(strings.TrimSpace(p.Language))
	if !slices.Contains(mailLanguages, p.Language) {
		return p, audit.Errorf(audit.EINVALID, "language: %q; want ru, en or empty for the organisation's", p.Language)
	}
	var out storage.NotificationPrefs
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Users().Find(ctx, userID); err != nil {
			return err
		}
		if err := tx.Notifications().SetPrefs(ctx, userID, p); err != nil {
			return err
		}
		var err error
		out, err = tx.Notifications().Prefs(ctx, userID)
		return err
	})
	return out, err
}

// MailEnabled reports whether the server sends e-mail (Options.Mail).
func (a *App) MailEnabled() bool { return a.mail }

// wantsMail is the one rule of who gets e-mail: an enabled user with an
// address who has not opted out.
func wantsMail(u *audit.User, p storage.NotificationPrefs) bool {
	return !u.Disabled && u.Email != "" && !p.EmailOff
}

// DigestGrace is how long after DigestHour a digest is sent. A message
// queued from DigestHour on joins the next day's digest, so a digest
// stops gathering at the hour and is claimed DigestGrace later: a server
// whose clock is behind the claiming server's by less than DigestGrace
// never adds an item to a digest already being sent (which would mark it
// sent without it).
const DigestGrace = time.Minute

// nextDigest is when the digest that a message queued at now joins goes
// out: DigestGrace after the next DigestHour in loc, today's when the
// hour is still to come.
func nextDigest(now time.Time, loc *time.Location) time.Time {
	l := now.In(loc)
	at := time.Date(l.Year(), l.Month(), l.Day(), DigestHour, 0, 0, 0, loc)
	if !at.After(now) {
		at = time.Date(l.Year(), l.Month(), l.Day()+1, DigestHour, 0, 0, 0, loc)
	}
	return at.Add(DigestGrace)
}

// mailTo queues e as one e-mail to each of userIDs (duplicates and empty
// ids left out) who wants mail, in tx: at once, or in his next digest.
func (a *App) mailTo(ctx context.Context, tx storage.Tx, e notify.Event, userIDs ...string) error {
	if !a.mail {
		return nil
	}
	item, err := notify.Encode(e)
	if err != nil {
		return err
	}
	items, err := json.Marshal([]notify.Item{item})
	if err != nil {
		return err
	}
	var loc *time.Location
	seen := map[string]bool{"": true}
	for _, id := range userIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		u, err := tx.Users().Find(ctx, id)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		p, err := tx.Notifications().Prefs(ctx, id)
		if err != nil {
			return err
		}
		if !wantsMail(u, p) {
			continue
		}
		n := &storage.Notification{ID: newID(), UserID: id, Items: items, NextAt: tx.Now()}
		if p.Digest {
			if loc == nil {
				if _, loc, err = orgLocation(ctx, tx); err != nil {
					return err
				}
			}
			n.Digest, n.NextAt = true, nextDigest(tx.Now(), loc)
		}
		if err := tx.Notifications().Add(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// findUserName names the user id for a message (userName), "" for none
// or a user that is not stored.
func findUserName(ctx context.Context, tx storage.Tx, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	u, err := tx.Users().Find(ctx, id)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return userName(u), nil
}

// mailVisitReturned tells the shopper of visit id that reviewer returned
// it, with the reason and the comments per question.
func (a *App) mailVisitReturned(ctx context.Context, tx storage.Tx, id string, reviewer audit.Principal, reason string, comments []audit.ReviewComment) error {
	if !a.mail {
		return nil
	}
	d, err := tx.Visits().FindDetail(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return err
	}
	e := notify.VisitReturned{VisitID: d.ID, Store: notify.Store{Code: d.StoreCode, Name: d.StoreName}, Checklist: d.ChecklistName,
		VisitedAt: d.StartedAt, Score: d.ScorePercent}
	if d.StaffID != "" {
		e.Staff = []notify.Staff{{Name: d.StaffName, EmployeeNumber: d.StaffNumber}}
	}
	if e.ReviewerName, err = findUserName(ctx, tx, reviewer.UserID); err != nil {
		return err
	}
	lines := []string{}
	if r := strings.TrimSpace(reason); r != "" {
		lines = append(lines, r)
	}
	for _, c := range comments {
		q := c.QuestionID
		if d.Checklist != nil {
			if qq, _, ok := d.Checklist.Content.Question(c.QuestionID); ok {
				q = qq.Text
			}
		}
		lines = append(lines, "«"+q+"»: "+c.Text)
	}
	e.Reason = strings.Join(lines, "\n")
	return a.mailTo(ctx, tx, e, d.ShopperID)
}

// notifyAction is an action as its messages show it.
func notifyAction(ctx context.Context, tx storage.Tx, ac *audit.Action, loc *time.Location) (notify.Action, error) {
	out := notify.Action{ActionID: ac.ID, Store: notify.Store{Code: ac.StoreCode, Name: ac.StoreName}, Question: ac.QuestionText,
		Clause: ac.StandardCode, Critical: ac.Severity == audit.SeverityCritical, VisitID: ac.VisitID, VisitedAt: ac.VisitedAt}
	if due, err := time.ParseInLocation(time.DateOnly, ac.DueDate, loc); err == nil {
		out.Due = due
	}
	s, err := tx.Visits().FindSummary(ctx, audit.Scope{All: true}, ac.VisitID)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return out, nil
	} else if err != nil {
		return out, err
	}
	if s.StaffID != "" {
		out.Staff = []notify.Staff{{Name: s.StaffName, EmployeeNumber: s.StaffNumber}}
	}
	return out, nil
}

// mailActionAssigned tells the owner of action id that it is his, opened
// by a failed question (by empty) or given to him by by.
func (a *App) mailActionAssigned(ctx context.Context, tx storage.Tx, id, by string) error {
	if !a.mail {
		return nil
	}
	ac, err := tx.Actions().Find(ctx, audit.Scope{All: true}, id)
	if err != nil || ac.OwnerID == "" {
		return err
	}
	_, loc, err := orgLocation(ctx, tx)
	if err != nil {
		return err
	}
	e := notify.ActionAssigned{OwnerName: ac.OwnerName}
	if e.Action, err = notifyAction(ctx, tx, ac, loc); err != nil {
		return err
	}
	if e.AssignedBy, err = findUserName(ctx, tx, by); err != nil {
		return err
	}
	return a.mailTo(ctx, tx, e, ac.OwnerID)
}

// mailActionOverdue tells the owner of ac and the managers of its store
// that it is overdue.
func (a *App) mailActionOverdue(ctx context.Context, tx storage.Tx, ac *audit.Action) error {
	if !a.mail {
		return nil
	}
	_, loc, err := orgLocation(ctx, tx)
	if err != nil {
		return err
	}
	e := notify.ActionOverdue{OwnerName: ac.OwnerName}
	if e.Action, err = notifyAction(ctx, tx, ac, loc); err != nil {
		return err
	}
	if !e.Action.Due.IsZero() {
		today, _ := time.ParseInLocation(time.DateOnly, audit.Today(tx.Now(), loc), loc)
		e.DaysOverdue = max(1, int(today.Sub(e.Action.Due).Hours()/24+0.5))
	}
	store, err := tx.Stores().Find(ctx, audit.Scope{All: true}, ac.StoreID)
	if err != nil {
		return err
	}
	return a.mailTo(ctx, tx, e, append([]string{ac.OwnerID}, store.ManagerIDs...)...)
}

// mailBonusRunReady tells every enabled HR user that run r waits for
// approval.
func (a *App) mailBonusRunReady(ctx context.Context, tx storage.Tx, r *storage.BonusRun) error {
	if !a.mail {
		return nil
	}
	settings, err := tx.OrgSettings().Find(ctx)
	if err != nil {
		return err
	}
	e := notify.BonusRunReady{RunID: r.ID, Currency: settings.Currency, ComputedBy: r.CreatedByName, ComputedAt: r.CreatedAt}
	if p, err := time.Parse("2006-01", r.Period); err == nil {
		e.Year, e.Month = p.Year(), p.Month()
	}
	if r.Run != nil {
		e.Policy, e.Employees = r.Run.Policy.Name, len(r.Run.Employees)
		for _, x := range r.Run.Employees {
			e.TotalMinor += x.TotalMinor
		}
	}
	hr, err := tx.Users().List(ctx, storage.UserFilter{Role: audit.RoleHR, ActiveOnly: true})
	if err != nil {
		return err
	}
	ids := make([]string, len(hr))
	for i, u := range hr {
		ids[i] = u.ID
	}
	return a.mailTo(ctx, tx, e, ids...)
}

// maxWaitingVisits bounds the visits one review reminder lists.
const maxWaitingVisits = 200

// RemindWaitingReviews queues, once a day from ReviewReminderHour in the
// organisation's time zone, a ReviewsWaiting e-mail to each manager of a
// store with visits waiting for review (complete, not taken into review)
// longer than the organisation's ReviewWaitDays, listing those of his
// stores. One server queues each manager's reminder once a day
// (storage.Notifications.Mark). The visits are read in a snapshot of their
// own, so that the write transaction touches no visit (on PostgreSQL it
// then never conflicts with a review). It returns how many managers it
// reminded.
func (a *App) RemindWaitingReviews(ctx context.Context) (int, error) {
	if !a.mail {
		return 0, nil
	}
	var (
		limit     int
		day       string
		managers  []string
		byManager map[string][]notify.WaitingVisit
	)
	err := a.st.View(ctx, func(tx storage.Tx) error {
		managers, byManager = nil, map[string][]notify.WaitingVisit{}
		settings, loc, err := orgLocation(ctx, tx)
		if err != nil {
			return err
		}
		now := tx.Now()
		if now.In(loc).Hour() < ReviewReminderHour {
			return nil
		}
		limit, day = settings.ReviewWait(), audit.Today(now, loc)
		waiting, err := tx.Visits().List(ctx, storage.VisitFilter{Scope: audit.Scope{All: true}, State: audit.VisitComplete,
			To: now.Add(-time.Duration(limit) * 24 * time.Hour), Limit: maxWaitingVisits})
		if err != nil {
			return err
		}
		stores := map[string][]string{}
		for _, v := range slices.Backward(waiting) { // oldest first
			ids, ok := stores[v.StoreID]
			if !ok {
				st, err := tx.Stores().Find(ctx, audit.Scope{All: true}, v.StoreID)
				if err != nil {
					return err
				}
				ids, stores[v.StoreID] = st.ManagerIDs, st.ManagerIDs
			}
			w := notify.WaitingVisit{VisitID: v.ID, Store: notify.Store{Code: v.StoreCode, Name: v.StoreName}, Checklist: v.ChecklistName,
				ShopperName: v.ShopperName, VisitedAt: v.StartedAt, Score: v.ScorePercent, DaysWaiting: int(now.Sub(v.ReceivedAt).Hours() / 24)}
			for _, m := range ids {
				if _, ok := byManager[m]; !ok {
					managers = append(managers, m)
				}
				byManager[m] = append(byManager[m], w)
			}
		}
		return nil
	})
	if err != nil || len(managers) == 0 {
		return 0, err
	}
	n := 0
	err = a.st.Update(ctx, func(tx storage.Tx) error {
		n = 0
		for _, m := range managers {
			first, err := tx.Notifications().Mark(ctx, m, reviewReminderKey, day)
			if err != nil {
				return err
			}
			if !first {
				continue
			}
			if err := a.mailTo(ctx, tx, notify.ReviewsWaiting{LimitDays: limit, Visits: byManager[m]}, m); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// DefaultMailRetention is how long sent, failed and dropped e-mails are
// kept when the server's configuration does not say.
const DefaultMailRetention = 30 * 24 * time.Hour

// PruneMail deletes the e-mails finished more than retention before now,
// and the daily marks as old, in short transactions of pruneBatch, until
// none is left or ctx is done; it returns how many went.
func (a *App) PruneMail(ctx context.Context, now time.Time, retention time.Duration) (int, error) {
	return pruneInBatches(ctx, func() (int, error) { return a.st.Notifications().Prune(ctx, now.Add(-retention), pruneBatch) })
}
