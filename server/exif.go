package server

import (
	"strings"
	"time"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// exifWindow is how much of a photo is searched for EXIF: the APP1 segment
// sits at the start of a JPEG, and HEIC keeps it near the start too.
const exifWindow = 256 << 10

// parseExif reads the time and place a photo was taken from its EXIF
// (found in its first exifWindow bytes), with dsoprea/go-exif. The time
// comes from the GPS clock (UTC) when present, else from DateTimeOriginal
// with its OffsetTimeOriginal; a local time without a zone is ignored, since
// it cannot be compared with the visit's times. A photo without EXIF, or
// with EXIF the library cannot read, gives an empty result: EXIF is a
// signal, never a requirement.
func parseExif(data []byte) (out storage.Exif) {
	defer func() {
		if recover() != nil { // untrusted bytes: a parser panic is "no EXIF"
			out = storage.Exif{}
		}
	}()
	raw, err := exif.SearchAndExtractExif(data)
	if err != nil {
		return out
	}
	mapping, err := exifcommon.NewIfdMappingWithStandard()
	if err != nil {
		return out
	}
	_, index, err := exif.Collect(mapping, exif.NewTagIndex(), raw)
	if err != nil {
		return out
	}
	if gpsIfd, err := index.RootIfd.ChildWithIfdPath(exifcommon.IfdGpsInfoStandardIfdIdentity); err == nil {
		if gi, err := gpsIfd.GpsInfo(); err == nil {
			lat, lon := gi.Latitude.Decimal(), gi.Longitude.Decimal()
			if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0) {
				out.Point = &audit.GeoPoint{Latitude: lat, Longitude: lon}
			}
			if !gi.Timestamp.IsZero() {
				out.Time = gi.Timestamp.UTC()
			}
		}
	}
	if out.Time.IsZero() {
		if exifIfd, err := index.RootIfd.ChildWithIfdPath(exifcommon.IfdExifStandardIfdIdentity); err == nil {
			local := tagString(exifIfd, "DateTimeOriginal")
			offset := tagString(exifIfd, "OffsetTimeOriginal")
			if local != "" && offset != "" {
				if t, err := time.Parse("2006:01:02 15:04:05-07:00", local+offset); err == nil {
					out.Time = t.UTC()
				}
			}
		}
	}
	return out
}

func tagString(ifd *exif.Ifd, name string) string {
	tags, err := ifd.FindTagWithName(name)
	if err != nil || len(tags) == 0 {
		return ""
	}
	v, err := tags[0].Value()
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return strings.TrimRight(strings.TrimSpace(s), "\x00")
}
