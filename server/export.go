package server

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// The incremental visit export (issue 16 §5): GET /exports/visits.csv
// and /exports/visits.jsonl with since=<cursor> stream the visits stored
// or changed after the cursor, one row per answer (or per visit with
// per=visit), names included, and give the next cursor in the
// Shopscore-Next-Cursor header. Authorized by the procedure table under
// exportVisitsProcedure: a manager's, HR's or admin's session, or an
// integration token with the reports scope.

const (
	// exportEpoch is the cursors' epoch: export cursors are the feed's
	// form (protocol.EncodeCursorAt) of a position in another order.
	exportEpoch = "visits"
	// exportDefaultLimit and exportMaxLimit bound the visits of one
	// response (limit=).
	exportDefaultLimit = 1000
	exportMaxLimit     = 10000
	// NextCursorHeader carries the cursor of the next export request.
	NextCursorHeader = "Shopscore-Next-Cursor"
	// ExportCountHeader carries how many visits the response holds; fewer
	// than the limit means the export is caught up.
	ExportCountHeader = "Shopscore-Export-Count"
)

func (s *Server) exportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /exports/visits.csv", func(w http.ResponseWriter, r *http.Request) { s.serveExport(w, r, false) })
	mux.HandleFunc("GET /exports/visits.jsonl", func(w http.ResponseWriter, r *http.Request) { s.serveExport(w, r, true) })
}

// exportColumns are the CSV columns of a row per answer; a row per visit
// has the first exportVisitColumns and the count of its answers.
var exportColumns = []string{"visit_id", "state", "visited_at", "store_code", "store_name", "staff_number", "staff_name",
	"checklist_id", "checklist_version", "visit_points", "visit_max_points", "critical_failed",
	"question_id", "question_text", "standard_code", "category", "points", "max_points", "not_applicable", "failed", "critical",
	"answer", "note"}

const exportVisitColumns = 12

// exportAnswer and exportVisit are the JSON lines.
type exportAnswer struct {
	QuestionID    string  `json:"question_id"`
	QuestionText  string  `json:"question_text"`
	StandardCode  string  `json:"standard_code,omitempty"`
	Category      string  `json:"category,omitempty"`
	Points        float64 `json:"points"`
	MaxPoints     float64 `json:"max_points"`
	NotApplicable bool    `json:"not_applicable"`
	Failed        bool    `json:"failed"`
	Critical      bool    `json:"critical"`
	Answer        string  `json:"answer,omitempty"`
	Note          string  `json:"note,omitempty"`
}

