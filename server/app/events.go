package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// The types of the events the use cases write to the outbox
// (docs/DESIGN.md §11). A new event is one constant here, its entry in
// EventTypes and one emit call in the use case that makes the change, in
// the change's transaction.
const (
	EventVisitSubmitted   = "visit.submitted"
	EventVisitComplete    = "visit.complete"
	EventVisitReturned    = "visit.returned"
	EventVisitApproved    = "visit.approved"
	EventVisitPublished   = "visit.published"
	EventVisitReopened    = "visit.reopened"
	EventBonusRunComputed = "bonus_run.computed"
	EventBonusRunApproved = "bonus_run.approved"
	EventActionOpened     = "action.opened"
	EventActionDone       = "action.done"
	EventActionVerified   = "action.verified"
	EventActionReopened   = "action.reopened"
	EventActionOverdue    = "action.overdue"
	// EventWebhookTest is the event an admin sends to one endpoint to try
	// it; endpoints do not subscribe to it.
	EventWebhookTest = "webhook.test"
)

// EventTypes are the event types an endpoint may subscribe to, in the
// order the console lists them.
var EventTypes = []string{
	EventVisitSubmitted, EventVisitComplete, EventVisitReturned, EventVisitApproved,
	EventVisitPublished, EventVisitReopened, EventBonusRunComputed, EventBonusRunApproved,
	EventActionOpened, EventActionDone, EventActionVerified, EventActionReopened, EventActionOverdue,
}

// DefaultEventRetention is how long events are kept, with their delivery
// log, when the server's configuration does not say; an event with a
// delivery still pending is kept until it is done.
const DefaultEventRetention = 30 * 24 * time.Hour

// PruneEvents deletes the events created more than retention before now
// whose deliveries are all done, with their deliveries and attempts, in
// short transactions of pruneBatch events, until none is left or ctx is
// done; it returns how many went.
func (a *App) PruneEvents(ctx context.Context, now time.Time, retention time.Duration) (int, error) {
	return pruneInBatches(ctx, func() (int, error) { return a.st.Outbox().Prune(ctx, now.Add(-retention), pruneBatch) })
}

// KnownEventType reports whether endpoints may subscribe to t.
func KnownEventType(t string) bool { return slices.Contains(EventTypes, t) }

// eventBody is an event as receivers read it: the Standard Webhooks
// payload shape (type, timestamp, data) with the event's id.
type eventBody struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// newEventID returns a new event id: the webhook-id of its deliveries.
func newEventID() string { return "evt_" + newID() }

// emit writes an event of type typ about data to the outbox in tx, and
// queues a delivery of it to every endpoint subscribed to typ, so the
// event and its deliveries commit or roll back with the change they
// report.
func emit(ctx context.Context, tx storage.Tx, typ string, data any) error {
	eps, err := tx.WebhookEndpoints().Subscribed(ctx, typ)
	if err != nil {
		return err
	}
	_, err = emitTo(ctx, tx, typ, data, eps)
	return err
}

// emitTo is emit to the endpoints eps only; it returns the ids of the
// deliveries, one per endpoint.
func emitTo(ctx context.Context, tx storage.Tx, typ string, data any, eps []string) ([]string, error) {
	e := &storage.Event{ID: newEventID(), Type: typ}
	body, err := json.Marshal(eventBody{ID: e.ID, Type: typ, Timestamp: tx.Now().UTC().Truncate(time.Millisecond), Data: data})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	e.Body = body
	if err := tx.Outbox().Add(ctx, e); err != nil {
		return nil, err
	}
	ids := make([]string, len(eps))
	for i := range ids {
		ids[i] = newID()
	}
	if len(eps) > 0 {
		if err := tx.WebhookDeliveries().Add(ctx, e.ID, eps, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// The parts of event bodies, with names as well as ids.
type (
	eventStore struct {
		ID   string `json:"id"`
		Code string `json:"code"`
		Name string `json:"name"`
	}
	eventStaff struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		EmployeeNumber string `json:"employee_number"`
	}
	eventChecklist struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
		Name    string `json:"name"`
	}
	eventUser struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
		Role string `json:"role,omitempty"`
	}
	eventVisit struct {
		ID              string     `json:"id"`
		State           string     `json:"state"`
		Channel         string     `json:"channel"`
		ScorePercent    *float64   `json:"score_percent"`
		StartedAt       time.Time  `json:"started_at"`
		ReceivedAt      time.Time  `json:"received_at"`
		MissingPhotos   int        `json:"missing_photos"`
		AssignmentID    string     `json:"assignment_id,omitempty"`
		CorrectsVisitID string     `json:"corrects_visit_id,omitempty"`
		ProofFlags      []string   `json:"proof_flags"`
		Store           eventStore `json:"store"`
		// Staff is the employee the visit is about; absent when none.
		Staff     *eventStaff    `json:"staff,omitempty"`
		Checklist eventChecklist `json:"checklist"`
	}
	visitEventData struct {
		Visit eventVisit `json:"visit"`
		// Actor made the change; absent for the system's own changes.
		Actor  *eventUser `json:"actor,omitempty"`
		Reason string     `json:"reason,omitempty"`
		// Comments are a returned visit's, per question.
		Comments []eventComment `json:"comments,omitempty"`
	}
	eventComment struct {
		QuestionID string `json:"question_id"`
		Text       string `json:"text"`
	}
)

