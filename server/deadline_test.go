package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server"
)

// trickle is a body that sends data a chunk per interval, or spaces
// one byte per interval up to n bytes when data is nil.
type trickle struct {
	n        int
	interval time.Duration
	data     []byte
	chunk    int
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.data != nil {
		if len(t.data) == 0 {
			return 0, io.EOF
		}
		time.Sleep(t.interval)
		n := copy(p[:min(len(p), t.chunk)], t.data)
		t.data = t.data[n:]
		return n, nil
	}
	if t.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(t.interval)
	t.n--
	p[0] = ' '
	return 1, nil
}

func TestServer_SlowBodyIsCut(t *testing.T) {
	ts := MustRunServer(t, &server.Config{RequestBodyTimeout: 300 * time.Millisecond, MinUploadRate: 1 << 10})

	t.Run("HTTP1", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		require.NoError(t, err)
		defer conn.Close()
		fmt.Fprintf(conn, "POST /shopscore.v1.AuthService/Login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
		go func() {
			for range 1000 {
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "the server answers instead of waiting for the body")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// The connection is closed, not kept for the rest of the body.
		_, err = conn.Read(make([]byte, 1))
		require.Error(t, err)
		assert.Less(t, time.Since(start), 3*time.Second, "cut after the body timeout")
		t.Logf("HTTP/1.1 trickle answered %d and closed after %v", resp.StatusCode, time.Since(start).Round(time.Millisecond))
	})
	t.Run("H2C", func(t *testing.T) {
		req, err := http.NewRequest("POST", ts.URL+"/shopscore.v1.AuthService/Login", &trickle{n: 1000, interval: 100 * time.Millisecond})
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := h2c().Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.NotEqual(t, http.StatusOK, resp.StatusCode)
		}
		assert.Less(t, time.Since(start), 3*time.Second, "cut after the body timeout")
	})
	t.Run("FastBodyAfterSlowHeadersOK", func(t *testing.T) {
		// A call whose body arrives in time is served, and the lifted
		// deadline does not cut the connection's next call.
		c := http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
		for range 2 {
			resp, err := c.Post(ts.URL+"/shopscore.v1.AuthService/WhoAmI", "application/json", strings.NewReader("{}"))
			require.NoError(t, err)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			time.Sleep(400 * time.Millisecond)
		}
	})
	t.Run("UploadGetsTimeForItsSize", func(t *testing.T) {
		// A photo's body sent over 600 ms, more than a call's 300 ms but
		// less than 300 ms plus its size at 1 KiB/s.
		c := clientsOf(ts, http.DefaultClient)
		f := newField(t, ts, c)
		rec, _ := f.pushedVisit(t)
		p := rec.visit.Photos[0]
		slot, err := f.slot(t, rec.visit.ID, p)
		require.NoError(t, err)
		body := rec.photos[p.SHA256]
		require.Greater(t, len(body), 1<<10)
		req, err := http.NewRequest(slot.Method, slot.Url, io.NopCloser(&trickle{interval: 100 * time.Millisecond, data: bytes.Clone(body), chunk: len(body)/6 + 1}))
		require.NoError(t, err)
		req.ContentLength = int64(len(body))
		for k, v := range slot.Headers {
			if k != "Content-Length" {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Less(t, resp.StatusCode, 300, "a slow upload within its size's time is stored")
		_, err = f.finalize(t, rec.visit.ID, p)
		require.NoError(t, err)
	})
}
