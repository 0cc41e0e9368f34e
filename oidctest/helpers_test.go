package oidctest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

const (
	redirectURI       = "https://app.example/auth/callback"
	postLogoutURI     = "https://app.example/signed-out"
	jwtBearer         = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	requestURIPattern = `^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$`
)

// testClock is a clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(now time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a started provider with a registered client, a controlled clock, its discovery
// document, and an HTTP client that does not follow redirects.
type env struct {
	t      *testing.T
	srv    *oidctest.Server
	client oidctest.Client
	clock  *testClock
	meta   map[string]any
	http   *http.Client
}

// newEnv starts a provider whose clock is env.clock, after configure edits the unstarted server.
func newEnv(t *testing.T, configure ...func(*oidctest.Server)) *env {
	t.Helper()
	clock := &testClock{now: time.Now().Truncate(time.Second)}
	srv := oidctest.NewUnstartedServer()
	srv.SetClock(clock.Now)
	for _, f := range configure {
		f(srv)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, clock: clock, http: srv.Client()}
	e.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.client = e.srv.AddClient(oidctest.Client{
		RedirectURIs:           []string{redirectURI},
		PostLogoutRedirectURIs: []string{postLogoutURI},
	})
	status, body := e.get(srv.Issuer + "/.well-known/openid-configuration")
	if status != http.StatusOK {
		t.Fatalf("discovery: status %d: %s", status, body)
	}
	e.meta = decodeJSON(t, body)
	return e
}

// wantIss returns the iss of the provider's authorization responses: the issuer (RFC 9207), or
// none in PingOne mode, whose discovery document does not advertise it.
func (e *env) wantIss() string {
	if e.srv.EnvID != "" {
		return ""
	}
	return e.srv.Issuer
}

// withIss returns v with the iss of the provider's authorization responses, if it sends one.
func (e *env) withIss(v url.Values) url.Values {
	if iss := e.wantIss(); iss != "" {
		v.Set("iss", iss)
	}
	return v
}

// with returns a copy of e that reports to t, for use in subtests.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// endpoint returns an endpoint URL from the discovery document, e.g. "token_endpoint".
func (e *env) endpoint(name string) string {
	e.t.Helper()
	u, ok := e.meta[name].(string)
	if !ok {
		e.t.Fatalf("discovery has no %s", name)
	}
	return u
}

// addClient registers another client with the test redirect URI.
func (e *env) addClient(c oidctest.Client) oidctest.Client {
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{redirectURI}
	}
	return e.srv.AddClient(c)
}

// assertionClaims returns the claims of a valid client assertion for c, audience the issuer.
func (e *env) assertionClaims(c oidctest.Client) jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"iss": c.ID,
		"sub": c.ID,
		"aud": e.srv.Issuer,
		"iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(),
		"jti": randomString(),
	}
}

// assertion returns a valid client assertion for c: signed with the key registered for c with
// useKey, if any; otherwise with c.AuthAlg when it is an HS algorithm, HS256 otherwise.
func (e *env) assertion(c oidctest.Client) string {
	if k, ok := clientSigners.Load(c.ID); ok {
		return k.(testKey).sign(e.t, e.assertionClaims(c))
	}
	var method jwt.SigningMethod = jwt.SigningMethodHS256
	if strings.HasPrefix(c.AuthAlg, "HS") {
		method = jwt.GetSigningMethod(c.AuthAlg)
	}
	return sign(e.t, method, []byte(c.Secret), e.assertionClaims(c))
}

// sign signs claims with method and key.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("signing a JWT: %v", err)
	}
	return s
}

// clientAuth returns the client authentication parameters for c with a fresh assertion.
func (e *env) clientAuth(c oidctest.Client) url.Values {
	return url.Values{
		"client_assertion_type": {jwtBearer},
		"client_assertion":      {e.assertion(c)},
	}
}

// authParams returns valid authorization request parameters for c and the PKCE verifier.
func (e *env) authParams(c oidctest.Client) (url.Values, string) {
	verifier := randomString() + randomString()
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {c.RedirectURIs[0]},
		"scope":                 {"openid profile email"},
		"state":                 {"state-" + randomString()},
		"nonce":                 {"nonce-" + randomString()},
		"code_challenge":        {challenge(verifier)},
		"code_challenge_method": {"S256"},
	}, verifier
}

// par pushes params (to which it adds client authentication for c, unless they have some) and
// returns the answer.
func (e *env) par(c oidctest.Client, params url.Values) (int, []byte) {
	e.t.Helper()
	form := merge(params)
	if !form.Has("client_assertion") && !form.Has("client_assertion_type") {
		form = merge(form, e.clientAuth(c))
	}
	return e.postForm(e.endpoint("pushed_authorization_request_endpoint"), form, nil)
}

// push pushes params for c and returns the request_uri.
func (e *env) push(c oidctest.Client, params url.Values) string {
	e.t.Helper()
	status, body := e.par(c, params)
	if status != http.StatusCreated {
		e.t.Fatalf("PAR: status %d: %s", status, body)
	}
	uri, _ := decodeJSON(e.t, body)["request_uri"].(string)
	return uri
}

// authorize visits the authorization endpoint with client_id and request_uri.
func (e *env) authorize(c oidctest.Client, requestURI string) (*http.Response, []byte) {
	e.t.Helper()
	u := e.endpoint("authorization_endpoint") + "?" + url.Values{"client_id": {c.ID}, "request_uri": {requestURI}}.Encode()
	return e.do(mustRequest(e.t, http.MethodGet, u, nil))
}

