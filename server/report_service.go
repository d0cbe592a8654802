package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/storage"
)

// reportService implements shopscore.v1.ReportService.
type reportService struct{ s *Server }

// Limits of the report service's requests.
const (
	maxPolicyBytes  = 256 << 10           // a policy's JSON
	maxBasePayBytes = app.MaxBasePayBytes // an imported base pay file
	downloadChunk   = 256 << 10           // bytes per streamed chunk
)

// xlsxType is the media type of an Excel workbook, csvType of CSV.
const (
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvType  = "text/csv; charset=utf-8"
)

// CreatePolicy stores the next version of a bonus policy. Errors:
// EINVALID (malformed JSON, an unknown field, every problem of the
// policy, an unknown store).
func (r *reportService) CreatePolicy(ctx context.Context, req *connect.Request[v1.CreatePolicyRequest]) (*connect.Response[v1.CreatePolicyResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	body := req.Msg.GetPolicyJson()
	if err := policyBody(body); err != nil {
		return nil, err
	}
	pol, err := app.ParsePolicy([]byte(body))
	if err != nil {
		return nil, err
	}
	stored, created, err := r.s.app.CreatePolicy(ctx, pol, p.UserID)
	if err != nil {
		return nil, err
	}
	pp, err := policyToProto(stored)
	return reply(&v1.CreatePolicyResponse{Policy: pp, Created: created}, err)
}

func policyToProto(p *storage.BonusPolicy) (*v1.BonusPolicy, error) {
	body, err := json.Marshal(p.Policy)
	if err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return &v1.BonusPolicy{
		Id: p.Policy.ID, Version: int32(p.Policy.Version), Name: p.Policy.Name, PolicyJson: string(body),
		CreateTime: timestamp(p.CreatedAt), CreatedBy: p.CreatedBy, CreatedByName: p.CreatedByName,
	}, nil
}

// ListPolicies lists the stored policies.
func (r *reportService) ListPolicies(ctx context.Context, req *connect.Request[v1.ListPoliciesRequest]) (*connect.Response[v1.ListPoliciesResponse], error) {
	list, err := r.s.st.BonusPolicies().List(ctx, req.Msg.GetLatestOnly())
	if err != nil {
		return nil, err
	}
	resp := &v1.ListPoliciesResponse{}
	for _, p := range list {
		pp, err := policyToProto(p)
		if err != nil {
			return nil, err
		}
		resp.Policies = append(resp.Policies, pp)
	}
	return connect.NewResponse(resp), nil
}

func payKind(k v1.PayKind) (string, error) {
	switch k {
	case v1.PayKind_PAY_KIND_UNSPECIFIED, v1.PayKind_PAY_KIND_BASE_PAY:
		return storage.PayKindBase, nil
	case v1.PayKind_PAY_KIND_TARGET_VARIABLE:
		return storage.PayKindTargetVariable, nil
	}
	return "", audit.Errorf(audit.EINVALID, "unknown pay kind %d", k)
}

// SetBasePay sets one employee's pay from a month on. Errors: EINVALID.
func (r *reportService) SetBasePay(ctx context.Context, req *connect.Request[v1.SetBasePayRequest]) (*connect.Response[v1.SetBasePayResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	kind, err := payKind(m.GetKind())
	if err != nil {
		return nil, err
	}
	if err := r.s.app.SetBasePay(ctx, []storage.BasePayRow{{
		EmployeeNumber: m.GetEmployeeNumber(), Kind: kind, EffectiveMonth: m.GetEffectiveMonth(), AmountMinor: m.GetAmountMinor(),
	}}, "api", p.UserID); err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.SetBasePayResponse{}), nil
}

// ImportBasePay sets the pay of many employees from a CSV or XLSX file.
// Errors: EINVALID.
func (r *reportService) ImportBasePay(ctx context.Context, req *connect.Request[v1.ImportBasePayRequest]) (*connect.Response[v1.ImportBasePayResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	kind, err := payKind(m.GetKind())
	if err != nil {
		return nil, err
	}
	n, err := r.s.app.ImportBasePay(ctx, m.GetFileName(), m.GetContent(), kind, m.GetEffectiveMonth(), p.UserID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.ImportBasePayResponse{Imported: int32(n)}), nil
}

// RunBonus runs a policy over a month's approved visits. Errors: EINVALID,
// ENOTFOUND.
func (r *reportService) RunBonus(ctx context.Context, req *connect.Request[v1.RunBonusRequest]) (*connect.Response[v1.RunBonusResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	if strings.TrimSpace(m.GetPolicyId()) == "" {
		return nil, audit.Errorf(audit.EINVALID, "policy_id is required")
	}
	run, err := r.s.app.RunBonus(ctx, m.GetPolicyId(), int(m.GetPolicyVersion()), m.GetPeriod(), p.UserID)
	if err != nil {
		return nil, err
	}
	pr, err := r.s.runProto(ctx, run, true, false)
	return reply(&v1.RunBonusResponse{Run: pr, Reused: run.Reused}, err)
}

// GetBonusRun returns a run with its figures. Errors: EINVALID, ENOTFOUND.
func (r *reportService) GetBonusRun(ctx context.Context, req *connect.Request[v1.GetBonusRunRequest]) (*connect.Response[v1.GetBonusRunResponse], error) {
	if req.Msg.GetRunId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "run_id is required")
	}
	run, err := r.s.st.BonusRuns().Find(ctx, req.Msg.GetRunId())
	if err != nil {
		return nil, err
	}
	pr, err := r.s.runProto(ctx, run, true, true)
	return reply(&v1.GetBonusRunResponse{Run: pr}, err)
}

// ListBonusRuns lists runs, newest first. Errors: EINVALID.
func (r *reportService) ListBonusRuns(ctx context.Context, req *connect.Request[v1.ListBonusRunsRequest]) (*connect.Response[v1.ListBonusRunsResponse], error) {
	runs, err := r.s.app.ListBonusRuns(ctx, storage.BonusRunFilter{PolicyID: req.Msg.GetPolicyId(), Period: req.Msg.GetPeriod()})
	if err != nil {
		return nil, err
	}
	resp := &v1.ListBonusRunsResponse{}
	for _, run := range runs {
		resp.Runs = append(resp.Runs, runToProto(run, nil, false, false))
	}
	return connect.NewResponse(resp), nil
}

// ApproveBonusRun approves and locks a run. Errors: EINVALID, ENOTFOUND,
// EPRECONDITION.
func (r *reportService) ApproveBonusRun(ctx context.Context, req *connect.Request[v1.ApproveBonusRunRequest]) (*connect.Response[v1.ApproveBonusRunResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.Msg.GetRunId() == "" {
		return nil, audit.Errorf(audit.EINVALID, "run_id is required")
	}
	run, err := r.s.app.ApproveBonusRun(ctx, req.Msg.GetRunId(), p.UserID, req.Msg.GetOverrideReason())
	if err != nil {
		return nil, err
	}
	pr, err := r.s.runProto(ctx, run, true, false)
	return reply(&v1.ApproveBonusRunResponse{Run: pr}, err)
}

var runStates = map[storage.BonusRunState]v1.BonusRunState{
	storage.RunDraft:      v1.BonusRunState_BONUS_RUN_STATE_DRAFT,
	storage.RunApproved:   v1.BonusRunState_BONUS_RUN_STATE_APPROVED,
	storage.RunSuperseded: v1.BonusRunState_BONUS_RUN_STATE_SUPERSEDED,
}

// runProto converts a stored run for the API, naming the explanation's
// stores and questions (see runToProto).
func (s *Server) runProto(ctx context.Context, r *storage.BonusRun, withEmployees, withResult bool) (*v1.BonusRun, error) {
	var names *storage.RunNames
	if withEmployees {
		var err error
		if names, err = s.st.BonusRuns().Names(ctx, r.Run); err != nil {
			return nil, err
		}
	}
	return runToProto(r, names, withEmployees, withResult), nil
}

// runToProto converts a run, with the employees' figures when
// withEmployees (their explanation lines naming stores and questions by
// names when given) and the stored JSON when withResult.
func runToProto(r *storage.BonusRun, names *storage.RunNames, withEmployees, withResult bool) *v1.BonusRun {
	st := r.Run.Stats
	out := &v1.BonusRun{
		Id: r.ID, PolicyId: r.PolicyID, PolicyVersion: int32(r.PolicyVersion), Period: r.Period, InputsHash: r.InputsHash,
		State: runStates[r.State], CreateTime: timestamp(r.CreatedAt), CreatedBy: r.CreatedBy,
		ApproveTime: timestamp(r.ApprovedAt), ApprovedBy: r.ApprovedBy, ComparedRunId: r.ComparedRunID,
		MissingBasePay: r.MissingBasePay, CreatedByName: r.CreatedByName, ApprovedByName: r.ApprovedByName,
		InputsStamp: r.InputsStamp, OverrideReason: r.OverrideReason, OverriddenAppealIds: r.OverriddenAppeals,
		Stats: &v1.BonusRunStats{
			Employees: int32(st.Employees), Covered: int32(st.Covered), Observations: st.Observations, Used: st.Used,
			OutsidePeriod: st.OutsidePeriod, NotApplicable: st.NotApplicable, Unmatched: st.Unmatched, Unattributed: st.Unattributed,
		},
	}
	for _, c := range r.Changes {
		out.Changes = append(out.Changes, &v1.BonusChange{
			StaffId: c.StaffID, Name: c.Name, Component: c.Component, Field: c.Field, OldValue: c.Old, NewValue: c.New, Text: c.String(),
			EmployeeNumber: c.EmployeeNumber, Delta: c.Delta, OldMinor: c.OldMinor, NewMinor: c.NewMinor,
			OldPercent: c.OldPercent, NewPercent: c.NewPercent, Causes: causesToProto(c.Causes),
		})
	}
	if withResult {
		out.ResultJson = string(r.Result)
	}
	if !withEmployees {
		return out
	}
	for _, e := range r.Run.Employees {
		pe := &v1.EmployeeBonus{
			StaffId: e.StaffID, EmployeeNumber: e.EmployeeNumber, Name: e.Name, Position: e.Position, Department: e.Department,
			StoreId: e.StoreID, BasePayMinor: e.BasePayMinor, UnlinkedMinor: e.UnlinkedMinor, TotalMinor: e.TotalMinor,
		}
		for _, c := range e.Components {
			pc := &v1.ComponentBonus{
				Name: c.Name, Share: c.Share, Visits: int32(c.Visits), ScorePercent: c.ScorePercent, Payout: c.Payout,
				AmountMinor: c.AmountMinor, MinSampleDefault: c.MinSampleDefault, CriticalForfeit: c.CriticalForfeit,
			}
			for _, l := range c.Lines {
				pc.Lines = append(pc.Lines, l.Text)
				pc.Explanation = append(pc.Explanation, explanationToProto(&l, names))
			}
			pe.Components = append(pe.Components, pc)
		}
		out.Employees = append(out.Employees, pe)
	}
	return out
}

// explanationToProto converts an explanation line, naming its store and
// questions when names are given.
func explanationToProto(l *reports.Line, names *storage.RunNames) *v1.ExplanationLine {
	out := &v1.ExplanationLine{Text: l.Text, VisitId: l.VisitID, ScorePercent: l.ScorePercent}
	if l.VisitedAt != nil {
		out.VisitTime = timestamp(*l.VisitedAt)
	}
	question := func(id string) string {
		if names != nil && names.QuestionText != nil {
			return names.QuestionText(l.VisitID, id)
		}
		return ""
	}
	if l.StoreID != "" {
		out.StoreCode = l.StoreID
		if names != nil {
			if st, ok := names.Stores[l.StoreID]; ok {
				out.StoreCode, out.StoreName = st.Code, st.Name
			}
		}
	}
	for _, q := range l.Lost {
		out.Lost = append(out.Lost, &v1.LostPoints{QuestionId: q.QuestionID, QuestionText: question(q.QuestionID), Lost: q.Lost, Max: q.Max})
	}
	for _, q := range l.Critical {
		out.CriticalQuestions = append(out.CriticalQuestions, cmp.Or(question(q), q))
	}
	return out
}

// DownloadAuditWorkbook streams the audit workbook of a period and scope.
// Errors: EINVALID, ENOTFOUND.
func (r *reportService) DownloadAuditWorkbook(ctx context.Context, req *connect.Request[v1.DownloadAuditWorkbookRequest], stream *connect.ServerStream[v1.DownloadAuditWorkbookResponse]) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	m := req.Msg
	q, err := r.s.AuditQuery(ctx, app.AuditQuery{Scope: audit.ScopeOf(p), From: m.GetFrom(), To: m.GetTo(), StoreCode: m.GetStoreCode(), Region: m.GetRegion()})
	if err != nil {
		return err
	}
	return streamDownload(ctx, &v1.DownloadFile{FileName: auditFileName(q), ContentType: xlsxType}, func(msg downloadMsg) error {
		resp := &v1.DownloadAuditWorkbookResponse{}
		switch {
		case msg.progress != nil:
			resp.Message = &v1.DownloadAuditWorkbookResponse_Progress{Progress: msg.progress}
		case msg.file != nil:
			resp.Message = &v1.DownloadAuditWorkbookResponse_File{File: msg.file}
		default:
			resp.Message = &v1.DownloadAuditWorkbookResponse_Chunk{Chunk: msg.chunk}
		}
		return stream.Send(resp)
	}, func(ctx context.Context, w io.Writer, progress func(done, total int64)) error {
		return r.s.WriteAuditWorkbook(ctx, q, w, progress)
	})
}

// DownloadPayroll streams the payroll workbook of a bonus run. Errors:
// EINVALID, ENOTFOUND.
func (r *reportService) DownloadPayroll(ctx context.Context, req *connect.Request[v1.DownloadPayrollRequest], stream *connect.ServerStream[v1.DownloadPayrollResponse]) error {
	id := req.Msg.GetRunId()
	if id == "" {
		return audit.Errorf(audit.EINVALID, "run_id is required")
	}
	file, err := r.s.payrollFile(ctx, id, app.PayrollWorkbook, "")
	if err != nil {
		return err
	}
	return streamDownload(ctx, file, func(msg downloadMsg) error {
		resp := &v1.DownloadPayrollResponse{}
		switch {
		case msg.progress != nil:
			resp.Message = &v1.DownloadPayrollResponse_Progress{Progress: msg.progress}
		case msg.file != nil:
			resp.Message = &v1.DownloadPayrollResponse_File{File: msg.file}
		default:
			resp.Message = &v1.DownloadPayrollResponse_Chunk{Chunk: msg.chunk}
		}
		return stream.Send(resp)
	}, func(ctx context.Context, w io.Writer, _ func(done, total int64)) error {
		return r.s.WritePayroll(ctx, id, app.PayrollWorkbook, "", w)
	})
}

// DownloadPayrollExport streams the flat export of a bonus run for
// payroll systems. Errors: EINVALID, ENOTFOUND.
func (r *reportService) DownloadPayrollExport(ctx context.Context, req *connect.Request[v1.DownloadPayrollExportRequest], stream *connect.ServerStream[v1.DownloadPayrollExportResponse]) error {
	m := req.Msg
	format := app.PayrollExportCSV
	switch m.GetFormat() {
	case v1.PayrollExportFormat_PAYROLL_EXPORT_FORMAT_UNSPECIFIED, v1.PayrollExportFormat_PAYROLL_EXPORT_FORMAT_CSV:
	case v1.PayrollExportFormat_PAYROLL_EXPORT_FORMAT_XLSX:
		format = app.PayrollExportXLSX
	default:
		return audit.Errorf(audit.EINVALID, "unknown format %d", m.GetFormat())
	}
	file, err := r.s.payrollFile(ctx, m.GetRunId(), format, m.GetLocale())
	if err != nil {
		return err
	}
	return streamDownload(ctx, file, func(msg downloadMsg) error {
		resp := &v1.DownloadPayrollExportResponse{}
		switch {
		case msg.progress != nil:
			resp.Message = &v1.DownloadPayrollExportResponse_Progress{Progress: msg.progress}
		case msg.file != nil:
			resp.Message = &v1.DownloadPayrollExportResponse_File{File: msg.file}
		default:
			resp.Message = &v1.DownloadPayrollExportResponse_Chunk{Chunk: msg.chunk}
		}
		return stream.Send(resp)
	}, func(ctx context.Context, w io.Writer, _ func(done, total int64)) error {
		return r.s.WritePayroll(ctx, m.GetRunId(), format, m.GetLocale(), w)
	})
}

// payrollFile checks a payroll download's run and locale before anything
// streams, and describes its file. Errors: EINVALID, ENOTFOUND.
func (s *Server) payrollFile(ctx context.Context, runID string, format app.PayrollFormat, locale string) (*v1.DownloadFile, error) {
	if runID == "" {
		return nil, audit.Errorf(audit.EINVALID, "run_id is required")
	}
	if format != app.PayrollWorkbook && !slices.Contains(append(reports.ExportLocales(), ""), strings.ToLower(locale)) {
		return nil, audit.Errorf(audit.EINVALID, "locale %q: want %s", locale, strings.Join(reports.ExportLocales(), " or "))
	}
	if _, err := s.st.BonusRuns().Find(ctx, runID); err != nil {
		return nil, err
	}
	name := "payroll-" + safeFileName(runID)
	switch format {
	case app.PayrollExportCSV:
		return &v1.DownloadFile{FileName: name + "-export.csv", ContentType: csvType}, nil
	case app.PayrollExportXLSX:
		return &v1.DownloadFile{FileName: name + "-export.xlsx", ContentType: xlsxType}, nil
	}
	return &v1.DownloadFile{FileName: name + ".xlsx", ContentType: xlsxType}, nil
}

// WritePayroll writes a payroll file of a bonus run to w (see
// app.App.WritePayroll), with times in the organisation's time zone.
// The API, the HTTP downloads and the CLI share it. Errors: ENOTFOUND,
// EINVALID, and any error writing to w.
func (s *Server) WritePayroll(ctx context.Context, runID string, format app.PayrollFormat, locale string, w io.Writer) error {
	loc, err := s.orgLocation(ctx)
	if err != nil {
		return err
	}
	return s.app.WritePayroll(ctx, runID, format, locale, loc, w)
}

// downloadMsg is one message of a download stream: exactly one field set.
type downloadMsg struct {
	progress *v1.DownloadProgress
	file     *v1.DownloadFile
	chunk    []byte
}

// workbookWriter writes a workbook to w, reporting progress.
type workbookWriter func(ctx context.Context, w io.Writer, progress func(done, total int64)) error

// streamDownload runs write in a goroutine into a pipe and sends what it
// writes in chunks, after the file's description; progress reports are
// sent as they come, between chunks. send is never called concurrently.
// A failure before the first byte is returned as it is (a domain error
// keeps its code); the caller's cancellation stops the writer.
func streamDownload(ctx context.Context, file *v1.DownloadFile, send func(downloadMsg) error, write workbookWriter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var sendErr error
	progress := func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if sendErr == nil {
			if sendErr = send(downloadMsg{progress: &v1.DownloadProgress{RowsDone: done, RowsTotal: total}}); sendErr != nil {
				cancel()
			}
		}
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := write(ctx, pw, progress)
		pw.CloseWithError(err)
		done <- err
	}()
	buf := make([]byte, downloadChunk)
	started := false
	for {
		n, err := io.ReadFull(pr, buf)
		if n > 0 {
			mu.Lock()
			if !started {
				started = true
				if sendErr == nil {
					sendErr = send(downloadMsg{file: file})
				}
			}
			if sendErr == nil {
				sendErr = send(downloadMsg{chunk: slices.Clone(buf[:n])})
			}
			failed := sendErr
			mu.Unlock()
			if failed != nil {
				cancel()
				pr.CloseWithError(failed)
				<-done
				return failed
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			<-done
			return err
		}
	}
	if err := <-done; err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return sendErr
}

// auditFileName names an audit workbook after its period and scope.
func auditFileName(q app.AuditQuery) string {
	name := "audit"
	if p, err := app.AuditPeriod(q.From, q.To, nil); err == nil {
		first, last := p.From.Format("2006-01"), p.To.Add(-time.Nanosecond).Format("2006-01")
		name += "-" + first
		if last != first {
			name += "-to-" + last
		}
	}
	for _, s := range []string{q.StoreCode, q.Region} {
		if s != "" {
			name += "-" + s
		}
	}
	return safeFileName(name) + ".xlsx"
}

// safeFileName keeps letters, digits, '-', '_' and '.', replacing the rest.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// AuditQuery completes an audit workbook's query with the organisation's
// time zone and checks it (app.App.CheckAuditQuery) before anything is
// written. The API, the HTTP download and the CLI share it. Errors:
// EINVALID, ENOTFOUND.
func (s *Server) AuditQuery(ctx context.Context, q app.AuditQuery) (app.AuditQuery, error) {
	loc, err := s.orgLocation(ctx)
	if err != nil {
		return q, err
	}
	q.Location = loc
	return q, s.app.CheckAuditQuery(ctx, q)
}

// WriteAuditWorkbook writes the audit workbook of q to w, with links to
// verified photos when the evidence store can sign them (see
// app.App.WriteAuditWorkbook). progress may be nil. The API, the HTTP
// download and the CLI share it. Errors: EINVALID, ENOTFOUND, and any
// error writing to w.
func (s *Server) WriteAuditWorkbook(ctx context.Context, q app.AuditQuery, w io.Writer, progress func(done, total int64)) error {
	return s.app.WriteAuditWorkbook(ctx, q, w, app.AuditWorkbookOptions{Progress: progress, EvidenceLink: s.evidenceLink(ctx)})
}

// evidenceLink returns a function that signs week-long download links to
// verified photos, or nil when links cannot be made (the local store of a
// server that does not know its public URL, as in the offline CLI).
func (s *Server) evidenceLink(ctx context.Context) func(string) string {
	if s.blob == nil || (s.local != nil && s.baseURL() == "") {
		return nil
	}
	return func(sha string) string {
		key, err := blob.Key(sha)
		if err != nil {
			return ""
		}
		u, err := s.blob.PresignGet(ctx, key, blob.MaxTTL)
		if err != nil {
			s.log.WarnContext(ctx, "evidence link", "sha256", sha, "err", err)
			return ""
		}
		return u
	}
}

// reportRoutes serves the workbooks as authenticated HTTP GETs for curl
// and browsers, authorized through the same table as the download RPCs.
func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /reports/audit.xlsx", s.serveAuditWorkbook)
	mux.HandleFunc("GET /reports/payroll/{file}", s.servePayroll)
	mux.HandleFunc("GET /reports/payroll-export/{file}", s.servePayrollExport)
	s.exportRoutes(mux)
}

