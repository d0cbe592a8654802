package webhook

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Client returns the HTTP client deliveries use under the policy: every
// request's URL is checked, https and http dial through separate
// transports whose dialers check the resolved address before connecting
// (http reaches loopback only), no proxy is used (a proxy would dial the
// endpoint where the hook cannot see it), and no redirect is followed: a
// 3xx answer is the attempt's result, a failure.
//
// tlsConfig is the TLS configuration of https deliveries; nil trusts the
// system's roots.
func (p Policy) Client(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Transport: &guardedTransport{
			policy: p,
			tls:    p.transport(false, tlsConfig),
			plain:  p.transport(true, nil),
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// transport is one scheme's transport; plain is for http.
func (p Policy) transport(plain bool, tlsConfig *tls.Config) *http.Transport {
	d := p.Dialer(plain)
	d.Timeout = 10 * time.Second
	d.KeepAlive = 30 * time.Second
	return &http.Transport{
		Proxy:                 nil,
		TLSClientConfig:       tlsConfig,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     !plain,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
}

// guardedTransport checks each request against the policy and sends it
// through its scheme's transport.
type guardedTransport struct {
	policy     Policy
	tls, plain *http.Transport
}

func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	refuse := func(err error) (*http.Response, error) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if req.URL == nil {
		return refuse(errors.New("webhook: a request without a URL"))
	}
	if _, err := t.policy.CheckURL(req.URL.String()); err != nil {
		return refuse(err)
	}
	switch req.URL.Scheme {
	case "https":
		return t.tls.RoundTrip(req)
	case "http":
		return t.plain.RoundTrip(req)
	}
	return refuse(fmt.Errorf("%w: scheme %q", ErrForbidden, req.URL.Scheme))
}
