package field

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/audit/demopack"
	"github.com/shopscore/shopscore/sync/protocol"
)

// fakeServer is an in-memory stand-in for the shopscore server's auth,
// sync and evidence endpoints, following the contract in sync.proto, with
// knobs to inject the faults the unit tests need. The end-to-end tests run
// against the real server.
type fakeServer struct {
	t   testing.TB
	URL string

	mu         sync.Mutex
	epoch      string
	feed       []*v1.Change
	pageSize   int
	accessTTL  time.Duration
	access     string
	accessExp  time.Time
	refresh    string
	tokenN     int
	logins     int
	refreshes  int
	appliedSeq int64
	results    map[int64]*v1.MutationResult
	visits     map[string]*v1.Visit
	blobs      map[string][]byte
	verified   map[string]bool // by slot "visit/question/index"
	pushes     int

	// Faults.
	rejectVisit    func(*v1.Visit) string // a rejection message, or ""
	pushFailures   int                    // answer Unavailable this many times
	abortOnce      bool                   // answer the next push Aborted (gap)
	corruptUploads int                    // store wrong bytes this many times
	refuseUpload   map[string]bool        // by sha: the upload URL answers 403
	revokeAccess   bool                   // the current access token is refused once
}

const fakeShopper = "user-shopper"

func newFakeServer(t testing.TB) *fakeServer {
	t.Helper()
	f := &fakeServer{
		t: t, epoch: "e1", pageSize: 2, accessTTL: 10 * time.Minute,
		results: map[int64]*v1.MutationResult{}, visits: map[string]*v1.Visit{},
		blobs: map[string][]byte{}, verified: map[string]bool{}, refuseUpload: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.Handle(shopscorev1connect.NewAuthServiceHandler(fakeAuth{f: f}))
	mux.Handle(shopscorev1connect.NewSyncServiceHandler(fakeSync{f}))
	mux.Handle(shopscorev1connect.NewEvidenceServiceHandler(fakeEvidence{f}))
	mux.HandleFunc("PUT /upload/{sha}", f.upload)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeServer) issue() *v1.Tokens {
	f.tokenN++
	f.access = fmt.Sprintf("at-%d", f.tokenN)
	f.accessExp = time.Now().Add(f.accessTTL)
	f.refresh = fmt.Sprintf("rt-%d", f.tokenN)
	return &v1.Tokens{
		AccessToken: f.access, AccessTokenExpireTime: timestamppb.New(f.accessExp),
		RefreshToken: f.refresh, RefreshTokenExpireTime: timestamppb.New(time.Now().Add(24 * time.Hour)),
	}
}

// authorize checks the bearer token; f.mu is held.
func (f *fakeServer) authorize(h http.Header) error {
	if f.revokeAccess {
		f.revokeAccess = false
		f.access = "revoked"
	}
	if h.Get("Authorization") != "Bearer "+f.access || time.Now().After(f.accessExp) {
		return connect.NewError(connect.CodeUnauthenticated, errors.New("access token expired or revoked"))
	}
	return nil
}

// fakeAuth implements every procedure of AuthService itself, so that a
// procedure added to the service fails to compile here until someone
// decides what the fake answers; those a phone never calls answer
// Unimplemented by name.
type fakeAuth struct{ f *fakeServer }

func (a fakeAuth) Login(_ context.Context, req *connect.Request[v1.LoginRequest]) (*connect.Response[v1.LoginResponse], error) {
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Msg.GetPassword() != "secret" {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("wrong e-mail or password"))
	}
	f.logins++
	role := v1.Role_ROLE_SHOPPER
	if strings.HasPrefix(req.Msg.GetEmail(), "manager") {
		role = v1.Role_ROLE_MANAGER
	}
	return connect.NewResponse(&v1.LoginResponse{
		Tokens: f.issue(), SessionId: "session-1",
		User: &v1.User{Id: fakeShopper, Email: req.Msg.GetEmail(), DisplayName: "Test Shopper", Role: role},
	}), nil
}

