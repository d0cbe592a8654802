package storage

// BonusRuns keeps bonus runs, their inputs, lines and approval.
type BonusRuns interface {
}
