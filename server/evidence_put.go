package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/blob"
)

// PutPhoto stores body as the photo evidence ph through an upload URL of
// the evidence store, as a phone would, and verifies it, before or while
// the server serves: how seeded data (server/demo) gets its photos.
func (s *Server) PutPhoto(ctx context.Context, ph audit.Photo, body []byte) error {
	key, err := blob.Key(ph.SHA256)
	if err != nil {
		return err
	}
	store := s.blob
	if s.local != nil && s.cfg.Blob == nil && s.baseURL() == "" {
		// Before Serve the default local store knows no URL of its own: sign
		// with the same secret under a placeholder address; the request is
		// handed to the store directly below.
		if store, err = blob.NewLocal(filepath.Join(s.cfg.DataDir, "blobs"), s.blobSecret(), func() string { return "http://localhost" + blobPrefix }); err != nil {
			return err
		}
	}
	slot, err := store.PresignPut(ctx, key, ph.Size, ph.SHA256, ph.ContentType, 15*time.Minute)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, slot.Method, slot.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = ph.Size
	for k, v := range slot.Headers {
		req.Header.Set(k, v)
	}
	status := 0
	if s.local != nil {
		// The local store is served by this server, which may not be
		// listening yet: hand it the request directly.
		rec := httptest.NewRecorder()
		s.local.ServeHTTP(rec, req)
		status = rec.Code
	} else {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		status = resp.StatusCode
	}
	if status/100 != 2 {
		return fmt.Errorf("upload answered %d", status)
	}
	return s.verifyPhoto(ctx, ph.SHA256, ph.Size, ph.ContentType)
}
