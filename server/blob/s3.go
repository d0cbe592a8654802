package blob

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/shopscore/shopscore/audit"
)

// DefaultS3Region is the region S3Config uses when it names none.
const DefaultS3Region = "us-east-1"

// S3Config says how to reach the bucket of an S3 store.
type S3Config struct {
	// Endpoint is host[:port], or a URL whose scheme (http or https) then
	// decides TLS in place of UseTLS.
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	// Region defaults to DefaultS3Region. Setting it saves the bucket
	// location look-up on every presign.
	Region string
	UseTLS bool
}

// S3 is a Bucket in a bucket of an S3-compatible service, reached with
// path-style addressing through minio-go.
//
// Its upload URLs are presigned (AWS Signature V4) over Content-Type,
// Content-Length and x-amz-checksum-sha256, so a service that checks signed
// headers refuses any other type or size, and one that honours checksums
// refuses other bytes. Verify checks again regardless.
type S3 struct {
	client *minio.Client
	bucket string
}

// NewS3 connects to the service and creates the bucket if it is missing.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	endpoint, secure, err := s3Endpoint(cfg.Endpoint, cfg.UseTLS)
	if err != nil {
		return nil, err
	}
	if cfg.Bucket == "" {
		return nil, errors.New("blob: S3 store needs a bucket")
	}
	region := cfg.Region
	if region == "" {
		region = DefaultS3Region
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 bucket %s: %w", cfg.Bucket, err)
	}
	if !exists {
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: region})
		if code := minio.ToErrorResponse(err).Code; err != nil && code != minio.BucketAlreadyOwnedByYou {
			return nil, fmt.Errorf("blob: create S3 bucket %s: %w", cfg.Bucket, err)
		}
	}
	return &S3{client: client, bucket: cfg.Bucket}, nil
}

// s3Endpoint splits an endpoint into the host[:port] minio-go wants and
// whether to use TLS.
func s3Endpoint(endpoint string, useTLS bool) (string, bool, error) {
	if !strings.Contains(endpoint, "://") {
		if endpoint == "" || strings.Contains(endpoint, "/") {
			return "", false, fmt.Errorf("blob: S3 endpoint %q is not host[:port] or an http(s) URL", endpoint)
		}
		return endpoint, useTLS, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return "", false, fmt.Errorf("blob: S3 endpoint %q is not host[:port] or an http(s) URL", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// PresignPut implements Bucket. The slot's headers are Content-Type,
// Content-Length and X-Amz-Checksum-Sha256 (the base64 digest), all signed.
func (s *S3) PresignPut(ctx context.Context, key string, size int64, sha256Hex, contentType string, ttl time.Duration) (UploadSlot, error) {
	sum, err := validPut(key, size, sha256Hex, contentType, ttl)
	if err != nil {
		return UploadSlot{}, err
	}
	headers := map[string]string{
		"Content-Type":          contentType,
		"Content-Length":        strconv.FormatInt(size, 10),
		"X-Amz-Checksum-Sha256": base64.StdEncoding.EncodeToString(sum),
	}
	signed := make(http.Header, len(headers))
	for k, v := range headers {
		signed.Set(k, v)
	}
	// The signature's date has whole seconds, so the URL may expire up to
	// a second before now+ttl.
	expires := time.Now().Truncate(time.Second).Add(ttl.Truncate(time.Second))
	u, err := s.client.PresignHeader(ctx, http.MethodPut, s.bucket, key, ttl, nil, signed)
	if err != nil {
		return UploadSlot{}, fmt.Errorf("blob: presign put %s: %w", key, err)
	}
	return UploadSlot{URL: u.String(), Method: http.MethodPut, Headers: headers, ExpiresAt: expires}, nil
}

// PresignGet implements Bucket.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	if err := validTTL(ttl); err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", fmt.Errorf("blob: presign get %s: %w", key, err)
	}
	return u.String(), nil
}

// Stat implements Bucket.
func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	if err := validKey(key); err != nil {
		return Object{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, s3Error("stat", key, err)
	}
	return Object{Key: key, Size: info.Size, ContentType: info.ContentType}, nil
}

// Open implements Bucket.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Error("open", key, err)
	}
	// GetObject is lazy: Stat sends the request, so a missing object is
	// reported here rather than on the first read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s3Error("open", key, err)
	}
	return obj, nil
}

// Delete implements Bucket.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !s3NotFound(err) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// s3Error turns a missing object into audit.ENOTFOUND and wraps any other
// error.
func s3Error(op, key string, err error) error {
	if s3NotFound(err) {
		return audit.Errorf(audit.ENOTFOUND, "photo %s not found", key)
	}
	return fmt.Errorf("blob: %s %s: %w", op, key, err)
}

// s3NotFound reports whether err says the object does not exist.
func s3NotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound":
		return true
	}
	return false
}
