package protocol

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Cursors are opaque to the device. A cursor names the server's feed epoch
// (a random id made when the database was created) and the last feed
// position the device applied: a sequence number ("c1"), or, for a feed
// whose positions have two parts (PostgreSQL's: the writing transaction,
// then a sequence number), both ("c2"). A position whose first part is 0
// is written in the c1 form, so that cursors saved before the second form
// existed stay valid. A cursor of another epoch (a restored or replaced
// database) or one that does not parse is unknown, and means a full reset.

const (
	cursorVersion   = "c1"
	cursorVersionTx = "c2"
)

// EncodeCursor returns the cursor for feed position seq in epoch.
func EncodeCursor(epoch string, seq int64) string {
	return EncodeCursorAt(epoch, 0, seq)
}

// EncodeCursorAt returns the cursor for feed position (tx, seq) in epoch.
func EncodeCursorAt(epoch string, tx uint64, seq int64) string {
	s := cursorVersion + ":" + epoch + ":" + strconv.FormatInt(seq, 10)
	if tx != 0 {
		s = cursorVersionTx + ":" + epoch + ":" + strconv.FormatUint(tx, 10) + ":" + strconv.FormatInt(seq, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// DecodeCursor returns the feed position of a cursor of the one-number
// form, and false when the cursor is empty, malformed, of another epoch,
// or of the two-number form.
func DecodeCursor(cursor, epoch string) (int64, bool) {
	tx, seq, ok := DecodeCursorAt(cursor, epoch)
	return seq, ok && tx == 0
}

// DecodeCursorAt returns the feed position (tx, seq) of a cursor of either
// form (tx 0 for the one-number form), and false when the cursor is
// empty, malformed, or of another epoch.
func DecodeCursorAt(cursor, epoch string) (tx uint64, seq int64, ok bool) {
	if cursor == "" {
		return 0, 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, 0, false
	}
	parts := strings.Split(string(raw), ":")
	switch {
	case len(parts) == 3 && parts[0] == cursorVersion && parts[1] == epoch:
	case len(parts) == 4 && parts[0] == cursorVersionTx && parts[1] == epoch:
		if tx, err = strconv.ParseUint(parts[2], 10, 64); err != nil || tx == 0 {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	seq, err = strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if err != nil || seq < 0 {
		return 0, 0, false
	}
	return tx, seq, true
}
