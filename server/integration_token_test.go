package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
)

// exportGet fetches an export URL (path and query) with a bearer token
// and returns the status, the next cursor and the body.
func exportGet(tb testing.TB, ts *TestServer, token, pathQuery string) (int, string, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+pathQuery, nil)
	require.NoError(tb, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, resp.Header.Get(server.NextCursorHeader), body
}

// TestIntegrationTokens: an admin makes scoped tokens, shown once and
// stored hashed; each reaches the procedures of its scopes and nothing
// else, through the same table; a revoked one is refused on its next call.
func TestIntegrationTokens(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	manager := mustLogin(t, c, audit.RoleManager, "desk").Tokens.AccessToken
	hooks := shopscorev1connect.NewWebhookServiceClient(http.DefaultClient, ts.URL)

	_, err := call(t, c.Admin.CreateIntegrationToken, manager, &v1.CreateIntegrationTokenRequest{Name: "BI", Scopes: []string{"reports"}})
	requireCode(t, connect.CodePermissionDenied, err, "a manager makes no token")
	_, err = call(t, c.Admin.CreateIntegrationToken, admin, &v1.CreateIntegrationTokenRequest{Name: "BI", Scopes: []string{"everything"}})
	requireCode(t, connect.CodeInvalidArgument, err)
	assert.Contains(t, err.Error(), `"everything"`)
	_, err = call(t, c.Admin.CreateIntegrationToken, admin, &v1.CreateIntegrationTokenRequest{Name: " ", Scopes: []string{"reports"}})
	requireCode(t, connect.CodeInvalidArgument, err)

	bi, err := call(t, c.Admin.CreateIntegrationToken, admin, &v1.CreateIntegrationTokenRequest{Name: "Power BI", Scopes: []string{"reports"}})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(bi.Secret, audit.IntegrationTokenPrefix), bi.Secret)
	assert.Equal(t, []string{"reports"}, bi.Token.Scopes)
	assert.Nil(t, bi.Token.LastUsedTime)
	ops, err := call(t, c.Admin.CreateIntegrationToken, admin, &v1.CreateIntegrationTokenRequest{Name: "deploy script", Scopes: []string{"webhooks"}})
	require.NoError(t, err)

	// Stored hashed: the secret is in no column of the table.
	rows, err := ts.Storage().IntegrationTokens().List(context.Background())
	require.NoError(t, err)
	for _, r := range rows {
		assert.NotContains(t, fmt.Sprintf("%+v", *r), bi.Secret)
		assert.NotContains(t, fmt.Sprintf("%+v", *r), ops.Secret)
		assert.Len(t, r.Hash, 64, "hex SHA-256")
	}

	// Within the scope: reports read, for every store.
	stores, err := call(t, c.Org.ListStores, bi.Secret, &v1.ListStoresRequest{})
	require.NoError(t, err)
	assert.NotEmpty(t, stores.Stores)
	status, cursor, _ := exportGet(t, ts, bi.Secret, "/exports/visits.csv")
	assert.Equal(t, http.StatusOK, status)
	assert.NotEmpty(t, cursor)
	_, err = call(t, hooks.ListWebhookEndpoints, ops.Secret, &v1.ListWebhookEndpointsRequest{})
	require.NoError(t, err, "the webhooks scope manages webhooks")

	// Outside it: refused, whatever the procedure's roles.
	_, err = call(t, hooks.ListWebhookEndpoints, bi.Secret, &v1.ListWebhookEndpointsRequest{})
	requireCode(t, connect.CodePermissionDenied, err, "reports token on webhooks")
	assert.Contains(t, err.Error(), "webhooks scope")
	_, err = call(t, c.Admin.ListUsers, bi.Secret, &v1.ListUsersRequest{})
	requireCode(t, connect.CodePermissionDenied, err, "no token reaches users")
	_, err = call(t, c.Admin.CreateIntegrationToken, bi.Secret, &v1.CreateIntegrationTokenRequest{Name: "x", Scopes: []string{"reports"}})
	requireCode(t, connect.CodePermissionDenied, err, "a token makes no token")
	_, err = call(t, c.Review.ApproveVisit, bi.Secret, &v1.ApproveVisitRequest{VisitId: uuid.NewString()})
	requireCode(t, connect.CodePermissionDenied, err, "the reports scope writes nothing")
	_, err = call(t, c.Org.ListStores, ops.Secret, &v1.ListStoresRequest{})
	requireCode(t, connect.CodePermissionDenied, err, "webhooks token on reports")
	status, _, _ = exportGet(t, ts, ops.Secret, "/exports/visits.jsonl")
	assert.Equal(t, http.StatusForbidden, status)
	_, err = call(t, c.Org.ListStores, audit.IntegrationTokenPrefix+"not-a-token", &v1.ListStoresRequest{})
	requireCode(t, connect.CodeUnauthenticated, err)

	// The list shows the last use and never the secret.
	list, err := call(t, c.Admin.ListIntegrationTokens, admin, &v1.ListIntegrationTokensRequest{})
	require.NoError(t, err)
	require.Len(t, list.Tokens, 2)
	assert.Equal(t, "deploy script", list.Tokens[0].Name, "newest first")
	for _, tk := range list.Tokens {
		assert.NotNil(t, tk.LastUsedTime, tk.Name)
		assert.NotEmpty(t, tk.CreatedByName)
		assert.NotContains(t, fmt.Sprint(tk), audit.IntegrationTokenPrefix)
	}

	// Revoked: refused on the very next call, RPC and export alike.
	rv, err := call(t, c.Admin.RevokeIntegrationToken, admin, &v1.RevokeIntegrationTokenRequest{TokenId: bi.Token.Id})
	require.NoError(t, err)
	assert.NotNil(t, rv.Token.RevokeTime)
	_, err = call(t, c.Org.ListStores, bi.Secret, &v1.ListStoresRequest{})
	requireCode(t, connect.CodeUnauthenticated, err)
	status, _, _ = exportGet(t, ts, bi.Secret, "/exports/visits.csv")
	assert.Equal(t, http.StatusUnauthorized, status)
	_, err = call(t, hooks.ListWebhookEndpoints, ops.Secret, &v1.ListWebhookEndpointsRequest{})
	require.NoError(t, err, "the other token lives on")
	_, err = call(t, c.Admin.RevokeIntegrationToken, admin, &v1.RevokeIntegrationTokenRequest{TokenId: uuid.NewString()})
	requireCode(t, connect.CodeNotFound, err)
}

