package parlogin

import (
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
// with its own connection pool), bounded in time by timeout when it has no timeout of its own, and
// with every response body bounded.
func newHTTPClient(c *http.Client, timeout time.Duration) *http.Client {
	var client http.Client
	if c != nil {
		client = *c
	}
	if client.Timeout == 0 {
		client.Timeout = timeout
	}
	base := client.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// One provider, many concurrent logins: keep enough idle connections to reuse them.
		t.MaxIdleConnsPerHost = 32
		base = t
	}
	client.Transport = limitedTransport{base}
	return &client
}

type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxResponseBody}
	return resp, nil
}

// limitedBody fails a read beyond its limit instead of truncating silently, so that a cut-off
// JSON document is reported as too large rather than as malformed.
type limitedBody struct {
	io.ReadCloser
	left int64
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
