package oidctest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// rp is a minimal relying party written against the protocol, for tests that need what an
// application hides: the headers it receives, the ID token it gets, the authorization parameters
// it sends. Routes:
//
//	GET /me          the ID token claims of the session, as JSON; without a session, a redirect to /login
//	GET /login       pushes an authorization request (acr_values, max_age, prompt from the query) and redirects to the provider
//	                 (or, with rpOptions.direct, redirects with the request in the URL)
//	GET|POST /cb     redeems the code, starts a session (a cookie) and redirects to /me
//	POST /backchannel  records the logout token (its registered BackchannelLogoutURI) and answers 200
//
// Failures are answered 500 with a description, never t.Fatal (handlers run on other goroutines).
type rp struct {
	srv    *oidctest.Server
	client oidctest.Client
	op     *http.Client // for calls to the provider
	clock  func() time.Time
	ts     *httptest.Server
	URL    string // the rp's base URL (its host may differ from the listener's)
	cookie string // the name of its session cookie, unique per rp (cookies ignore ports)

	responseMode string
	direct       bool

	mu           sync.Mutex
	pending      map[string]string        // PKCE verifier by state
	sessions     map[string]jwt.MapClaims // ID token claims by session cookie
	seen         []seenRequest
	idTokens     []string // every ID token received, oldest first
	logoutTokens []string // every logout token received, oldest first
}

// seenRequest is what the rp recorded of a request.
type seenRequest struct {
	method, path string
	header       http.Header
}

type rpOptions struct {
	tls          bool
	host         string // serve URLs on this host instead of 127.0.0.1 (e.g. "localhost", another site)
	responseMode string
	direct       bool // send the authorization request in the URL (PingOne mode), not by PAR
}

// newRP starts an rp registered at srv; clock must be the provider's.
func newRP(t *testing.T, srv *oidctest.Server, clock func() time.Time, o rpOptions) *rp {
	t.Helper()
	a := &rp{srv: srv, op: srv.Client(), clock: clock, pending: map[string]string{}, sessions: map[string]jwt.MapClaims{}}
	a.ts = httptest.NewUnstartedServer(http.HandlerFunc(a.serveHTTP))
	if o.tls {
		a.ts.StartTLS()
	} else {
		a.ts.Start()
	}
	t.Cleanup(a.ts.Close)
	a.URL = a.ts.URL
	if o.host != "" {
		u, _ := url.Parse(a.ts.URL)
		a.URL = u.Scheme + "://" + o.host + ":" + u.Port()
	}
	a.cookie = "rp-" + strings.ReplaceAll(a.ts.Listener.Addr().String(), ":", "-")
	a.client = srv.AddClient(oidctest.Client{
		RedirectURIs:         []string{a.URL + "/cb"},
		BackchannelLogoutURI: a.URL + "/backchannel",
	})
	a.responseMode = o.responseMode
	a.direct = o.direct
	return a
}

func (a *rp) serveHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, seenRequest{r.Method, r.URL.Path, r.Header.Clone()})
	a.mu.Unlock()
	var err error
	switch r.URL.Path {
	case "/me":
		err = a.me(w, r)
	case "/login":
		err = a.login(w, r)
	case "/cb":
		err = a.callback(w, r)
	case "/backchannel":
		a.mu.Lock()
		a.logoutTokens = append(a.logoutTokens, r.PostFormValue("logout_token"))
		a.mu.Unlock()
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "rp: "+err.Error(), http.StatusInternalServerError)
	}
}

