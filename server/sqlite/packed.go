package sqlite

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// A visit's body and score are stored packed (issue 14, disk per visit):
// the JSON deflated, behind a leading packedJSON byte. JSON never starts
// with that byte, so rows stored before (plain JSON) read as they are, and
// unpackJSON returns the same value either way. The score is most of a
// visit's row and repeats its field names for every question, which
// deflate takes out; the pools keep the (large) deflate state between
// visits.
const packedJSON = 0x01

var (
	packers   = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestCompression); return w }}
	unpackers = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

// packJSON encodes v as JSON and deflates it.
func packJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 16)
	buf.WriteByte(packedJSON)
	w := packers.Get().(*flate.Writer)
	defer packers.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(raw); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return buf.Bytes(), nil
}

// unpackJSON decodes what packJSON stored, or plain JSON, into v.
func unpackJSON(b []byte, v any) error {
	raw, err := PlainJSON(b)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// PlainJSON returns the JSON text of a column that may hold it packed
// (packJSON) or plain (b itself): the bytes that were encoded, for a
// reader of the database that is not this package (shopscore migrate-to).
func PlainJSON(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != packedJSON {
		return b, nil
	}
	r := unpackers.Get().(io.ReadCloser)
	defer unpackers.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(b[1:]), nil); err != nil {
		return nil, fmt.Errorf("unpack: %w", err)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("unpack: %w", err)
	}
	return raw, nil
}
