package app

import (
	"context"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// ReviewVisit applies a review action of actor to a visit in his scope,
// in one transaction: audit.ReviewTransition decides whether the action is
// allowed and which state follows, a return needs comments on the
// visit's own checklist, a reopen a reason; the change is stored with who,
// when and why, and the shopper's receipt moves in his feed (a returned
// visit carries its comments to his phone), and the outbox gets the
// action's event (reviewEvents). It returns the visit as
// changed. Errors: ENOTFOUND, EFORBIDDEN, EPRECONDITION, EINVALID (a
// return without comments, or with a comment on a question the checklist
// lacks; a reopen without a reason).
func (a *App) ReviewVisit(ctx context.Context, actor audit.Principal, id string, action audit.ReviewAction,
	reason string, comments []audit.ReviewComment) (*storage.VisitSummary, error) {
	var out *storage.VisitSummary
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		scope := audit.ScopeOf(actor)
		s, err := tx.Visits().FindSummary(ctx, scope, id)
		if err != nil {
			return err
		}
		to, err := audit.ReviewTransition(s.State, action, actor.Role)
		if err != nil {
			return err
		}
		switch action {
		case audit.ActionReturn:
			d, err := tx.Visits().FindDetail(ctx, scope, id)
			if err != nil {
				return err
			}
			if err := audit.CheckReturn(&d.Checklist.Content, comments); err != nil {
				return err
			}
		case audit.ActionReopen:
			if reason == "" {
				return audit.Errorf(audit.EINVALID, "reopening an approved visit needs a reason (it may already count for pay)")
			}
		}
		if err := tx.Visits().SetState(ctx, id, storage.Transition{From: s.State, To: to, ActorID: actor.UserID,
			ActorRole: string(actor.Role), Reason: reason, Comments: comments}); err != nil {
			return err
		}
		if err := tx.Feed().Touch(ctx, s.ShopperID, storage.FeedKindVisit, id); err != nil {
			return err
		}
		if typ, ok := reviewEvents[action]; ok {
			if err := visitEvent(ctx, tx, typ, id, actor, reason, comments); err != nil {
				return err
			}
		}
		if action == audit.ActionApprove {
			// The approval opens, verifies and reopens the store's
			// corrective actions in its own transaction, their events
			// after the approval's in the outbox (cause, then effect).
			if err := a.actionsOnApproval(ctx, tx, id, actor); err != nil {
				return err
			}
		}
		if action == audit.ActionReturn {
			if err := a.mailVisitReturned(ctx, tx, id, actor, reason, comments); err != nil {
				return err
			}
		}
		out, err = tx.Visits().FindSummary(ctx, audit.Scope{All: true}, id)
		return err
	})
	return out, err
}
