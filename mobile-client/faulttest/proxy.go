package faulttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// Action is what the proxy does with one request.
type Action int

const (
	// Forward passes the request and its response through.
	Forward Action = iota
	// Drop closes the connection before the request reaches the server,
	// or after Fault.After of its bytes have.
	Drop
	// DropResponse passes the request through, lets the server answer in
	// full, then closes the connection without passing any of the answer
	// on: the server has done the work, the client never learns it.
	DropResponse
)

// Fault says what happens to one request the proxy sees.
type Fault struct {
	Action Action
	// After is, for Drop, how many bytes of the connection may still pass
	// (in either direction) before the connection is closed; 0 closes it
	// before any byte of the request is sent on.
	After int64
	// Do runs at the moment of the fault, before the connection is closed
	// (kill a process here). It may be nil.
	Do func()
	// Response, when set, receives the server's complete HTTP response to
	// the request, whether it is passed on or dropped; a response passed on
	// reaches the client in full only after Response returned.
	Response func(raw []byte)
}

// Stats counts what the proxy did.
type Stats struct {
	Conns int
	// Cuts counts connections cut at their random offset; CutsDuring
	// counts them by the last request seen on the connection when it was
	// cut: "Push", "Pull", "CreateUploadSlot", "FinalizeUpload", "Login",
	// "Refresh", "upload" (a PUT of photo bytes) or "" (none yet).
	Cuts       int
	CutsDuring map[string]int
	// Faults counts requests that got a Drop or DropResponse.
	Faults int
	// Requests counts requests by the same names.
	Requests map[string]int
	// ConnsTo counts connections by the target (host:port) they reached;
	// Refused counts the dials a target refused (a dead server), after
	// which the connection tried the next target.
	ConnsTo map[string]int
	Refused int
}

// Proxy is a TCP proxy on a loopback port in front of one server address,
// or of several that it balances connections over (NewRoundRobin). It
// understands just enough HTTP/1.1 to see request lines and to find the
// end of a response. Its methods are safe for concurrent use.
type Proxy struct {
	// URL is "http://" + the proxy's address.
	URL string
	// Addr is the proxy's host:port.
	Addr string

	ln      net.Listener
	targets []string

	mu        sync.Mutex
	next      int // the target of the next connection, round-robin
	cut       func() int64
	onRequest func(target, method, path string) Fault
	stats     Stats
	conns     map[*conn]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// NewProxy listens on 127.0.0.1:0 and forwards every connection to target
// (host:port) until Close.
func NewProxy(target string) (*Proxy, error) { return NewRoundRobin(target) }

// NewRoundRobin listens on 127.0.0.1:0 and forwards each new connection
// to the next of targets (host:port) in turn, until Close, as a load
// balancer in front of several servers does. A target that refuses the
// connection (a killed server) is passed over for the one after it, so
// that the clients move on to the servers that are left; a connection no
// target accepts is closed.
func NewRoundRobin(targets ...string) (*Proxy, error) {
	if len(targets) == 0 {
		return nil, errors.New("faulttest: a proxy needs at least one target")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), ln: ln,
		targets: append([]string(nil), targets...),
		conns:   map[*conn]struct{}{},
		stats:   Stats{CutsDuring: map[string]int{}, Requests: map[string]int{}, ConnsTo: map[string]int{}},
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// SetCut sets the function that chooses, for each new connection, the
// byte offset (requests and responses counted together) after which the
// connection is cut; a negative offset never cuts. It runs under the
// proxy's lock, so it may draw from one unsynchronized source. nil stops
// cutting new connections.
func (p *Proxy) SetCut(fn func() int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = fn
}

// SetOnRequest sets the function that decides the fault of each request
// the proxy sees, by method and path; nil forwards everything. It runs on
// the connection's goroutine, before any byte of the request is passed on.
func (p *Proxy) SetOnRequest(fn func(method, path string) Fault) {
	if fn == nil {
		p.SetOnTargetRequest(nil)
		return
	}
	p.SetOnTargetRequest(func(_, method, path string) Fault { return fn(method, path) })
}

// SetOnTargetRequest is SetOnRequest for a proxy in front of several
// servers: fn is also told the target (host:port) the request's
// connection reached, so that a fault can kill the server that has the
// request.
func (p *Proxy) SetOnTargetRequest(fn func(target, method, path string) Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onRequest = fn
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.CutsDuring, s.Requests, s.ConnsTo = maps.Clone(p.stats.CutsDuring), maps.Clone(p.stats.Requests), maps.Clone(p.stats.ConnsTo)
	return s
}

// CloseConns closes every open connection, as a network outage would.
func (p *Proxy) CloseConns() {
	p.mu.Lock()
	cs := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}

// Close stops accepting, closes every connection and waits for them.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.CloseConns()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			return
		}
		cutAt := int64(-1)
		if p.cut != nil {
			cutAt = p.cut()
		}
		c := &conn{p: p, client: client, first: p.next, stopAt: cutAt, cutting: cutAt >= 0}
		p.next = (p.next + 1) % len(p.targets)
		p.conns[c] = struct{}{}
		p.stats.Conns++
		p.wg.Add(1)
		p.mu.Unlock()
		go c.run()
	}
}