// visitEvent writes an event of type typ about the visit id as it stands
// in tx (its shopper stays anonymous: docs/DESIGN.md §10), with the actor
// of the change (an empty ActorID: the system's or the shopper's).
func visitEvent(ctx context.Context, tx storage.Tx, typ, id string, actor audit.Principal, reason string, comments []audit.ReviewComment) error {
	return visitEvents(ctx, tx, id, actor, reason, comments, typ)
}

// visitEvents is visitEvent for several event types of one change (a
// push's visit that arrives complete is submitted and complete at once):
// the visit is read once, for every body.
func visitEvents(ctx context.Context, tx storage.Tx, id string, actor audit.Principal, reason string, comments []audit.ReviewComment, types ...string) error {
	s, err := tx.Visits().FindSummary(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return err
	}
	return summaryEvents(ctx, tx, s, actor, reason, comments, types...)
}

// summaryEvents is visitEvents for a visit described by s: the push
// builds s from what it has just stored instead of reading it back
// (storedSummary), which is the one place both bodies come from.
func summaryEvents(ctx context.Context, tx storage.Tx, s *storage.VisitSummary, actor audit.Principal, reason string, comments []audit.ReviewComment, types ...string) error {
	var err error
	v := eventVisit{
		ID: s.ID, State: string(s.State), Channel: string(s.Channel), ScorePercent: s.ScorePercent,
		StartedAt: s.StartedAt, ReceivedAt: s.ReceivedAt, MissingPhotos: s.MissingPhotos,
		AssignmentID: s.AssignmentID, CorrectsVisitID: s.CorrectsVisitID, ProofFlags: []string{},
		Store:     eventStore{ID: s.StoreID, Code: s.StoreCode, Name: s.StoreName},
		Checklist: eventChecklist{ID: s.ChecklistID, Version: s.ChecklistVersion, Name: s.ChecklistName},
	}
	for _, f := range s.ProofFlags {
		v.ProofFlags = append(v.ProofFlags, string(f.Code))
	}
	if s.StaffID != "" {
		v.Staff = &eventStaff{ID: s.StaffID, Name: s.StaffName, EmployeeNumber: s.StaffNumber}
	}
	data := visitEventData{Visit: v, Reason: reason}
	if actor.UserID != "" {
		if data.Actor, err = eventActor(ctx, tx, actor.UserID, string(actor.Role)); err != nil {
			return err
		}
	}
	for _, c := range comments {
		data.Comments = append(data.Comments, eventComment{QuestionID: c.QuestionID, Text: c.Text})
	}
	for _, typ := range types {
		if err := emit(ctx, tx, typ, data); err != nil {
			return err
		}
	}
	return nil
}

// eventActor names a user for an event. Users are disabled, never
// deleted, so every actor is stored; one that is not is named by id and
// role only rather than failing the change the event reports.
func eventActor(ctx context.Context, tx storage.Tx, id, role string) (*eventUser, error) {
	u, err := tx.Users().Find(ctx, id)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return &eventUser{ID: id, Role: role}, nil
	} else if err != nil {
		return nil, err
	}
	if role == "" {
		role = string(u.Role)
	}
	return &eventUser{ID: u.ID, Name: u.DisplayName, Role: role}, nil
}

// reviewEvents are the event types of the review actions that have one
// (starting a review has none).
var reviewEvents = map[audit.ReviewAction]string{
	audit.ActionApprove: EventVisitApproved,
	audit.ActionReturn:  EventVisitReturned,
	audit.ActionPublish: EventVisitPublished,
	audit.ActionReopen:  EventVisitReopened,
}

