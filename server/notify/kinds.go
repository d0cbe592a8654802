package notify

import (
	"encoding/json"
	"fmt"
	"time"
)

// An event is kept between the change that causes it and the e-mail that
// tells of it (the mail outbox, docs/DESIGN.md §12) as its kind and its
// JSON; it is rendered when sent, in the reader's language of that moment.

// The kinds of the events, the names of their templates.
const (
	KindVisitReturned  = "visit_returned"
	KindReviewsWaiting = "reviews_waiting"
	KindActionAssigned = "action_assigned"
	KindActionOverdue  = "action_overdue"
	KindBonusRunReady  = "bonus_run_ready"
)

// Item is one event as it is kept: its kind and its JSON.
type Item struct {
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data"`
}

// Encode keeps e as an Item. A Digest is not kept: it is made from its
// items when sent (NewDigest).
func Encode(e Event) (Item, error) {
	var kind string
	switch e.(type) {
	case VisitReturned:
		kind = KindVisitReturned
	case ReviewsWaiting:
		kind = KindReviewsWaiting
	case ActionAssigned:
		kind = KindActionAssigned
	case ActionOverdue:
		kind = KindActionOverdue
	case BonusRunReady:
		kind = KindBonusRunReady
	default:
		return Item{}, fmt.Errorf("notify: %T is not an event that is kept", e)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return Item{}, fmt.Errorf("notify: %s: %w", kind, err)
	}
	return Item{Kind: kind, Data: data}, nil
}

// Decode reads an event back from its Item.
func (it Item) Decode() (Event, error) {
	switch it.Kind {
	case KindVisitReturned:
		return decode[VisitReturned](it)
	case KindReviewsWaiting:
		return decode[ReviewsWaiting](it)
	case KindActionAssigned:
		return decode[ActionAssigned](it)
	case KindActionOverdue:
		return decode[ActionOverdue](it)
	case KindBonusRunReady:
		return decode[BonusRunReady](it)
	}
	return nil, fmt.Errorf("notify: unknown event kind %q", it.Kind)
}

func decode[E Event](it Item) (Event, error) {
	var e E
	if err := json.Unmarshal(it.Data, &e); err != nil {
		return nil, fmt.Errorf("notify: %s: %w", it.Kind, err)
	}
	return e, nil
}

// NewDigest gathers events into the digest of day, each under its kind's
// heading, in the order given.
func NewDigest(day time.Time, events []Event) Digest {
	d := Digest{Day: day}
	for _, e := range events {
		switch e := e.(type) {
		case VisitReturned:
			d.VisitsReturned = append(d.VisitsReturned, e)
		case ReviewsWaiting:
			d.ReviewsWaiting = append(d.ReviewsWaiting, e)
		case ActionAssigned:
			d.ActionsAssigned = append(d.ActionsAssigned, e)
		case ActionOverdue:
			d.ActionsOverdue = append(d.ActionsOverdue, e)
		case BonusRunReady:
			d.BonusRuns = append(d.BonusRuns, e)
		}
	}
	return d
}
