package field

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/shopscore/shopscore/audit"
)

// RunningTimer is a timer question being measured.
type RunningTimer struct {
	VisitID    string
	QuestionID string
	// ElapsedMS is the time measured so far; -1 when the phone restarted
	// since the timer started (the measurement is lost).
	ElapsedMS int64
}

// timerQuestion checks that a draft visit's question is a timer.
func (c *Client) timerQuestion(ctx context.Context, tx *sql.Tx, visitID, questionID string) error {
	_, cv, err := c.draft(ctx, tx, visitID)
	if err != nil {
		return err
	}
	q, _, ok := cv.Content.Question(questionID)
	if !ok {
		return unknownQuestion(&cv.Content, questionID)
	}
	if q.Type != audit.QuestionTimer {
		return audit.Errorf(audit.EINVALID, "question %s is a %s question, not a timer: answer it instead", questionID, q.Type)
	}
	return nil
}

// TimerStart starts measuring a timer question of a draft visit on the
// boot-time clock; the reading is stored, so TimerStop may run in another
// process. It works offline. Errors: ENOTFOUND, EPRECONDITION (submitted),
// EINVALID (not a timer question), EEXISTS (the timer already runs: stop
// it first), and the clock's error on systems without a boot-time clock.
func (c *Client) TimerStart(ctx context.Context, visitID, questionID string) error {
	now, err := c.cfg.Clock.Now()
	if err != nil {
		return err
	}
	return c.update(ctx, func(tx *sql.Tx) error {
		if err := c.timerQuestion(ctx, tx, visitID, questionID); err != nil {
			return err
		}
		var boot string
		var start int64
		err := tx.QueryRowContext(ctx, `SELECT boot_id, start_ns FROM timers WHERE visit_id = ? AND question_id = ?`, visitID, questionID).Scan(&boot, &start)
		switch {
		case err == nil && boot == now.BootID:
			return audit.Errorf(audit.EEXISTS, "the timer for %s already runs (%s so far): stop it first", questionID, fmtMS((now.NS-start)/1e6))
		case err == nil:
			// Started before a reboot: that measurement is lost anyway.
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("field: read timer: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO timers (visit_id, question_id, boot_id, start_ns) VALUES (?, ?, ?, ?)
			ON CONFLICT (visit_id, question_id) DO UPDATE SET boot_id = excluded.boot_id, start_ns = excluded.start_ns`,
			visitID, questionID, now.BootID, now.NS)
		if err != nil {
			return fmt.Errorf("field: start timer: %w", err)
		}
		return nil
	})
}

// TimerStop stops a running timer and records the measured duration as the
// question's answer (its note and photos kept), returning the duration in
// milliseconds and the evidence the answer now demands. It works offline.
// Errors: ENOTFOUND (visit, or no timer running: start it first),
// EPRECONDITION (submitted, or the phone restarted since the timer started:
// the measurement is lost, start again or answer the duration by hand),
// EINVALID.
func (c *Client) TimerStop(ctx context.Context, visitID, questionID string) (int64, []audit.AnswerError, error) {
	now, err := c.cfg.Clock.Now()
	if err != nil {
		return 0, nil, err
	}
	var ms int64
	var pending []audit.AnswerError
	var lost error
	err = c.update(ctx, func(tx *sql.Tx) error {
		if err := c.timerQuestion(ctx, tx, visitID, questionID); err != nil {
			return err
		}
		var boot string
		var start int64
		err := tx.QueryRowContext(ctx, `SELECT boot_id, start_ns FROM timers WHERE visit_id = ? AND question_id = ?`, visitID, questionID).Scan(&boot, &start)
		if errors.Is(err, sql.ErrNoRows) {
			return audit.Errorf(audit.ENOTFOUND, "no timer runs for %s on visit %s: start it first", questionID, visitID)
		}
		if err != nil {
			return fmt.Errorf("field: read timer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM timers WHERE visit_id = ? AND question_id = ?`, visitID, questionID); err != nil {
			return fmt.Errorf("field: stop timer: %w", err)
		}
		if boot != now.BootID || now.NS < start {
			// Keep the deletion: the measurement is gone for good.
			lost = audit.Errorf(audit.EPRECONDITION, "the phone restarted since the timer for %s started, so the time cannot be measured: start the timer again, or answer the duration by hand", questionID)
			return nil
		}
		ms = (now.NS - start) / 1e6
		_, cv, err := c.draft(ctx, tx, visitID)
		if err != nil {
			return err
		}
		a, err := loadAnswer(ctx, tx, visitID, questionID)
		if err != nil {
			return err
		}
		a.NA, a.Bool, a.Number, a.Choices, a.Text = false, nil, nil, nil, ""
		a.DurationMS = &ms
		if pending, err = checkAnswer(&cv.Content, a); err != nil {
			return err
		}
		return c.saveAnswer(ctx, tx, visitID, a)
	})
	if err != nil {
		return 0, nil, err
	}
	if lost != nil {
		return 0, nil, lost
	}
	return ms, pending, nil
}

// timers lists the timers running on a visit.
func (c *Client) timers(ctx context.Context, q querier, visitID string) ([]RunningTimer, error) {
	now, clockErr := c.cfg.Clock.Now()
	rows, err := q.QueryContext(ctx, `SELECT question_id, boot_id, start_ns FROM timers WHERE visit_id = ? ORDER BY question_id`, visitID)
	if err != nil {
		return nil, fmt.Errorf("field: list timers: %w", err)
	}
	defer rows.Close()
	var out []RunningTimer
	for rows.Next() {
		t := RunningTimer{VisitID: visitID}
		var boot string
		var start int64
		if err := rows.Scan(&t.QuestionID, &boot, &start); err != nil {
			return nil, fmt.Errorf("field: list timers: %w", err)
		}
		t.ElapsedMS = -1
		if clockErr == nil && boot == now.BootID && now.NS >= start {
			t.ElapsedMS = (now.NS - start) / 1e6
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// fmtMS renders milliseconds as a short duration ("1m30.5s").
func fmtMS(ms int64) string {
	return fmt.Sprint(msDuration(ms))
}
