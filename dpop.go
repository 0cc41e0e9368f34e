package parlogin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// dpopKey is the key a session proves possession of with DPoP (RFC 9449): ES256, on P-256.
type dpopKey struct {
	private *ecdsa.PrivateKey
}

func newDPoPKey() (*dpopKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &dpopKey{private: k}, nil
}

// encode returns the key as its private scalar, base64url: what a pending login and a session keep,
// encrypted with them.
func (k *dpopKey) encode() string {
	d := make([]byte, 32)
	k.private.D.FillBytes(d)
	return base64.RawURLEncoding.EncodeToString(d)
}

// decodeDPoPKey returns the key that encode returned.
func decodeDPoPKey(s string) (*dpopKey, error) {
	d, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(d) != 32 {
		return nil, errors.New("malformed DPoP key")
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, errors.New("malformed DPoP key")
	}
	return &dpopKey{private: k}, nil
}

// jwk returns the public key as a JWK (RFC 7517), its members in the order of RFC 7638's thumbprint.
func (k *dpopKey) jwk() map[string]string {
	pub, _ := k.private.PublicKey.Bytes() // 0x04 || x || y
	return map[string]string{
		"crv": "P-256",
		"kty": "EC",
		"x":   base64.RawURLEncoding.EncodeToString(pub[1:33]),
		"y":   base64.RawURLEncoding.EncodeToString(pub[33:]),
	}
}

