package app

import (
	"context"
	"slices"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Corrective actions (issue 16 §1). A visit's approval opens, verifies and
// reopens them in its own transaction (actionsOnApproval); the owner and
// the store's managers move them (MoveAction, ReassignAction); the
// periodic tick reports the overdue ones once (ReportOverdueActions).
// Every change writes its event to the outbox in the same transaction.

// actionsOnApproval applies the approved visit id to the actions of its
// store: each answered question that failed opens an action when the
// question is critical or marked OpensAction and the store has no live
// action on it; a live action on a question that was done is verified
// when the question passed and reopened when it failed. A visit never
// resolves the action it opened, nor one opened by a later visit.
func (a *App) actionsOnApproval(ctx context.Context, tx storage.Tx, id string, actor audit.Principal) error {
	d, err := tx.Visits().FindDetail(ctx, audit.Scope{All: true}, id)
	if err != nil {
		return err
	}
	if d.Score == nil || d.Checklist == nil {
		return nil
	}
	settings, loc, err := orgLocation(ctx, tx)
	if err != nil {
		return err
	}
	var store *audit.Store
	for _, qs := range d.Score.Questions {
		if !qs.Answered || qs.NA {
			continue
		}
		q, _, ok := d.Checklist.Content.Question(qs.QuestionID)
		if !ok {
			continue
		}
		live, err := tx.Actions().Live(ctx, d.StoreID, d.ChecklistID, q.ID)
		if err != nil {
			return err
		}
		if live != nil {
			if live.VisitID == id || d.StartedAt.Before(live.VisitedAt) || live.State != audit.ActionDone {
				continue
			}
			step, typ, note := audit.StepVerify, EventActionVerified, "the question passed on the visit of "+d.StartedAt.In(loc).Format("2006-01-02")
			if qs.Failed {
				step, typ, note = audit.StepReopen, EventActionReopened, "the question failed again on the visit of "+d.StartedAt.In(loc).Format("2006-01-02")
			}
			if err := moveAction(ctx, tx, live, step, audit.Principal{}, note, id); err != nil {
				return err
			}
			if err := actionEvent(ctx, tx, typ, live.ID, actor, note); err != nil {
				return err
			}
			continue
		}
		sev, opens := audit.ActionSeverity(q)
		if !qs.Failed || !opens {
			continue
		}
		if store == nil {
			if store, err = tx.Stores().Find(ctx, audit.Scope{All: true}, d.StoreID); err != nil {
				return err
			}
		}
		ac := &audit.Action{ID: newID(), Severity: sev, StoreID: d.StoreID, ChecklistID: d.ChecklistID, QuestionID: q.ID,
			QuestionText: q.Text, StandardCode: q.StandardCode, VisitID: id, VisitedAt: d.StartedAt,
			DueDate: audit.ActionDueDate(*settings, sev, tx.Now(), loc)}
		ac.OwnerID = defaultOwner(store, actor)
		if err := tx.Actions().Add(ctx, ac); err != nil {
			return err
		}
		if err := actionEvent(ctx, tx, EventActionOpened, ac.ID, actor, ""); err != nil {
			return err
		}
		if err := a.mailActionAssigned(ctx, tx, ac.ID, ""); err != nil {
			return err
		}
	}
	return nil
}

// defaultOwner is who owns an action a visit's approval opens: the
// approving manager when he manages the store (he has just seen the
// failure), else the store's first manager, else nobody (an admin
// assigns it).
func defaultOwner(store *audit.Store, approver audit.Principal) string {
	if approver.Role == audit.RoleManager && slices.Contains(store.ManagerIDs, approver.UserID) {
		return approver.UserID
	}
	if len(store.ManagerIDs) > 0 {
		return store.ManagerIDs[0]
	}
	return ""
}

// moveAction takes step on action a for p (the zero Principal: the
// system, for visit visitID), recording note.
func moveAction(ctx context.Context, tx storage.Tx, a *audit.Action, step audit.ActionStep, p audit.Principal, note, visitID string) error {
	to, err := audit.ActionTransition(a.State, step)
	if err != nil {
		return err
	}
	m := storage.ActionMove{From: a.State, To: to, ActorID: p.UserID, ActorRole: string(p.Role), Note: note, VisitID: visitID,
		SetNote: step == audit.StepDone}
	if p.UserID == "" {
		m.ActorRole = "system"
	}
	return tx.Actions().Move(ctx, a.ID, m)
}

// actionStepEvents are the event types of the steps that have one
// (starting has none).
var actionStepEvents = map[audit.ActionStep]string{
	audit.StepDone: EventActionDone, audit.StepVerify: EventActionVerified, audit.StepReopen: EventActionReopened,
}

// MoveAction takes step on an action in p's scope, in one transaction:
// the owner or a manager of the store starts it, records it done (note
// required, proof photos optional: declared by hash, size and type and
// uploaded afterwards through the verified evidence path), verifies or
// reopens it (a reason required); an admin may do all of it. It returns
// the action as changed. Errors: ENOTFOUND (no such action in scope),
// EFORBIDDEN, EPRECONDITION (the state does not allow the step), EINVALID.
func (a *App) MoveAction(ctx context.Context, p audit.Principal, id string, step audit.ActionStep, note string, proof []audit.ActionProof) (*audit.Action, error) {
	note = strings.TrimSpace(note)
	switch {
	case p.Role != audit.RoleManager && p.Role != audit.RoleAdmin:
		return nil, audit.Errorf(audit.EFORBIDDEN, "a corrective action is moved by a manager of its store or an admin, not by a user with the %s role", p.Role)
	case len(note) > audit.MaxActionNote:
		return nil, audit.Errorf(audit.EINVALID, "note: longer than %d bytes", audit.MaxActionNote)
	case step == audit.StepDone && note == "":
		return nil, audit.Errorf(audit.EINVALID, "note: say what was done to fix it")
	case step == audit.StepReopen && note == "":
		return nil, audit.Errorf(audit.EINVALID, "note: say why the fix is not good enough")
	case step != audit.StepDone && len(proof) > 0:
		return nil, audit.Errorf(audit.EINVALID, "proof photos go with the done step only")
	}
	for i := range proof {
		proof[i].Index, proof[i].SHA256 = i, strings.ToLower(proof[i].SHA256)
	}
	if err := audit.CheckActionProof(proof); err != nil {
		return nil, err
	}
	var out *audit.Action
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		ac, err := tx.Actions().Find(ctx, audit.ScopeOf(p), id)
		if err != nil {
			return err
		}
		if err := moveAction(ctx, tx, ac, step, p, note, ""); err != nil {
			return err
		}
		if step == audit.StepDone {
			if err := tx.Actions().SetProof(ctx, id, proof); err != nil {
				return err
			}
		}
		if typ, ok := actionStepEvents[step]; ok {
			if err := actionEvent(ctx, tx, typ, id, p, note); err != nil {
				return err
			}
		}
		out, err = findAction(ctx, tx, audit.Scope{All: true}, id)
		return err
	})
	return out, err
}

