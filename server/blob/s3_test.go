package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/blob/blobtest"
)

// s3TestConfig returns the S3 service the tests use, from
// SHOPSCORE_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY and the optional
// _BUCKET. Without them the test is skipped, or fails when CI is "true".
func s3TestConfig(tb testing.TB) blob.S3Config {
	tb.Helper()
	return blobtest.S3Config(tb)
}

// rawS3Client returns a minio-go client of cfg's service that goes around
// the store.
func rawS3Client(tb testing.TB, cfg blob.S3Config) *minio.Client {
	tb.Helper()
	endpoint, secure := cfg.Endpoint, cfg.UseTLS
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.Host != "" {
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       blob.DefaultS3Region,
		BucketLookup: minio.BucketLookupPath,
	})
	require.NoError(tb, err)
	return c
}

// newBucketName returns a bucket name no other test uses.
func newBucketName(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(tb, err)
	return "shopscore-test-" + hex.EncodeToString(b)
}

// removeBucket empties and removes a bucket.
func removeBucket(tb testing.TB, c *minio.Client, bucket string) {
	tb.Helper()
	ctx := context.Background()
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		require.NoError(tb, obj.Err)
		require.NoError(tb, c.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{}))
	}
	require.NoError(tb, c.RemoveBucket(ctx, bucket))
}

// s3Fixture is an S3 store under test and a client around it.
type s3Fixture struct {
	harness
	s3     *blob.S3
	cfg    blob.S3Config
	client *minio.Client
}

// mustOpenS3 returns an S3 store in SHOPSCORE_TEST_S3_BUCKET, or else in
// a new bucket removed with the test. Each test photo is unique to its
// test and deleted after it, so a shared bucket is left as it was.
func mustOpenS3(tb testing.TB) s3Fixture {
	tb.Helper()
	cfg := s3TestConfig(tb)
	client := rawS3Client(tb, cfg)
	if cfg.Bucket == "" {
		cfg.Bucket = newBucketName(tb)
		tb.Cleanup(func() { removeBucket(tb, client, cfg.Bucket) })
	}
	s, err := blob.NewS3(context.Background(), cfg)
	require.NoError(tb, err)
	f := s3Fixture{s3: s, cfg: cfg, client: client}
	f.store = s
	f.putRaw = func(t *testing.T, key string, data []byte) {
		t.Helper()
		_, err := client.PutObject(t.Context(), cfg.Bucket, key, bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{ContentType: jpeg})
		require.NoError(t, err)
	}
	return f
}

func TestS3_PresignPut(t *testing.T) {
	f := mustOpenS3(t)
	testPresignPut(t, f.harness)
	t.Run("SignsHeaders", func(t *testing.T) {
		p := newPhoto(t, f.harness, 1000, 1)
		slot := presign(t, f.harness, p, ttl)
		sum, err := hex.DecodeString(p.sha)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{
			"Content-Type":          jpeg,
			"Content-Length":        "1000",
			"X-Amz-Checksum-Sha256": base64.StdEncoding.EncodeToString(sum),
		}, slot.Headers)
		u, err := url.Parse(slot.URL)
		require.NoError(t, err)
		assert.Equal(t, "content-length;content-type;host;x-amz-checksum-sha256", u.Query().Get("X-Amz-SignedHeaders"))
		assert.Equal(t, "/"+f.cfg.Bucket+"/"+p.key, u.Path, "path-style URL")
	})
	t.Run("ErrWrongChecksumHeader", func(t *testing.T) {
		p := newPhoto(t, f.harness, 1000, 1)
		other := newPhoto(t, f.harness, 1000, 2)
		otherSlot := presign(t, f.harness, other, ttl)
		status := upload(t, presign(t, f.harness, p, ttl), other.data, func(r *http.Request) {
			r.Header.Set("X-Amz-Checksum-Sha256", otherSlot.Headers["X-Amz-Checksum-Sha256"])
		})
		requireRefused(t, f.harness, p, status)
	})
	t.Run("ErrNoChecksumHeader", func(t *testing.T) {
		p := newPhoto(t, f.harness, 1000, 1)
		status := upload(t, presign(t, f.harness, p, ttl), p.data, func(r *http.Request) {
			r.Header.Del("X-Amz-Checksum-Sha256")
		})
		requireRefused(t, f.harness, p, status)
	})
}

func TestS3_PresignGet(t *testing.T) { testPresignGet(t, mustOpenS3(t).harness) }
func TestS3_Stat(t *testing.T)       { testStat(t, mustOpenS3(t).harness) }
func TestS3_Open(t *testing.T)       { testOpen(t, mustOpenS3(t).harness) }
func TestS3_Delete(t *testing.T)     { testDelete(t, mustOpenS3(t).harness) }
func TestS3_Verify(t *testing.T)     { testVerify(t, mustOpenS3(t).harness) }

func TestNewS3(t *testing.T) {
	t.Run("ErrEndpoint", func(t *testing.T) {
		for _, endpoint := range []string{"", "ftp://127.0.0.1:9000", "http://127.0.0.1:9000/path", "127.0.0.1:9000/path", "http://"} {
			_, err := blob.NewS3(t.Context(), blob.S3Config{Endpoint: endpoint, AccessKey: "a", SecretKey: "s", Bucket: "b"})
			assert.Error(t, err, "endpoint %q", endpoint)
		}
	})
	t.Run("ErrNoBucket", func(t *testing.T) {
		_, err := blob.NewS3(t.Context(), blob.S3Config{Endpoint: "127.0.0.1:9000", AccessKey: "a", SecretKey: "s"})
		require.Error(t, err)
	})
	t.Run("CreatesBucket", func(t *testing.T) {
		cfg := s3TestConfig(t)
		cfg.Bucket = newBucketName(t)
		client := rawS3Client(t, cfg)
		t.Cleanup(func() { removeBucket(t, client, cfg.Bucket) })
		_, err := blob.NewS3(t.Context(), cfg)
		require.NoError(t, err)
		exists, err := client.BucketExists(t.Context(), cfg.Bucket)
		require.NoError(t, err)
		assert.True(t, exists)
		_, err = blob.NewS3(t.Context(), cfg)
		require.NoError(t, err, "an existing bucket")
	})
	t.Run("HostPortEndpoint", func(t *testing.T) {
		cfg := s3TestConfig(t)
		u, err := url.Parse(cfg.Endpoint)
		require.NoError(t, err)
		if u.Host != "" {
			cfg.Endpoint, cfg.UseTLS = u.Host, u.Scheme == "https"
		}
		f := mustOpenS3(t)
		cfg.Bucket = f.cfg.Bucket
		s, err := blob.NewS3(t.Context(), cfg)
		require.NoError(t, err)
		p := newPhoto(t, f.harness, 1000, 1)
		put(t, harness{store: s}, p)
		require.NoError(t, blob.Verify(t.Context(), f.store, p.key, 1000, p.sha))
	})
	t.Run("ErrCredentials", func(t *testing.T) {
		cfg := s3TestConfig(t)
		cfg.SecretKey = strings.Repeat("x", 40)
		cfg.Bucket = newBucketName(t)
		_, err := blob.NewS3(t.Context(), cfg)
		require.Error(t, err)
	})
}
