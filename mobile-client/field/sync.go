package field

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"
)

// MaxPushBatch is the largest number of mutations pushed in one request.
const MaxPushBatch = 100

// The phases of a sync, as Progress reports them.
const (
	PhasePush   = "push"
	PhaseUpload = "upload"
	PhasePull   = "pull"
	PhaseDone   = "done"
)

// Progress is how far a Sync has come.
type Progress struct {
	Phase string
	// VisitsPushed of VisitsTotal queued visits have an answer from the
	// server (applied, replayed or rejected).
	VisitsPushed, VisitsTotal int
	// PhotoBytesUploaded of PhotoBytesTotal bytes of evidence are sent;
	// PhotosDone of PhotosTotal photos are verified or given up for now.
	PhotoBytesUploaded, PhotoBytesTotal int64
	PhotosDone, PhotosTotal             int
}

// SyncResult says what a Sync did.
type SyncResult struct {
	Pushed   int // mutations the server answered
	Rejected int // of which it refused for good
	// PhotosVerified photos are now verified; PhotoErrors lists the photos
	// that failed this time (they are tried again by the next Sync).
	PhotosVerified int
	PhotoErrors    []error
	Pull           PullResult
}

// Sync sends everything that waits and fetches what changed: 1) pushes the
// outbox in batches of at most MaxPushBatch in seq order, storing each
// receipt or rejection (a rejection never blocks the queue), resending from
// the server's applied seq after a gap (Aborted), and retrying transient
// failures with backoff, a bounded number of times, with the outbox left
// intact; 2) uploads the evidence of every pushed visit not yet verified
// (slot, HTTP upload of the file as it is on disk, finalize; a DataLoss
// answer uploads again, a bounded number of times; one failing photo never
// stops the others); 3) pulls. progress, when not nil, is called as work
// advances. Errors: EUNAUTHORIZED (log in again), EUNAVAILABLE (no network
// or the server did not answer, after retries), or the first error of a
// step that could not go on; photo failures are in SyncResult.PhotoErrors,
// not an error.
func (c *Client) Sync(ctx context.Context, progress func(Progress)) (SyncResult, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var res SyncResult
	report := func(p Progress) {
		if progress != nil {
			progress(p)
		}
	}
	var err error
	if res.Pushed, err = c.push(ctx, report); err != nil {
		return res, err
	}
	if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'rejected'`).Scan(&res.Rejected); err != nil {
		return res, fmt.Errorf("field: count rejections: %w", err)
	}
	res.PhotosVerified, res.PhotoErrors = c.uploadEvidence(ctx, report)
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if res.Pull, err = c.pull(ctx, report); err != nil {
		return res, err
	}
	report(Progress{Phase: PhaseDone})
	return res, nil
}

// Push sends the outbox as Sync's first step does, and nothing else. It
// returns how many mutations the server answered. Errors: those of Sync.
func (c *Client) Push(ctx context.Context) (int, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	return c.push(ctx, nil)
}

// outboxRow is a mutation ready to send.
type outboxRow struct {
	seq     int64
	id      string
	visitID string
	status  string
	payload []byte
}

func (c *Client) outboxRows(ctx context.Context, where string, args ...any) ([]outboxRow, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT seq, mutation_id, visit_id, status, payload FROM outbox `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("field: read outbox: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.seq, &r.id, &r.visitID, &r.status, &r.payload); err != nil {
			return nil, fmt.Errorf("field: read outbox: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// push sends the pending outbox and returns how many mutations were
// answered.
func (c *Client) push(ctx context.Context, report func(Progress)) (int, error) {
	var total int
	if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&total); err != nil {
		return 0, fmt.Errorf("field: count outbox: %w", err)
	}
	if total == 0 {
		return 0, nil
	}
	done := 0
	if report != nil {
		report(Progress{Phase: PhasePush, VisitsTotal: total})
	}
	var from int64 // 0: from the first pending mutation; else resend from this seq
	failures := 0
	reset := false
	var lastErr error
	for {
		var batch []outboxRow
		var err error
		if from > 0 {
			batch, err = c.outboxRows(ctx, `WHERE seq >= ? ORDER BY seq LIMIT ?`, from, MaxPushBatch)
			if err == nil && len(batch) == 0 {
				// The server is ahead of everything the device holds: what
				// is pending was applied and its answers were lost; resend
				// it to get them back (earlier seqs answer as replays).
				from = 0
			}
		}
		if from == 0 {
			batch, err = c.outboxRows(ctx, `WHERE status = 'pending' ORDER BY seq LIMIT ?`, MaxPushBatch)
		}
		if err != nil {
			return done, err
		}
		if len(batch) == 0 {
			return done, nil
		}
		if failures >= c.cfg.MaxAttempts {
			return done, remote("push the outbox", lastErr)
		}
		req := &v1.PushRequest{DeviceTime: timestamppb.New(c.now())}
		for _, r := range batch {
			m := &v1.Mutation{}
			if err := proto.Unmarshal(r.payload, m); err != nil {
				return done, fmt.Errorf("field: decode outbox seq %d: %w", r.seq, err)
			}
			req.Mutations = append(req.Mutations, m)
		}
		callCtx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		resp, err := c.sync.Push(callCtx, connect.NewRequest(req))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return done, remote("push the outbox", err)
			}
			lastErr = err
			failures++
			if connect.CodeOf(err) == connect.CodeAborted {
				// A gap: resend from what the server says it applied, or
				// from the oldest mutation the device keeps.
				from = 1
				if applied, ok := appliedSeq(err); ok {
					from = applied + 1
				} else if first, ok := c.firstSeq(ctx); ok {
					from = first
				}
				continue
			}
			if applied, ok := appliedSeq(err); ok && connect.CodeOf(err) == connect.CodeFailedPrecondition && !reset {
				// The server no longer keeps the answers of seqs up to
				// applied: reset, once a push.
				reset = true
				if err := c.reset(ctx, applied, report); err != nil {
					return done, err
				}
				from, failures = 0, 0
				continue
			}
			if !protocol.Retryable(err) {
				return done, remote("push the outbox", err)
			}
			if err := sleep(ctx, c.cfg.Backoff.Delay(failures-1)); err != nil {
				return done, remote("push the outbox", lastErr)
			}
			continue
		}
		n, err := c.recordResults(ctx, batch, resp.Msg)
		if err != nil {
			return done, err
		}
		done += n
		if n == 0 && resp.Msg.GetAppliedSeq()+1 > batch[0].seq && from == 0 {
			// Answers for none of the batch: retry, bounded.
			failures++
			lastErr = audit.Errorf(audit.EUNAVAILABLE, "the server answered none of the %d mutations sent", len(batch))
		} else {
			failures = 0
		}
		if from > 0 {
			from = resp.Msg.GetAppliedSeq() + 1
			if n == 0 && len(batch) > 0 && from <= batch[len(batch)-1].seq {
				from = 0
			}
		}
		if report != nil {
			report(Progress{Phase: PhasePush, VisitsPushed: min(done, total), VisitsTotal: total})
		}
	}
}