type exportVisit struct {
	VisitID   string `json:"visit_id"`
	State     string `json:"state"`
	VisitedAt string `json:"visited_at"`
	Store     struct {
		ID   string `json:"id"`
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"store"`
	Staff *struct {
		ID     string `json:"id"`
		Number string `json:"number"`
		Name   string `json:"name"`
	} `json:"staff,omitempty"`
	ChecklistID      string          `json:"checklist_id"`
	ChecklistVersion int             `json:"checklist_version"`
	Points           float64         `json:"visit_points"`
	MaxPoints        float64         `json:"visit_max_points"`
	CriticalFailed   bool            `json:"critical_failed"`
	Answer           *exportAnswer   `json:"answer,omitempty"`
	Answers          []*exportAnswer `json:"answers,omitempty"`
}

func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, jsonl bool) {
	const procedure = exportVisitsProcedure
	ctx, err := s.authorize(r.Context(), procedure, r.Header.Get("Authorization"))
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	p, err := caller(ctx)
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	after, perVisit, limit, err := exportParams(r)
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	var out *bufio.Writer
	var cw *csv.Writer
	started := false
	start := func(end storage.FeedPos, n int) error {
		h := w.Header()
		if jsonl {
			h.Set("Content-Type", "application/jsonl; charset=utf-8")
		} else {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		}
		h.Set(NextCursorHeader, protocol.EncodeCursorAt(exportEpoch, end.Tx, end.Seq))
		h.Set(ExportCountHeader, strconv.Itoa(n))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		started = true
		out = bufio.NewWriterSize(w, 64<<10)
		if !jsonl {
			cw = csv.NewWriter(out)
			cols := exportColumns
			if perVisit {
				cols = append(slices.Clip(exportColumns[:exportVisitColumns]), "answers")
			}
			return cw.Write(cols)
		}
		return nil
	}
	var enc *json.Encoder
	row := func(v *storage.ExportVisit, questions []string) error {
		if jsonl {
			if enc == nil {
				enc = json.NewEncoder(out)
				enc.SetEscapeHTML(false)
			}
			return writeExportJSON(enc, v, questions, perVisit)
		}
		return writeExportCSV(cw, v, questions, perVisit)
	}
	err = s.app.ExportVisits(ctx, p, after, limit, start, func(v *storage.ExportVisit, q []string) error {
		if err := row(v, q); err != nil {
			return err
		}
		if cw != nil {
			cw.Flush()
			return cw.Error()
		}
		return nil
	})
	if err == nil && out != nil {
		err = out.Flush()
	}
	if err != nil {
		if !started {
			s.httpError(ctx, w, r, procedure, err)
			return
		}
		// The status went out with the header: abort the connection, so
		// that a client never keeps a truncated export as whole.
		s.log.ErrorContext(ctx, "visit export failed mid-stream", "error", err)
		panic(http.ErrAbortHandler)
	}
}

// exportParams reads since, per and limit. Errors: EINVALID, naming the
// parameter.
func exportParams(r *http.Request) (after storage.FeedPos, perVisit bool, limit int, err error) {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains([]string{"since", "per", "limit"}, k) {
			return after, false, 0, audit.Errorf(audit.EINVALID, "unknown parameter %q; want since, per or limit", k)
		}
	}
	if c := q.Get("since"); c != "" {
		tx, seq, ok := protocol.DecodeCursorAt(c, exportEpoch)
		if !ok || len(c) > audit.MaxTokenLen {
			return after, false, 0, audit.Errorf(audit.EINVALID, "since: not a cursor of the visit export (take it from the %s header of the last response)", NextCursorHeader)
		}
		after = storage.FeedPos{Tx: tx, Seq: seq}
	}
	switch q.Get("per") {
	case "", "answer":
	case "visit":
		perVisit = true
	default:
		return after, false, 0, audit.Errorf(audit.EINVALID, "per: want answer or visit, not %q", q.Get("per"))
	}
	limit = exportDefaultLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > exportMaxLimit {
			return after, false, 0, audit.Errorf(audit.EINVALID, "limit: want a number of visits from 1 to %d, not %q", exportMaxLimit, l)
		}
		limit = n
	}
	return after, perVisit, limit, nil
}

func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// cell keeps a text cell from being read as a formula by a spreadsheet
// (Excel's "From Web"): one starting with =, +, -, @, a tab or a carriage
// return gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeExportCSV(cw *csv.Writer, v *storage.ExportVisit, questions []string, perVisit bool) error {
	head := []string{v.VisitID, v.State, exportTime(v.VisitedAt), cell(v.StoreCode), cell(v.StoreName), cell(v.StaffNumber), cell(v.StaffName),
		cell(v.ChecklistID), strconv.Itoa(v.ChecklistVersion), num(v.Points), num(v.Max), strconv.FormatBool(v.CriticalFailed)}
	if perVisit {
		return cw.Write(append(head, strconv.Itoa(len(v.Answers))))
	}
	for i, a := range v.Answers {
		rec := append(slices.Clip(head), cell(a.QuestionID), cell(questions[i]), cell(a.StandardCode), cell(a.Category), num(a.Points), num(a.Max),
			strconv.FormatBool(a.NotApplicable), strconv.FormatBool(a.Failed), strconv.FormatBool(a.Critical), cell(a.Answer), cell(a.Note))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

func writeExportJSON(enc *json.Encoder, v *storage.ExportVisit, questions []string, perVisit bool) error {
	line := exportVisit{VisitID: v.VisitID, State: v.State, VisitedAt: exportTime(v.VisitedAt), ChecklistID: v.ChecklistID,
		ChecklistVersion: v.ChecklistVersion, Points: v.Points, MaxPoints: v.Max, CriticalFailed: v.CriticalFailed}
	line.Store.ID, line.Store.Code, line.Store.Name = v.StoreID, v.StoreCode, v.StoreName
	if v.StaffID != "" {
		line.Staff = &struct {
			ID     string `json:"id"`
			Number string `json:"number"`
			Name   string `json:"name"`
		}{v.StaffID, v.StaffNumber, v.StaffName}
	}
	answers := make([]*exportAnswer, len(v.Answers))
	for i, a := range v.Answers {
		answers[i] = &exportAnswer{QuestionID: a.QuestionID, QuestionText: questions[i], StandardCode: a.StandardCode, Category: a.Category,
			Points: a.Points, MaxPoints: a.Max, NotApplicable: a.NotApplicable, Failed: a.Failed, Critical: a.Critical, Answer: a.Answer, Note: a.Note}
	}
	if perVisit {
		line.Answers = answers
		return enc.Encode(line)
	}
	for _, a := range answers {
		line.Answer = a
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("export visit %s: %w", v.VisitID, err)
		}
	}
	return nil
}
