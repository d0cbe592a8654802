package storage

// Sessions keeps sign-in sessions and their refresh tokens.
type Sessions interface {
}
