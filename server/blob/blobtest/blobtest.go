// Package blobtest gives tests the S3 test service that .ci/start-s3
// starts (versitygw), so that every package's S3 tests find it, skip, or
// fail in CI the same way.
package blobtest

import (
	"os"
	"testing"

	"github.com/shopscore/shopscore/server/blob"
)

// S3Config returns the S3 test service's configuration from
// SHOPSCORE_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY and the optional
// _BUCKET. Without them the test is skipped with a message saying how to
// start the service, or fails when CI is "true": CI never skips S3.
func S3Config(tb testing.TB) blob.S3Config {
	tb.Helper()
	cfg := blob.S3Config{
		Endpoint:  os.Getenv("SHOPSCORE_TEST_S3_ENDPOINT"),
		AccessKey: os.Getenv("SHOPSCORE_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("SHOPSCORE_TEST_S3_SECRET_KEY"),
		Bucket:    os.Getenv("SHOPSCORE_TEST_S3_BUCKET"),
	}
	if cfg.Endpoint == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		const msg = "it needs an S3 service: set SHOPSCORE_TEST_S3_ENDPOINT, SHOPSCORE_TEST_S3_ACCESS_KEY and " +
			"SHOPSCORE_TEST_S3_SECRET_KEY; start a local versitygw with: eval \"$(bash .ci/start-s3)\""
		if os.Getenv("CI") == "true" {
			tb.Fatal(tb.Name() + ": " + msg + " (CI=true: not skipping)")
		}
		tb.Skip(tb.Name() + ": " + msg)
	}
	return cfg
}
