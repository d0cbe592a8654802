package faulttest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/demo"
)

// nginxConf is the sample configuration the README points at.
const nginxConf = "../../docs/nginx.conf"

// nginxBinary returns the path of Debian's nginx, or skips the test
// (fails it when CI is "true": .ci/run installs nginx).
func nginxBinary(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	const msg = "it needs nginx as the load balancer: apt-get install nginx (Debian's package; .ci/run installs it)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(tb.Name() + ": " + msg + " (CI=true: not skipping)")
	}
	tb.Skip(tb.Name() + ": " + msg)
	return ""
}

// nginxAddrs are where runNginx's servers listen: the sample's HTTP/1.1
// one, its h2c one, and its TLS one (commented out in the sample, which
// the test uncomments) with the certificate in CertPEM.
type nginxAddrs struct {
	HTTP, GRPC, TLS string
	CertPEM         []byte
}

// runNginx starts nginx with docs/nginx.conf in front of the servers at
// addrs (its three upstream servers replaced by them, in order) on the
// addresses at (setting its CertPEM), in dir. It returns the access
// log's path.
func runNginx(tb testing.TB, bin, dir string, addrs []string, at *nginxAddrs) string {
	tb.Helper()
	sample, err := os.ReadFile(nginxConf)
	require.NoError(tb, err)
	conf := string(sample)
	// The TLS server at the sample's end, uncommented.
	tlsStart := strings.Index(conf, "\n# server {\n")
	require.GreaterOrEqual(tb, tlsStart, 0, "the commented TLS server in %s", nginxConf)
	var tlsConf []string
	for _, line := range strings.Split(conf[tlsStart+1:], "\n") {
		tlsConf = append(tlsConf, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
	}
	conf = conf[:tlsStart+1] + strings.Join(tlsConf, "\n")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM, keyPEM := selfSigned(tb)
	at.CertPEM = certPEM
	require.NoError(tb, os.WriteFile(certFile, certPEM, 0o600))
	require.NoError(tb, os.WriteFile(keyFile, keyPEM, 0o600))
	upstreams := regexp.MustCompile(`server 10\.0\.0\.1([123]):8080`)
	require.Len(tb, upstreams.FindAllString(conf, -1), 2*len(addrs), "two upstream blocks of three servers in %s", nginxConf)
	conf = upstreams.ReplaceAllStringFunc(conf, func(m string) string {
		return "server " + addrs[int(m[len("server 10.0.0.1")]-'1')]
	})
	accessLog := filepath.Join(dir, "access.log")
	for _, r := range []struct{ old, new string }{
		{"listen 8080;", "listen " + at.HTTP + ";"},
		{"listen 8081 http2;", "listen " + at.GRPC + " http2;"},
		{"listen 443 ssl http2;", "listen " + at.TLS + " ssl http2;"},
		{"/etc/ssl/certs/audits.example.com.pem", certFile},
		{"/etc/ssl/private/audits.example.com.key", keyFile},
		{"/var/log/nginx/shopscore.log", accessLog},
	} {
		require.Contains(tb, conf, r.old, nginxConf)
		conf = strings.ReplaceAll(conf, r.old, r.new)
	}
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "shopscore.conf"), []byte(conf), 0o600))

	// The main configuration around it: in the foreground, every file in
	// dir, workers as this user.
	var main strings.Builder
	fmt.Fprintf(&main, "daemon off;\nworker_processes 1;\npid %s;\nerror_log %s warn;\n",
		filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"))
	if os.Geteuid() == 0 {
		main.WriteString("user root;\n") // the test's folders are the test's own
	}
	main.WriteString("events { worker_connections 256; }\nhttp {\n")
	for _, temp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&main, "    %s_temp_path %s;\n", temp, filepath.Join(dir, temp))
	}
	fmt.Fprintf(&main, "    include %s;\n}\n", filepath.Join(dir, "shopscore.conf"))
	mainPath := filepath.Join(dir, "nginx.conf")
	require.NoError(tb, os.WriteFile(mainPath, []byte(main.String()), 0o600))

	args := []string{"-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", mainPath}
	out, err := exec.Command(bin, append([]string{"-t"}, args...)...).CombinedOutput()
	require.NoError(tb, err, "nginx -t:\n%s", out)
	// Its own process group, so that the workers stop with the master;
	// its output in a file, which no worker holds a pipe of.
	logFile, err := os.Create(filepath.Join(dir, "nginx.out"))
	require.NoError(tb, err)
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(tb, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tb.Cleanup(func() {
		// SIGTERM: nginx's fast shutdown; then nothing of the group is left.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Errorf("nginx did not stop within 10 s of SIGTERM")
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})
	output := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "nginx.out"))
		return string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range []string{at.HTTP, at.GRPC, at.TLS} {
		for {
			conn, err := net.Dial("tcp", addr)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case err := <-done:
				require.FailNow(tb, "nginx exited", "%v\n%s", err, output())
			default:
			}
			require.True(tb, time.Now().Before(deadline), "nginx does not listen on %s:\n%s", addr, output())
			time.Sleep(20 * time.Millisecond)
		}
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			errs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			tb.Logf("nginx error log:\n%s", errs)
		}
	})
	return accessLog
}

