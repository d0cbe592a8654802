package storage

// BonusPolicies keeps bonus policies and their versions.
type BonusPolicies interface {
}
