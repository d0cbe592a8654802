package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/storage"
)

// ParsePolicy reads a bonus policy from JSON, refusing unknown fields so
// that a misspelt key is an error rather than a silent default. The API
// and the CLI share it. Errors: EINVALID, with the position of a syntax
// error.
func ParsePolicy(data []byte) (reports.Policy, error) {
	var p reports.Policy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return p, audit.Errorf(audit.EINVALID, "policy JSON: syntax error at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return p, audit.Errorf(audit.EINVALID, "policy JSON: %q must be a %s, not %s", te.Field, te.Type, te.Value)
		}
		return p, audit.Errorf(audit.EINVALID, "policy JSON: %v", err)
	}
	if dec.More() {
		return p, audit.Errorf(audit.EINVALID, "policy JSON: more than one value; give one policy object")
	}
	return p, nil
}

// reportsError turns an error of package reports about bad input into
// EINVALID with its message; other errors pass through.
func reportsError(err error) error {
	if err != nil && errors.Is(err, reports.ErrInvalid) {
		return audit.Errorf(audit.EINVALID, "%s", strings.TrimPrefix(err.Error(), "reports: "))
	}
	return err
}

// CreatePolicy stores p as the next version of the policy p.ID and
// returns it with created true; when p's content equals the latest
// version's, nothing is stored and that version is returned with created
// false. p.Version is ignored (versions are numbered here). The values of
// p.StoreIDs may be store ids or store codes; they are stored as ids.
// Errors: EINVALID (every problem of the policy at once, or an unknown
// store).
func (a *App) CreatePolicy(ctx context.Context, p reports.Policy, by string) (*storage.BonusPolicy, bool, error) {
	p.ID = strings.TrimSpace(p.ID)
	p.Version = 1
	if err := reportsError(p.Validate()); err != nil {
		return nil, false, err
	}
	var out *storage.BonusPolicy
	created := false
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		latest, err := planPolicy(ctx, tx, &p)
		if err != nil {
			return err
		}
		if latest != nil && latest.Policy.Version == p.Version {
			out = latest
			return nil
		}
		out, err = tx.BonusPolicies().Add(ctx, p, by)
		created = err == nil
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// CheckPolicy validates p as CreatePolicy would, storing nothing, and
// returns every problem (nil when it can be stored), whether storing it
// would change nothing, and the version it would be stored as. Errors:
// only internal ones.
func (a *App) CheckPolicy(ctx context.Context, p reports.Policy) (problems []string, unchanged bool, version int, err error) {
	p.ID = strings.TrimSpace(p.ID)
	p.Version = 1
	if verr := p.Validate(); verr != nil {
		for _, line := range strings.Split(verr.Error(), "\n") {
			problems = append(problems, strings.TrimPrefix(line, "reports: "))
		}
	}
	err = a.st.View(ctx, func(tx storage.Tx) error {
		latest, err := planPolicy(ctx, tx, &p)
		if audit.ErrorCode(err) == audit.EINVALID {
			problems = append(problems, audit.ErrorMessage(err))
			return nil
		} else if err != nil {
			return err
		}
		unchanged, version = latest != nil && latest.Policy.Version == p.Version, p.Version
		return nil
	})
	return problems, unchanged, version, err
}

// planPolicy resolves p's store codes and numbers it: the latest stored
// version's number when p's content equals it (then that version is
// returned), the next one otherwise, 1 for a new policy (with a nil
// latest). Errors: EINVALID (an unknown store).
func planPolicy(ctx context.Context, tx storage.Tx, p *reports.Policy) (*storage.BonusPolicy, error) {
	if err := resolvePolicyStores(ctx, tx, p); err != nil {
		return nil, err
	}
	p.Version = 1
	latest, err := tx.BonusPolicies().Find(ctx, p.ID, 0)
	switch {
	case audit.ErrorCode(err) == audit.ENOTFOUND:
		return nil, nil
	case err != nil:
		return nil, err
	}
	p.Version = latest.Policy.Version
	if !samePolicy(&latest.Policy, p) {
		p.Version++
	}
	return latest, nil
}

// resolvePolicyStores replaces the store codes among p.StoreIDs by the
// stores' ids. Errors: EINVALID (neither an id nor a code).
func resolvePolicyStores(ctx context.Context, tx storage.Tx, p *reports.Policy) error {
	for i, s := range p.StoreIDs {
		id, err := tx.BonusPolicies().StoreID(ctx, s)
		if err != nil {
			return err
		}
		if id == "" {
			return audit.Errorf(audit.EINVALID, "policy %q: store %q is neither a store id nor a store code", p.ID, s)
		}
		p.StoreIDs[i] = id
	}
	return nil
}

func samePolicy(a, b *reports.Policy) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
