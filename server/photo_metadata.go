package server

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/shopscore/shopscore/audit"
)

// stripPhotoMetadata returns the bytes of an evidence photo without the
// metadata a camera or phone writes into it: EXIF (the GPS position and
// time, the device's make and model), XMP, IPTC and text comments. The
// picture itself is copied unchanged. An employee's account sees photos
// only this way (MyResultsService.GetMyPhoto): the shopper's position
// and device stay his. JPEG, PNG and WebP are cleaned; any other type is
// refused. Errors: EPRECONDITION (a type that cannot be cleaned),
// EINVALID (bytes that are not the type they claim).
func stripPhotoMetadata(contentType string, b []byte) ([]byte, error) {
	var out []byte
	var err error
	switch contentType {
	case "image/jpeg":
		out, err = stripJPEG(b)
	case "image/png":
		out, err = stripPNG(b)
	case "image/webp":
		out, err = stripWebP(b)
	default:
		return nil, audit.Errorf(audit.EPRECONDITION, "a %s photo cannot be shown without its location data; only JPEG, PNG and WebP can", contentType)
	}
	if err != nil {
		return nil, audit.Errorf(audit.EINVALID, "the %s photo cannot be read: %v", contentType, err)
	}
	return out, nil
}

// stripJPEG drops the APP1 (EXIF, XMP), APP3 to APP13 (vendor data,
// IPTC), APP15 and COM segments before the image data; JFIF (APP0), the
// ICC profile (APP2) and Adobe's colour transform (APP14) stay.
func stripJPEG(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, fmt.Errorf("no JPEG start of image")
	}
	out := append(make([]byte, 0, len(b)), b[:2]...)
	i := 2
	for i < len(b) {
		if b[i] != 0xFF {
			return nil, fmt.Errorf("no marker at byte %d", i)
		}
		for i+1 < len(b) && b[i+1] == 0xFF { // fill bytes
			i++
		}
		if i+1 >= len(b) {
			return nil, fmt.Errorf("cut at byte %d", i)
		}
		m := b[i+1]
		switch {
		case m == 0xDA || m == 0xD9: // start of scan (the rest is image data), end of image
			return append(out, b[i:]...), nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // markers without a length
			out = append(out, b[i:i+2]...)
			i += 2
			continue
		}
		if i+4 > len(b) {
			return nil, fmt.Errorf("cut at byte %d", i)
		}
		end := i + 2 + int(binary.BigEndian.Uint16(b[i+2:i+4]))
		if end > len(b) || end < i+4 {
			return nil, fmt.Errorf("segment at byte %d runs past the end", i)
		}
		drop := m == 0xE1 || (m >= 0xE3 && m <= 0xED) || m == 0xEF || m == 0xFE
		if !drop {
			out = append(out, b[i:end]...)
		}
		i = end
	}
	return nil, fmt.Errorf("no image data")
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// stripPNG drops the eXIf, tEXt, zTXt, iTXt and tIME chunks.
func stripPNG(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, pngSignature) {
		return nil, fmt.Errorf("no PNG signature")
	}
	out := append(make([]byte, 0, len(b)), pngSignature...)
	for i := len(pngSignature); i < len(b); {
		if i+8 > len(b) {
			return nil, fmt.Errorf("chunk at byte %d is cut", i)
		}
		n := int(binary.BigEndian.Uint32(b[i : i+4]))
		end := i + 12 + n
		if n < 0 || end > len(b) || end < i {
			return nil, fmt.Errorf("chunk at byte %d runs past the end", i)
		}
		switch string(b[i+4 : i+8]) {
		case "eXIf", "tEXt", "zTXt", "iTXt", "tIME":
		default:
			out = append(out, b[i:end]...)
		}
		if string(b[i+4:i+8]) == "IEND" {
			return out, nil
		}
		i = end
	}
	return nil, fmt.Errorf("no IEND chunk")
}

// stripWebP drops the EXIF and XMP chunks, clears their flags in the VP8X
// header and writes the RIFF size anew.
func stripWebP(b []byte) ([]byte, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil, fmt.Errorf("no RIFF WEBP header")
	}
	out := append(make([]byte, 0, len(b)), b[:12]...)
	for i := 12; i < len(b); {
		if i+8 > len(b) {
			return nil, fmt.Errorf("chunk at byte %d is cut", i)
		}
		n := int(binary.LittleEndian.Uint32(b[i+4 : i+8]))
		end := i + 8 + n + n%2
		if n < 0 || end > len(b) || end < i {
			return nil, fmt.Errorf("chunk at byte %d runs past the end", i)
		}
		switch fourCC := string(b[i : i+4]); fourCC {
		case "EXIF", "XMP ":
		case "VP8X":
			chunk := append([]byte(nil), b[i:end]...)
			if n > 0 {
				chunk[8] &^= 0x08 | 0x04 // EXIF and XMP present
			}
			out = append(out, chunk...)
		default:
			out = append(out, b[i:end]...)
		}
		i = end
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}
