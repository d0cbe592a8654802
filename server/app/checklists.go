package app

import (
	"context"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// SaveDraft stores c as its checklist's draft, for the user by: version 1
// of a new checklist, the next version after the latest published or
// retired one, or in place of the existing draft. Content identical to
// the latest version, when that is published, returns that version
// unchanged. Errors: EINVALID.
func (a *App) SaveDraft(ctx context.Context, c *audit.Checklist, by string) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		var err error
		out, err = saveDraft(ctx, tx, c, by)
		return err
	})
	return out, err
}

func saveDraft(ctx context.Context, tx storage.Tx, c *audit.Checklist, by string) (*audit.ChecklistVersion, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	hash, err := c.ContentHash()
	if err != nil {
		return nil, err
	}
	version := 1
	latest, err := tx.Checklists().Latest(ctx, c.ID)
	switch {
	case audit.ErrorCode(err) == audit.ENOTFOUND:
		err = tx.Checklists().AddDraft(ctx, c, version, by)
	case err != nil:
		return nil, err
	case latest.State == audit.VersionPublished && latest.ContentHash == hash:
		// Importing the same content again changes nothing.
		return latest, nil
	case latest.State == audit.VersionDraft:
		version = latest.Version
		err = tx.Checklists().ReplaceDraft(ctx, c, version, by)
	default:
		version = latest.Version + 1
		err = tx.Checklists().AddDraft(ctx, c, version, by)
	}
	if err != nil {
		return nil, err
	}
	return tx.Checklists().Find(ctx, c.ID, version)
}

// PublishVersion publishes a draft, computing its content hash; from then
// on the version never changes. When the version takes unplanned visits
// it moves the checklist in every shopper's sync feed in the same
// transaction. Errors: ENOTFOUND, EPRECONDITION (not a draft), EINVALID.
func (a *App) PublishVersion(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		var err error
		out, err = publishVersion(ctx, tx, checklistID, version)
		return err
	})
	return out, err
}

func publishVersion(ctx context.Context, tx storage.Tx, checklistID string, version int) (*audit.ChecklistVersion, error) {
	v, err := tx.Checklists().Find(ctx, checklistID, version)
	if err != nil {
		return nil, err
	}
	p, err := audit.Publish(v, tx.Now())
	if err != nil {
		return nil, err
	}
	if err := tx.Checklists().Publish(ctx, checklistID, version, p.ContentHash); err != nil {
		return nil, err
	}
	// Every shopper's device learns of a new version it may use for
	// unplanned visits.
	if p.Content.AllowUnplanned {
		if err := tx.Checklists().Touch(ctx, checklistID); err != nil {
			return nil, err
		}
	}
	return tx.Checklists().Find(ctx, checklistID, version)
}

// RetireVersion retires a published version on behalf of a caller with
// scope (the rule is audit.Retire's), and moves the checklist in the sync
// feed so that devices see what is current. Errors: ENOTFOUND,
// EPRECONDITION (not published), EFORBIDDEN (pending assignments at stores
// outside scope).
func (a *App) RetireVersion(ctx context.Context, scope audit.Scope, checklistID string, version int) (*audit.ChecklistVersion, error) {
	var out *audit.ChecklistVersion
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		v, err := tx.Checklists().Find(ctx, checklistID, version)
		if err != nil {
			return err
		}
		var foreign []string
		if !scope.All {
			if foreign, err = tx.Checklists().PendingStoresOutside(ctx, scope, checklistID, version); err != nil {
				return err
			}
		}
		if _, err := audit.Retire(v, scope, foreign); err != nil {
			return err
		}
		if err := tx.Checklists().Retire(ctx, checklistID, version); err != nil {
			return err
		}
		if v.Content.AllowUnplanned {
			if err := tx.Checklists().Touch(ctx, checklistID); err != nil {
				return err
			}
		}
		out, err = tx.Checklists().Find(ctx, checklistID, version)
		return err
	})
	return out, err
}

// ImportPack parses a standards pack and saves each of its checklists as a
// draft for the user by, publishing them when publish is set, all in one
// transaction: a pack with any problem changes nothing, and a dry run
// (dryRun) returns the versions it would make and stores nothing. Errors:
// EINVALID (every problem as file:line:col: path: message), EPRECONDITION.
func (a *App) ImportPack(ctx context.Context, name string, data []byte, publish, dryRun bool, by string) ([]*audit.ChecklistVersion, error) {
	pack, err := audit.ParsePack(name, data)
	if err != nil {
		return nil, err
	}
	var out []*audit.ChecklistVersion
	err = a.updateOrTrial(dryRun)(ctx, func(tx storage.Tx) error {
		out = nil
		for i := range pack.Checklists {
			v, err := saveDraft(ctx, tx, &pack.Checklists[i], by)
			if err != nil {
				return err
			}
			if publish && v.State == audit.VersionDraft {
				if v, err = publishVersion(ctx, tx, v.ChecklistID, v.Version); err != nil {
					return err
				}
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}
