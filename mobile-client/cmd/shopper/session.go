package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
)

func init() {
	register(
		command{name: "login", synopsis: "shopper login --email E", run: (*app).login},
		command{name: "logout", synopsis: "shopper logout", run: (*app).logout},
		command{name: "status", readOnly: true, synopsis: "shopper status", run: (*app).status},
	)
}

// login signs in (the password from $SHOPSCORE_PASSWORD or stdin).
func (a *app) login(fs *cli.FlagSet, args []string) error {
	email := fs.String("email", "", "the shopper's e-mail")
	if _, err := a.args(fs, args, 0, ""); err != nil {
		return err
	}
	if *email == "" {
		return fs.Usagef("login needs --email E")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	password := a.getenv("SHOPSCORE_PASSWORD")
	if password == "" {
		fmt.Fprint(a.stderr, "password: ")
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return audit.Errorf(audit.EINVALID, "no password given: type it, or set SHOPSCORE_PASSWORD")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	s, err := c.Login(a.ctx, *email, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "signed in as %s (%s) on device %s\nnext: shopper sync\n", s.DisplayName, s.Email, s.DeviceID)
	return nil
}

// logout signs out and forgets the tokens.
func (a *app) logout(fs *cli.FlagSet, args []string) error {
	c, _, err := a.parseOpen(fs, args, 0, "")
	if err != nil {
		return err
	}
	return c.Logout(a.ctx)
}

func (a *app) status(fs *cli.FlagSet, args []string) error {
	c, _, err := a.parseOpen(fs, args, 0, "")
	if err != nil {
		return err
	}
	s, err := c.Status(a.ctx)
	if err != nil {
		return err
	}
	w := a.stdout
	if s.Session.LoggedIn() {
		fmt.Fprintf(w, "signed in as %s; device %s\n", s.Session.Email, s.Session.DeviceID)
	} else {
		fmt.Fprintln(w, "not signed in (shopper login --email E)")
	}
	fmt.Fprintf(w, "last pull: %s; last push: %s\n", when(s.LastPull), when(s.LastPush))
	fmt.Fprintf(w, "outbox: %d visit(s) waiting to be sent\n", len(s.Pending))
	for _, o := range s.Pending {
		fmt.Fprintf(w, "  #%d visit %s (queued %s)\n", o.Seq, o.VisitID, when(o.CreatedAt))
	}
	fmt.Fprintf(w, "evidence missing: %d photo(s), %d bytes\n", len(s.MissingEvidence), s.PhotoBytesWaiting)
	for _, p := range s.MissingEvidence {
		line := fmt.Sprintf("  visit %s %s[%d] %s", p.VisitID, p.QuestionID, p.Index, p.SHA256[:12])
		if p.LastError != "" {
			line += "  last error: " + p.LastError
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "rejected: %d\n", len(s.Rejected))
	for _, o := range s.Rejected {
		fmt.Fprintf(w, "  visit %s: %s: %s (fix with `shopper visit correct %s`)\n", o.VisitID, o.ErrorCode, o.ErrorMessage, o.VisitID)
	}
	fmt.Fprintln(w, "visits:")
	for _, v := range s.Visits {
		line := fmt.Sprintf("  %s  %-9s %-8s %s", v.ID, v.State, v.StoreCode, v.ChecklistID)
		if r := v.Receipt; r != nil {
			line += "  server: " + r.State
			if r.ScorePercent != nil {
				line += fmt.Sprintf(" score %.1f%%", *r.ScorePercent)
			}
			if len(r.Flags) > 0 {
				line += " flags " + strings.Join(r.Flags, ",")
			}
			for _, cm := range r.Comments {
				line += fmt.Sprintf("\n      reviewer on %s: %s", nonEmpty(cm.QuestionID, "the visit"), cm.Text)
			}
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
