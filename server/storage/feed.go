package storage

// Feed keeps the pull feed: which entity changed for which audience, in commit order.
type Feed interface {
}
