package reports

import (
	"bytes"
	"compress/flate"
	"io"
	"runtime"
	"sync"

	kflate "github.com/klauspost/compress/flate"
)

// parallelDeflate compresses one zip part on every core: the input is cut
// into blocks of deflateBlock bytes, each compressed on its own goroutine
// with the previous block's last 32 KiB as its dictionary and ended with a
// sync flush, so that the blocks, written in order, are one deflate
// stream (the way pigz does it). The cost is a few bytes a block and
// matches that cross a block's start and are not found.
type parallelDeflate struct {
	w       io.Writer
	newDict dictDeflater
	block   []byte
	dict    []byte // the end of the block before, read by its successor
	pending []*deflateJob
	spent   []byte // the input of the block written last, kept as its successor's dictionary
	workers int
	err     error
}

// deflateBlock is the input of one parallel block; deflateWindow is
// deflate's window, the dictionary a block takes from the one before.
const (
	deflateBlock  = 1 << 20
	deflateWindow = 32 << 10
)

type deflateJob struct {
	done chan struct{}
	out  bytes.Buffer
	in   []byte // returned to blocks once compressed
	err  error
}

// dictDeflater starts a deflate writer at a fixed level whose window holds
// dict (flate.NewWriterDict of the standard library or of klauspost).
type dictDeflater func(w io.Writer, dict []byte) (deflateWriter, error)

type deflateWriter interface {
	io.WriteCloser
	Flush() error
}

func stdDeflater(level int) dictDeflater {
	return func(w io.Writer, dict []byte) (deflateWriter, error) { return flate.NewWriterDict(w, level, dict) }
}

// klauspostDeflater reuses its writers (ResetDict), which the standard
// library's cannot do with a new dictionary: a writer's state is about
// a megabyte.
func klauspostDeflater(level int) dictDeflater {
	var pool sync.Pool
	return func(w io.Writer, dict []byte) (deflateWriter, error) {
		if fw, ok := pool.Get().(*kflate.Writer); ok {
			fw.ResetDict(w, dict)
			return pooledWriter{fw, &pool}, nil
		}
		fw, err := kflate.NewWriterDict(w, level, dict)
		if err != nil {
			return nil, err
		}
		return pooledWriter{fw, &pool}, nil
	}
}

// pooledWriter returns its writer to the pool when closed; a writer only
// flushed (a parallel block before the last) goes back on release.
type pooledWriter struct {
	*kflate.Writer
	pool *sync.Pool
}

func (p pooledWriter) Close() error {
	err := p.Writer.Close()
	p.release()
	return err
}

func (p pooledWriter) release() { p.pool.Put(p.Writer) }

var blocks = sync.Pool{New: func() any { b := make([]byte, 0, deflateBlock); return &b }}

// newParallelDeflate returns a zip.Compressor on GOMAXPROCS goroutines;
// with one, it is the deflater alone.
func newParallelDeflate(deflater dictDeflater) func(io.Writer) (io.WriteCloser, error) {
	return func(w io.Writer) (io.WriteCloser, error) {
		workers := runtime.GOMAXPROCS(0)
		if workers < 2 {
			return deflater(w, nil)
		}
		return &parallelDeflate{w: w, newDict: deflater, workers: workers, block: (*blocks.Get().(*[]byte))[:0]}, nil
	}
}

func (p *parallelDeflate) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && p.err == nil {
		k := copy(p.block[len(p.block):cap(p.block)], b)
		p.block, b = p.block[:len(p.block)+k], b[k:]
		if len(p.block) == cap(p.block) {
			p.submit(false)
		}
	}
	if p.err != nil {
		return 0, p.err
	}
	return n, nil
}

// submit starts compressing the block filled so far and writes the
// finished blocks out while more than workers are in flight (all of them
// when final).
func (p *parallelDeflate) submit(final bool) {
	in, dict := p.block, p.dict
	j := &deflateJob{done: make(chan struct{}), in: in}
	go func() {
		defer close(j.done)
		fw, err := p.newDict(&j.out, dict)
		if err == nil {
			_, err = fw.Write(in)
		}
		if err == nil && final {
			err = fw.Close()
		} else if err == nil {
			err = fw.Flush()
			if r, ok := fw.(interface{ release() }); ok {
				r.release()
			}
		}
		j.err = err
	}()
	p.pending = append(p.pending, j)
	p.dict = in[max(len(in)-deflateWindow, 0):]
	if !final {
		p.block = (*blocks.Get().(*[]byte))[:0]
	}
	for len(p.pending) > p.workers || final && len(p.pending) > 0 {
		p.writeOldest()
	}
}

// writeOldest waits for the oldest block in flight and writes it out. A
// block's input goes back to the pool once its successor, which read its
// end as dictionary, is done too.
func (p *parallelDeflate) writeOldest() {
	j := p.pending[0]
	p.pending = p.pending[1:]
	<-j.done
	p.recycle()
	p.spent = j.in
	if p.err == nil {
		p.err = j.err
	}
	if p.err == nil {
		_, p.err = j.out.WriteTo(p.w)
	}
}

func (p *parallelDeflate) recycle() {
	if p.spent != nil {
		in := p.spent[:0]
		blocks.Put(&in)
		p.spent = nil
	}
}

func (p *parallelDeflate) Close() error {
	if p.err == nil {
		p.submit(true)
	}
	for len(p.pending) > 0 { // after an error
		p.writeOldest()
	}
	p.recycle()
	p.block, p.dict = nil, nil
	return p.err
}
