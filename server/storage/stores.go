package storage

// Stores keeps the shops audited (stores), their codes, places and managers.
type Stores interface {
}
