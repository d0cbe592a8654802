package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// StaffInvite asks for an account for the employee with EmployeeNumber,
// who signs in with Email.
type StaffInvite struct {
	EmployeeNumber string
	Email          string
}

// StaffInvitation is an employee's new account and the one-time token
// that sets his password; the token is shown once, only its hash is
// stored.
type StaffInvitation struct {
	Staff     *audit.Staff
	User      *audit.User
	Token     string
	ExpiresAt time.Time
}

// InviteStaff makes an account of RoleStaff for each employee asked,
// linked to his staff record, with no password yet and an invitation that
// expires after audit.InvitationTTL, all in one transaction: when one
// employee cannot be invited, nobody is, and the error lists every
// problem, naming each employee by name and number. by is the admin or
// HR user inviting (scope: the staff he may see). Errors: EINVALID (an
// empty or repeated employee number or e-mail, a bad e-mail), ENOTFOUND
// (an unknown employee number), EEXISTS (an employee who has an account
// already, an e-mail taken), EPRECONDITION (an employee who has left).
func (a *App) InviteStaff(ctx context.Context, by audit.Principal, invites []StaffInvite) ([]StaffInvitation, error) {
	if len(invites) == 0 {
		return nil, audit.Errorf(audit.EINVALID, "invitations: name at least one employee")
	}
	var out []StaffInvitation
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		out = out[:0]
		var probs problems
		numbers, emails := map[string]bool{}, map[string]bool{}
		for i, in := range invites {
			number := strings.TrimSpace(in.EmployeeNumber)
			email := strings.ToLower(strings.TrimSpace(in.Email))
			switch {
			case number == "":
				probs.add(audit.EINVALID, "invitation %d: the employee number is required", i+1)
				continue
			case numbers[number]:
				probs.add(audit.EINVALID, "employee %s is asked for twice", number)
				continue
			case email != "" && emails[email]:
				probs.add(audit.EINVALID, "e-mail %s is asked for twice", email)
				continue
			}
			numbers[number], emails[email] = true, true
			s, err := tx.Staff().FindByNumber(ctx, audit.ScopeOf(by), number)
			if audit.ErrorCode(err) == audit.ENOTFOUND {
				probs.add(audit.ENOTFOUND, "no employee has the number %s", number)
				continue
			} else if err != nil {
				return err
			}
			who := fmt.Sprintf("%s (%s)", s.Name, s.EmployeeNumber)
			if !s.DeactivatedAt.IsZero() {
				probs.add(audit.EPRECONDITION, "%s has left: an account is for a current employee", who)
				continue
			}
			if u, err := tx.Users().FindByStaff(ctx, s.ID); err == nil {
				probs.add(audit.EEXISTS, "%s has an account already (%s)", who, u.Email)
				continue
			} else if audit.ErrorCode(err) != audit.ENOTFOUND {
				return err
			}
			u := &audit.User{Email: email, DisplayName: s.Name, Role: audit.RoleStaff, StaffID: s.ID}
			if email == "" {
				probs.add(audit.EINVALID, "%s: the e-mail he signs in with is required", who)
				continue
			}
			if err := u.Validate(); err != nil {
				probs.add(audit.EINVALID, "%s: %s", who, audit.ErrorMessage(err))
				continue
			}
			if err := tx.Users().Create(ctx, u, ""); audit.ErrorCode(err) == audit.EEXISTS {
				probs.add(audit.EEXISTS, "%s: %s", who, audit.ErrorMessage(err))
				continue
			} else if err != nil {
				return err
			}
			token, hash, err := newInvitationToken()
			if err != nil {
				return err
			}
			inv := &storage.Invitation{TokenHash: hash, UserID: u.ID, CreatedBy: by.UserID, ExpiresAt: tx.Now().Add(audit.InvitationTTL)}
			if err := tx.Users().AddInvitation(ctx, inv); err != nil {
				return err
			}
			if err := tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventStaffInvited, UserID: u.ID,
				Detail: s.EmployeeNumber + " by " + by.UserID}); err != nil {
				return err
			}
			out = append(out, StaffInvitation{Staff: s, User: u, Token: token, ExpiresAt: inv.ExpiresAt})
		}
		return probs.err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// problems gathers the refusals of a bulk request, each in words; its
// error has the first one's code and every message.
type problems struct {
	code audit.Code
	msgs []string
}

func (p *problems) add(code audit.Code, format string, args ...any) {
	if p.code == "" {
		p.code = code
	}
	p.msgs = append(p.msgs, fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.msgs) == 0 {
		return nil
	}
	return audit.Errorf(p.code, "%s", strings.Join(p.msgs, "; "))
}