// firstSeq returns the oldest seq the outbox keeps.
func (c *Client) firstSeq(ctx context.Context) (int64, bool) {
	var seq sql.NullInt64
	if err := c.db.QueryRowContext(ctx, `SELECT MIN(seq) FROM outbox`).Scan(&seq); err != nil || !seq.Valid {
		return 0, false
	}
	return seq.Int64, true
}

// appliedSeq reads the server's applied seq from an Aborted error's
// details (a PushResponse), when the server sent it.
func appliedSeq(err error) (int64, bool) {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return 0, false
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		if pr, ok := v.(*v1.PushResponse); ok {
			return pr.GetAppliedSeq(), true
		}
	}
	return 0, false
}

// recordResults stores the per-item answers of a push in one transaction:
// each answered mutation is processed (applied, replayed or rejected, with
// the server's message), its receipt kept. It returns how many pending
// mutations it marked processed.
func (c *Client) recordResults(ctx context.Context, batch []outboxRow, resp *v1.PushResponse) (int, error) {
	bySeq := map[int64]outboxRow{}
	for _, r := range batch {
		bySeq[r.seq] = r
	}
	n := 0
	err := c.update(ctx, func(tx *sql.Tx) error {
		n = 0
		now := c.now().UnixMilli()
		for _, res := range resp.GetResults() {
			row, ok := bySeq[res.GetSeq()]
			if !ok || (res.GetMutationId() != "" && res.GetMutationId() != row.id) {
				continue
			}
			var status string
			switch res.GetStatus() {
			case v1.MutationStatus_MUTATION_STATUS_APPLIED:
				status = "applied"
			case v1.MutationStatus_MUTATION_STATUS_REPLAYED:
				status = "replayed"
			case v1.MutationStatus_MUTATION_STATUS_REJECTED:
				status = "rejected"
			default:
				continue // no answer for this one: it stays pending
			}
			r, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, error_code = ?, error_message = ?, processed_ms = ?,
				attempts = attempts + 1 WHERE seq = ? AND (status = 'pending' OR ? != 'rejected')`,
				status, res.GetErrorCode(), res.GetErrorMessage(), now, row.seq, status)
			if err != nil {
				return fmt.Errorf("field: record push result: %w", err)
			}
			if k, _ := r.RowsAffected(); k == 1 && row.status == "pending" {
				n++
			}
			if err := putReceipt(ctx, tx, res.GetReceipt()); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE device SET server_applied_seq = ?, last_push_ms = ? WHERE id = 1`,
			resp.GetAppliedSeq(), now)
		return err
	})
	return n, err
}

