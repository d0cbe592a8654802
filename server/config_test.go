package server

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/sqlite"
)

// TestConfig_Defaults fills each field's default on its own: a partly
// filled Rate keeps what it was given and takes the rest.
func TestConfig_Defaults(t *testing.T) {
	for name, tc := range map[string]struct {
		in    Config
		check func(t *testing.T, c Config)
	}{
		"zero": {Config{}, func(t *testing.T, c Config) {
			assert.Equal(t, Rate{Burst: 10, Every: 30 * time.Second}, c.LoginRate)
			assert.Equal(t, Rate{Burst: 50, Every: 10 * time.Second}, c.LoginAccountRate)
			assert.Equal(t, Rate{Burst: 60, Every: time.Second}, c.RefreshRate)
			assert.Equal(t, Rate{Burst: 1000, Every: 100 * time.Millisecond}, c.UploadSlotRate)
			assert.Equal(t, Rate{Burst: 120, Every: 500 * time.Millisecond}, c.PushRate)
			assert.Equal(t, 4<<20, c.MaxRequestBytes)
			assert.Equal(t, int64(16<<10), c.MinUploadRate)
			assert.Equal(t, 16, c.PasswordHashQueue)
			assert.Equal(t, time.Minute, c.ExpireEvery)
			assert.Equal(t, 90*24*time.Hour, c.MutationRetention)
		}},
		"burst only": {Config{PushRate: Rate{Burst: 3}}, func(t *testing.T, c Config) {
			assert.Equal(t, Rate{Burst: 3, Every: 500 * time.Millisecond}, c.PushRate)
		}},
		"every only": {Config{UploadSlotRate: Rate{Every: time.Hour}}, func(t *testing.T, c Config) {
			assert.Equal(t, Rate{Burst: 1000, Every: time.Hour}, c.UploadSlotRate)
		}},
		"login rate derives the account rate field by field": {
			Config{LoginRate: Rate{Burst: 4}, LoginAccountRate: Rate{Every: time.Minute}},
			func(t *testing.T, c Config) {
				assert.Equal(t, Rate{Burst: 4, Every: 30 * time.Second}, c.LoginRate)
				assert.Equal(t, Rate{Burst: 20, Every: time.Minute}, c.LoginAccountRate)
			}},
		"negative queue and expiry mean none and never": {
			Config{PasswordHashQueue: -1, ExpireEvery: -1},
			func(t *testing.T, c Config) {
				assert.Equal(t, -1, c.PasswordHashQueue)
				assert.Equal(t, time.Duration(-1), c.ExpireEvery)
				assert.NoError(t, c.validate())
			}},
	} {
		t.Run(name, func(t *testing.T) {
			c := tc.in.withDefaults()
			require.NoError(t, c.validate())
			tc.check(t, c)
		})
	}
}

// TestNew_Config starts a server on partly filled and on invalid
// configurations: the first work (a partly filled Rate panicked inside
// New once), the second are refused with EINVALID naming the field,
// before anything is created in the data folder.
func TestNew_Config(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for name, cfg := range map[string]Config{
			"rate burst only":    {LoginRate: Rate{Burst: 3}, PushRate: Rate{Burst: 1}},
			"rate every only":    {RefreshRate: Rate{Every: time.Minute}, UploadSlotRate: Rate{Every: time.Nanosecond}},
			"tiny login pace":    {LoginRate: Rate{Every: time.Nanosecond}},
			"one hash, no queue": {PasswordHashMemory: 1, PasswordHashQueue: -1},
		} {
			t.Run(name, func(t *testing.T) {
				cfg.DataDir = t.TempDir()
				db, err := sqlite.Open(filepath.Join(cfg.DataDir, "shopscore.db"), nil)
				require.NoError(t, err)
				cfg.Storage = db
				s, err := New(cfg)
				require.NoError(t, err)
				require.NoError(t, s.Close())
			})
		}
	})
	for name, tc := range map[string]struct {
		cfg   Config
		field string
	}{
		"negative request size":   {Config{MaxRequestBytes: -1}, "MaxRequestBytes"},
		"negative header timeout": {Config{ReadHeaderTimeout: -time.Second}, "ReadHeaderTimeout"},
		"negative body timeout":   {Config{RequestBodyTimeout: -time.Second}, "RequestBodyTimeout"},
		"negative upload rate":    {Config{MinUploadRate: -1}, "MinUploadRate"},
		"negative idle timeout":   {Config{IdleTimeout: -time.Second}, "IdleTimeout"},
		"negative access TTL":     {Config{AccessTTL: -time.Minute}, "AccessTTL"},
		"access TTL too long":     {Config{AccessTTL: time.Hour}, "access token lifetime"},
		"negative refresh TTL":    {Config{RefreshTTL: -time.Hour}, "RefreshTTL"},
		"negative hash memory":    {Config{PasswordHashMemory: -1}, "PasswordHashMemory"},
		"huge hash memory":        {Config{PasswordHashMemory: 1 << 62}, "PasswordHashMemory"},
		"negative login burst":    {Config{LoginRate: Rate{Burst: -1}}, "LoginRate.Burst"},
		"login burst overflows":   {Config{LoginRate: Rate{Burst: 1 << 30}}, "LoginRate.Burst"},
		"negative login pace":     {Config{LoginRate: Rate{Every: -time.Second}}, "LoginRate.Every"},
		"negative key reload":     {Config{KeyReload: -time.Second}, "KeyReload"},
		"negative account burst":  {Config{LoginAccountRate: Rate{Burst: -5}}, "LoginAccountRate.Burst"},
		"negative refresh pace":   {Config{RefreshRate: Rate{Burst: 1, Every: -1}}, "RefreshRate.Every"},
		"negative slot burst":     {Config{UploadSlotRate: Rate{Burst: -1, Every: time.Second}}, "UploadSlotRate.Burst"},
		"negative push pace":      {Config{PushRate: Rate{Every: -time.Millisecond}}, "PushRate.Every"},
		"public URL not absolute": {Config{PublicURL: "shopscore.example.com"}, "PublicURL"},
		"public URL with query":   {Config{PublicURL: "https://shopscore.example.com/?a=b"}, "PublicURL"},
		"public URL ftp":          {Config{PublicURL: "ftp://shopscore.example.com"}, "PublicURL"},
		"no storage":              {Config{}, "Storage"},
		"SMTP without sender":     {Config{Mail: Mail{SMTP: notify.Config{Host: "smtp.example.com"}}}, "Mail.SMTP: smtp configuration: from address is required"},
		"SMTP clear to remote":    {Config{Mail: Mail{SMTP: notify.Config{Host: "smtp.example.com", TLS: notify.TLSNone, From: "a@example.com"}}}, "Mail.SMTP"},
		"negative mail poll":      {Config{Mail: Mail{Poll: -time.Second}}, "Mail.Poll"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			tc.cfg.DataDir = dir
			s, err := New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%v", err)
			assert.Contains(t, err.Error(), tc.field)
			_, err = os.Stat(dir)
			assert.ErrorIs(t, err, os.ErrNotExist, "an invalid configuration creates nothing")
		})
	}
}