// conn is one proxied connection.
type conn struct {
	p      *Proxy
	client net.Conn
	server net.Conn
	first  int    // the index of the first target to dial
	target string // the target dialled, once connected

	mu      sync.Mutex
	total   int64 // bytes passed on, both directions
	stopAt  int64 // close when total would pass this; < 0: never
	cutting bool  // stopAt is the random cut, not a fault
	last    string
	fault   *Fault // the fault that set stopAt, or waits for the response
	watch   *Fault // the current request's response watcher
	resp    []byte // the response so far, when watched
	closed  bool

	upPos  int64  // bytes read from the client so far
	carry  []byte // the end of the previous client read, to find split request lines
	seenTo int64  // request lines ending before this position were handled
}

func (c *conn) run() {
	defer c.p.wg.Done()
	defer func() {
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	}()
	server, target := c.dial()
	if server == nil {
		c.client.Close()
		return
	}
	c.mu.Lock()
	c.server, c.target = server, target
	closed := c.closed
	c.mu.Unlock()
	if closed {
		server.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.down()
	}()
	c.up()
	<-done
	c.close()
}

// dial connects to the connection's target, or to the next one that
// accepts; it returns nil when none does.
func (c *conn) dial() (net.Conn, string) {
	n := len(c.p.targets)
	for i := range n {
		target := c.p.targets[(c.first+i)%n]
		server, err := net.Dial("tcp", target)
		c.p.mu.Lock()
		if err != nil {
			c.p.stats.Refused++
		} else {
			c.p.stats.ConnsTo[target]++
		}
		c.p.mu.Unlock()
		if err == nil {
			return server, target
		}
	}
	return nil, ""
}

func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	server := c.server
	c.mu.Unlock()
	c.client.Close()
	if server != nil {
		server.Close()
	}
}

// requestLine matches an HTTP/1.x request line.
var requestLine = regexp.MustCompile(`(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/[!-~]*) HTTP/1\.[01]\r\n`)

// RequestName names a request for Stats: the RPC method for Connect and
// gRPC paths ("Push"), "upload" for a PUT of evidence bytes, else the path.
func RequestName(method, path string) string {
	if method == http.MethodPut {
		return "upload"
	}
	if i := strings.LastIndexByte(path, '/'); strings.HasPrefix(path, "/shopscore.v1.") && i >= 0 {
		return path[i+1:]
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// up copies client bytes to the server, acting on the request lines.
func (c *conn) up() {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.client.Read(buf)
		if n > 0 && !c.upChunk(buf[:n]) {
			return
		}
		if err != nil {
			// Half-close: the client sent all it will send.
			if tc, ok := c.server.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				tc.CloseWrite()
				return
			}
			c.close()
			return
		}
	}
}

// upChunk passes one client read on, splitting it at request lines. It
// returns false once the connection is closed.
func (c *conn) upChunk(data []byte) bool {
	start := c.upPos
	c.upPos += int64(len(data))
	scan := append(c.carry, data...)
	base := start - int64(len(c.carry))
	if keep := min(len(scan), 512); keep > 0 {
		c.carry = append([]byte(nil), scan[len(scan)-keep:]...)
	}
	for _, m := range requestLine.FindAllSubmatchIndex(scan, -1) {
		at, end := base+int64(m[0]), base+int64(m[1])
		if end <= c.seenTo {
			continue
		}
		c.seenTo = end
		// Send what precedes the request line (the rest of a previous
		// request), then decide on this request.
		if cut := max(at-start, 0); cut > 0 {
			if !c.send(c.server, data[:cut]) {
				return false
			}
			data, start = data[cut:], start+cut
		}
		method, path := string(scan[m[2]:m[3]]), string(scan[m[4]:m[5]])
		if !c.request(method, path) {
			return false
		}
	}
	return c.send(c.server, data)
}

