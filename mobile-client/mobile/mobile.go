// Package mobile is the gomobile-friendly facade of the field client
// (package field) for the Android and iOS apps: only types gobind
// supports (strings, booleans, numbers, byte slices, errors, and the
// structs and interfaces here); lists and details are JSON strings.
// Generate the bindings with
//
//	go tool -modfile=tools/go.mod gobind -lang=java,go -outdir OUT github.com/shopscore/shopscore/mobile-client/mobile
//
// Errors carry the domain error's code in their text
// ("shopscore: invalid: ..."); Code extracts it.
package mobile

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
)

// Client is one field client: its database folder and its server.
type Client struct {
	c *field.Client

	mu     sync.Mutex
	cancel context.CancelFunc
}

// Open opens (creating when needed) the client database in dir, to sync
// with the server at serverURL. Errors: invalid (an empty dir or a
// malformed URL).
func Open(dir, serverURL string) (*Client, error) {
	c, err := field.Open(dir, serverURL)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Close closes the database.
func (m *Client) Close() error { return m.c.Close() }

// Code returns the domain error code of an error returned by this package
// ("invalid", "not_found", "unauthenticated", "unavailable", ...), or ""
// for nil.
func Code(err error) string {
	if err == nil {
		return ""
	}
	if c := audit.ErrorCode(err); c != audit.EINTERNAL {
		return string(c)
	}
	// Across the binding the error is its text: "shopscore: CODE: ...".
	if rest, ok := strings.CutPrefix(err.Error(), "shopscore: "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			return rest[:i]
		}
	}
	return string(audit.EINTERNAL)
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("mobile: encode: %w", err)
	}
	return string(b), nil
}

// Login signs the shopper in (online). Errors: invalid, unauthenticated,
// permission_denied (not a shopper), failed_precondition (another user
// has unsent work), resource_exhausted, unavailable.
func (m *Client) Login(email, password string) error {
	_, err := m.c.Login(context.Background(), email, password)
	return err
}

// Logout forgets the tokens; drafts and the outbox stay.
func (m *Client) Logout() error { return m.c.Logout(context.Background()) }

// SessionJSON returns the session as JSON (UserID is empty when nobody is
// signed in).
func (m *Client) SessionJSON() (string, error) {
	s, err := m.c.Session(context.Background())
	if err != nil {
		return "", err
	}
	return toJSON(s)
}

// ProgressListener receives the progress of a Sync.
type ProgressListener interface {
	OnProgress(phase string, visitsPushed, visitsTotal int, photoBytesUploaded, photoBytesTotal int64)
}

// Sync pushes the outbox, uploads the evidence and pulls (field.Sync);
// listener may be nil. It returns the result as JSON; photos that failed
// are listed in it and retried by the next Sync. CancelSync stops it.
// Errors: unauthenticated (log in again), unavailable, and those of
// field.Sync.
func (m *Client) Sync(listener ProgressListener) (string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	if m.cancel != nil {
		m.mu.Unlock()
		cancel()
		return "", audit.Errorf(audit.EPRECONDITION, "a sync is already running")
	}
	m.cancel = cancel
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.cancel = nil
		m.mu.Unlock()
		cancel()
	}()
	res, err := m.c.Sync(ctx, func(p field.Progress) {
		if listener != nil {
			listener.OnProgress(p.Phase, p.VisitsPushed, p.VisitsTotal, p.PhotoBytesUploaded, p.PhotoBytesTotal)
		}
	})
	if err != nil {
		return "", err
	}
	out := struct {
		Pushed, Rejected, PhotosVerified int
		PhotoErrors                      []string
		PulledChanges                    int
		FullResync                       bool
	}{res.Pushed, res.Rejected, res.PhotosVerified, nil, res.Pull.Changes, res.Pull.FullResync}
	for _, e := range res.PhotoErrors {
		out.PhotoErrors = append(out.PhotoErrors, e.Error())
	}
	return toJSON(out)
}

// CancelSync stops a running Sync; what it finished is kept.
func (m *Client) CancelSync() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		m.cancel()
	}
}

// AssignmentsJSON lists the assignments (field.AssignmentInfo) as JSON.
func (m *Client) AssignmentsJSON() (string, error) {
	as, err := m.c.Assignments(context.Background())
	if err != nil {
		return "", err
	}
	return toJSON(as)
}

// UnplannedChecklistsJSON lists the checklists offered for unplanned
// visits (field.UnplannedChecklist) as JSON.
func (m *Client) UnplannedChecklistsJSON() (string, error) {
	us, err := m.c.UnplannedChecklists(context.Background())
	if err != nil {
		return "", err
	}
	return toJSON(us)
}

// StaffJSON lists the staff of a store (by ID or code) as JSON. Errors:
// not_found.
func (m *Client) StaffJSON(store string) (string, error) {
	s, err := m.c.Staff(context.Background(), store)
	if err != nil {
		return "", err
	}
	return toJSON(s)
}

