package postgres

import (
	"testing"

	"github.com/shopscore/shopscore/server/storage/storagetest"
)

func TestSigningKeys(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	storagetest.SigningKeys(t, db.SigningKeys())
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	storagetest.RateLimits(t, db.RateLimits())
}
