package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/fanout"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/webhook"
)

// The sender of the mail outbox (docs/DESIGN.md §12): it claims due
// e-mails under a lease (each sent by one server), renders each for its
// recipient as he is now (language, opt-out, still enabled), sends it and
// records what happened: sent; retried after a transient failure on the
// webhooks' schedule (exponential backoff with full jitter, for at least
// a day) and failed after; failed at once after a permanent one, with
// the error kept.

// DefaultMailLease is how long a claimed e-mail is its worker's: one
// message (notify.DefaultTimeout) and some.
const DefaultMailLease = time.Minute

// MailSender is what sends one rendered message: a *notify.Mailer.
type MailSender interface {
	Send(ctx context.Context, to notify.Address, c notify.Content) error
}

// MailRun configures SendDueMail.
type MailRun struct {
	Sender MailSender
	// ConsoleURL is where the messages' links point; none when empty.
	ConsoleURL string
	// Schedule spaces the retries of a transiently failed e-mail; the
	// zero Schedule is the webhooks' default (24 h at least).
	Schedule webhook.Schedule
	Lease    time.Duration // DefaultMailLease if zero
	Batch    int           // e-mails claimed at once; 16 if zero
	// Concurrency bounds the messages in flight at once; 4 if zero.
	Concurrency int
	Jitter      func() float64 // in [0, 1); math/rand/v2's Float64 if nil
}

// SendDueMail claims one batch of due e-mails, sends each and records
// what happened; it returns how many it claimed and the errors of
// storage, joined (a message whose result could not be recorded, or
// whose sending ctx cut short, is due again when its lease runs out: it
// may then go out twice, never not at all).
func (a *App) SendDueMail(ctx context.Context, r MailRun) (int, error) {
	lease, batch, conc := r.Lease, r.Batch, r.Concurrency
	if lease <= 0 {
		lease = DefaultMailLease
	}
	if batch <= 0 {
		batch = 16
	}
	if conc <= 0 {
		conc = 4
	}
	now := a.now()
	due, err := a.st.Notifications().Claim(ctx, storage.Claim{Now: now, Until: now.Add(lease), Token: newID(), Limit: batch})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	err = fanout.Each(due, conc, func(n *storage.ClaimedNotification) error {
		res, err := a.sendOne(ctx, r, n)
		if err == nil && ctx.Err() == nil {
			err = a.recordMail(ctx, res)
		}
		if ctx.Err() != nil {
			return nil // stopping: due again when the lease runs out
		}
		return err
	})
	return len(due), err
}

// mailReader is a recipient as a message is written for him.
type mailReader struct {
	to     notify.Address
	reader notify.Reader
	wants  bool
}

// recipient reads n's recipient as he is now.
func (a *App) recipient(ctx context.Context, userID, consoleURL string) (mailReader, error) {
	var out mailReader
	err := a.st.View(ctx, func(tx storage.Tx) error {
		settings, loc, err := orgLocation(ctx, tx)
		if err != nil {
			return err
		}
		u, err := tx.Users().Find(ctx, userID)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		p, err := tx.Notifications().Prefs(ctx, userID)
		if err != nil {
			return err
		}
		lang := p.Language
		if lang == "" {
			lang = settings.Locale
		}
		out = mailReader{to: notify.Address{Name: u.DisplayName, Email: u.Email}, wants: wantsMail(u, p),
			reader: notify.Reader{Locale: lang, TimeZone: loc, ConsoleURL: consoleURL}}
		return nil
	})
	return out, err
}

// render writes n for reader: its one item, or its items as the digest
// of its day.
func render(n *storage.ClaimedNotification, reader notify.Reader) (notify.Content, error) {
	var items []notify.Item
	if err := json.Unmarshal(n.Items, &items); err != nil {
		return notify.Content{}, fmt.Errorf("e-mail %s: items: %w", n.ID, err)
	}
	events := make([]notify.Event, 0, len(items))
	for _, it := range items {
		e, err := it.Decode()
		if err != nil {
			return notify.Content{}, fmt.Errorf("e-mail %s: %w", n.ID, err)
		}
		events = append(events, e)
	}
	switch {
	case len(events) == 0:
		return notify.Content{}, fmt.Errorf("e-mail %s has nothing to say", n.ID)
	case !n.Digest && len(events) == 1:
		return events[0].Render(reader)
	}
	return notify.NewDigest(n.NextAt, events).Render(reader)
}

// sendOne sends n and says what follows.
func (a *App) sendOne(ctx context.Context, r MailRun, n *storage.ClaimedNotification) (storage.NotificationResult, error) {
	res := storage.NotificationResult{ID: n.ID, Lease: n.Lease, Attempts: n.Attempts, FirstAt: n.FirstAt}
	who, err := a.recipient(ctx, n.UserID, r.ConsoleURL)
	if err != nil {
		return res, err
	}
	res.At = a.now()
	if !who.wants {
		res.State, res.Error = storage.NotificationDropped, "the recipient opted out, is disabled or has no address"
		return res, nil
	}
	c, err := render(n, who.reader)
	if err != nil {
		res.State, res.Error = storage.NotificationFailed, err.Error()
		return res, nil
	}
	res.Attempts++
	if res.FirstAt.IsZero() {
		res.FirstAt = res.At
	}
	err = r.Sender.Send(ctx, who.to, c)
	switch {
	case err == nil:
		res.State, res.At = storage.NotificationSent, a.now()
		return res, nil
	case ctx.Err() != nil:
		return res, ctx.Err() // stopping: due again when the lease runs out
	}
	res.Error = err.Error()
	if !notify.IsTransient(err) {
		res.State = storage.NotificationFailed
		return res, nil
	}
	jitter := rand.Float64
	if r.Jitter != nil {
		jitter = r.Jitter
	}
	next, ok := r.Schedule.Next(res.Attempts, res.FirstAt, res.At, jitter())
	if !ok {
		res.State = storage.NotificationFailed
		return res, nil
	}
	res.State, res.NextAt = storage.NotificationPending, next
	return res, nil
}

// errMailLeaseLost is recordMail's error for a result that came after the
// e-mail's lease ran out (another worker has it now).
var errMailLeaseLost = errors.New("the lease ran out before the result was recorded; the e-mail is due again")

func (a *App) recordMail(ctx context.Context, res storage.NotificationResult) error {
	stored, err := a.st.Notifications().Record(ctx, res)
	if err != nil {
		return err
	}
	if !stored {
		return fmt.Errorf("e-mail %s: %w", res.ID, errMailLeaseLost)
	}
	return nil
}