// exportLine is what the test reads of a JSON line of the export.
type exportLine struct {
	VisitID string `json:"visit_id"`
	State   string `json:"state"`
	Store   struct {
		Code, Name string
	} `json:"store"`
	Answers []struct {
		QuestionID   string `json:"question_id"`
		QuestionText string `json:"question_text"`
	} `json:"answers"`
}

// TestExport_ResumesFromCursor pulls the export a few visits at a time
// while a phone keeps pushing visits: every visit comes, none twice in
// the same state, and each answer row names the store and the question.
func TestExport_ResumesFromCursor(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	admin := f.admin
	bi, err := call(t, c.Admin.CreateIntegrationToken, admin, &v1.CreateIntegrationTokenRequest{Name: "Power BI", Scopes: []string{"reports"}})
	require.NoError(t, err)

	// Skip what the demo holds already: the test counts its own visits.
	cursor := ""
	for {
		status, next, body := exportGet(t, ts, bi.Secret, "/exports/visits.jsonl?per=visit&limit=10000&since="+cursor)
		require.Equal(t, http.StatusOK, status, string(body))
		cursor = next
		if len(body) == 0 {
			break
		}
	}

	const visits = 24
	var recs []*recorded
	for range visits {
		a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
		recs = append(recs, record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId))
	}
	pushed := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, rec := range recs {
			resp, err := f.push(t, submit(int64(i+1)+f.seq, rec.visit))
			if err != nil || len(resp.Results) != 1 || resp.Results[0].Status != v1.MutationStatus_MUTATION_STATUS_APPLIED {
				t.Errorf("push visit %d: %v %v", i, err, resp)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	seen := map[string][]string{} // visit → the states it came in, in order
	read := func() int {
		status, next, body := exportGet(t, ts, bi.Secret, "/exports/visits.jsonl?per=visit&limit=3&since="+cursor)
		require.Equal(t, http.StatusOK, status, string(body))
		require.NotEmpty(t, next)
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var l exportLine
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
			states := seen[l.VisitID]
			require.False(t, len(states) > 0 && states[len(states)-1] == l.State, "visit %s came twice as %s", l.VisitID, l.State)
			seen[l.VisitID] = append(states, l.State)
			assert.Equal(t, "MSK-01", l.Store.Code)
			assert.NotEmpty(t, l.Store.Name)
			require.NotEmpty(t, l.Answers)
			for _, a := range l.Answers {
				assert.NotEmpty(t, a.QuestionText, a.QuestionID)
			}
			n++
		}
		require.LessOrEqual(t, n, 3)
		cursor = next
		return n
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			read()
		}
	}
	for read() > 0 {
	}
	for _, rec := range recs {
		pushed[rec.visit.ID] = true
		assert.Contains(t, seen, rec.visit.ID, "visit missed")
	}
	for id := range seen {
		assert.True(t, pushed[id], "visit %s is not one of the test's", id)
	}

	// Nothing changed since: the cursor stays and the body is empty.
	status, next, body := exportGet(t, ts, bi.Secret, "/exports/visits.csv?since="+cursor)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, cursor, next)
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1, "the header row only")

	// A change moves the visit past the cursor: it comes again, once,
	// one CSV row per answer, with names.
	manager := mustLogin(t, c, audit.RoleManager, "desk").Tokens.AccessToken
	for _, p := range recs[0].visit.Photos {
		f.mustUpload(t, recs[0], p)
	}
	_, err = call(t, c.Review.StartReview, manager, &v1.StartReviewRequest{VisitId: recs[0].visit.ID})
	require.NoError(t, err)
	status, next, body = exportGet(t, ts, manager, "/exports/visits.csv?since="+cursor)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.NotEqual(t, cursor, next)
	rows, err = csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 2)
	head := rows[0]
	col := func(name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, head)
		return -1
	}
	for _, r := range rows[1:] {
		assert.Equal(t, recs[0].visit.ID, r[col("visit_id")])
		assert.Equal(t, "in_review", r[col("state")])
		assert.Equal(t, "MSK-01", r[col("store_code")])
		assert.NotEmpty(t, r[col("question_text")])
	}
	assert.Len(t, rows[1:], len(recs[0].visit.Answers))

	// Bad parameters are named.
	status, _, body = exportGet(t, ts, bi.Secret, "/exports/visits.csv?since=nonsense")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(body), "since")
	status, _, body = exportGet(t, ts, bi.Secret, "/exports/visits.csv?per=store")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(body), "per")
	status, _, _ = exportGet(t, ts, "", "/exports/visits.csv")
	assert.Equal(t, http.StatusUnauthorized, status)
	shopper := f.token
	status, _, _ = exportGet(t, ts, shopper, "/exports/visits.csv")
	assert.Equal(t, http.StatusForbidden, status)
}