// uploadEvidence uploads every photo of a pushed (not rejected) visit that
// is not verified yet, Config.UploadWorkers at a time; a failure is
// recorded on the photo and does not stop the others.
func (c *Client) uploadEvidence(ctx context.Context, report func(Progress)) (int, []error) {
	ps, err := c.photos(ctx, c.db, `WHERE verified = 0 AND visit_id IN (SELECT visit_id FROM outbox WHERE status IN ('applied', 'replayed'))`)
	if err != nil {
		return 0, []error{err}
	}
	if len(ps) == 0 {
		return 0, nil
	}
	var total int64
	for _, p := range ps {
		total += p.Size
	}
	var (
		mu       sync.Mutex // guards the counters below and report
		sent     int64      // bytes of finished photos
		inFlight = map[int]int64{}
		done     int
		verified int
		errs     []error
	)
	progress := func() { // with mu held
		bytes := sent
		for _, n := range inFlight {
			bytes += n
		}
		report(Progress{Phase: PhaseUpload, PhotoBytesUploaded: min(bytes, total), PhotoBytesTotal: total, PhotosDone: done, PhotosTotal: len(ps)})
	}
	mu.Lock()
	progress()
	mu.Unlock()

	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.cfg.UploadWorkers, len(ps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := ps[i]
				err := c.uploadPhoto(ctx, p, func(n int64) {
					mu.Lock()
					inFlight[i] = n
					progress()
					mu.Unlock()
				})
				if err != nil {
					if _, dberr := c.db.ExecContext(context.WithoutCancel(ctx), `UPDATE photos SET attempts = attempts + 1, last_error = ?
						WHERE visit_id = ? AND question_id = ? AND idx = ?`, err.Error(), p.VisitID, p.QuestionID, p.Index); dberr != nil {
						err = errors.Join(err, fmt.Errorf("field: record upload error: %w", dberr))
					}
				}
				mu.Lock()
				delete(inFlight, i)
				sent += p.Size
				done++
				if err != nil {
					errs = append(errs, fmt.Errorf("photo %s[%d] of visit %s: %w", p.QuestionID, p.Index, p.VisitID, err))
				} else {
					verified++
				}
				progress()
				mu.Unlock()
			}
		}()
	}
	for i := range ps {
		if ctx.Err() != nil {
			mu.Lock()
			errs = append(errs, ctx.Err())
			mu.Unlock()
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return verified, errs
}

// uploadPhoto takes one photo through slot, upload and finalize. onBytes
// reports the bytes of the current upload attempt sent so far.
func (c *Client) uploadPhoto(ctx context.Context, p PhotoInfo, onBytes func(int64)) error {
	path := c.photoPath(p.SHA256)
	if st, err := os.Stat(path); err != nil || st.Size() != p.Size {
		return audit.Errorf(audit.EDATALOSS, "the photo file is missing or changed on the device (%s)", path)
	}
	var lastErr error
	for attempt := 0; attempt < c.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, c.cfg.Backoff.Delay(attempt-1)); err != nil {
				return err
			}
		}
		onBytes(0)
		var slot *v1.CreateUploadSlotResponse
		err := c.call(ctx, func(ctx context.Context) error {
			r, err := c.evidence.CreateUploadSlot(ctx, connect.NewRequest(&v1.CreateUploadSlotRequest{
				VisitId: p.VisitID, QuestionId: p.QuestionID, Index: int32(p.Index), Sha256: p.SHA256,
				SizeBytes: p.Size, ContentType: p.ContentType,
			}))
			if err == nil {
				slot = r.Msg
			}
			return err
		})
		if err != nil {
			lastErr = remote("ask for an upload slot", err)
			if protocol.Retryable(err) {
				continue
			}
			return lastErr
		}
		if slot.GetAlreadyVerified() {
			onBytes(p.Size)
			return c.markVerified(ctx, p, nil)
		}
		if err := c.put(ctx, slot, path, p.Size, onBytes); err != nil {
			lastErr = err
			if ctx.Err() != nil {
				return err
			}
			continue
		}
		var fin *v1.FinalizeUploadResponse
		err = c.call(ctx, func(ctx context.Context) error {
			r, err := c.evidence.FinalizeUpload(ctx, connect.NewRequest(&v1.FinalizeUploadRequest{
				VisitId: p.VisitID, QuestionId: p.QuestionID, Index: int32(p.Index),
			}))
			if err == nil {
				fin = r.Msg
			}
			return err
		})
		if err != nil {
			lastErr = remote("finalize the upload", err)
			// DataLoss: the stored bytes did not match and were deleted;
			// upload again. Transient faults: ask again (the slot may
			// answer already_verified if the finalize went through).
			if connect.CodeOf(err) == connect.CodeDataLoss || protocol.Retryable(err) || connect.CodeOf(err) == connect.CodeNotFound {
				continue
			}
			return lastErr
		}
		return c.markVerified(ctx, p, fin.GetReceipt())
	}
	return lastErr
}

