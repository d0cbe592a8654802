package server

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"
	"time"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// JPEGWithExif returns a small JPEG whose EXIF says it was taken at `at`
// (GPS clock, UTC) at lat, lon; with a zero time it carries a local
// DateTimeOriginal with the given offset instead.
func JPEGWithExif(tb testing.TB, at time.Time, lat, lon float64, local string, offset string) []byte {
	tb.Helper()
	mapping, err := exifcommon.NewIfdMappingWithStandard()
	require.NoError(tb, err)
	ti := exif.NewTagIndex()
	root := exif.NewIfdBuilder(mapping, ti, exifcommon.IfdStandardIfdIdentity, binary.BigEndian)
	require.NoError(tb, root.AddStandardWithName("Make", "shopscore test"))
	dms := func(v float64) []exifcommon.Rational {
		if v < 0 {
			v = -v
		}
		d := uint32(v)
		m := uint32((v - float64(d)) * 60)
		s := (v - float64(d) - float64(m)/60) * 3600
		return []exifcommon.Rational{{Numerator: d, Denominator: 1}, {Numerator: m, Denominator: 1}, {Numerator: uint32(s * 1000), Denominator: 1000}}
	}
	if lat != 0 || lon != 0 {
		gps, err := exif.GetOrCreateIbFromRootIb(root, "IFD/GPSInfo")
		require.NoError(tb, err)
		require.NoError(tb, gps.AddStandardWithName("GPSVersionID", []byte{2, 2, 0, 0}))
		ns, ew := "N", "E"
		if lat < 0 {
			ns = "S"
		}
		if lon < 0 {
			ew = "W"
		}
		require.NoError(tb, gps.AddStandardWithName("GPSLatitudeRef", ns))
		require.NoError(tb, gps.AddStandardWithName("GPSLatitude", dms(lat)))
		require.NoError(tb, gps.AddStandardWithName("GPSLongitudeRef", ew))
		require.NoError(tb, gps.AddStandardWithName("GPSLongitude", dms(lon)))
		if !at.IsZero() {
			at = at.UTC()
			require.NoError(tb, gps.AddStandardWithName("GPSDateStamp", at.Format("2006:01:02")))
			require.NoError(tb, gps.AddStandardWithName("GPSTimeStamp", []exifcommon.Rational{
				{Numerator: uint32(at.Hour()), Denominator: 1}, {Numerator: uint32(at.Minute()), Denominator: 1}, {Numerator: uint32(at.Second()), Denominator: 1}}))
		}
	}
	if local != "" {
		ex, err := exif.GetOrCreateIbFromRootIb(root, "IFD/Exif")
		require.NoError(tb, err)
		require.NoError(tb, ex.AddStandardWithName("DateTimeOriginal", local))
		if offset != "" {
			require.NoError(tb, ex.AddStandardWithName("OffsetTimeOriginal", offset))
		}
	}
	payload, err := exif.NewIfdByteEncoder().EncodeToExif(root)
	require.NoError(tb, err)

	var img bytes.Buffer
	require.NoError(tb, jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil))
	app1 := append([]byte("Exif\x00\x00"), payload...)
	var out bytes.Buffer
	out.Write(img.Bytes()[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)})
	out.Write(app1)
	out.Write(img.Bytes()[2:])
	return out.Bytes()
}

func TestParseExif(t *testing.T) {
	at := time.Date(2026, 11, 17, 10, 30, 15, 0, time.UTC)
	t.Run("GPS time and place", func(t *testing.T) {
		got := parseExif(JPEGWithExif(t, at, 55.7652, 37.6050, "", ""))
		assert.Equal(t, at, got.Time)
		require.NotNil(t, got.Point)
		assert.InDelta(t, 55.7652, got.Point.Latitude, 1e-4)
		assert.InDelta(t, 37.6050, got.Point.Longitude, 1e-4)
	})
	t.Run("local time with offset", func(t *testing.T) {
		got := parseExif(JPEGWithExif(t, time.Time{}, 0, 0, "2026:11:17 13:30:15", "+03:00"))
		assert.Equal(t, at, got.Time)
		assert.Nil(t, got.Point)
	})
	t.Run("local time without a zone is not used", func(t *testing.T) {
		got := parseExif(JPEGWithExif(t, time.Time{}, 0, 0, "2026:11:17 13:30:15", ""))
		assert.True(t, got.Time.IsZero())
	})
	t.Run("no EXIF", func(t *testing.T) {
		var img bytes.Buffer
		require.NoError(t, jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8)), nil))
		got := parseExif(img.Bytes())
		assert.True(t, got.Time.IsZero())
		assert.Nil(t, got.Point)
	})
	t.Run("garbage", func(t *testing.T) {
		got := parseExif(append([]byte("MM\x00\x2a\x00\x00\x00\x08"), bytes.Repeat([]byte{0xff}, 64)...))
		assert.True(t, got.Time.IsZero())
	})
}
