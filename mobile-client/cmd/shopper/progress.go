package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shopscore/shopscore/mobile-client/field"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar shows a sync's progress: one redrawn line on a terminal,
// plain lines (one per phase change or completed step) otherwise.
type progressBar struct {
	w     io.Writer
	tty   bool
	last  string // the last step printed, in plain output
	drawn bool
}

func newProgressBar(w io.Writer, tty bool) *progressBar { return &progressBar{w: w, tty: tty} }

func bar(done, total int64, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat("=", width) + "]"
	}
	n := int(int64(width) * min(done, total) / total)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}

func (p *progressBar) update(pr field.Progress) {
	var line string
	switch pr.Phase {
	case field.PhasePush:
		line = fmt.Sprintf("visits %s %d/%d", bar(int64(pr.VisitsPushed), int64(pr.VisitsTotal), 20), pr.VisitsPushed, pr.VisitsTotal)
	case field.PhaseUpload:
		line = fmt.Sprintf("photos %s %d/%d, %s/%s", bar(pr.PhotoBytesUploaded, pr.PhotoBytesTotal, 20), pr.PhotosDone, pr.PhotosTotal,
			byteSize(pr.PhotoBytesUploaded), byteSize(pr.PhotoBytesTotal))
	case field.PhasePull:
		line = "fetching changes"
	default:
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%-72s", line)
		p.drawn = true
		return
	}
	// Plain output: a line per completed step, not one per chunk sent.
	key := fmt.Sprintf("%s %d %d", pr.Phase, pr.VisitsPushed, pr.PhotosDone)
	if key != p.last {
		fmt.Fprintln(p.w, line)
		p.last = key
	}
}

func (p *progressBar) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