// thumbprint is the key's JWK SHA-256 thumbprint (RFC 7638): the dpop_jkt that binds an
// authorization code to it (RFC 9449 §10), and the jkt of the tokens bound to it.
func (k *dpopKey) thumbprint() string {
	j := k.jwk()
	canonical := `{"crv":"` + j["crv"] + `","kty":"` + j["kty"] + `","x":"` + j["x"] + `","y":"` + j["y"] + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// proof returns a DPoP proof (RFC 9449 §4.2) for a request of method to target, at now, with the
// server's nonce when it gave one, and, for a request that carries an access token, its hash (ath).
func (k *dpopKey) proof(method, target, nonce, accessToken string, now time.Time) (string, error) {
	claims := map[string]any{
		"jti": rand.Text(),
		"htm": method,
		"htu": target,
		"iat": now.Unix(),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	header := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": k.jwk()}
	return signJWS(header, claims, k.private)
}

// dpopNonces remembers the DPoP-Nonce that each server (origin) gave last (RFC 9449 §8, §9).
type dpopNonces struct {
	mu     sync.Mutex
	byHost map[string]string
}

func (n *dpopNonces) get(origin string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.byHost[origin]
}

func (n *dpopNonces) set(origin, nonce string) {
	if nonce == "" || len(nonce) > 1024 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byHost == nil {
		n.byHost = make(map[string]string)
	}
	if _, ok := n.byHost[origin]; !ok && len(n.byHost) >= 64 {
		clear(n.byHost) // a few servers per app; bounded all the same
	}
	n.byHost[origin] = nonce
}

// dpopTransport adds a DPoP proof to every request and learns the servers' nonces. A request that
// a resource server refuses for want of its current nonce (401, use_dpop_nonce) is made once more
// with it. An authorization server's refusal (400, use_dpop_nonce) is left to the caller, whose
// request carries a client assertion that must be fresh (its jti is single use).
type dpopTransport struct {
	base   http.RoundTripper
	key    *dpopKey
	nonces *dpopNonces
	now    func() time.Time
}

func (t dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.send(req)
	if err != nil || !resourceWantsNonce(resp) {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil // the body cannot be sent again
	}
	_ = resp.Body.Close()
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(retry)
}

// send sends req with a fresh proof, and learns the nonce of the answer.
func (t dpopTransport) send(req *http.Request) (*http.Response, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	htu := origin + req.URL.EscapedPath() // without query and fragment (RFC 9449 §4.2)
	token := ""
	if scheme, value, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		token = value // for ath; an auth scheme is case-insensitive (RFC 9110 §11.1)
	}
	proof, err := t.key.proof(req.Method, htu, t.nonces.get(origin), token, t.now())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("DPoP", proof)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.nonces.set(origin, resp.Header.Get("DPoP-Nonce"))
	return resp, nil
}

// resourceWantsNonce reports whether resp is a resource server's refusal of a request for want of
// its current nonce: 401 with WWW-Authenticate: DPoP error="use_dpop_nonce" and a DPoP-Nonce
// (RFC 9449 §9).
func resourceWantsNonce(resp *http.Response) bool {
	return resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("DPoP-Nonce") != "" &&
		strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
}

// dpopClient returns the HTTP client of calls to the provider that prove possession of key.
func (m *Middleware) dpopClient(key *dpopKey) *http.Client {
	c := *m.client
	c.Transport = dpopTransport{base: m.client.Transport, key: key, nonces: &m.nonces, now: m.clock.providerNow}
	return &c
}

// withDPoPNonce calls call, and once more when the provider refused it for want of its DPoP nonce
// (400 use_dpop_nonce, RFC 9449 §8), which the first answer carried and the transport learnt: the
// second request gets a fresh client assertion and a proof with the nonce.
func withDPoPNonce(call func() error) error {
	err := call()
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Code == "use_dpop_nonce" {
		err = call()
	}
	return err
}

// isDPoPToken reports whether tokenType is DPoP's (RFC 9449 §5), in any case.
func isDPoPToken(tokenType string) bool {
	return strings.EqualFold(tokenType, "DPoP")
}

// apiTransport calls APIs with the user's access token: as a Bearer token, or as a DPoP-bound one
// with a proof of the session's key.
type apiTransport struct {
	base      http.RoundTripper
	token     string
	tokenType string
	dpop      *dpopTransport // nil for a Bearer token
}

func (t apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !redirectedWithinOrigin(req) {
		// A redirect to another origin, such as a download on a storage service: the token is
		// the user's credential for the API only, and net/http's own rule, which drops the
		// Authorization header of such a redirect, cannot see a header set here.
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	if t.dpop == nil {
		req.Header.Set("Authorization", "Bearer "+t.token)
		return t.base.RoundTrip(req)
	}
	req.Header.Set("Authorization", "DPoP "+t.token)
	return t.dpop.RoundTrip(req)
}

// redirectedWithinOrigin reports whether req is the first request of a call, or a redirect to the
// origin (scheme, host and port) of that first request.
func redirectedWithinOrigin(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first == req || (strings.EqualFold(first.URL.Scheme, req.URL.Scheme) && strings.EqualFold(first.URL.Host, req.URL.Host))
}

// Client returns a copy of base (http.DefaultClient when nil) that calls APIs on behalf of the
// signed-in user of r: it adds the access token of [Middleware.Token] (refreshed first when it has
// expired, so call Client before writing the response) to every request, as a Bearer token, or,
// with Config.DPoP, as a DPoP-bound token with a proof of the session's key for each request
// (RFC 9449 §7), sent once more with the API's DPoP-Nonce when it asks for one. A redirect to
// another origin than the request's is followed without the token. It needs
// Config.SaveTokens, and reports the errors of Token.
func (m *Middleware) Client(w http.ResponseWriter, r *http.Request, base *http.Client) (*http.Client, error) {
	tok, d, err := m.token(w, r)
	if err != nil {
		return nil, err
	}
	client := *http.DefaultClient
	if base != nil {
		client = *base
	}
	transport := client.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	t := apiTransport{base: transport, token: tok.AccessToken, tokenType: tok.TokenType}
	if isDPoPToken(tok.TokenType) {
		key, err := decodeDPoPKey(d.DPoPKey)
		if err != nil {
			return nil, errors.Join(ErrNoToken, err)
		}
		t.dpop = &dpopTransport{base: transport, key: key, nonces: &m.nonces, now: m.clock.providerNow}
	}
	client.Transport = t
	return &client, nil
}

// providerClient returns the HTTP client of the calls to the provider for a login or a session
// with the DPoP key encoded (none: m.client).
func (m *Middleware) providerClient(encoded string) (*http.Client, error) {
	if encoded == "" {
		return m.client, nil
	}
	key, err := decodeDPoPKey(encoded)
	if err != nil {
		return nil, err
	}
	return m.dpopClient(key), nil
}