// login pushes params, signs in and returns the authorization response parameters.
func (e *env) login(c oidctest.Client, params url.Values) url.Values {
	e.t.Helper()
	resp, body := e.authorize(c, e.push(c, params))
	return redirectParams(e.t, resp, body, c.RedirectURIs[0])
}

// code runs a login for c with valid parameters and returns the code, its parameters and verifier.
func (e *env) code(c oidctest.Client, edit func(url.Values)) (string, url.Values, string) {
	e.t.Helper()
	params, verifier := e.authParams(c)
	if edit != nil {
		edit(params)
	}
	got := e.login(c, params)
	if got.Get("code") == "" {
		e.t.Fatalf("authorization response without code: %v", got)
	}
	return got.Get("code"), params, verifier
}

// token posts form plus client authentication for c to the token endpoint.
func (e *env) token(c oidctest.Client, form url.Values) (int, []byte) {
	e.t.Helper()
	return e.postForm(e.endpoint("token_endpoint"), merge(form, e.clientAuth(c)), nil)
}

// exchange redeems code and returns the token response, failing the test on an error.
func (e *env) exchange(c oidctest.Client, code, verifier string) map[string]any {
	e.t.Helper()
	status, body := e.token(c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {c.RedirectURIs[0]},
		"code_verifier": {verifier},
	})
	if status != http.StatusOK {
		e.t.Fatalf("token: status %d: %s", status, body)
	}
	return decodeJSON(e.t, body)
}

// userinfo calls the userinfo endpoint with an access token.
func (e *env) userinfo(accessToken string) (*http.Response, []byte) {
	e.t.Helper()
	req := mustRequest(e.t, http.MethodGet, e.endpoint("userinfo_endpoint"), nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return e.do(req)
}

// verifyIDToken checks the signature of an ID token against the published JWKS and returns its
// claims and header.
func (e *env) verifyIDToken(raw string) (jwt.MapClaims, map[string]any) {
	e.t.Helper()
	keys := e.jwks()
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return keys[kid], nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		e.t.Fatalf("ID token does not verify with the JWKS: %v", err)
	}
	return claims, tok.Header
}

// jwks fetches the JWKS and returns its RS256 keys by kid.
func (e *env) jwks() map[string]any {
	e.t.Helper()
	status, body := e.get(e.endpoint("jwks_uri"))
	if status != http.StatusOK {
		e.t.Fatalf("jwks: status %d", status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		e.t.Fatalf("jwks: %v", err)
	}
	keys := make(map[string]any)
	for _, raw := range set.Keys {
		var alg struct{ Alg string }
		if err := json.Unmarshal(raw, &alg); err == nil && (alg.Alg == "PS256" || alg.Alg == "ES256") {
			continue // keys of clients with IDTokenAlg; see verifyJWT
		}
		k := parseRSAJWK(e.t, raw)
		keys[k.kid] = k.pub
	}
	return keys
}

func (e *env) get(u string) (int, []byte) {
	e.t.Helper()
	resp, body := e.do(mustRequest(e.t, http.MethodGet, u, nil))
	return resp.StatusCode, body
}

// postForm posts a form to u, with extra headers.
func (e *env) postForm(u string, form url.Values, header http.Header) (int, []byte) {
	e.t.Helper()
	req := mustRequest(e.t, http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, body := e.do(req)
	return resp.StatusCode, body
}

// do sends req and reads the whole answer.
func (e *env) do(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading the answer of %s: %v", req.URL, err)
	}
	return resp, body
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// redirectParams checks that resp is a 303 redirect to want and returns its query.
func redirectParams(t *testing.T, resp *http.Response, body []byte, want string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	q := loc.Query()
	loc.RawQuery = ""
	if loc.String() != want {
		t.Fatalf("redirected to %s, want %s", loc, want)
	}
	return q
}

// wantOAuthError checks an OAuth 2.0 JSON error answer.
func wantOAuthError(t *testing.T, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d: %s", status, wantStatus, body)
	}
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error answer is not JSON: %v: %s", err, body)
	}
	if e.Error != wantCode {
		t.Errorf("error %q (%s), want %q", e.Error, e.Description, wantCode)
	}
}

func decodeJSON(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, body)
	}
	return m
}

// merge returns a new url.Values with the values of all vs; later ones replace earlier ones.
func merge(vs ...url.Values) url.Values {
	out := url.Values{}
	for _, v := range vs {
		for k, s := range v {
			out[k] = append([]string(nil), s...)
		}
	}
	return out
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// rsaJWK is a public key read from a JWKS.
type rsaJWK struct {
	kid string
	pub *rsa.PublicKey
}

// parseRSAJWK reads an RS256 signing key of a JWKS, checking its members.
func parseRSAJWK(t *testing.T, raw json.RawMessage) rsaJWK {
	t.Helper()
	var k struct {
		Kty, Use, Alg, Kid, N, E string
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatalf("JWK: %v", err)
	}
	if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.Kid == "" {
		t.Fatalf("JWK %s: want kty RSA, use sig, alg RS256 and a kid", raw)
	}
	n, errN := base64.RawURLEncoding.DecodeString(k.N)
	e, errE := base64.RawURLEncoding.DecodeString(k.E)
	if errN != nil || errE != nil {
		t.Fatalf("JWK %s: n or e is not base64url", raw)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() != 2048 {
		t.Errorf("JWK %s: %d-bit key, want 2048", k.Kid, pub.N.BitLen())
	}
	return rsaJWK{kid: k.Kid, pub: pub}
}
