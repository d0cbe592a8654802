// Package cli holds what the project's command-line programs (shopscore,
// shopper) share: one flag set per command whose flags may come before,
// between or after its positional arguments, usage errors that print the
// command's own usage, and one way to print an error under one prefix.
package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/shopscore/shopscore/audit"
)

// FlagSet is the flag set of one command, with the synopsis its usage
// starts with.
type FlagSet struct {
	*flag.FlagSet
	synopsis string
}

// NewFlagSet returns the flag set of the command name ("shopscore user
// list"); synopsis is its usage line(s) after "usage: ".
func NewFlagSet(name, synopsis string) *FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Parse reports errors as UsageErrors
	return &FlagSet{FlagSet: fs, synopsis: synopsis}
}

// Usage returns the command's usage: its synopsis and its flags.
func (f *FlagSet) Usage() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "usage: %s\n", f.synopsis)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nflags:\n")
		f.SetOutput(&b)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
	return b.String()
}

// Parse parses args, whose flags may come before, between or after the
// positional arguments, and returns the positional ones. Everything after
// "--" is positional, and so is an argument that is a negative number
// ("-33.8", a latitude), since no flag name starts with a digit. An
// unknown flag or a bad value is a *UsageError with the command's usage;
// -h or --help too, wrapping flag.ErrHelp.
func (f *FlagSet) Parse(args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
			continue
		case len(a) < 2 || a[0] != '-' || negativeNumber(a):
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name, _, inline := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		// A flag that takes a value and has none inline takes the next
		// argument, whatever it looks like.
		if fl := f.Lookup(name); fl != nil && !inline && !isBool(fl) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := f.FlagSet.Parse(flags); err != nil {
		return nil, &UsageError{Err: fmt.Errorf("%s: %w", f.Name(), err), Usage: f.Usage()}
	}
	return pos, nil
}

// isBool reports whether fl is a boolean flag, which takes no separate
// value.
func isBool(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// negativeNumber reports whether arg is a number with a minus sign.
func negativeNumber(arg string) bool {
	return len(arg) > 1 && arg[0] == '-' && (arg[1] >= '0' && arg[1] <= '9' || arg[1] == '.')
}

// Usagef returns a *UsageError with the command's usage.
func (f *FlagSet) Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...), Usage: f.Usage()}
}

// UsageError is a command line that does not parse. It is printed with
// the usage it carries, and the program exits with status 2.
type UsageError struct {
	Err   error
	Usage string
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage returns a *UsageError for a program-level usage (no command, an
// unknown one).
func Usage(usage, format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...), Usage: usage}
}

// Message renders err for a person. A domain error prints as "code:
// message" without the "shopscore: " its Error carries, so that the
// program's own prefix is the only one.
func Message(err error) string {
	msg := err.Error()
	var de *audit.Error
	if errors.As(err, &de) {
		msg = strings.Replace(msg, de.Error(), string(de.Code)+": "+de.Message, 1)
	}
	return msg
}

// Exit prints err under the program's name prog and returns the exit
// status: 0 for nil and for help (the usage goes to stdout), 2 for a
// usage error (printed with its usage), 1 for any other. describe renders
// the message of an error that is not a usage error; nil means Message.
func Exit(stdout, stderr io.Writer, prog string, err error, describe func(error) string) int {
	if err == nil {
		return 0
	}
	if describe == nil {
		describe = Message
	}
	var ue *UsageError
	switch {
	case errors.As(err, &ue) && errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, ue.Usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %s\n\n%s", prog, Message(err), ue.Usage)
		return 2
	}
	fmt.Fprintf(stderr, "%s: %s\n", prog, describe(err))
	return 1
}
