package storage

// Staff keeps the audited employees, their store and transfers.
type Staff interface {
}
