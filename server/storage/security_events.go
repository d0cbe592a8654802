package storage

// SecurityEvents keeps the security log.
type SecurityEvents interface {
}