// bonusRunEventData is the body of a bonus run's events.
type bonusRunEventData struct {
	Run struct {
		ID            string     `json:"id"`
		State         string     `json:"state"`
		Period        string     `json:"period"`
		PolicyID      string     `json:"policy_id"`
		PolicyVersion int        `json:"policy_version"`
		PolicyName    string     `json:"policy_name"`
		Employees     int        `json:"employees"`
		TotalMinor    int64      `json:"total_minor"`
		CreatedBy     *eventUser `json:"created_by,omitempty"`
		ApprovedBy    *eventUser `json:"approved_by,omitempty"`
	} `json:"run"`
}

// bonusRunEvent writes an event of type typ about run r.
func bonusRunEvent(ctx context.Context, tx storage.Tx, typ string, r *storage.BonusRun) error {
	var d bonusRunEventData
	d.Run.ID, d.Run.State, d.Run.Period = r.ID, string(r.State), r.Period
	d.Run.PolicyID, d.Run.PolicyVersion = r.PolicyID, r.PolicyVersion
	if r.Run != nil {
		d.Run.PolicyName = r.Run.Policy.Name
		d.Run.Employees = len(r.Run.Employees)
		for _, e := range r.Run.Employees {
			d.Run.TotalMinor += e.TotalMinor
		}
	}
	if r.CreatedBy != "" {
		d.Run.CreatedBy = &eventUser{ID: r.CreatedBy, Name: r.CreatedByName}
	}
	if r.ApprovedBy != "" {
		d.Run.ApprovedBy = &eventUser{ID: r.ApprovedBy, Name: r.ApprovedByName}
	}
	return emit(ctx, tx, typ, d)
}

// actionEventData is the body of a corrective action's events.
type actionEventData struct {
	Action struct {
		ID       string     `json:"id"`
		State    string     `json:"state"`
		Severity string     `json:"severity"`
		DueDate  string     `json:"due_date"`
		Overdue  bool       `json:"overdue"`
		Store    eventStore `json:"store"`
		Question struct {
			ChecklistID string `json:"checklist_id"`
			ID          string `json:"id"`
			Text        string `json:"text"`
			Standard    string `json:"standard,omitempty"`
		} `json:"question"`
		VisitID           string     `json:"visit_id"`
		ResolvedByVisitID string     `json:"resolved_by_visit_id,omitempty"`
		Owner             *eventUser `json:"owner,omitempty"`
		Note              string     `json:"note,omitempty"`
		ProofPhotos       int        `json:"proof_photos"`
	} `json:"action"`
	// Actor made the change; absent for the system's (a visit's
	// approval by its reviewer names him).
	Actor  *eventUser `json:"actor,omitempty"`
	Reason string     `json:"reason,omitempty"`
}

// actionEvent writes an event of type typ about action id as it stands in
// tx, by actor (the zero Principal: the system) with reason.
func actionEvent(ctx context.Context, tx storage.Tx, typ, id string, actor audit.Principal, reason string) error {
	ac, err := findAction(ctx, tx, audit.Scope{All: true}, id)
	if err != nil {
		return err
	}
	var who *eventUser
	if actor.UserID != "" {
		if who, err = eventActor(ctx, tx, actor.UserID, string(actor.Role)); err != nil {
			return err
		}
	}
	return emitAction(ctx, tx, typ, ac, who, reason)
}

// emitAction writes an event of type typ about action ac.
func emitAction(ctx context.Context, tx storage.Tx, typ string, ac *audit.Action, actor *eventUser, reason string) error {
	var d actionEventData
	x := &d.Action
	x.ID, x.State, x.Severity, x.DueDate, x.Overdue = ac.ID, string(ac.State), string(ac.Severity), ac.DueDate, ac.Overdue
	x.Store = eventStore{ID: ac.StoreID, Code: ac.StoreCode, Name: ac.StoreName}
	x.Question.ChecklistID, x.Question.ID, x.Question.Text, x.Question.Standard = ac.ChecklistID, ac.QuestionID, ac.QuestionText, ac.StandardCode
	x.VisitID, x.ResolvedByVisitID, x.Note, x.ProofPhotos = ac.VisitID, ac.ResolvedByVisitID, ac.Note, len(ac.Proof)
	if ac.OwnerID != "" {
		x.Owner = &eventUser{ID: ac.OwnerID, Name: ac.OwnerName}
	}
	d.Actor, d.Reason = actor, reason
	return emit(ctx, tx, typ, d)
}
