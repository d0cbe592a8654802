package storage

import (
	"context"

	"github.com/shopscore/shopscore/audit"
)

// Checklists keeps checklists and their versions; a published version
// never changes (the caller only ever replaces a draft). Errors: ENOTFOUND,
// EINTERNAL when a published version no longer matches its hash.
type Checklists interface {
	// AddDraft stores c as the draft version of its checklist, creating
	// the checklist when it is new, by the user by at the transaction's
	// time.
	AddDraft(ctx context.Context, c *audit.Checklist, version int, by string) error
	// ReplaceDraft replaces the content of a draft version.
	ReplaceDraft(ctx context.Context, c *audit.Checklist, version int, by string) error
	// Publish marks a draft published at the transaction's time with the
	// hash of its content.
	Publish(ctx context.Context, checklistID string, version int, contentHash string) error
	// Retire marks a version retired at the transaction's time.
	Retire(ctx context.Context, checklistID string, version int) error
	// Find returns a version with its content; version 0 is the latest
	// published one.
	Find(ctx context.Context, checklistID string, version int) (*audit.ChecklistVersion, error)
	// State returns the state of a checklist version (an indexed read of
	// one row, for a push that keeps the version's content). Errors:
	// ENOTFOUND.
	State(ctx context.Context, checklistID string, version int) (audit.VersionState, error)
	// Latest returns the checklist's highest version, whatever its state.
	Latest(ctx context.Context, checklistID string) (*audit.ChecklistVersion, error)
	// List returns every version matching f, by checklist id then version.
	List(ctx context.Context, f audit.VersionFilter) ([]*audit.ChecklistVersion, error)
	// PendingStoresOutside returns the codes of the stores outside scope
	// with open or accepted assignments of a version, in code order.
	PendingStoresOutside(ctx context.Context, scope audit.Scope, checklistID string, version int) ([]string, error)
	// Names returns the name of every checklist version.
	Names(ctx context.Context) (map[VersionKey]string, error)
	// Touch moves the checklist in every shopper's sync feed, so that
	// devices learn which of its versions they may use.
	Touch(ctx context.Context, checklistID string) error
}

// VersionKey names one checklist version.
type VersionKey struct {
	ChecklistID string
	Version     int
}
