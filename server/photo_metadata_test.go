package server

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// TestStripPhotoMetadata: what an employee's account is shown of a photo
// keeps the picture and loses the GPS position, the time and the device.
func TestStripPhotoMetadata(t *testing.T) {
	t.Run("JPEG", func(t *testing.T) {
		at := time.Date(2026, 9, 4, 11, 0, 0, 0, time.UTC)
		in := JPEGWithExif(t, at, 55.6110, 37.7420, "", "")
		require.True(t, parseExif(in).Point != nil, "the test photo carries a position")
		require.Contains(t, string(in), "shopscore test", "and the device's make")
		out, err := stripPhotoMetadata("image/jpeg", in)
		require.NoError(t, err)
		assert.Nil(t, parseExif(out).Point)
		assert.NotContains(t, string(out), "Exif\x00\x00")
		assert.NotContains(t, string(out), "shopscore test")
		a, err := jpeg.Decode(bytes.NewReader(in))
		require.NoError(t, err)
		b, err := jpeg.Decode(bytes.NewReader(out))
		require.NoError(t, err, "the picture stays a JPEG")
		assert.Equal(t, a.Bounds(), b.Bounds())
	})
	t.Run("PNG", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 3))))
		raw := buf.Bytes()
		chunk := func(typ, data string) []byte {
			c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
			c = append(c, typ+data...)
			return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE([]byte(typ+data)))
		}
		// eXIf and a text chunk after the header chunk (8 + 25 bytes).
		in := append(append(append([]byte{}, raw[:33]...), chunk("eXIf", "MM\x00*GPS-here")...), chunk("tEXt", "Author\x00Vera")...)
		in = append(in, raw[33:]...)
		out, err := stripPhotoMetadata("image/png", in)
		require.NoError(t, err)
		assert.Equal(t, raw, out, "exactly the picture's own chunks")
		_, err = png.Decode(bytes.NewReader(out))
		require.NoError(t, err)
	})
	t.Run("WebP", func(t *testing.T) {
		riff := func(chunks ...[]byte) []byte {
			body := []byte("WEBP")
			for _, c := range chunks {
				body = append(body, c...)
			}
			return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
		}
		chunk := func(fourCC string, data []byte) []byte {
			c := binary.LittleEndian.AppendUint32([]byte(fourCC), uint32(len(data)))
			c = append(c, data...)
			if len(data)%2 == 1 {
				c = append(c, 0)
			}
			return c
		}
		vp8x := func(flags byte) []byte { return chunk("VP8X", []byte{flags, 0, 0, 0, 3, 0, 0, 2, 0, 0}) }
		pic := chunk("VP8L", []byte{0x2f, 1, 2, 3, 4})
		out, err := stripPhotoMetadata("image/webp", riff(vp8x(0x08|0x04|0x10), pic, chunk("EXIF", []byte("GPS")), chunk("XMP ", []byte("<x/>"))))
		require.NoError(t, err)
		assert.Equal(t, riff(vp8x(0x10), pic), out)
	})
	t.Run("refused", func(t *testing.T) {
		_, err := stripPhotoMetadata("image/heic", []byte("...."))
		assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err))
		for _, ct := range []string{"image/jpeg", "image/png", "image/webp"} {
			_, err := stripPhotoMetadata(ct, []byte("not a picture at all"))
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), ct)
		}
		_, err = stripPhotoMetadata("image/jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF})
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "a segment longer than the file")
	})
}