func (a fakeAuth) Refresh(_ context.Context, req *connect.Request[v1.RefreshRequest]) (*connect.Response[v1.RefreshResponse], error) {
	f := a.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Msg.GetRefreshToken() != f.refresh || req.Msg.GetDeviceId() == "" {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("refresh token reused"))
	}
	f.refreshes++
	return connect.NewResponse(&v1.RefreshResponse{Tokens: f.issue()}), nil
}

func (fakeAuth) Logout(context.Context, *connect.Request[v1.LogoutRequest]) (*connect.Response[v1.LogoutResponse], error) {
	return connect.NewResponse(&v1.LogoutResponse{}), nil
}

func (fakeAuth) WhoAmI(context.Context, *connect.Request[v1.WhoAmIRequest]) (*connect.Response[v1.WhoAmIResponse], error) {
	return nil, notUsed("WhoAmI")
}

func (fakeAuth) GetNotificationSettings(context.Context, *connect.Request[v1.GetNotificationSettingsRequest]) (*connect.Response[v1.GetNotificationSettingsResponse], error) {
	return nil, notUsed("GetNotificationSettings")
}

func (fakeAuth) SetNotificationSettings(context.Context, *connect.Request[v1.SetNotificationSettingsRequest]) (*connect.Response[v1.SetNotificationSettingsResponse], error) {
	return nil, notUsed("SetNotificationSettings")
}

// notUsed is the fake's answer to a procedure the field client never calls.
func notUsed(procedure string) error {
	return connect.NewError(connect.CodeUnimplemented, fmt.Errorf("%s is not used by the field client", procedure))
}

type fakeSync struct{ f *fakeServer }

func (s fakeSync) Pull(_ context.Context, req *connect.Request[v1.PullRequest]) (*connect.Response[v1.PullResponse], error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authorize(req.Header()); err != nil {
		return nil, err
	}
	pos, ok := protocol.DecodeCursor(req.Msg.GetCursor(), f.epoch)
	resync := !ok
	if !ok {
		pos = 0
	}
	end := min(int(pos)+f.pageSize, len(f.feed))
	return connect.NewResponse(&v1.PullResponse{
		Changes: f.feed[pos:end], NextCursor: protocol.EncodeCursor(f.epoch, int64(end)),
		HasMore: end < len(f.feed), FullResync: resync, ServerTime: timestamppb.Now(),
	}), nil
}

func (f *fakeServer) receipt(v *v1.Visit) *v1.VisitReceipt {
	r := &v1.VisitReceipt{VisitId: v.GetId(), State: v1.VisitState_VISIT_STATE_COMPLETE, ReceiveTime: timestamppb.Now()}
	for _, p := range v.GetPhotos() {
		if !f.verified[slotKey(v.GetId(), p.GetQuestionId(), p.GetIndex())] {
			r.MissingPhotos = append(r.MissingPhotos, &v1.MissingPhoto{QuestionId: p.GetQuestionId(), Index: p.GetIndex(), Sha256: p.GetSha256()})
		}
	}
	if len(r.MissingPhotos) > 0 {
		r.State = v1.VisitState_VISIT_STATE_SUBMITTED
	}
	score := 87.5
	r.ScorePercent = &score
	return r
}

func slotKey(visit, question string, index int32) string {
	return fmt.Sprintf("%s/%s/%d", visit, question, index)
}

