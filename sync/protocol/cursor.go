package protocol

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Cursors are opaque to the device. A cursor names the server's feed epoch
// (a random id made when the database was created) and the last feed
// sequence number the device applied. A cursor of another epoch (a
// restored or replaced database) or one that does not parse is unknown,
// and means a full reset.

const cursorVersion = "c1"

// EncodeCursor returns the cursor for feed position seq in epoch.
func EncodeCursor(epoch string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorVersion + ":" + epoch + ":" + strconv.FormatInt(seq, 10)))
}

// DecodeCursor returns the feed position of a cursor, and false when the
// cursor is empty, malformed, or of another epoch.
func DecodeCursor(cursor, epoch string) (int64, bool) {
	if cursor == "" {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != cursorVersion || parts[1] != epoch {
		return 0, false
	}
	seq, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || seq < 0 {
		return 0, false
	}
	return seq, true
}
