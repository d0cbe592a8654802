package server_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"

	"connectrpc.com/connect"
	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

// TestServer is a real server listening on a loopback port, with its own
// data folder, seeded with the demo organisation.
type TestServer = servertest.Running

const demoPassword = servertest.DemoPassword

// MustRunServer starts a server on 127.0.0.1:0 with a fresh data folder and
// the demo data, and stops it when the test ends. cfg may be nil.
func MustRunServer(tb testing.TB, cfg *server.Config) *TestServer {
	tb.Helper()
	var c server.Config
	if cfg != nil {
		c = *cfg
	}
	return servertest.Run(tb, c)
}

// h2c is an HTTP client speaking cleartext HTTP/2, as gRPC needs.
func h2c() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{}}}
}

// protocols are the wire protocols every end-to-end test runs over.
var protocols = []struct {
	name   string
	client *http.Client
	opts   []connect.ClientOption
}{
	{"connect", http.DefaultClient, nil},
	{"grpc", h2c(), []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", http.DefaultClient, []connect.ClientOption{connect.WithGRPCWeb()}},
}

// Clients are the generated clients of one server over one protocol.
type Clients struct {
	Auth       shopscorev1connect.AuthServiceClient
	Admin      shopscorev1connect.AdminServiceClient
	Checklist  shopscorev1connect.ChecklistServiceClient
	Org        shopscorev1connect.OrgServiceClient
	Assignment shopscorev1connect.AssignmentServiceClient
	Sync       shopscorev1connect.SyncServiceClient
	Evidence   shopscorev1connect.EvidenceServiceClient
	Review     shopscorev1connect.ReviewServiceClient
}

func clientsOf(ts *TestServer, client *http.Client, opts ...connect.ClientOption) Clients {
	return Clients{
		Auth:       shopscorev1connect.NewAuthServiceClient(client, ts.URL, opts...),
		Admin:      shopscorev1connect.NewAdminServiceClient(client, ts.URL, opts...),
		Checklist:  shopscorev1connect.NewChecklistServiceClient(client, ts.URL, opts...),
		Org:        shopscorev1connect.NewOrgServiceClient(client, ts.URL, opts...),
		Assignment: shopscorev1connect.NewAssignmentServiceClient(client, ts.URL, opts...),
		Sync:       shopscorev1connect.NewSyncServiceClient(client, ts.URL, opts...),
		Evidence:   shopscorev1connect.NewEvidenceServiceClient(client, ts.URL, opts...),
		Review:     shopscorev1connect.NewReviewServiceClient(client, ts.URL, opts...),
	}
}

// call sends msg with a bearer token; a shorthand for the many calls the
// tests make as one user.
func call[Req, Resp any](tb testing.TB, fn func(context.Context, *connect.Request[Req]) (*connect.Response[Resp], error), token string, msg *Req) (*Resp, error) {
	tb.Helper()
	resp, err := fn(context.Background(), withToken(connect.NewRequest(msg), token))
	if err != nil {
		return nil, err
	}
	return resp.Msg, nil
}

// withToken returns req with a bearer token.
func withToken[T any](req *connect.Request[T], token string) *connect.Request[T] {
	req.Header().Set("Authorization", "Bearer "+token)
	return req
}

// mustLogin logs a demo user in on a device and returns the response.
func mustLogin(tb testing.TB, c Clients, role audit.Role, device string) *v1.LoginResponse {
	tb.Helper()
	resp, err := c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[role], Password: demoPassword, DeviceId: device, DeviceName: "test device",
	}))
	require.NoError(tb, err)
	return resp.Msg
}

// requireCode asserts that err is a Connect error with the given code.
func requireCode(tb testing.TB, want connect.Code, err error, why ...string) {
	tb.Helper()
	require.Error(tb, err, why)
	require.Equal(tb, want, connect.CodeOf(err), "error: %v %v", err, why)
}

// activeKey reads the server's active private signing key from its
// database, opened with the key-encryption key of its data folder, for
// tests that forge tokens with a valid signature.
func activeKey(tb testing.TB, ts *TestServer) jose.JSONWebKey {
	tb.Helper()
	kek, err := auth.ReadKEKFile(filepath.Join(ts.DataDir, server.KEKFileName))
	require.NoError(tb, err)
	rows, err := ts.Storage().SigningKeys().List(context.Background(), auth.AccessTokenKeys)
	require.NoError(tb, err)
	for _, r := range rows {
		if r.RetiredAt.IsZero() {
			priv, err := kek.OpenSigningKey(r)
			require.NoError(tb, err)
			return jose.JSONWebKey{Key: priv, KeyID: r.KID, Algorithm: string(jose.EdDSA), Use: "sig"}
		}
	}
	tb.Fatal("no active signing key")
	return jose.JSONWebKey{}
}