// ReassignAction gives an unverified action in p's scope to another
// owner (one ActionOwners lists), recording note (optional) in its
// history. Errors: ENOTFOUND, EFORBIDDEN, EPRECONDITION (verified),
// EINVALID (naming the user: not one who may own it, or the owner
// already).
func (a *App) ReassignAction(ctx context.Context, p audit.Principal, id, ownerID, note string) (*audit.Action, error) {
	note = strings.TrimSpace(note)
	switch {
	case p.Role != audit.RoleManager && p.Role != audit.RoleAdmin:
		return nil, audit.Errorf(audit.EFORBIDDEN, "a corrective action is reassigned by a manager of its store or an admin, not by a user with the %s role", p.Role)
	case ownerID == "":
		return nil, audit.Errorf(audit.EINVALID, "owner_id is required")
	case len(note) > audit.MaxActionNote:
		return nil, audit.Errorf(audit.EINVALID, "note: longer than %d bytes", audit.MaxActionNote)
	}
	var out *audit.Action
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		ac, err := tx.Actions().Find(ctx, audit.ScopeOf(p), id)
		if err != nil {
			return err
		}
		if ac.State == audit.ActionVerified {
			return audit.Errorf(audit.EPRECONDITION, "the action is verified: there is nothing left for an owner to do")
		}
		u, err := tx.Users().Find(ctx, ownerID)
		if audit.ErrorCode(err) == audit.ENOTFOUND {
			return audit.Errorf(audit.EINVALID, "owner_id: no user %s", ownerID)
		} else if err != nil {
			return err
		}
		store, err := tx.Stores().Find(ctx, audit.Scope{All: true}, ac.StoreID)
		if err != nil {
			return err
		}
		name := userName(u)
		switch {
		case u.Disabled:
			return audit.Errorf(audit.EINVALID, "owner_id: %s is disabled", name)
		case !mayOwnAction(u, store):
			return audit.Errorf(audit.EINVALID, "owner_id: %s does not manage store %s %s; an action is owned by a manager of its store or an admin",
				name, store.Code, store.Name)
		case u.ID == ac.OwnerID:
			return audit.Errorf(audit.EINVALID, "owner_id: %s owns the action already", name)
		}
		if err := tx.Actions().Move(ctx, id, storage.ActionMove{From: ac.State, To: ac.State, ActorID: p.UserID, ActorRole: string(p.Role),
			OwnerID: &u.ID, Note: note}); err != nil {
			return err
		}
		if u.ID != ac.OwnerID {
			if err := a.mailActionAssigned(ctx, tx, id, p.UserID); err != nil {
				return err
			}
		}
		out, err = findAction(ctx, tx, audit.Scope{All: true}, id)
		return err
	})
	return out, err
}

