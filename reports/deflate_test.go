package reports

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"
	"github.com/stretchr/testify/require"
)

// chunkWriter records the size of every Write it is given.
type chunkWriter struct {
	bytes.Buffer
	writes  int
	largest int
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.writes++
	c.largest = max(c.largest, len(p))
	return c.Buffer.Write(p)
}

// sampleAuditWorkbook writes an audit workbook of the given number of
// visits with 40 answers each, shaped like the W4 benchmark's, to w.
func sampleAuditWorkbook(tb testing.TB, w io.Writer, visits int) {
	tb.Helper()
	b, err := NewAuditWorkbook(w, AuditOptions{Scope: "All stores"})
	require.NoError(tb, err)
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	cats := []string{"politeness", "speed", "merchandising", "price_tags", "back_office"}
	for v := range visits {
		id := fmt.Sprintf("visit-%08d", v)
		store := fmt.Sprintf("S%02d", v%20)
		when := at.Add(time.Duration(v) * time.Minute)
		require.NoError(tb, b.AddVisit(VisitRow{VisitID: id, StoreID: store, StoreName: "Store " + store, Region: "North",
			ChecklistID: "store-visit", ChecklistVersion: 1, Channel: "store_visit", ShopperID: "Bench Shopper",
			Staff: []StaffRef{{ID: "e1", Name: "Employee 1"}}, VisitedAt: when, Status: "approved", Points: float64(60 + v%21), MaxPoints: 80}))
		for q := range 40 {
			value, points := "yes", 1.0
			if (v+q)%5 == 0 {
				value, points = "no", 0
			}
			require.NoError(tb, b.AddAnswer(AnswerRow{VisitID: id, StoreID: store, VisitedAt: when,
				QuestionID: fmt.Sprintf("q%02d", q), QuestionText: fmt.Sprintf("Question %d as the checklist words it?", q),
				Category: cats[q%len(cats)], Clause: fmt.Sprintf("STD-%02d", q%20), Value: value, Points: points, MaxPoints: 1,
				StaffIDs: []string{"Employee 1"}}))
		}
	}
	require.NoError(tb, b.Close())
}

// TestWriteFile_Streams checks that a workbook reaches its writer in
// bounded pieces as it is zipped, not as one buffer at the end, and still
// opens.
func TestWriteFile_Streams(t *testing.T) {
	var out chunkWriter
	sampleAuditWorkbook(t, &out, 200)
	require.Greater(t, out.Len(), 2*deflateBlock/4, "the sample should be larger than a few writes")
	require.Greater(t, out.writes, 4, "the workbook came in %d writes", out.writes)
	// A write is at most one compressed block of parallelDeflate: a
	// deflateBlock of this XML compresses to about a tenth.
	require.LessOrEqual(t, out.largest, deflateBlock/4, "one write of %d bytes out of %d: the workbook was buffered", out.largest, out.Len())
	f := openXLSX(t, out.Bytes())
	rows, err := f.GetRows(sheetAnswers)
	require.NoError(t, err)
	require.Len(t, rows, 1+200*40)
	require.Equal(t, []string{"visit-00000199", "S19"}, rows[len(rows)-1][:2])
}

// BenchmarkWorkbookDeflate compresses the parts of an audit workbook
// (500 visits, 20 000 answers, about 14 MB of XML) with the candidate
// deflaters: the throughput is in MB/s of XML, and size-% is the
// compressed size against the standard library's default level.
func BenchmarkWorkbookDeflate(b *testing.B) {
	var book bytes.Buffer
	sampleAuditWorkbook(b, &book, 500)
	zr, err := zip.NewReader(bytes.NewReader(book.Bytes()), int64(book.Len()))
	require.NoError(b, err)
	var parts [][]byte
	var total int64
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(b, err)
		data, err := io.ReadAll(r)
		require.NoError(b, err)
		parts = append(parts, data)
		total += int64(len(data))
	}
	size := func(c zip.Compressor) int64 {
		var out countingWriter
		for _, p := range parts {
			w, err := c(&out)
			require.NoError(b, err)
			_, err = w.Write(p)
			require.NoError(b, err)
			require.NoError(b, w.Close())
		}
		return out.n
	}
	std := func(level int) zip.Compressor {
		return func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, level) }
	}
	klaus := func(level int) zip.Compressor {
		return func(w io.Writer) (io.WriteCloser, error) { return kflate.NewWriter(w, level) }
	}
	base := size(std(flate.DefaultCompression))
	for _, c := range []struct {
		name string
		c    zip.Compressor
	}{
		{"std-default", std(flate.DefaultCompression)},
		{"std-1", std(flate.BestSpeed)},
		{"klauspost-1", klaus(kflate.BestSpeed)},
		{"klauspost-2", klaus(2)},
		{"klauspost-3", klaus(3)},
		{"parallel-std-1", newParallelDeflate(stdDeflater(flate.BestSpeed))},
		{"parallel-klauspost-1", newParallelDeflate(klauspostDeflater(kflate.BestSpeed))},
		{"workbookDeflate", workbookDeflate},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(total)
			var n int64
			for b.Loop() {
				n = size(c.c)
			}
			b.ReportMetric(100*float64(n)/float64(base), "size-%")
			b.ReportMetric(float64(n)/(1<<20), "MB")
		})
	}
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestParallelDeflate_RoundTrip checks that the blocks compressed in
// parallel read back as one deflate stream, for inputs shorter than a
// block, of exactly one, and of several with a part-filled last one,
// written in pieces of every size.
func TestParallelDeflate_RoundTrip(t *testing.T) {
	var sample bytes.Buffer
	sampleAuditWorkbook(t, &sample, 50)
	text := bytes.Repeat(sample.Bytes(), 1+3*deflateBlock/sample.Len())
	text = append(text, "tail"...)
	for _, deflater := range []dictDeflater{stdDeflater(flate.BestSpeed), klauspostDeflater(kflate.BestSpeed)} {
		for _, n := range []int{0, 10, deflateBlock, deflateBlock + 1, len(text)} {
			for _, piece := range []int{1 << 10, 64 << 10, deflateBlock + 7} {
				var out bytes.Buffer
				w, err := newParallelDeflate(deflater)(&out)
				require.NoError(t, err)
				for rest := text[:n]; len(rest) > 0; {
					k := min(piece, len(rest))
					_, err := w.Write(rest[:k])
					require.NoError(t, err)
					rest = rest[k:]
				}
				require.NoError(t, w.Close())
				got, err := io.ReadAll(flate.NewReader(&out))
				require.NoError(t, err, "%d bytes in pieces of %d", n, piece)
				require.True(t, bytes.Equal(text[:n], got), "%d bytes in pieces of %d read back differently", n, piece)
			}
		}
	}
}