// serveAuditWorkbook answers GET /reports/audit.xlsx?from=[&to=][&store=|&region=];
// to defaults to from, by the rule every caller shares (app.AuditPeriod).
func (s *Server) serveAuditWorkbook(w http.ResponseWriter, r *http.Request) {
	const procedure = shopscorev1connect.ReportServiceDownloadAuditWorkbookProcedure
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
	params := r.URL.Query()
	for k := range params {
		if !slices.Contains([]string{"from", "to", "store", "region"}, k) {
			s.httpError(ctx, w, r, procedure, audit.Errorf(audit.EINVALID, "unknown parameter %q; want from, to, store or region", k))
			return
		}
	}
	q, err := s.AuditQuery(ctx, app.AuditQuery{Scope: audit.ScopeOf(p), From: params.Get("from"), To: params.Get("to"),
		StoreCode: params.Get("store"), Region: params.Get("region")})
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	s.serveWorkbook(ctx, w, r, procedure, &v1.DownloadFile{FileName: auditFileName(q), ContentType: xlsxType}, func(ctx context.Context, w io.Writer) error {
		return s.WriteAuditWorkbook(ctx, q, w, nil)
	})
}

// servePayroll answers GET /reports/payroll/{run_id}.xlsx.
func (s *Server) servePayroll(w http.ResponseWriter, r *http.Request) {
	const procedure = shopscorev1connect.ReportServiceDownloadPayrollProcedure
	ctx, err := s.authorize(r.Context(), procedure, r.Header.Get("Authorization"))
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	id, ok := strings.CutSuffix(r.PathValue("file"), ".xlsx")
	if !ok || id == "" {
		s.httpError(ctx, w, r, procedure, audit.Errorf(audit.EINVALID, "want /reports/payroll/RUN_ID.xlsx"))
		return
	}
	file, err := s.payrollFile(ctx, id, app.PayrollWorkbook, "")
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	s.serveWorkbook(ctx, w, r, procedure, file, func(ctx context.Context, w io.Writer) error {
		return s.WritePayroll(ctx, id, app.PayrollWorkbook, "", w)
	})
}

