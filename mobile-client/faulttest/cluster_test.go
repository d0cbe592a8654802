package faulttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/blob/blobtest"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/storage/testdb"
)

// clusterSize is how many servers a cluster runs (issue 12 §4: three).
const clusterSize = 3

// cluster is several shopscore servers on one PostgreSQL database and
// one S3 bucket, each with a data folder of its own and all with one
// key-encryption key, behind a round-robin Proxy, as a deployment behind
// a load balancer runs them (README, "Running several servers"). The
// device reaches the servers through Proxy and the S3 service, for its
// uploads, through S3Proxy, so that faults hit both. The servers run in
// this process (newCluster) or as child processes of the shopscore
// binary (newProcCluster, for the kill tests).
type cluster struct {
	// DBDir holds the database's URL (testdb.OpenPostgresAt), for
	// readServer and requireExactlyOnce; DatabaseURL is that URL.
	DBDir, DatabaseURL string
	// S3 is the bucket's configuration, shared by every server.
	S3 blob.S3Config
	// KEK is the key-encryption key every server has.
	KEK *auth.KEK
	// Proxy balances the device's connections over the servers; S3Proxy
	// passes the device's uploads on to the S3 service.
	Proxy, S3Proxy *Proxy
	// Servers are the servers in this process (newCluster); Procs the
	// child processes (newProcCluster). Their order is the proxy's.
	Servers []*clusterServer
	Procs   []*serverProc
	// ServerS3 are, on a cluster of processes, a proxy for each server
	// in front of the S3 service, which the server reaches the bucket
	// through (--s3-endpoint), so that a test sees the server's own S3
	// requests; the upload URLs it hands out name it too.
	ServerS3 []*Proxy

	s3Host string // the S3 service's host:port, as upload URLs name it
}

// clusterServer is one server of a cluster in this process.
type clusterServer struct {
	*server.Server
	Addr    string // host:port, as the proxy reaches it
	URL     string // "http://" + Addr, to reach it directly
	DataDir string
	Log     *output // its JSON log lines

	stopOnce sync.Once
	stop     func() // shuts the server down and waits for Serve
}

// Stop shuts the server down (gracefully) before the test ends, as an
// operator stopping one server does; the proxy then finds nothing at its
// address. It may be called more than once.
func (s *clusterServer) Stop() { s.stopOnce.Do(s.stop) }

// clusterOptions change what newCluster starts.
type clusterOptions struct {
	// ExpireEvery is each server's Config.ExpireEvery (0: the default).
	ExpireEvery time.Duration
	// KeyReload is each server's Config.KeyReload (0: the default).
	KeyReload time.Duration
	// LoginRate and LoginAccountRate are each server's login limits
	// (zero: so loose that no test meets them).
	LoginRate, LoginAccountRate server.Rate
	// PushRate is each server's Config.PushRate (zero: the default).
	PushRate server.Rate
}

// newClusterBase makes what both kinds of cluster share: the database
// (migrated, with the demo organisation seeded through a server that is
// closed again), a fresh S3 bucket, the key-encryption key, and the
// proxies in front of addrs and of the S3 service. It skips or fails
// without PostgreSQL or S3 the way pgtest.URL and blobtest.S3Config say.
func newClusterBase(tb testing.TB, addrs []string) *cluster {
	tb.Helper()
	c := &cluster{DBDir: tb.TempDir(), KEK: auth.GenerateKEK()}
	c.S3 = blobtest.S3Config(tb)
	c.S3.Bucket = "shopscore-cluster-" + randomHex(6)
	u, err := url.Parse(c.S3.Endpoint)
	require.NoError(tb, err, "SHOPSCORE_TEST_S3_ENDPOINT")
	c.s3Host = u.Host
	if u.Host == "" {
		c.s3Host = c.S3.Endpoint // a bare host:port
	}

	// The first open makes the database and migrates it; the demo
	// organisation is seeded once, before any server serves.
	db := testdb.OpenPostgresAt(tb, c.DBDir, nil)
	c.DatabaseURL, _ = testdb.URLAt(c.DBDir)
	bucket := c.bucket(tb) // made here, removed when the test ends
	tb.Cleanup(func() { removeBucket(tb, c.S3, c.s3Host) })
	seeder, err := server.New(server.Config{
		Storage: db, DataDir: tb.TempDir(), KeyEncryptionKey: c.KEK, Blob: bucket,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(tb, err)
	_, err = demo.Seed(context.Background(), seeder, demoPassword)
	require.NoError(tb, err)
	require.NoError(tb, seeder.Close())

	c.Proxy, err = NewRoundRobin(addrs...)
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Proxy.Close() })
	c.S3Proxy, err = NewProxy(c.s3Host)
	require.NoError(tb, err)
	tb.Cleanup(func() { c.S3Proxy.Close() })
	return c
}

// newCluster starts n servers in this process on the cluster's database
// and bucket, and stops them when the test ends; upload URLs name the
// proxy.
func newCluster(tb testing.TB, n int, opts clusterOptions) *cluster {
	tb.Helper()
	lns := make([]net.Listener, n)
	addrs := make([]string, n)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(tb, err)
		lns[i], addrs[i] = ln, ln.Addr().String()
	}
	c := newClusterBase(tb, addrs)
	c.startServers(tb, lns, opts)
	return c
}

