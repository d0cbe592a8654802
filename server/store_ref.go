package server

import (
	"context"
	"strings"

	"github.com/shopscore/shopscore/audit"
)

// storeRef returns the id of the store a request names by id or, when the
// id is empty, by code (as people type it: surrounding spaces ignored);
// "" when it names none. Errors: ENOTFOUND for a code outside scope.
func (s *Server) storeRef(ctx context.Context, scope audit.Scope, id, code string) (string, error) {
	code = strings.TrimSpace(code)
	if id != "" || code == "" {
		return id, nil
	}
	st, err := s.st.Stores().FindByCode(ctx, scope, code)
	if err != nil {
		return "", err
	}
	return st.ID, nil
}