// servePayrollExport answers GET /reports/payroll-export/{run_id}.csv or
// .xlsx [?locale=ru|en]: the flat export for payroll systems.
func (s *Server) servePayrollExport(w http.ResponseWriter, r *http.Request) {
	const procedure = shopscorev1connect.ReportServiceDownloadPayrollExportProcedure
	ctx, err := s.authorize(r.Context(), procedure, r.Header.Get("Authorization"))
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	for k := range r.URL.Query() {
		if k != "locale" {
			s.httpError(ctx, w, r, procedure, audit.Errorf(audit.EINVALID, "unknown parameter %q; want locale", k))
			return
		}
	}
	name := r.PathValue("file")
	format, id := app.PayrollExportCSV, ""
	if v, ok := strings.CutSuffix(name, ".csv"); ok {
		id = v
	} else if v, ok := strings.CutSuffix(name, ".xlsx"); ok {
		format, id = app.PayrollExportXLSX, v
	}
	if id == "" {
		s.httpError(ctx, w, r, procedure, audit.Errorf(audit.EINVALID, "want /reports/payroll-export/RUN_ID.csv or RUN_ID.xlsx"))
		return
	}
	locale := r.URL.Query().Get("locale")
	file, err := s.payrollFile(ctx, id, format, locale)
	if err != nil {
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	s.serveWorkbook(ctx, w, r, procedure, file, func(ctx context.Context, w io.Writer) error {
		return s.WritePayroll(ctx, id, format, locale, w)
	})
}

// httpError answers an error of a report GET the way Connect answers a
// unary call (JSON {"code", "message"} with the matching HTTP status),
// through the one error table.
func (s *Server) httpError(ctx context.Context, w http.ResponseWriter, r *http.Request, procedure string, err error) {
	cerr := connectError(ctx, s.log, procedure, err)
	if connect.CodeOf(cerr) == connect.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shopscore"`)
	}
	_ = connect.NewErrorWriter().Write(w, r, cerr)
}

