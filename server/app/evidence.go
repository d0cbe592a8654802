package app

import (
	"context"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// Evidence completeness: a visit is complete once the server has verified
// the bytes of every photo it references (docs/DESIGN.md §3 rule 11).
// Bytes are addressed by their SHA-256, so verifying them once counts for
// every slot, in any visit, that names them.

// LinkVerifiedPhoto marks every unverified photo slot of the bytes with
// hex SHA-256 sha verified when those bytes are verified already (the same
// photo in two slots or visits is uploaded once), in one write
// transaction, completing the visits that miss nothing more and writing
// their receipts to the feed. It reports whether the bytes were verified.
func (a *App) LinkVerifiedPhoto(ctx context.Context, sha string) (bool, error) {
	sha = strings.ToLower(sha)
	// Verified bytes are never forgotten: when the read finds none, there
	// is nothing to mark, and the writer is left alone.
	ok, err := a.st.Photos().Verified(ctx, sha)
	if err != nil || !ok {
		return false, err
	}
	return true, a.st.Update(ctx, func(tx storage.Tx) error { return markVerified(ctx, tx, sha) })
}

// RecordVerifiedPhoto records that the server verified bytes b in the blob
// store, and marks every photo slot of those bytes verified, in one write
// transaction: the visits that miss nothing more become complete, and
// their receipts are written to the feed. Recording the same bytes again
// changes nothing.
func (a *App) RecordVerifiedPhoto(ctx context.Context, b storage.VerifiedBlob) error {
	b.SHA256 = strings.ToLower(b.SHA256)
	return a.st.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Photos().RecordVerified(ctx, b); err != nil {
			return err
		}
		return markVerified(ctx, tx, b.SHA256)
	})
}

// markVerified sets the unverified slots of sha verified (visits' photos
// and appeals' evidence), completes the
// visits among theirs that miss no photo any more, recomputes their
// proof-of-visit flags (the server knows the photos' EXIF now), and moves
// each touched visit's receipt in its shopper's feed; a visit completed
// gets its event.
func markVerified(ctx context.Context, tx storage.Tx, sha string) error {
	// The same bytes may be an appeal's evidence too (a photo, a PDF):
	// they count as verified there from now on.
	if _, err := tx.Appeals().MarkEvidenceVerified(ctx, sha); err != nil {
		return err
	}
	// And a corrective action's proof of its fix.
	if _, err := tx.Actions().MarkProofVerified(ctx, sha); err != nil {
		return err
	}
	ids, err := tx.Photos().MarkVerified(ctx, sha)
	if err != nil {
		return err
	}
	for _, id := range ids {
		sv, err := tx.Visits().Find(ctx, id)
		if err != nil {
			return err
		}
		missing, err := tx.Photos().Missing(ctx, id)
		if err != nil {
			return err
		}
		to, moved := audit.EvidenceTransition(sv.State, missing)
		if moved {
			if err := tx.Visits().SetState(ctx, id, storage.Transition{From: sv.State, To: to, ActorRole: "system",
				Reason: "every photo verified"}); err != nil {
				return err
			}
		}
		if err := refreshProof(ctx, tx, sv); err != nil {
			return err
		}
		if moved && to == audit.VisitComplete {
			if err := visitEvent(ctx, tx, EventVisitComplete, id, audit.Principal{}, "", nil); err != nil {
				return err
			}
		}
		if err := tx.Feed().Touch(ctx, sv.Visit.ShopperID, storage.FeedKindVisit, id); err != nil {
			return err
		}
	}
	return nil
}

// refreshProof recomputes a stored visit's proof-of-visit flags from what
// the server knows now: its store, assignment window, checklist, the
// device's clock offset, photos reused by other visits, and the EXIF the
// server read from verified photo bytes. The visit's own flags stay as
// its admission found them.
func refreshProof(ctx context.Context, tx storage.Tx, sv *storage.StoredVisit) error {
	v := sv.Visit
	f := audit.VisitFacts{Visit: v, ClockOffset: sv.ClockOffset}
	var err error
	if f.Store, err = tx.Stores().Find(ctx, audit.Scope{All: true}, v.StoreID); err != nil {
		return err
	}
	if v.AssignmentID != "" {
		if f.Assignment, err = tx.Assignments().Find(ctx, audit.Scope{All: true}, v.AssignmentID); err != nil {
			return err
		}
	}
	if f.Version, err = tx.Checklists().Find(ctx, v.ChecklistID, v.ChecklistVersion); err != nil {
		return err
	}
	if err := photoFacts(ctx, tx, &f); err != nil {
		return err
	}
	_, proof := audit.FlagVisit(f, audit.ProofRules{})
	return tx.Visits().SetProof(ctx, v.ID, proof)
}
