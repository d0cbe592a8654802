package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
)

// Header safety (docs/DESIGN.md §12): a subject or display name is built
// from text users typed (store names, staff names, comments), and a CR or
// LF in it must not start a header of its own ("\r\nBcc: …"). Every header
// value passes headerText, and every address parseAddress, before the
// library sees it; the library then encodes non-ASCII text (RFC 2047).

// headerText returns s on one line: every control character (CR, LF, tab,
// the rest of C0 and C1, DEL) and every line or paragraph separator becomes
// one space, runs of spaces shrink to one, and the ends are trimmed.
func headerText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' })
}

// errAddress is wrapped by every refusal of parseAddress.
var errAddress = errors.New("not an e-mail address")

// parseAddress checks one address. withName allows a display name
// ("Name <a@b>"); without it the text must be the bare address. Control
// characters, several addresses and a missing domain are refused.
func parseAddress(s string, withName bool) (*mail.Address, error) {
	if hasControl(s) {
		return nil, fmt.Errorf("%q: %w (control characters)", s, errAddress)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %w (%v)", s, errAddress, err)
	}
	switch local, domain, _ := strings.Cut(a.Address, "@"); {
	case !withName && a.Address != strings.TrimSpace(s):
		return nil, fmt.Errorf("%q: %w (want the bare address, the name goes apart)", s, errAddress)
	case local == "" || domain == "" || strings.ContainsAny(a.Address, " \"\\"):
		return nil, fmt.Errorf("%q: %w (want local-part@domain)", s, errAddress)
	}
	a.Name = headerText(a.Name)
	return a, nil
}

// Address is a recipient: his address and the name he is greeted by.
type Address struct {
	Name  string // display name; may be empty
	Email string // the bare address, "someone@example.com"
}

// mailAddress checks a recipient and returns it for the header.
func (a Address) mailAddress() (*mail.Address, error) {
	p, err := parseAddress(a.Email, false)
	if err != nil {
		return nil, err
	}
	p.Name = headerText(a.Name)
	return p, nil
}
