package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func TestFlagSet_Parse(t *testing.T) {
	for name, tc := range map[string]struct {
		args    []string
		pos     []string
		email   string
		publish bool
		err     string
	}{
		"flags first":           {args: []string{"--email", "a@b.c", "--publish", "f.json"}, pos: []string{"f.json"}, email: "a@b.c", publish: true},
		"flags after":           {args: []string{"f.json", "--publish", "--email=a@b.c"}, pos: []string{"f.json"}, email: "a@b.c", publish: true},
		"flags between":         {args: []string{"x", "-email", "a@b.c", "y"}, pos: []string{"x", "y"}, email: "a@b.c"},
		"double dash":           {args: []string{"--publish", "--", "--email", "x"}, pos: []string{"--email", "x"}, publish: true},
		"negative numbers":      {args: []string{"v", "-33.8", "-.5", "151.2"}, pos: []string{"v", "-33.8", "-.5", "151.2"}},
		"value like a flag":     {args: []string{"--email", "-x", "p"}, pos: []string{"p"}, email: "-x"},
		"a lone dash":           {args: []string{"-"}, pos: []string{"-"}},
		"unknown flag":          {args: []string{"f.json", "--name", "foo"}, err: "flag provided but not defined: -name"},
		"bool with a bad value": {args: []string{"--publish=maybe"}, err: "invalid boolean value"},
		"missing value":         {args: []string{"--email"}, err: "flag needs an argument: -email"},
	} {
		t.Run(name, func(t *testing.T) {
			fs := NewFlagSet("shopscore standards import", "shopscore standards import [--publish] FILE")
			email := fs.String("email", "", "an e-mail")
			publish := fs.Bool("publish", false, "publish")
			pos, err := fs.Parse(tc.args)
			if tc.err != "" {
				var ue *UsageError
				require.ErrorAs(t, err, &ue)
				assert.ErrorContains(t, err, "shopscore standards import: "+tc.err)
				assert.Contains(t, ue.Usage, "usage: shopscore standards import [--publish] FILE")
				assert.Contains(t, ue.Usage, "-publish")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.pos, pos)
			assert.Equal(t, tc.email, *email)
			assert.Equal(t, tc.publish, *publish)
		})
	}
}

func TestExit(t *testing.T) {
	fs := NewFlagSet("shopscore user list", "shopscore user list [--data DIR]")
	_, helpErr := fs.Parse([]string{"-h"})
	_, badErr := fs.Parse([]string{"--publish"})
	for name, tc := range map[string]struct {
		err            error
		code           int
		stdout, stderr string
	}{
		"nil":    {nil, 0, "", ""},
		"help":   {helpErr, 0, "usage: shopscore user list [--data DIR]\n", ""},
		"usage":  {badErr, 2, "", "shopscore: shopscore user list: flag provided but not defined: -publish\n\nusage: shopscore user list [--data DIR]\n"},
		"domain": {audit.Errorf(audit.EINVALID, "unknown role %q", "boss"), 1, "", "shopscore: invalid: unknown role \"boss\"\n"},
		"wrapped domain": {errors.Join(errors.New("context"), audit.Errorf(audit.ENOTFOUND, "no user x")), 1, "",
			"shopscore: context\nnot_found: no user x\n"},
		"other": {errors.New("disk full"), 1, "", "shopscore: disk full\n"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tc.code, Exit(&stdout, &stderr, "shopscore", tc.err, nil))
			assert.Equal(t, tc.stdout, stdout.String())
			assert.Equal(t, tc.stderr, stderr.String())
		})
	}
	assert.ErrorIs(t, helpErr, flag.ErrHelp)
}