// request records a request and applies its fault. It returns false when
// the connection was closed.
func (c *conn) request(method, path string) bool {
	name := RequestName(method, path)
	c.p.mu.Lock()
	c.p.stats.Requests[name]++
	decide := c.p.onRequest
	c.p.mu.Unlock()
	f := Fault{}
	if decide != nil {
		f = decide(c.target, method, path)
	}
	c.mu.Lock()
	c.last = name
	c.watch, c.resp = nil, nil
	if f.Response != nil || f.Action == DropResponse {
		c.watch = &f
	}
	if f.Action == Drop && (f.After == 0 || c.stopAt < 0 || c.total+f.After < c.stopAt) {
		c.stopAt, c.cutting, c.fault = c.total+f.After, false, &f
	}
	c.mu.Unlock()
	if f.Action != Forward {
		c.p.mu.Lock()
		c.p.stats.Faults++
		c.p.mu.Unlock()
	}
	if f.Action == Drop && f.After == 0 {
		c.trip()
		return false
	}
	return true
}

// send writes p to dst within the connection's byte budget; when the
// budget ends inside p, it writes what fits and trips. It returns false
// when the connection is closed.
func (c *conn) send(dst net.Conn, p []byte) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	allowed := int64(len(p))
	if c.stopAt >= 0 && c.total+allowed > c.stopAt {
		allowed = max(c.stopAt-c.total, 0)
	}
	c.total += allowed
	c.mu.Unlock()
	if allowed > 0 {
		if _, err := dst.Write(p[:allowed]); err != nil {
			c.close()
			return false
		}
	}
	if allowed < int64(len(p)) {
		c.trip()
		return false
	}
	return true
}

// trip closes the connection at its stop: a random cut is counted, a
// fault runs its Do first.
func (c *conn) trip() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	cutting, f, last := c.cutting, c.fault, c.last
	c.mu.Unlock()
	if cutting {
		c.p.mu.Lock()
		c.p.stats.Cuts++
		c.p.stats.CutsDuring[last]++
		c.p.mu.Unlock()
	} else if f != nil && f.Do != nil {
		f.Do()
	}
	c.close()
}

// down copies server bytes to the client, watching responses.
func (c *conn) down() {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 && !c.downChunk(buf[:n]) {
			return
		}
		if err != nil {
			c.mu.Lock()
			w, closed := c.watch, c.closed
			c.mu.Unlock()
			if !closed && w != nil && w.Action == DropResponse && w.Do != nil {
				w.Do() // the server went away before answering in full
			}
			c.close()
			return
		}
	}
}

func (c *conn) downChunk(data []byte) bool {
	c.mu.Lock()
	w := c.watch
	if w == nil {
		c.mu.Unlock()
		return c.send(c.client, data)
	}
	c.resp = append(c.resp, data...)
	n, complete := responseEnd(c.resp)
	var raw []byte
	if complete {
		raw = c.resp[:n]
		c.watch, c.resp = nil, nil
	}
	c.mu.Unlock()
	if w.Action != DropResponse {
		// The watcher sees the response before the client gets its end.
		if complete && w.Response != nil {
			w.Response(raw)
		}
		return c.send(c.client, data)
	}
	if !complete {
		return true
	}
	if w.Response != nil {
		w.Response(raw)
	}
	if w.Do != nil {
		w.Do()
	}
	c.close()
	return false
}

// responseEnd reports whether b starts with a complete HTTP/1.x response,
// and its length.
func responseEnd(b []byte) (int, bool) {
	r := bytes.NewReader(b)
	br := bufio.NewReaderSize(r, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, false
	}
	return len(b) - r.Len() - br.Buffered(), true
}

// ParseResponse returns the status code, headers and decoded body (gzip
// undone) of a raw HTTP/1.x response the proxy captured.
func ParseResponse(raw []byte) (int, http.Header, []byte, error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		if body, err = gunzip(body); err != nil {
			return 0, nil, nil, err
		}
	}
	return resp.StatusCode, resp.Header, body, nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
