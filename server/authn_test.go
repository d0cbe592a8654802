package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
)

// garbageCodec is the protobuf codec with a broken encoder: every request
// it sends is bytes no protobuf decoder accepts (a field tag with wire
// type 7), while answers decode as usual.
type garbageCodec struct{}

func (garbageCodec) Name() string                { return "proto" }
func (garbageCodec) Marshal(any) ([]byte, error) { return []byte{0x0f, 0xff, 0xff}, nil }
func (garbageCodec) Unmarshal(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return errors.New("not a protobuf message")
	}
	return proto.Unmarshal(b, msg)
}

// TestAuthentication_BeforeDecode sends malformed request bodies over
// every protocol: without a token the answer is Unauthenticated, whatever
// the body, because the caller is authenticated before the body is read;
// with a valid token the same body is the decoder's InvalidArgument.
func TestAuthentication_BeforeDecode(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			shopper := mustLogin(t, clientsOf(ts, p.client, p.opts...), audit.RoleShopper, "authn-"+p.name).Tokens.AccessToken
			admin := mustLogin(t, clientsOf(ts, p.client, p.opts...), audit.RoleAdmin, "authn-"+p.name).Tokens.AccessToken
			opts := append([]connect.ClientOption{connect.WithCodec(garbageCodec{})}, p.opts...)
			sync := shopscorev1connect.NewSyncServiceClient(p.client, ts.URL, opts...)
			adminc := shopscorev1connect.NewAdminServiceClient(p.client, ts.URL, opts...)

			t.Run("unary without a token", func(t *testing.T) {
				_, err := sync.Push(ctx, connect.NewRequest(&v1.PushRequest{}))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("unary with a bad token", func(t *testing.T) {
				_, err := sync.Push(ctx, withToken(connect.NewRequest(&v1.PushRequest{}), "eyJ.eyJ.abc"))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("unary with a token", func(t *testing.T) {
				_, err := sync.Push(ctx, withToken(connect.NewRequest(&v1.PushRequest{}), shopper))
				requireCode(t, connect.CodeInvalidArgument, err)
			})
			t.Run("streaming without a token", func(t *testing.T) {
				stream, err := adminc.StreamSecurityEvents(ctx, connect.NewRequest(&v1.StreamSecurityEventsRequest{}))
				require.NoError(t, err)
				for stream.Receive() {
					t.Fatal("an unauthenticated stream must not send anything")
				}
				requireCode(t, connect.CodeUnauthenticated, stream.Err())
			})
			t.Run("streaming with a token", func(t *testing.T) {
				stream, err := adminc.StreamSecurityEvents(ctx, withToken(connect.NewRequest(&v1.StreamSecurityEventsRequest{}), admin))
				require.NoError(t, err)
				for stream.Receive() {
					t.Fatal("a malformed request must not be answered")
				}
				requireCode(t, connect.CodeInvalidArgument, stream.Err())
			})
			t.Run("public procedure", func(t *testing.T) {
				// Login needs no token: its malformed body reaches the decoder.
				auth := shopscorev1connect.NewAuthServiceClient(p.client, ts.URL, opts...)
				_, err := auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{}))
				requireCode(t, connect.CodeInvalidArgument, err)
			})
		})
	}
	t.Run("connect JSON", func(t *testing.T) {
		// The HTTP status of an unauthenticated Connect call is 401, with
		// a body that is not JSON at all.
		req, err := http.NewRequest(http.MethodPost, ts.URL+shopscorev1connect.SyncServicePushProcedure, strings.NewReader("{not json"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}
