package audit

import "time"

// VisitReceipt is the server's view of a submitted visit, as its shopper
// sees it: what both ends of the sync keep of a visit once it is sent.
type VisitReceipt struct {
	VisitID      string
	ShopperID    string
	State        VisitState
	ScorePercent *float64 // nil when nothing was scorable
	Missing      []MissingPhoto
	Flags        []VisitFlag
	ReceivedAt   time.Time
	Comments     []ReviewComment // the reviewer's, while the visit is returned
}

// MissingPhoto is a photo slot of a visit whose bytes the server has not
// verified yet.
type MissingPhoto struct {
	QuestionID string
	Index      int
	SHA256     string
}
