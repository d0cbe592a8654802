package audit

import (
	"slices"
	"strings"
)

// TokenScope is what an integration token may reach (issue 16 §5): a
// service account's token passes the same procedure table as a session,
// and a procedure must also lie within one of the token's scopes.
type TokenScope string

// The scopes of integration tokens.
const (
	// ScopeReports reads reports for BI: dashboards, the audit
	// workbook and the incremental visit export, for every store.
	ScopeReports TokenScope = "reports"
	// ScopeWebhooks manages webhook endpoints and their deliveries.
	ScopeWebhooks TokenScope = "webhooks"
)

// TokenScopes lists every scope, in the order they are shown.
var TokenScopes = []TokenScope{ScopeReports, ScopeWebhooks}

// IntegrationTokenPrefix starts every integration token, so that the
// server tells one from an access token (a JWT) by its first bytes.
const IntegrationTokenPrefix = "sst_"

// ParseTokenScopes checks a token's scopes: at least one, each known,
// none twice; it returns them in TokenScopes order. Errors: EINVALID,
// naming the scope.
func ParseTokenScopes(in []string) ([]TokenScope, error) {
	if len(in) == 0 {
		return nil, Errorf(EINVALID, "an integration token needs at least one scope (%s)", scopeList())
	}
	seen := map[TokenScope]bool{}
	for _, s := range in {
		sc := TokenScope(strings.TrimSpace(s))
		if !slices.Contains(TokenScopes, sc) {
			return nil, Errorf(EINVALID, "unknown integration token scope %q (known: %s)", s, scopeList())
		}
		if seen[sc] {
			return nil, Errorf(EINVALID, "integration token scope %q is named twice", s)
		}
		seen[sc] = true
	}
	var out []TokenScope
	for _, sc := range TokenScopes {
		if seen[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

func scopeList() string {
	parts := make([]string, len(TokenScopes))
	for i, s := range TokenScopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// HasScope reports whether p is an integration token holding scope.
func (p Principal) HasScope(scope TokenScope) bool {
	return p.TokenID != "" && slices.Contains(p.Scopes, scope)
}