// mayOwnAction reports whether u may own an action of store: an admin,
// or a manager of the store (disabled users aside).
func mayOwnAction(u *audit.User, store *audit.Store) bool {
	return u.Role == audit.RoleAdmin || u.Role == audit.RoleManager && slices.Contains(store.ManagerIDs, u.ID)
}

// userName is how a user is named to people: his display name, else his
// e-mail.
func userName(u *audit.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Email
}

// ActionOwner is a user who may own an action, for ReassignAction's
// choice.
type ActionOwner struct {
	User    *audit.User
	Name    string
	Current bool // he owns it now
}

// ActionOwners lists the users who may own the action id in p's scope:
// the active managers of its store and the active admins, by name.
// Errors: ENOTFOUND.
func (a *App) ActionOwners(ctx context.Context, p audit.Principal, id string) ([]ActionOwner, error) {
	var out []ActionOwner
	err := a.st.View(ctx, func(tx storage.Tx) error {
		ac, err := tx.Actions().Find(ctx, audit.ScopeOf(p), id)
		if err != nil {
			return err
		}
		store, err := tx.Stores().Find(ctx, audit.Scope{All: true}, ac.StoreID)
		if err != nil {
			return err
		}
		for _, role := range []audit.Role{audit.RoleManager, audit.RoleAdmin} {
			us, err := tx.Users().List(ctx, storage.UserFilter{Role: role, ActiveOnly: true})
			if err != nil {
				return err
			}
			for _, u := range us {
				if mayOwnAction(u, store) {
					out = append(out, ActionOwner{User: u, Name: userName(u), Current: u.ID == ac.OwnerID})
				}
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(x, y ActionOwner) int { return strings.Compare(x.Name, y.Name) })
	return out, err
}

// findAction reads an action in scope with Overdue computed against the
// organisation's today.
func findAction(ctx context.Context, tx storage.Tx, scope audit.Scope, id string) (*audit.Action, error) {
	ac, err := tx.Actions().Find(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	_, loc, err := orgLocation(ctx, tx)
	if err != nil {
		return nil, err
	}
	ac.Overdue = audit.ActionOverdue(ac.State, ac.DueDate, audit.Today(tx.Now(), loc))
	return ac, nil
}

// GetAction returns an action in p's scope with its proof and history.
// Errors: ENOTFOUND.
func (a *App) GetAction(ctx context.Context, p audit.Principal, id string) (*audit.Action, error) {
	var out *audit.Action
	err := a.st.View(ctx, func(tx storage.Tx) (err error) {
		out, err = findAction(ctx, tx, audit.ScopeOf(p), id)
		return err
	})
	return out, err
}

// ActionList selects actions for ListActions: a store's, the caller's
// own, or the overdue ones (any combination; empty: all in scope).
type ActionList struct {
	StoreID, VisitID string
	Mine, Overdue    bool
	States           []audit.ActionState
	Limit            int
}

// ListActions lists the actions in p's scope matching l, with Overdue
// computed against the organisation's today.
func (a *App) ListActions(ctx context.Context, p audit.Principal, l ActionList) ([]*audit.Action, error) {
	var out []*audit.Action
	err := a.st.View(ctx, func(tx storage.Tx) error {
		_, loc, err := orgLocation(ctx, tx)
		if err != nil {
			return err
		}
		today := audit.Today(tx.Now(), loc)
		f := storage.ActionFilter{Scope: audit.ScopeOf(p), StoreID: l.StoreID, VisitID: l.VisitID, States: l.States, Limit: l.Limit}
		if l.Mine {
			f.OwnerID = p.UserID
		}
		if l.Overdue {
			f.DueBefore = today
			f.States = []audit.ActionState{audit.ActionOpen, audit.ActionInProgress, audit.ActionReopened}
		}
		if out, err = tx.Actions().List(ctx, f); err != nil {
			return err
		}
		for _, ac := range out {
			ac.Overdue = audit.ActionOverdue(ac.State, ac.DueDate, today)
		}
		return nil
	})
	return out, err
}

// OverdueActionCounts counts the overdue actions in p's scope per store
// id, for the dashboards.
func (a *App) OverdueActionCounts(ctx context.Context, p audit.Principal) (map[string]int, error) {
	var out map[string]int
	err := a.st.View(ctx, func(tx storage.Tx) error {
		_, loc, err := orgLocation(ctx, tx)
		if err != nil {
			return err
		}
		out, err = tx.Actions().CountOverdue(ctx, audit.ScopeOf(p), audit.Today(tx.Now(), loc))
		return err
	})
	return out, err
}

// ActionProof returns one proof photo of an action in p's scope, for its
// upload. Errors: ENOTFOUND.
func (a *App) ActionProof(ctx context.Context, p audit.Principal, id string, index int) (*audit.ActionProof, error) {
	return a.st.Actions().FindProof(ctx, audit.ScopeOf(p), id, index)
}

// overdueBatch is how many overdue actions one transaction reports.
const overdueBatch = 100

// ReportOverdueActions writes the overdue event of every unresolved
// action past its due day (the organisation's today) that has none yet,
// in transactions of overdueBatch: each action's event is written once,
// by one server (storage.Actions.ClaimOverdue). It returns how many it
// reported.
func (a *App) ReportOverdueActions(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n := 0
		err := a.st.Update(ctx, func(tx storage.Tx) error {
			_, loc, err := orgLocation(ctx, tx)
			if err != nil {
				return err
			}
			as, err := tx.Actions().ClaimOverdue(ctx, audit.Today(tx.Now(), loc), overdueBatch)
			if err != nil {
				return err
			}
			for _, ac := range as {
				ac.Overdue = true
				if err := emitAction(ctx, tx, EventActionOverdue, ac, nil, ""); err != nil {
					return err
				}
				if err := a.mailActionOverdue(ctx, tx, ac); err != nil {
					return err
				}
			}
			n = len(as)
			return nil
		})
		total += n
		if err != nil || n < overdueBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}
