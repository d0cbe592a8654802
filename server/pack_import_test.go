package server_test

import (
	"bytes"
	"net/http"
	"testing"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// importProblems returns the ImportProblems detail of an InvalidArgument
// error, failing the test when there is none.
func importProblems(tb testing.TB, err error) []*v1.ImportProblem {
	tb.Helper()
	requireCode(tb, connect.CodeInvalidArgument, err)
	var ce *connect.Error
	require.ErrorAs(tb, err, &ce)
	for _, d := range ce.Details() {
		msg, derr := d.Value()
		require.NoError(tb, derr)
		if p, ok := msg.(*v1.ImportProblems); ok {
			return p.Problems
		}
	}
	tb.Fatalf("no ImportProblems detail in %v", err)
	return nil
}

// positionOf returns the line and column (both from 1, the column in
// characters) at which needle first occurs in data.
func positionOf(tb testing.TB, data []byte, needle string) (int32, int32) {
	tb.Helper()
	i := bytes.Index(data, []byte(needle))
	require.GreaterOrEqual(tb, i, 0, "%q not in the file", needle)
	before := data[:i]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return int32(line), int32(col)
}

// TestChecklistService_ImportPack_Problems checks what the console's
// import screen shows: every problem of a pack in the ImportProblems
// detail, each at the line and column of the value that is wrong, and the
// same problems from a validate-only run, which stores nothing.
func TestChecklistService_ImportPack_Problems(t *testing.T) {
	ts := MustRunServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	manager := mustLogin(t, c, audit.RoleManager, "desk").Tokens.AccessToken
	pack := bytes.ReplaceAll(readPack(t), []byte(`"kiosk-visit"`), []byte(`"kiosk-problems"`))
	bad := bytes.Replace(pack, []byte(`"op": "<="`), []byte(`"op": "<"`), 1)
	bad = bytes.Replace(bad, []byte(`"critical": true,`), []byte(`"critical": true, "weight": -1,`), 1)
	targetLine, targetCol := positionOf(t, bad, `{"op": "<"`)
	weightLine, weightCol := positionOf(t, bad, `-1,`)

	_, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "kiosk.json", Content: bad})
	problems := importProblems(t, err)
	require.Len(t, problems, 2, "every problem, not only the first")
	assert.Equal(t, &v1.ImportProblem{FileName: "kiosk.json", Line: targetLine, Column: targetCol,
		Path: "checklists[0].sections[0].questions[0]", Message: `target "op" must be "<=" or ">=", not "<"`}, stripState(problems[0]))
	assert.Equal(t, &v1.ImportProblem{FileName: "kiosk.json", Line: weightLine, Column: weightCol,
		Path: "checklists[0].sections[0].questions[1]", Message: `"weight" must be > 0 and at most 1000`}, stripState(problems[1]))

	t.Run("ValidateOnly reports the same problems", func(t *testing.T) {
		_, verr := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "kiosk.json", Content: bad, ValidateOnly: true})
		again := importProblems(t, verr)
		require.Len(t, again, len(problems))
		for i := range problems {
			assert.Equal(t, stripState(problems[i]), stripState(again[i]))
		}
		assert.Equal(t, err.Error(), verr.Error())
	})

	t.Run("ValidateOnly stores nothing", func(t *testing.T) {
		dry, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "kiosk.json", Content: pack, Publish: true, ValidateOnly: true})
		require.NoError(t, err)
		require.Len(t, dry.Versions, 1, "the versions it would make")
		assert.Equal(t, "kiosk-problems", dry.Versions[0].ChecklistId)
		assert.Equal(t, int32(1), dry.Versions[0].Version)
		_, err = call(t, c.Checklist.GetChecklistVersion, manager, &v1.GetChecklistVersionRequest{ChecklistId: "kiosk-problems", Version: 1})
		requireCode(t, connect.CodeNotFound, err, "a validate-only import stored a version")
		list, err := call(t, c.Checklist.ListChecklists, manager, &v1.ListChecklistsRequest{})
		require.NoError(t, err)
		for _, v := range list.Versions {
			assert.NotEqual(t, "kiosk-problems", v.ChecklistId)
		}

		real, err := call(t, c.Checklist.ImportPack, manager, &v1.ImportPackRequest{FileName: "kiosk.json", Content: pack})
		require.NoError(t, err)
		assert.Equal(t, int32(1), real.Versions[0].Version, "the dry run took no version number")
	})
}

// stripState returns a copy of p without its protobuf internal state, so
// that assert.Equal compares the fields only.
func stripState(p *v1.ImportProblem) *v1.ImportProblem {
	return &v1.ImportProblem{FileName: p.FileName, Line: p.Line, Column: p.Column, Path: p.Path, Message: p.Message}
}