func (s fakeSync) Push(_ context.Context, req *connect.Request[v1.PushRequest]) (*connect.Response[v1.PushResponse], error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authorize(req.Header()); err != nil {
		return nil, err
	}
	f.pushes++
	if f.pushFailures > 0 {
		f.pushFailures--
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("server restarting"))
	}
	ms := req.Msg.GetMutations()
	if len(ms) == 0 || len(ms) > 500 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("1..500 mutations"))
	}
	if f.abortOnce || ms[0].GetSeq() > f.appliedSeq+1 {
		f.abortOnce = false
		err := connect.NewError(connect.CodeAborted, fmt.Errorf("sequence gap: resend from %d", f.appliedSeq+1))
		if d, derr := connect.NewErrorDetail(&v1.PushResponse{AppliedSeq: f.appliedSeq}); derr == nil {
			err.AddDetail(d)
		}
		return nil, err
	}
	resp := &v1.PushResponse{ServerTime: timestamppb.Now()}
	for i, m := range ms {
		if i > 0 && m.GetSeq() != ms[i-1].GetSeq()+1 {
			return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("seqs must be consecutive"))
		}
		if old, ok := f.results[m.GetSeq()]; ok {
			r := proto.Clone(old).(*v1.MutationResult)
			if r.Status == v1.MutationStatus_MUTATION_STATUS_APPLIED {
				r.Status = v1.MutationStatus_MUTATION_STATUS_REPLAYED
			}
			if r.Receipt != nil {
				r.Receipt = f.receipt(f.visits[r.Receipt.GetVisitId()])
			}
			resp.Results = append(resp.Results, r)
			continue
		}
		v := m.GetSubmitVisit().GetVisit()
		r := &v1.MutationResult{Seq: m.GetSeq(), MutationId: m.GetMutationId()}
		if msg := ""; f.rejectVisit != nil {
			msg = f.rejectVisit(v)
			if msg != "" {
				r.Status, r.ErrorCode, r.ErrorMessage = v1.MutationStatus_MUTATION_STATUS_REJECTED, "failed_precondition", msg
			}
		}
		if r.Status == v1.MutationStatus_MUTATION_STATUS_UNSPECIFIED {
			f.visits[v.GetId()] = v
			r.Status = v1.MutationStatus_MUTATION_STATUS_APPLIED
			r.Receipt = f.receipt(v)
		}
		f.results[m.GetSeq()] = r
		f.appliedSeq = m.GetSeq()
		resp.Results = append(resp.Results, r)
	}
	resp.AppliedSeq = f.appliedSeq
	return connect.NewResponse(resp), nil
}

type fakeEvidence struct{ f *fakeServer }

func (f *fakeServer) photo(visitID, questionID string, index int32) (*v1.PhotoRef, error) {
	v, ok := f.visits[visitID]
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("no visit %s", visitID))
	}
	for _, p := range v.GetPhotos() {
		if p.GetQuestionId() == questionID && p.GetIndex() == index {
			return p, nil
		}
	}
	return nil, connect.NewError(connect.CodeNotFound, errors.New("no such photo slot"))
}

func (e fakeEvidence) CreateUploadSlot(_ context.Context, req *connect.Request[v1.CreateUploadSlotRequest]) (*connect.Response[v1.CreateUploadSlotResponse], error) {
	f := e.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authorize(req.Header()); err != nil {
		return nil, err
	}
	m := req.Msg
	p, err := f.photo(m.GetVisitId(), m.GetQuestionId(), m.GetIndex())
	if err != nil {
		return nil, err
	}
	if p.GetSha256() != m.GetSha256() || p.GetSizeBytes() != m.GetSizeBytes() {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("slot does not match the visit"))
	}
	if f.verified[slotKey(m.GetVisitId(), m.GetQuestionId(), m.GetIndex())] {
		return connect.NewResponse(&v1.CreateUploadSlotResponse{AlreadyVerified: true}), nil
	}
	return connect.NewResponse(&v1.CreateUploadSlotResponse{
		Url: f.URL + "/upload/" + m.GetSha256(), Method: http.MethodPut,
		Headers: map[string]string{"Content-Type": m.GetContentType(), "X-Upload-Signature": "sig-" + m.GetSha256()[:8]},
	}), nil
}

