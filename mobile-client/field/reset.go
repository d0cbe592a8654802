package field

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// reset repairs the outbox when the server answers a push with
// FailedPrecondition and applied_seq: the device was away longer than the
// server keeps mutation results, and seqs it still holds as pending, up to
// applied, were applied (or refused) but their answers are gone
// (docs/DESIGN.md §3, retention). The device pulls everything again, with
// the server-owned data cleared first, so that its receipts are exactly
// the visits the server holds; then each pending mutation up to applied
// whose visit has a receipt is done (replayed), and each other one, never
// stored by the server, gets a new seq and mutation id after every seq
// the device has used, to be sent again and judged now. Nothing is
// deleted: no visit is lost, and none is stored twice (a visit's id is
// its key on the server).
func (c *Client) reset(ctx context.Context, applied int64, report func(Progress)) error {
	if err := c.update(ctx, func(tx *sql.Tx) error {
		if err := clearServerData(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE device SET cursor = '' WHERE id = 1`)
		return err
	}); err != nil {
		return fmt.Errorf("field: reset: %w", err)
	}
	if _, err := c.pullPages(ctx, report, false); err != nil {
		return err
	}
	return c.update(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT o.seq, o.payload, r.visit_id IS NOT NULL FROM outbox o LEFT JOIN receipts r ON r.visit_id = o.visit_id
			WHERE o.status = 'pending' AND o.seq <= ? ORDER BY o.seq`, applied)
		if err != nil {
			return fmt.Errorf("field: reset: read outbox: %w", err)
		}
		type row struct {
			seq     int64
			payload []byte
			stored  bool
		}
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.payload, &r.stored); err != nil {
				rows.Close()
				return fmt.Errorf("field: reset: read outbox: %w", err)
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("field: reset: read outbox: %w", err)
		}
		// New seqs follow the server's applied one even on a device that
		// lost its own count (restored from a backup).
		if _, err := tx.ExecContext(ctx, `UPDATE device SET next_seq = MAX(next_seq, ? + 1) WHERE id = 1`, applied); err != nil {
			return fmt.Errorf("field: reset: %w", err)
		}
		now := c.now().UnixMilli()
		for _, r := range todo {
			if r.stored {
				if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'replayed', processed_ms = ?, attempts = attempts + 1 WHERE seq = ?`, now, r.seq); err != nil {
					return fmt.Errorf("field: reset: %w", err)
				}
				continue
			}
			m := &v1.Mutation{}
			if err := proto.Unmarshal(r.payload, m); err != nil {
				return fmt.Errorf("field: reset: decode outbox seq %d: %w", r.seq, err)
			}
			seq, err := nextSeq(ctx, tx)
			if err != nil {
				return err
			}
			m.Seq, m.MutationId = seq, uuid.NewString()
			payload, err := proto.Marshal(m)
			if err != nil {
				return fmt.Errorf("field: reset: encode seq %d: %w", seq, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET seq = ?, mutation_id = ?, payload = ? WHERE seq = ?`, seq, m.MutationId, payload, r.seq); err != nil {
				return fmt.Errorf("field: reset: renumber seq %d: %w", r.seq, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE device SET server_applied_seq = ? WHERE id = 1`, applied)
		return err
	})
}