func (a *rp) me(w http.ResponseWriter, r *http.Request) error {
	if claims, ok := a.session(r); ok {
		return json.NewEncoder(w).Encode(claims)
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (a *rp) session(r *http.Request) (jwt.MapClaims, bool) {
	c, err := r.Cookie(a.cookie)
	if err != nil {
		return nil, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	claims, ok := a.sessions[c.Value]
	return claims, ok
}

func (a *rp) login(w http.ResponseWriter, r *http.Request) error {
	verifier, state := randomString()+randomString(), randomString()
	params := url.Values{
		"response_type":         {"code"},
		"client_id":             {a.client.ID},
		"redirect_uri":          {a.client.RedirectURIs[0]},
		"scope":                 {"openid profile"},
		"state":                 {state},
		"nonce":                 {"n-" + state},
		"code_challenge":        {challenge(verifier)},
		"code_challenge_method": {"S256"},
	}
	if a.responseMode != "" {
		params.Set("response_mode", a.responseMode)
	}
	for _, name := range []string{"acr_values", "max_age", "prompt"} {
		if v := r.URL.Query().Get(name); v != "" {
			params.Set(name, v)
		}
	}
	a.mu.Lock()
	a.pending[state] = verifier
	a.mu.Unlock()
	if a.direct {
		http.Redirect(w, r, a.srv.Issuer+"/authorize?"+params.Encode(), http.StatusSeeOther)
		return nil
	}
	var pushed struct {
		RequestURI string `json:"request_uri"`
	}
	if err := a.post(a.srv.Issuer+"/par", params, &pushed); err != nil {
		return err
	}
	q := url.Values{"client_id": {a.client.ID}, "request_uri": {pushed.RequestURI}}
	http.Redirect(w, r, a.srv.Issuer+"/authorize?"+q.Encode(), http.StatusSeeOther)
	return nil
}

func (a *rp) callback(w http.ResponseWriter, r *http.Request) error {
	if e := r.FormValue("error"); e != "" {
		return fmt.Errorf("the provider answered %s: %s", e, r.FormValue("error_description"))
	}
	a.mu.Lock()
	verifier, ok := a.pending[r.FormValue("state")]
	delete(a.pending, r.FormValue("state"))
	a.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown state")
	}
	var tokens struct {
		IDToken string `json:"id_token"`
	}
	err := a.post(a.srv.Issuer+"/token", url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {r.FormValue("code")},
		"redirect_uri":  {a.client.RedirectURIs[0]},
		"code_verifier": {verifier},
	}, &tokens)
	if err != nil {
		return err
	}
	_, key := a.srv.SigningKey()
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tokens.IDToken, claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()); err != nil {
		return fmt.Errorf("ID token: %w", err)
	}
	if claims["nonce"] != "n-"+r.FormValue("state") {
		return fmt.Errorf("ID token nonce %v", claims["nonce"])
	}
	id := randomString()
	a.mu.Lock()
	a.sessions[id] = claims
	a.idTokens = append(a.idTokens, tokens.IDToken)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: id, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/me", http.StatusSeeOther)
	return nil
}

// post makes a back-channel call to the provider, authenticated with client_secret_jwt, and
// decodes its JSON answer into v.
func (a *rp) post(endpoint string, form url.Values, v any) error {
	now := a.clock()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": a.client.ID, "sub": a.client.ID, "aud": a.srv.Issuer, "jti": randomString(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}).SignedString([]byte(a.client.Secret))
	if err != nil {
		return err
	}
	form.Set("client_assertion_type", jwtBearer)
	form.Set("client_assertion", assertion)
	resp, err := a.op.PostForm(endpoint, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %d: %s", endpoint, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// requests returns what the rp recorded of the requests to path.
func (a *rp) requests(path string) []seenRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []seenRequest
	for _, s := range a.seen {
		if s.path == path {
			out = append(out, s)
		}
	}
	return out
}

// received returns the ID tokens and the logout tokens the rp received so far.
func (a *rp) received() (idTokens, logoutTokens []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.idTokens), slices.Clone(a.logoutTokens)
}

// claims fetches /me with c and returns the claims of its session there.
func (a *rp) claims(t *testing.T, c *http.Client) jwt.MapClaims {
	t.Helper()
	resp, err := c.Get(a.URL + "/me")
	if err != nil {
		t.Fatalf("GET /me: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != a.URL+"/me" {
		t.Fatalf("GET /me ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
	}
	return jwt.MapClaims(decodeJSON(t, body))
}
