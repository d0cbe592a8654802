package app

import (
	"context"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// The incremental visit export (issue 16 §5): a BI tool or a script
// pulls the visits stored or changed since its cursor, a bounded number
// per response, and keeps the end position as its next cursor. Which
// visits come after a cursor is the backends' (storage.AuditReports
// ExportEnd and Export: on PostgreSQL bounded by the oldest transaction
// in flight, as the pull feed).

// exportBatch is how many visits one query of an export reads.
const exportBatch = 100

// ExportVisits exports up to limit visits in the caller's scope after
// position after, in one read snapshot: start gets the end position and
// the count before any row (the response's header), then row gets each
// visit with the text of each of its answers' questions, from the
// checklist version it was recorded with. A visit's position moves when
// its state or score changes, so a changed visit comes again.
func (a *App) ExportVisits(ctx context.Context, p audit.Principal, after storage.FeedPos, limit int,
	start func(end storage.FeedPos, n int) error, row func(v *storage.ExportVisit, questions []string) error) error {
	if _, err := a.st.AuditReports().Index(ctx); err != nil {
		return err
	}
	scope := audit.ScopeOf(p)
	return a.st.View(ctx, func(tx storage.Tx) error {
		end, n, err := tx.AuditReports().ExportEnd(ctx, scope, after, limit)
		if err != nil {
			return err
		}
		if err := start(end, n); err != nil {
			return err
		}
		versions := map[storage.VersionKey]*audit.ChecklistVersion{}
		for from := after; n > 0; {
			batch, err := tx.AuditReports().Export(ctx, scope, from, end, exportBatch)
			if err != nil {
				return err
			}
			for _, v := range batch {
				k := storage.VersionKey{ChecklistID: v.ChecklistID, Version: v.ChecklistVersion}
				cv, ok := versions[k]
				if !ok {
					if cv, err = tx.Checklists().Find(ctx, k.ChecklistID, k.Version); err != nil {
						return err
					}
					versions[k] = cv
				}
				texts := make([]string, len(v.Answers))
				for i, ans := range v.Answers {
					if q, _, ok := cv.Content.Question(ans.QuestionID); ok {
						texts[i] = q.Text
					}
				}
				if err := row(v, texts); err != nil {
					return err
				}
			}
			if len(batch) < exportBatch {
				return nil
			}
			from = batch[len(batch)-1].Pos
		}
		return nil
	})
}