// startServers starts a server in this process on each listener, on the
// cluster's database (c.DBDir) and key-encryption key, with the cluster's
// bucket or, when it has none (c.S3.Bucket empty: pushes without photos,
// as the benchmarks send), a local blob store of its own; upload URLs
// name c.Proxy. The servers stop when the test ends, or at Stop.
func (c *cluster) startServers(tb testing.TB, lns []net.Listener, opts clusterOptions) {
	tb.Helper()
	if opts.LoginRate == (server.Rate{}) {
		opts.LoginRate = server.Rate{Burst: 10_000, Every: time.Millisecond}
	}
	for i, ln := range lns {
		addr := ln.Addr().String()
		s := &clusterServer{Addr: addr, URL: "http://" + addr, DataDir: tb.TempDir(), Log: &output{}}
		var bucket blob.Bucket
		if c.S3.Bucket != "" {
			bucket = c.bucket(tb)
		}
		srv, err := server.New(server.Config{
			Storage: testdb.OpenPostgresAt(tb, c.DBDir, nil), DataDir: s.DataDir,
			KeyEncryptionKey: c.KEK, KeyReload: opts.KeyReload, Blob: bucket,
			PublicURL: c.Proxy.URL, ExpireEvery: opts.ExpireEvery,
			LoginRate: opts.LoginRate, LoginAccountRate: opts.LoginAccountRate, PushRate: opts.PushRate,
			Logger: slog.New(slog.NewJSONHandler(s.Log, nil)),
		})
		require.NoError(tb, err)
		s.Server = srv
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		s.stop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			assert.NoError(tb, srv.Shutdown(ctx), "shut server %d down", i)
			assert.NoError(tb, <-done, "server %d serves until shut down", i)
		}
		tb.Cleanup(func() {
			s.Stop()
			if tb.Failed() {
				tb.Logf("server %d (%s) log:\n%s", i, s.Addr, s.Log.String())
			}
		})
		c.Servers = append(c.Servers, s)
	}
}

// newProcCluster starts n child processes of the shopscore binary
// (`shopscore serve --database … --data <its own folder>` with the S3
// flags and the key-encryption key in the environment) on the cluster's
// database and bucket, each on a fixed loopback address so that a killed
// one can be started again where the proxy looks for it.
func newProcCluster(tb testing.TB, n int) *cluster {
	tb.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(tb)
	}
	c := newClusterBase(tb, addrs)
	for i := range n {
		s3, err := NewProxy(c.s3Host)
		require.NoError(tb, err)
		tb.Cleanup(func() { s3.Close() })
		c.ServerS3 = append(c.ServerS3, s3)
		p := &serverProc{tb: tb, addr: addrs[i], data: tb.TempDir(),
			args: []string{"--database", c.DatabaseURL, "--public-url", c.Proxy.URL,
				"--s3-endpoint", s3.URL, "--s3-bucket", c.S3.Bucket},
			env: []string{"SHOPSCORE_S3_ACCESS_KEY=" + c.S3.AccessKey, "SHOPSCORE_S3_SECRET_KEY=" + c.S3.SecretKey,
				"SHOPSCORE_KEY_ENCRYPTION_KEY=" + c.KEK.Text()},
		}
		p.start()
		c.Procs = append(c.Procs, p)
	}
	return c
}

// bucket opens the cluster's bucket, as one server does.
func (c *cluster) bucket(tb testing.TB) blob.Bucket {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := blob.NewS3(ctx, c.S3)
	require.NoError(tb, err)
	return b
}

// URLs are the servers' own URLs, in the proxy's order.
func (c *cluster) URLs() []string {
	var out []string
	for _, s := range c.Servers {
		out = append(out, s.URL)
	}
	for _, p := range c.Procs {
		out = append(out, "http://"+p.addr)
	}
	return out
}

// fieldConfig is fieldConfig for a device behind the cluster's proxies:
// it dials S3Proxy for the S3 service (whose upload URLs it is given).
func (c *cluster) fieldConfig(dir string) field.Config {
	cfg := fieldConfig(dir, c.Proxy.URL)
	s3Host, s3Proxy := c.s3Host, c.S3Proxy.Addr
	dialer := &net.Dialer{Timeout: 15 * time.Second}
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == s3Host {
				addr = s3Proxy
			}
			return dialer.DialContext(ctx, network, addr)
		},
		ResponseHeaderTimeout: 2 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}}
	return cfg
}

// deployment is the cluster as the fault tests' bodies see it.
func (c *cluster) deployment() deployment {
	return deployment{
		URL: c.Proxy.URL, AdminURL: c.URLs()[0], DBDir: c.DBDir,
		proxies: []*Proxy{c.Proxy, c.S3Proxy}, field: c.fieldConfig,
	}
}

// removeBucket empties and removes the cluster's bucket.
func removeBucket(tb testing.TB, cfg blob.S3Config, host string) {
	mc, err := minio.New(host, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: false})
	if err != nil {
		tb.Errorf("remove bucket %s: %v", cfg.Bucket, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for obj := range mc.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			tb.Errorf("list bucket %s: %v", cfg.Bucket, obj.Err)
			return
		}
		if err := mc.RemoveObject(ctx, cfg.Bucket, obj.Key, minio.RemoveObjectOptions{}); err != nil {
			tb.Errorf("remove %s from bucket %s: %v", obj.Key, cfg.Bucket, err)
		}
	}
	if err := mc.RemoveBucket(ctx, cfg.Bucket); err != nil {
		tb.Errorf("remove bucket %s: %v", cfg.Bucket, err)
	}
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
