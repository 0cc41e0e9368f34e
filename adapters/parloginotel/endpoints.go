package parloginotel

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/parlogin/parlogin"
)

// discoveryPath ends the path of every discovery document's URL: OpenID Connect Discovery 1.0 §4
// puts it at the issuer + "/.well-known/openid-configuration", where parlogin reads it.
const discoveryPath = "/.well-known/openid-configuration"

// Bounds of what a transport learns from discovery documents: the document read (parlogin
// reads no more of it either), and the URLs remembered, so that a provider whose document
// changes on every read cannot grow the map without end.
const (
	maxDiscoveryBody = 1 << 20
	maxEndpoints     = 64
)

// metadataEndpoints are the discovery document's fields that name an endpoint, in order: where
// two fields hold the same URL, the later one names it, so that the endpoints parlogin calls
// win over the front-channel ones (authorization, end_session) that the browser visits.
var metadataEndpoints = []struct {
	field    string
	endpoint parlogin.Endpoint
}{
	{"authorization_endpoint", parlogin.EndpointAuthorization},
	{"end_session_endpoint", parlogin.EndpointEndSession},
	{"jwks_uri", parlogin.EndpointJWKS},
	{"userinfo_endpoint", parlogin.EndpointUserInfo},
	{"revocation_endpoint", parlogin.EndpointRevocation},
	{"token_endpoint", parlogin.EndpointToken},
	{"pushed_authorization_request_endpoint", parlogin.EndpointPAR},
}

// endpoints names the provider's endpoints by URL: those given by WithEndpoint, and those learned
// from the discovery documents that went through the transport. It is safe for concurrent use.
type endpoints struct {
	fixed map[string]parlogin.Endpoint // WithEndpoint's; read-only

	mu      sync.RWMutex
	learned map[string]parlogin.Endpoint
}

func newEndpoints(fixed map[string]parlogin.Endpoint) *endpoints {
	return &endpoints{fixed: fixed, learned: make(map[string]parlogin.Endpoint)}
}

// lookup returns the endpoint at u, if known.
func (es *endpoints) lookup(u *url.URL) (parlogin.Endpoint, bool) {
	key := keyOf(u)
	if e, ok := es.fixed[key]; ok {
		return e, true
	}
	if strings.HasSuffix(u.Path, discoveryPath) {
		return parlogin.EndpointDiscovery, true
	}
	es.mu.RLock()
	defer es.mu.RUnlock()
	e, ok := es.learned[key]
	return e, ok
}

// learn remembers the endpoints named by the discovery document doc. A malformed document
// teaches nothing: parlogin fails its discovery anyway.
func (es *endpoints) learn(doc []byte) {
	var meta map[string]any
	if err := json.Unmarshal(doc, &meta); err != nil {
		return
	}
	es.mu.Lock()
	defer es.mu.Unlock()
	for _, m := range metadataEndpoints {
		raw, _ := meta[m.field].(string)
		key, ok := endpointKey(raw)
		if !ok {
			continue
		}
		if _, known := es.learned[key]; !known && len(es.learned) >= maxEndpoints {
			continue
		}
		es.learned[key] = m.endpoint
	}
}

// endpointKey returns the key of the endpoint at rawURL: its scheme, host and path, without
// query or fragment, which do not tell endpoints apart. It reports false for a relative or
// unparsable URL.
func endpointKey(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", false
	}
	return keyOf(u), true
}

func keyOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + u.EscapedPath()
}

// discovery collects a discovery document as its reader reads it and, once the reader got all of
// it, teaches its endpoints to es, before the reader sees the end: parlogin's next call, which may
// come as soon as the document is read, finds its endpoint named.
type discovery struct {
	es   *endpoints
	buf  bytes.Buffer
	done bool // learnt, or given up: too long or cut short
}

// read records what a Read of the body returned.
func (d *discovery) read(p []byte, err error) {
	if d.done {
		return
	}
	if d.buf.Len()+len(p) > maxDiscoveryBody {
		d.giveUp()
		return
	}
	d.buf.Write(p)
	switch {
	case errors.Is(err, io.EOF):
		d.es.learn(d.buf.Bytes())
		d.giveUp()
	case err != nil:
		d.giveUp() // a truncated document
	}
}

func (d *discovery) giveUp() {
	d.done = true
	d.buf = bytes.Buffer{}
}
