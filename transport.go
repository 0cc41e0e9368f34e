package parlogin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// maxResponseBody bounds every response body read from the provider (discovery, JWKS, PAR, token),
// so that a broken or hostile provider cannot exhaust memory.
const maxResponseBody = 1 << 20

// errBodyTooLarge is reported when a provider's response exceeds maxResponseBody.
var errBodyTooLarge = errors.New("parlogin: provider response body too large")

// newHTTPClient returns the client used for every call to the provider: c.HTTPClient (or a client
// with its own connection pool), with every response body bounded, and every request bounded in
// time by timeout when neither its context nor the client bounds it already.
func newHTTPClient(c *http.Client, timeout time.Duration, clock *clockOffset) *http.Client {
	var client http.Client
	if c != nil {
		client = *c
	}
	base := client.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// One provider, many concurrent logins: keep enough idle connections to reuse them.
		t.MaxIdleConnsPerHost = 32
		base = t
	}
	if client.Timeout != 0 {
		timeout = 0 // the client's own
	}
	client.Transport = limitedTransport{base: base, timeout: timeout, clock: clock}
	return &client
}

// limitedTransport bounds the size of response bodies and, with a timeout, the time of requests
// that have no deadline. A deadline in the transport costs less than http.Client.Timeout, which
// starts a goroutine for every request.
type limitedTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	clock   *clockOffset // learns the provider's clock from its answers' Date headers; may be nil
}

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	cancel := context.CancelFunc(func() {})
	if _, ok := req.Context().Deadline(); !ok && t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithTimeout(req.Context(), t.timeout)
		req = req.WithContext(ctx)
	}
	var sent time.Time
	if t.clock != nil {
		sent = t.clock.now()
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if t.clock != nil {
		t.clock.observe(req.Context(), resp.Header, sent, t.clock.now())
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxResponseBody, cancel: cancel}
	return resp, nil
}

// limitedBody fails a read beyond its limit instead of truncating silently, so that a cut-off
// JSON document is reported as too large rather than as malformed.
type limitedBody struct {
	io.ReadCloser
	left   int64
	cancel context.CancelFunc // ends the request's deadline
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