// serveWorkbook streams what write produces into the response through a
// pipe. The status is sent with the first bytes, so a failure before them
// is still answered as an error; a failure after them aborts the
// connection, so that a client never keeps a truncated file as whole.
func (s *Server) serveWorkbook(ctx context.Context, w http.ResponseWriter, r *http.Request, procedure string, file *v1.DownloadFile, write func(context.Context, io.Writer) error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := write(ctx, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	buf := make([]byte, downloadChunk)
	n, err := io.ReadFull(pr, buf)
	if n == 0 {
		<-done
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("the workbook is empty")
		}
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		<-done // the writer failed before the first chunk was complete
		s.httpError(ctx, w, r, procedure, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", file.ContentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file.FileName))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if err != nil {
		h.Set("Content-Length", fmt.Sprint(n)) // the whole file fits in one chunk
	}
	if _, werr := w.Write(buf[:n]); werr != nil {
		cancel()
		pr.CloseWithError(werr)
		<-done
		return
	}
	if err == nil {
		if _, err = io.CopyBuffer(w, pr, buf); err != nil {
			cancel()
			pr.CloseWithError(err)
		}
	}
	if werr := <-done; werr != nil || (err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)) {
		s.log.WarnContext(ctx, "report download failed after it started", "procedure", procedure, "err", errors.Join(werr, err))
		panic(http.ErrAbortHandler)
	}
}

// causesToProto converts the rulings a change cites.
func causesToProto(cs []reports.Cause) []*v1.BonusChangeCause {
	var out []*v1.BonusChangeCause
	for _, c := range cs {
		out = append(out, &v1.BonusChangeCause{AppealId: c.AppealID, VisitId: c.VisitID, StoreCode: c.StoreCode, StoreName: c.StoreName,
			VisitTime: timestamp(c.VisitedAt), RuleTime: timestamp(c.RuledAt), RuledByName: c.RuledBy, Upheld: int32(c.Upheld),
			Questions: int32(c.Questions), ScoreBefore: c.ScoreBefore, ScoreAfter: c.ScoreAfter})
	}
	return out
}