// StartVisit starts (or resumes) the visit of an assignment and returns
// its ID. Errors: those of field.Client.StartVisit.
func (m *Client) StartVisit(assignmentID string) (string, error) {
	return m.c.StartVisit(context.Background(), assignmentID)
}

// StartUnplannedVisit starts a visit without an assignment and returns its
// ID. Errors: those of field.Client.StartUnplannedVisit.
func (m *Client) StartUnplannedVisit(checklistID, store string) (string, error) {
	return m.c.StartUnplannedVisit(context.Background(), checklistID, store)
}

// StartCorrection starts a correction of a returned or rejected visit and
// returns its ID.
func (m *Client) StartCorrection(visitID string) (string, error) {
	return m.c.StartCorrection(context.Background(), visitID)
}

func pendingJSON(pending []audit.AnswerError, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if pending == nil {
		pending = []audit.AnswerError{}
	}
	return toJSON(pending)
}

// Answer records an answer typed as text (field.ParseValue: yes/no/na,
// numbers, durations, option values separated by commas, text) and
// returns as JSON the evidence it still demands. Errors: invalid,
// not_found, failed_precondition.
func (m *Client) Answer(visitID, questionID, value string) (string, error) {
	return pendingJSON(m.c.AnswerText(context.Background(), visitID, questionID, value))
}

// AnswerNote sets the note of a question's answer and returns as JSON the
// evidence it still demands.
func (m *Client) AnswerNote(visitID, questionID, note string) (string, error) {
	return pendingJSON(m.c.AnswerNote(context.Background(), visitID, questionID, note))
}

// TimerStart starts a timer question on the boot-time clock.
func (m *Client) TimerStart(visitID, questionID string) error {
	return m.c.TimerStart(context.Background(), visitID, questionID)
}

// TimerStop stops a timer, records the answer and returns the measured
// milliseconds. Errors: failed_precondition (the phone restarted since it
// started), not_found (no timer running).
func (m *Client) TimerStop(visitID, questionID string) (int64, error) {
	ms, _, err := m.c.TimerStop(context.Background(), visitID, questionID)
	return ms, err
}

// AddPhoto copies a photo file into the client's store, attaches it to a
// question's answer and returns its SHA-256.
func (m *Client) AddPhoto(visitID, questionID, path string) (string, error) {
	p, err := m.c.AddPhoto(context.Background(), visitID, questionID, path)
	if err != nil {
		return "", err
	}
	return p.SHA256, nil
}

// SetNotes sets the visit's notes.
func (m *Client) SetNotes(visitID, notes string) error {
	return m.c.SetNotes(context.Background(), visitID, notes)
}

// SetStaff records the staff member served, by ID or employee number.
func (m *Client) SetStaff(visitID, staffID string) error {
	return m.c.SetStaff(context.Background(), visitID, staffID)
}

// DescribeStaff records a description of the staff member served.
func (m *Client) DescribeStaff(visitID, description string) error {
	return m.c.DescribeStaff(context.Background(), visitID, description)
}

// CheckIn records the GPS fix at the start of the visit.
func (m *Client) CheckIn(visitID string, latitude, longitude, accuracyMeters float64) error {
	return m.c.CheckIn(context.Background(), visitID, audit.GeoPoint{Latitude: latitude, Longitude: longitude, AccuracyMeters: accuracyMeters})
}

// CheckOut records the GPS fix at the end of the visit.
func (m *Client) CheckOut(visitID string, latitude, longitude, accuracyMeters float64) error {
	return m.c.CheckOut(context.Background(), visitID, audit.GeoPoint{Latitude: latitude, Longitude: longitude, AccuracyMeters: accuracyMeters})
}

// VisitJSON returns the detail of a visit (field.VisitDetail) as JSON:
// answers, checklist, preview score, what is missing, timers, photos,
// receipt. Errors: not_found.
func (m *Client) VisitJSON(visitID string) (string, error) {
	d, err := m.c.Visit(context.Background(), visitID)
	if err != nil {
		return "", err
	}
	return toJSON(d)
}

// Submit freezes a complete visit into the outbox. Errors: invalid
// (incomplete, listing what is missing), failed_precondition.
func (m *Client) Submit(visitID string) error {
	return m.c.Submit(context.Background(), visitID)
}

// StatusJSON returns what waits, what evidence is missing, what was
// rejected and the receipts (field.Status) as JSON.
func (m *Client) StatusJSON() (string, error) {
	s, err := m.c.Status(context.Background())
	if err != nil {
		return "", err
	}
	return toJSON(s)
}

// IsCode reports whether err has the domain code code.
func IsCode(err error, code string) bool {
	return err != nil && Code(err) == code
}
