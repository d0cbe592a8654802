package migrateto

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/shopscore/shopscore/server/sqlite"
)

// How a value moves, by the target column's type (its udt_name): SQLite
// keeps instants as Unix milliseconds, flags as 0 and 1, JSON as text or
// packed (sqlite.PlainJSON), hashes as BLOBs; PostgreSQL as timestamptz,
// boolean, json or jsonb, and bytea. Each value of either side is decoded
// into one normal form (nil, string, int64, float64, bool, time.Time in
// UTC or negInfinity, []byte, jsonText, and uint64 for a transaction id), which is what the copy writes and what the
// checksums hash, so that both sides' checksums agree exactly when the
// target holds what the source meant.

// jsonText is a JSON document's text.
type jsonText string

// negInfinity is PostgreSQL's timestamptz before every instant: a from
// expression gives it as this text where SQLite keeps a 0 for "never"
// in a column PostgreSQL may not leave NULL.
const negInfinity = "-infinity"

// minusInfinity is the normal form of negInfinity.
type minusInfinity struct{}

// sourceTypes are the SQLite declared types each target type may be
// copied from, for a column of the same name on both sides.
var sourceTypes = map[string][]string{
	"text":        {"TEXT"},
	"int4":        {"INTEGER"},
	"int8":        {"INTEGER"},
	"float8":      {"REAL"},
	"bool":        {"INTEGER"},
	"timestamptz": {"INTEGER"},
	"json":        {"BLOB", "TEXT"},
	"jsonb":       {"BLOB", "TEXT"},
	"bytea":       {"BLOB"},
}

// fromSource decodes a value SQLite returned for a target column of type
// udt.
func fromSource(udt string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch udt {
	case "text":
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
	case "int4", "int8":
		if v, ok := v.(int64); ok {
			return v, nil
		}
	case "float8":
		switch v := v.(type) {
		case float64:
			return v, nil
		case int64:
			return float64(v), nil
		}
	case "bool":
		if v, ok := v.(int64); ok && (v == 0 || v == 1) {
			return v == 1, nil
		}
	case "timestamptz":
		switch v := v.(type) {
		case int64:
			return time.UnixMilli(v).UTC(), nil
		case string:
			if v == negInfinity {
				return minusInfinity{}, nil
			}
		}
	case "json", "jsonb":
		var b []byte
		switch v := v.(type) {
		case string:
			b = []byte(v)
		case []byte:
			b = v
		default:
			return nil, fmt.Errorf("want JSON, got %T", v)
		}
		raw, err := sqlite.PlainJSON(b)
		if err != nil {
			return nil, err
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("not JSON: %.40q", raw)
		}
		return jsonText(raw), nil
	case "bytea":
		switch v := v.(type) {
		case []byte:
			return bytes.Clone(v), nil
		case string:
			return []byte(v), nil
		}
	case "xid8":
		if v, ok := v.(int64); ok && v >= 0 {
			return uint64(v), nil
		}
	default:
		return nil, fmt.Errorf("no conversion to PostgreSQL type %s", udt)
	}
	return nil, fmt.Errorf("cannot copy %T %v into PostgreSQL type %s", v, v, udt)
}

// toTarget is the value the copy hands pgx for a normal value.
func toTarget(v any) any {
	switch v := v.(type) {
	case jsonText:
		return string(v) // pgx writes a string into json and jsonb as it is
	case minusInfinity:
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return v
}

// targetExpr is how the verification selects a target column of type udt:
// JSON as its text, which the checksums read.
func targetExpr(col, udt string) string {
	switch udt {
	case "json", "jsonb":
		return quote(col) + "::text"
	}
	return quote(col)
}

// fromTarget decodes a value pgx returned for targetExpr of type udt.
func fromTarget(udt string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v := v.(type) {
	case string:
		if udt == "json" || udt == "jsonb" {
			return jsonText(v), nil
		}
		return v, nil
	case int32:
		return int64(v), nil
	case int64, uint64, float64, bool, []byte:
		return v, nil
	case time.Time:
		return v.UTC(), nil
	case pgtype.InfinityModifier:
		if v == pgtype.NegativeInfinity {
			return minusInfinity{}, nil
		}
	}
	return nil, fmt.Errorf("cannot compare %T from PostgreSQL type %s", v, udt)
}

// checksum is an order-free digest of a table's rows: the lane-wise sum
// of their SHA-256 digests, so that both sides may read the rows in their
// own order (their collations differ) and a row counted twice or missed
// still shows.
type checksum [4]uint64

func (c *checksum) add(row []byte) {
	d := sha256.Sum256(row)
	for i := range c {
		c[i] += binary.BigEndian.Uint64(d[i*8:])
	}
}

func (c checksum) String() string {
	var b [32]byte
	for i, x := range c {
		binary.BigEndian.PutUint64(b[i*8:], x)
	}
	return hex.EncodeToString(b[:])
}

// appendValue appends a normal value of a column of type udt to a row's
// encoding: a tag and the value, lengths first, so that no two rows
// encode alike. A json document is compared byte for byte (the target
// keeps its text as written, and its bytes are hashed elsewhere); a
// jsonb one canonically (PostgreSQL reorders its keys and spells its
// numbers its own way).
func appendValue(b []byte, udt string, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 'n'), nil
	case string:
		return appendBytes(append(b, 's'), []byte(v)), nil
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(v)), nil
	case uint64:
		return binary.BigEndian.AppendUint64(append(b, 'u'), v), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(v)), nil
	case bool:
		if v {
			return append(b, 'b', 1), nil
		}
		return append(b, 'b', 0), nil
	case time.Time:
		return binary.BigEndian.AppendUint64(append(b, 't'), uint64(v.UnixMicro())), nil
	case minusInfinity:
		return append(b, 'T', '-'), nil
	case []byte:
		return appendBytes(append(b, 'x'), v), nil
	case jsonText:
		if udt != "jsonb" {
			return appendBytes(append(b, 'j'), []byte(v)), nil
		}
		canon, err := canonicalJSON([]byte(v))
		if err != nil {
			return nil, err
		}
		return appendBytes(append(b, 'J'), canon), nil
	}
	return nil, fmt.Errorf("no checksum for %T", v)
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// canonicalJSON returns a JSON document with its object keys sorted, no
// space, and its numbers in one spelling (canonicalNumber).
func canonicalJSON(raw []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeCanonical(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeCanonical(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			buf.Write(kb)
			buf.WriteByte(':')
			if err := writeCanonical(buf, v[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeCanonical(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case json.Number:
		n, err := canonicalNumber(string(v))
		if err != nil {
			return err
		}
		buf.WriteString(n)
	default: // string, bool, nil
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

// canonicalNumber spells a JSON number by its value: its significant
// digits and a power of ten ("15e-1" for 1.5, 1.50 and 15E-1), as
// PostgreSQL's jsonb and Go's encoder spell the same number differently.
func canonicalNumber(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return "", fmt.Errorf("number %q: %w", s, err)
		}
		mant, exp = s[:i], e
	}
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		exp -= len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	mant = strings.TrimLeft(mant, "0")
	if mant == "" {
		return "0", nil
	}
	for strings.HasSuffix(mant, "0") {
		mant, exp = mant[:len(mant)-1], exp+1
	}
	if neg {
		mant = "-" + mant
	}
	return mant + "e" + strconv.Itoa(exp), nil
}

// quote quotes an identifier for either database.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