// call runs one RPC with the per-call timeout.
func (c *Client) call(ctx context.Context, fn func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	return fn(callCtx)
}

// put uploads the photo file to the slot's URL, streamed from disk, with
// exactly the headers the slot names. Errors: EUNAVAILABLE for network
// faults and server errors, EEXHAUSTED for throttling, EINVALID for other
// refusals (an expired or mismatched slot).
func (c *Client) put(ctx context.Context, slot *v1.CreateUploadSlotResponse, path string, size int64, onBytes func(int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return audit.Errorf(audit.EDATALOSS, "the photo file is gone from the device: %v", err)
	}
	defer f.Close()
	method := slot.GetMethod()
	if method == "" {
		method = http.MethodPut
	}
	body := &countingReader{r: f, onBytes: onBytes}
	req, err := http.NewRequestWithContext(ctx, method, slot.GetUrl(), body)
	if err != nil {
		return audit.Errorf(audit.EINVALID, "the server gave an unusable upload URL: %v", err)
	}
	req.ContentLength = size
	req.GetBody = nil
	for k, v := range slot.GetHeaders() {
		switch strings.ToLower(k) {
		case "content-length":
			continue // set from ContentLength
		case "host":
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return audit.Errorf(audit.EUNAVAILABLE, "upload: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return audit.Errorf(audit.EEXHAUSTED, "upload throttled: %s", strings.TrimSpace(string(msg)))
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return audit.Errorf(audit.EUNAVAILABLE, "upload: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	default:
		return audit.Errorf(audit.EINVALID, "upload refused: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
}

// markVerified records a verified photo and the receipt that came with it.
func (c *Client) markVerified(ctx context.Context, p PhotoInfo, r *v1.VisitReceipt) error {
	return c.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE photos SET verified = 1, last_error = '' WHERE visit_id = ? AND question_id = ? AND idx = ?`,
			p.VisitID, p.QuestionID, p.Index); err != nil {
			return fmt.Errorf("field: mark photo verified: %w", err)
		}
		return putReceipt(ctx, tx, r)
	})
}

// countingReader reports how many bytes were read through it.
type countingReader struct {
	r       io.Reader
	n       int64
	onBytes func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 && c.onBytes != nil {
		c.onBytes(c.n)
	}
	return n, err
}