// TestCluster_Nginx puts Debian's nginx, configured by docs/nginx.conf, in
// front of three servers as a real load balancer: Connect (binary and
// JSON) and gRPC-Web over HTTP/1.1, gRPC over h2c, all of them on the TLS
// port (HTTP/2 by ALPN, and HTTP/1.1), the health check, and a
// field client's whole sync (login, pull, push, photos to S3, finalize)
// pass through it, nginx spreads the requests over every server, and
// with one server stopped the others answer everything.
func TestCluster_Nginx(t *testing.T) {
	bin := nginxBinary(t)
	ctx := context.Background()
	c := newCluster(t, clusterSize, clusterOptions{})
	at := nginxAddrs{HTTP: freeAddr(t), GRPC: freeAddr(t), TLS: freeAddr(t)}
	accessLog := runNginx(t, bin, t.TempDir(), c.Addrs(), &at)
	base, grpcBase, tlsBase := "http://"+at.HTTP, "http://"+at.GRPC, "https://localhost:"+strings.Split(at.TLS, ":")[1]

	// Connect over HTTP/1.1, binary.
	http1 := &http.Client{Transport: &http.Transport{}}
	login, err := shopscorev1connect.NewAuthServiceClient(http1, base).Login(ctx, connect.NewRequest(&v1.LoginRequest{
		Email: demo.Users[audit.RoleAdmin], Password: demoPassword, DeviceId: "desk-nginx",
	}))
	require.NoError(t, err, "Connect through nginx")
	token := login.Msg.GetTokens().GetAccessToken()
	whoAmI := func(client connect.HTTPClient, url string, opts ...connect.ClientOption) (*v1.WhoAmIResponse, error) {
		req := connect.NewRequest(&v1.WhoAmIRequest{})
		req.Header().Set("Authorization", "Bearer "+token)
		resp, err := shopscorev1connect.NewAuthServiceClient(client, url, opts...).WhoAmI(ctx, req)
		if err != nil {
			return nil, err
		}
		return resp.Msg, nil
	}
	// Connect JSON and gRPC-Web over HTTP/1.1, gRPC over h2c; on the
	// TLS port, everything over HTTP/2 (ALPN) and over HTTP/1.1.
	h2c := &http.Client{Transport: &http.Transport{Protocols: h2cOnly()}}
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(at.CertPEM))
	tlsClient := func(h2 bool) *http.Client {
		var p http.Protocols
		p.SetHTTP1(!h2)
		p.SetHTTP2(h2)
		return &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	}
	h2, h1s := tlsClient(true), tlsClient(false)
	for _, tc := range []struct {
		name   string
		client connect.HTTPClient
		url    string
		opts   []connect.ClientOption
	}{
		{"Connect", http1, base, nil},
		{"ConnectJSON", http1, base, []connect.ClientOption{connect.WithProtoJSON()}},
		{"gRPC-Web", http1, base, []connect.ClientOption{connect.WithGRPCWeb()}},
		{"gRPC", h2c, grpcBase, []connect.ClientOption{connect.WithGRPC()}},
		{"TLS/Connect", h2, tlsBase, nil},
		{"TLS/gRPC", h2, tlsBase, []connect.ClientOption{connect.WithGRPC()}},
		{"TLS/gRPC-Web", h2, tlsBase, []connect.ClientOption{connect.WithGRPCWeb()}},
		{"TLS/HTTP1.1/Connect", h1s, tlsBase, nil},
		{"TLS/HTTP1.1/gRPC-Web", h1s, tlsBase, []connect.ClientOption{connect.WithGRPCWeb()}},
	} {
		for range clusterSize { // every server answers each protocol
			me, err := whoAmI(tc.client, tc.url, tc.opts...)
			require.NoError(t, err, "%s through nginx", tc.name)
			assert.Equal(t, demo.Users[audit.RoleAdmin], me.GetUser().GetEmail(), tc.name)
		}
	}

	// The health check a load balancer polls: gRPC health over Connect.
	resp, err := http1.Post(base+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "health: %s", body)
	assert.JSONEq(t, `{"status":"SERVING_STATUS_SERVING"}`, string(body))

	// A device's whole sync through nginx; its photos go to S3 directly.
	mustImportPack(t, base, faultPack)
	dev := mustOpenField(t, fieldConfig(t.TempDir(), base))
	rnd := rand.New(rand.NewPCG(9, 12))
	var ids []string
	photos := 0
	for range 3 {
		id, n := recordVisit(t, dev, rnd, 8<<10, 64<<10, 1<<10)
		ids, photos = append(ids, id), photos+n
	}
	syncUntilDone(t, dev, 3)
	requireNothingWaits(t, dev)
	requireExactlyOnce(t, c.DBDir, ids, photos)

	// nginx spread the requests over every server.
	logged, err := os.ReadFile(accessLog)
	require.NoError(t, err)
	for _, addr := range c.Addrs() {
		assert.Contains(t, string(logged), "upstream="+addr, "nginx sent requests to %s", addr)
	}
	assert.NotContains(t, string(bytes.ToLower(logged)), "upstream_status=5", "no server error through nginx")

	// One server stops: nginx passes the requests it would have sent
	// there to the others (proxy_next_upstream, grpc_next_upstream).
	c.Servers[clusterSize-1].Stop()
	for range 2 * clusterSize {
		for _, tc := range []struct {
			client connect.HTTPClient
			url    string
			opts   []connect.ClientOption
		}{{http1, base, nil}, {h2c, grpcBase, []connect.ClientOption{connect.WithGRPC()}}} {
			_, err := whoAmI(tc.client, tc.url, tc.opts...)
			require.NoError(t, err, "through nginx with %s stopped", c.Servers[clusterSize-1].Addr)
		}
	}
}

// selfSigned returns a certificate for localhost and its key, in PEM.
func selfSigned(tb testing.TB) (certPEM, keyPEM []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), cryptorand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(cryptorand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(tb, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(tb, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// h2cOnly is the protocols of a client that speaks cleartext HTTP/2 with
// prior knowledge, as gRPC clients do without TLS.
func h2cOnly() *http.Protocols {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &p
}

// Addrs are the servers' host:port addresses, in the proxy's order.
func (c *cluster) Addrs() []string {
	var out []string
	for _, u := range c.URLs() {
		out = append(out, strings.TrimPrefix(u, "http://"))
	}
	return out
}
