package migration_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/internal/migration"
)

func TestLoad(t *testing.T) {
	t.Run("InOrderOfNumbers", func(t *testing.T) {
		ms, err := migration.Load(fstest.MapFS{
			"m/0010_ten.sql":   {Data: []byte("SELECT 10")},
			"m/0002_two.sql":   {Data: []byte("SELECT 2")},
			"m/0001_one.sql":   {Data: []byte("SELECT 1")},
			"m/README.md":      {Data: []byte("not a migration")},
			"other/0003_x.sql": {Data: []byte("SELECT 3")},
		}, "m")
		require.NoError(t, err)
		assert.Equal(t, []migration.File{
			{Version: 1, Name: "0001_one.sql", SQL: "SELECT 1"},
			{Version: 2, Name: "0002_two.sql", SQL: "SELECT 2"},
			{Version: 10, Name: "0010_ten.sql", SQL: "SELECT 10"},
		}, ms)
	})
	t.Run("RefusesTwoFilesWithOneNumber", func(t *testing.T) {
		_, err := migration.Load(fstest.MapFS{
			"m/0001_one.sql":      {Data: []byte("SELECT 1")},
			"m/0002_stores.sql":   {Data: []byte("SELECT 2")},
			"m/002_visits.sql":    {Data: []byte("SELECT 2")},
			"m/0003_sessions.sql": {Data: []byte("SELECT 3")},
		}, "m")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "002_visits.sql")
		assert.Contains(t, err.Error(), "0002_stores.sql")
		assert.Contains(t, err.Error(), "same number 2")
	})
	t.Run("RefusesANameWithoutNumber", func(t *testing.T) {
		for _, name := range []string{"init.sql", "0001.sql", "x1_init.sql", "-1_init.sql", "0000_zero.sql"} {
			_, err := migration.Load(fstest.MapFS{"m/" + name: {Data: []byte("SELECT 1")}}, "m")
			require.Error(t, err, name)
			assert.Contains(t, err.Error(), name)
		}
	})
}
