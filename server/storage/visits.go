package storage

// Visits keeps visits: their answers, scores, flags, states and history.
type Visits interface {
}