func (f *fakeServer) upload(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	f.mu.Lock()
	refuse := f.refuseUpload[sha]
	f.mu.Unlock()
	if refuse || r.Header.Get("X-Upload-Signature") != "sig-"+sha[:8] {
		http.Error(w, "signature does not match", http.StatusForbidden)
		return
	}
	b, err := io.ReadAll(r.Body)
	if err != nil || int64(len(b)) != r.ContentLength {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.corruptUploads > 0 {
		f.corruptUploads--
		b = append([]byte("corrupt"), b...)
	}
	f.blobs[sha] = b
}

func (e fakeEvidence) FinalizeUpload(_ context.Context, req *connect.Request[v1.FinalizeUploadRequest]) (*connect.Response[v1.FinalizeUploadResponse], error) {
	f := e.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.authorize(req.Header()); err != nil {
		return nil, err
	}
	m := req.Msg
	p, err := f.photo(m.GetVisitId(), m.GetQuestionId(), m.GetIndex())
	if err != nil {
		return nil, err
	}
	b, ok := f.blobs[p.GetSha256()]
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("nothing uploaded"))
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != p.GetSha256() {
		delete(f.blobs, p.GetSha256())
		return nil, connect.NewError(connect.CodeDataLoss, errors.New("uploaded bytes do not match their hash"))
	}
	f.verified[slotKey(m.GetVisitId(), m.GetQuestionId(), m.GetIndex())] = true
	return connect.NewResponse(&v1.FinalizeUploadResponse{Receipt: f.receipt(f.visits[m.GetVisitId()])}), nil
}

// fixture is the demo pack's data as the server would send it.
type fixture struct {
	storeVisit, backOffice *v1.ChecklistVersion
	store, hq              *v1.Store
	staff                  []*v1.Staff
}

func publishedVersion(t testing.TB, id string, version int) *v1.ChecklistVersion {
	t.Helper()
	pack, err := audit.ParsePack("demo-pack.json", demopack.JSON)
	require.NoError(t, err)
	c, ok := pack.Checklist(id)
	require.True(t, ok, id)
	if version > 1 {
		c.Name += fmt.Sprintf(" (v%d)", version)
	}
	pv, err := audit.Publish(audit.NewDraft(c, version), time.Now())
	require.NoError(t, err)
	content, err := pv.Content.CanonicalJSON()
	require.NoError(t, err)
	return &v1.ChecklistVersion{
		ChecklistId: id, Version: int32(version), Name: pv.Content.Name, Channel: protocol.ChannelToProto(pv.Content.Channel),
		State: v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED, ContentHash: pv.ContentHash, Content: content,
	}
}

func newFixture(t testing.TB) fixture {
	return fixture{
		storeVisit: publishedVersion(t, "store-visit", 1),
		backOffice: publishedVersion(t, "back-office-call", 1),
		store:      &v1.Store{Id: "store-1", Code: "MSK-01", Name: "Tverskaya", Latitude: 55.76, Longitude: 37.6, GeofenceMeters: 150},
		hq:         &v1.Store{Id: "store-hq", Code: "HQ", Name: "Head office"},
		staff: []*v1.Staff{
			{Id: "staff-1", EmployeeNumber: "E1001", Name: "Ivan Sokolov", StoreId: "store-1"},
			{Id: "staff-2", EmployeeNumber: "E1002", Name: "Elena Smirnova", StoreId: "store-1"},
		},
	}
}

func (fx fixture) assignment(id string) *v1.Change {
	now := time.Now()
	return &v1.Change{Kind: &v1.Change_AssignmentUpsert{AssignmentUpsert: &v1.AssignmentUpsert{
		Assignment: &v1.Assignment{
			Id: id, StoreId: fx.store.Id, ChecklistId: "store-visit", ChecklistVersion: 1, Channel: v1.Channel_CHANNEL_STORE_VISIT,
			WindowStartTime: timestamppb.New(now.Add(-time.Hour)), WindowEndTime: timestamppb.New(now.Add(24 * time.Hour)),
			ShopperId: fakeShopper, State: v1.AssignmentState_ASSIGNMENT_STATE_ACCEPTED,
		},
		Store: fx.store, Staff: fx.staff, Checklist: fx.storeVisit,
	}}}
}

func (fx fixture) unplanned() *v1.Change {
	return &v1.Change{Kind: &v1.Change_ChecklistUpsert{ChecklistUpsert: &v1.ChecklistUpsert{
		Checklist: fx.backOffice, Stores: []*v1.Store{fx.hq},
	}}}
}

func (f *fakeServer) setFeed(changes ...*v1.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feed = slices.Clone(changes)
}

func (f *fakeServer) appendFeed(changes ...*v1.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feed = append(f.feed, changes...)
}

func (f *fakeServer) with(fn func(f *fakeServer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}