// newInvitationToken returns a random token (32 bytes, URL-safe base64)
// and the hex SHA-256 that is stored of it.
func newInvitationToken() (token, hash string, err error) {
	return newSecretToken("")
}

// newSecretToken returns a random token (prefix, then 32 bytes in
// URL-safe base64) and the hex SHA-256 that is stored of it, for
// invitations and integration tokens alike.
func newSecretToken(prefix string) (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("secret token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, invitationHash(token), nil
}

// invitationHash is the hex SHA-256 stored of a secret token (an
// invitation's or an integration token's).
func invitationHash(token string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(sum[:])
}

// Invitation is what an invitation's token stands for: the employee and
// his account.
type Invitation struct {
	Staff     *audit.Staff
	User      *audit.User
	ExpiresAt time.Time
}

// CheckInvitation returns whom token invites, when it may still be used
// (before the password it sets is hashed). Errors: EINVALID (no token),
// ENOTFOUND (no such invitation), EPRECONDITION (expired or used, naming
// the employee).
func (a *App) CheckInvitation(ctx context.Context, token string) (*Invitation, error) {
	var inv *Invitation
	err := a.st.View(ctx, func(tx storage.Tx) error {
		var err error
		inv, _, err = usableInvitation(ctx, tx, token, a.now())
		return err
	})
	return inv, err
}

// AcceptInvitation sets the password (its hash) of the employee token
// invites and uses the invitation up, recording the event. Errors: as
// CheckInvitation.
func (a *App) AcceptInvitation(ctx context.Context, token, passwordHash, peer string) (*Invitation, error) {
	var inv *Invitation
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		var hash string
		var err error
		if inv, hash, err = usableInvitation(ctx, tx, token, tx.Now()); err != nil {
			return err
		}
		if err := tx.Users().UseInvitation(ctx, hash); err != nil {
			return err
		}
		if err := tx.Users().SetPassword(ctx, inv.User.ID, passwordHash); err != nil {
			return err
		}
		return tx.SecurityEvents().Add(ctx, audit.SecurityEvent{Kind: audit.EventInvitationUsed, UserID: inv.User.ID, Peer: peer,
			Detail: inv.Staff.EmployeeNumber})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// usableInvitation finds the invitation of token and refuses it when it
// expired or was used by now; it returns its hash too.
func usableInvitation(ctx context.Context, tx storage.Tx, token string, now time.Time) (*Invitation, string, error) {
	if strings.TrimSpace(token) == "" {
		return nil, "", audit.Errorf(audit.EINVALID, "token is required: open the set-password link you were given")
	}
	hash := invitationHash(token)
	stored, err := tx.Users().FindInvitation(ctx, hash)
	if audit.ErrorCode(err) == audit.ENOTFOUND {
		return nil, "", audit.Errorf(audit.ENOTFOUND, "this set-password link is not known: check that it was copied whole, or ask HR for a new one")
	} else if err != nil {
		return nil, "", err
	}
	u, err := tx.Users().Find(ctx, stored.UserID)
	if err != nil {
		return nil, "", err
	}
	s, err := tx.Staff().Find(ctx, audit.Scope{All: true}, u.StaffID)
	if err != nil {
		return nil, "", errors.Join(fmt.Errorf("invitation of user %s: staff record %q", u.Email, u.StaffID), err)
	}
	who := fmt.Sprintf("%s (%s)", s.Name, s.EmployeeNumber)
	loc := time.UTC
	if st, err := tx.OrgSettings().Find(ctx); err == nil {
		if l, err := time.LoadLocation(st.TimeZone); err == nil {
			loc = l
		}
	}
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	switch {
	case !stored.UsedAt.IsZero():
		return nil, "", audit.Errorf(audit.EPRECONDITION, "the set-password link of %s was used on %s: sign in with %s, or ask an administrator to reset the password",
			who, at(stored.UsedAt), u.Email)
	case !now.Before(stored.ExpiresAt):
		return nil, "", audit.Errorf(audit.EPRECONDITION, "the set-password link of %s expired on %s: ask an administrator to set a password for %s",
			who, at(stored.ExpiresAt), u.Email)
	case u.Disabled:
		return nil, "", audit.Errorf(audit.EPRECONDITION, "the account of %s is disabled: ask HR", who)
	}
	return &Invitation{Staff: s, User: u, ExpiresAt: stored.ExpiresAt}, hash, nil
}
