package interop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/demo"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// fapi2Client returns the registration of a FAPI 2.0 client with a new key for alg, whose ID
// tokens are signed with idTokenAlg, and the settings that give the example that key and the
// profile on top of env: PARLOGIN_PROFILE=fapi2 and PARLOGIN_CLIENT_KEY, without
// PARLOGIN_CLIENT_KEY_ID, so that the key's ID is its RFC 7638 thumbprint, which the
// registration names as the kid of the public key (jwks), unless jwksURI registers the app's
// /auth/jwks instead.
func fapi2Client(t *testing.T, alg, idTokenAlg string, jwksURI bool, env map[string]string) (Client, map[string]string) {
	t.Helper()
	key := exampletest.NewClientKey(t, alg)
	settings := map[string]string{
		"PARLOGIN_PROFILE":    "fapi2",
		"PARLOGIN_CLIENT_KEY": exampletest.WriteClientKey(t, key),
	}
	for k, v := range env {
		settings[k] = v
	}
	c := Client{DPoPBoundAccessTokens: true, IDTokenAlg: idTokenAlg}
	if jwksURI {
		c.JWKSURI = "/auth/jwks"
	} else {
		c.Key, c.KeyID = key.Public(), thumbprint(t, key.Public())
	}
	return c, settings
}

// thumbprint is the JWK SHA-256 thumbprint of key (RFC 7638), base64url.
func thumbprint(t *testing.T, key crypto.PublicKey) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// FAPI2Login logs in through the example started with PARLOGIN_PROFILE=fapi2 and
// PARLOGIN_CLIENT_KEY, against oidc-provider with its FAPI 2.0 profile, with the scripted
// browser: for keys of each algorithm FAPI 2.0 allows, registered with the client (jwks) or read
// by the provider from the app's /auth/jwks (jwks_uri), with ID tokens in ES256 or PS256. It
// checks what the app sent the provider: a pushed request with dpop_jkt and an assertion signed
// with the key, named by its thumbprint, whose aud is the issuer; token requests with DPoP
// proofs, which carry the provider's nonce once it has demanded one (use_dpop_nonce); and what it
// got: DPoP-bound tokens (GET /api/token), the UserInfo claims (through a DPoP-bound call),
// refresh tokens (offline_access, granted with prompt=consent) that refresh, and logout.
func FAPI2Login(t *testing.T, app exampletest.App) {
	p := StartProvider(t, ProviderConfig{FAPI2: true})
	tests := []struct {
		name, alg, idTokenAlg string
		jwksURI               bool
	}{
		{"ES256 key in jwks, ES256 ID tokens", "ES256", "ES256", false},
		{"PS256 key at the app's jwks_uri, PS256 ID tokens", "PS256", "PS256", true},
		{"EdDSA key in jwks, PS256 ID tokens", "EdDSA", "PS256", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ahead atomic.Int64 // how far the app's clock is moved ahead, to expire its token
			calls := &outgoing{}
			c, env := fapi2Client(t, tc.alg, tc.idTokenAlg, tc.jwksURI, map[string]string{
				"PARLOGIN_SAVE_TOKENS": "1",
				"PARLOGIN_SCOPES":      "profile email offline_access",
			})
			a := startApp(t, p, app, exampletest.Public{}, nil, c, env, func(cfg *parlogin.Config) {
				cfg.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
				cfg.HTTPClient = &http.Client{Transport: calls.recorder(http.DefaultTransport)}
				// oidc-provider grants offline_access, hence a refresh token, only with consent.
				cfg.AuthParams = func(*http.Request) url.Values { return url.Values{"prompt": {"consent"}} }
			})
			if len(a.Env.ClientKeys) != 1 || a.Env.ClientSecret != "" || !a.Env.DPoP || a.Env.Profile != parlogin.FAPI2 {
				t.Fatalf("the example's settings: keys %v, secret %q, DPoP %v, profile %v", a.Env.ClientKeys, a.Env.ClientSecret, a.Env.DPoP, a.Env.Profile)
			}
			b := browser.NewT(t, nil)
			page := Login(t, b, a.URL, "/private", "alice")
			if !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) || page.URL.Path != "/private" {
				t.Fatalf("after login: %d %s\n%s\nprovider: %s", page.Status, page.URL, page.Body, p.Stderr())
			}
			var me struct{ Sub, Email string }
			if err := json.Unmarshal([]byte(b.Fetch(a.URL+"/api/me").Body), &me); err != nil || me.Email != "alice@example.com" {
				t.Fatalf("/api/me: %+v %v: want the UserInfo endpoint's email", me, err)
			}

			kid := a.Env.ClientKeys[0].ID
			par := calls.to(t, "/request")[0]
			checkAssertion(t, par.form.Get("client_assertion"), tc.alg, kid, p.Issuer)
			if par.form.Get("dpop_jkt") == "" || par.form.Has("client_secret") || par.status != http.StatusCreated {
				t.Errorf("pushed request %v answered %d: want dpop_jkt, no secret, 201", par.form, par.status)
			}
			checkDPoPExchanges(t, calls.to(t, "/token"), "authorization_code", tc.idTokenAlg)
			if tc.jwksURI {
				if jwks := a.Requests.To("/auth/jwks"); len(jwks) == 0 || jwks[0].Status != http.StatusOK {
					t.Errorf("oidc-provider did not fetch the app's /auth/jwks: %v", jwks)
				}
			}

			first := tokenInfo(t, b, a.URL)
			if first.Type != "DPoP" {
				t.Fatalf("/api/token: token_type %q, want DPoP", first.Type)
			}
			// oidc-provider's access tokens last an hour, and its ID tokens too: the app's clock
			// moves to just before the access token's end, when parlogin refreshes it (within
			// Config.ClockSkew, 30 s), and the new ID token is still valid.
			ahead.Store(int64(time.Until(first.Expiry) - 25*time.Second))
			second := tokenInfo(t, b, a.URL)
			if second.Type != "DPoP" || !second.Expiry.After(first.Expiry) {
				t.Fatalf("after the access token expired: %+v, want a refreshed DPoP token, after %v\nprovider: %s", second, first.Expiry, p.Stderr())
			}
			checkDPoPExchanges(t, calls.to(t, "/token"), "refresh_token", tc.idTokenAlg)
			ahead.Store(0)

			confirm := b.Submit(page, nil) // Sign out
			if endSession := lastVisit(b, "/session/end"); endSession == nil || endSession.Query().Get("id_token_hint") == "" {
				t.Fatalf("logout went to %v, want the end-session endpoint with id_token_hint", endSession)
			}
			if home := b.Submit(confirm, map[string]string{"logout": "yes"}); !strings.Contains(home.Body, "not signed in") {
				t.Fatalf("after logout: %d %s", home.Status, home.URL)
			}
		})
	}
}

// checkAssertion checks a client assertion's header and audience: signed with alg, naming kid,
// for the issuer alone, as a string (FAPI 2.0 section 5.3.2.1, which oidc-provider enforces).
func checkAssertion(t *testing.T, assertion, alg, kid, issuer string) {
	t.Helper()
	header := exampletest.JWTHeader(t, assertion)
	claims := jwtClaims(t, assertion)
	if header["alg"] != alg || header["kid"] != kid || claims["aud"] != issuer {
		t.Errorf("client assertion %v %v: want alg %s, kid %s, aud %s", header, claims, alg, kid, issuer)
	}
}

// checkDPoPExchanges checks the token requests of grant: each carries a DPoP proof; the last is
// answered 200 with an ID token signed with idTokenAlg; a use_dpop_nonce answer gives a nonce,
// which the next proof carries.
func checkDPoPExchanges(t *testing.T, calls []*call, grant, idTokenAlg string) {
	t.Helper()
	var mine []*call
	for _, c := range calls {
		if c.form.Get("grant_type") == grant {
			mine = append(mine, c)
		}
	}
	if len(mine) == 0 {
		t.Fatalf("no %s token request", grant)
	}
	for i, c := range mine {
		if c.dpop == "" {
			t.Errorf("%s token request %d without a DPoP proof", grant, i)
			continue
		}
		if c.status == http.StatusBadRequest && c.errorCode == "use_dpop_nonce" {
			if c.dpopNonce == "" || i+1 == len(mine) || jwtClaims(t, mine[i+1].dpop)["nonce"] != c.dpopNonce {
				t.Errorf("%s: use_dpop_nonce with DPoP-Nonce %q, not carried by the next proof", grant, c.dpopNonce)
			}
			t.Logf("%s: oidc-provider demanded its DPoP nonce (use_dpop_nonce); parlogin sent it with a new proof and assertion", grant)
		}
	}
	last := mine[len(mine)-1]
	if last.status != http.StatusOK || last.tokenType != "DPoP" || last.idTokenAlg != idTokenAlg {
		t.Errorf("%s: answered %d with token_type %q and an ID token in %q, want 200, DPoP, %s", grant, last.status, last.tokenType, last.idTokenAlg, idTokenAlg)
	}
}

// tokenAnswer is the answer of GET /api/token.
type tokenAnswer struct {
	Type   string    `json:"token_type"`
	Expiry time.Time `json:"expiry"`
}

func tokenInfo(t *testing.T, b *browser.T, appURL string) tokenAnswer {
	t.Helper()
	var tok tokenAnswer
	if page := b.Fetch(appURL + "/api/token"); page.Status != http.StatusOK || json.Unmarshal([]byte(page.Body), &tok) != nil {
		t.Fatalf("/api/token = %d %s", page.Status, page.Body)
	}
	return tok
}

func jwtClaims(t *testing.T, jws string) map[string]any {
	t.Helper()
	parts := strings.Split(jws, ".")
	var claims map[string]any
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %.20q…", jws)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		t.Fatalf("not a JWS: %.20q…", jws)
	}
	return claims
}

// outgoing records the calls an app made to the provider, through a transport of its HTTP
// client: the form of a POST, the DPoP proof, and of the answer its status, DPoP-Nonce, error
// and, for tokens, their type and the ID token's algorithm (never the tokens).
type outgoing struct {
	mu   sync.Mutex
	list []*call
}

type call struct {
	path       string
	form       url.Values
	dpop       string
	status     int
	dpopNonce  string
	errorCode  string
	tokenType  string
	idTokenAlg string
}

func (o *outgoing) recorder(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		c := &call{path: r.URL.Path, dpop: r.Header.Get("DPoP")}
		if r.Method == http.MethodPost && r.Body != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			c.form, _ = url.ParseQuery(string(body))
		}
		resp, err := next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		c.status, c.dpopNonce = resp.StatusCode, resp.Header.Get("DPoP-Nonce")
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				return nil, err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			var answer struct {
				Error     string `json:"error"`
				TokenType string `json:"token_type"`
				IDToken   string `json:"id_token"`
			}
			_ = json.Unmarshal(body, &answer)
			c.errorCode, c.tokenType = answer.Error, answer.TokenType
			if header, _, ok := strings.Cut(answer.IDToken, "."); ok {
				raw, _ := base64.RawURLEncoding.DecodeString(header)
				var h struct{ Alg string }
				_ = json.Unmarshal(raw, &h)
				c.idTokenAlg = h.Alg
			}
		}
		o.mu.Lock()
		o.list = append(o.list, c)
		o.mu.Unlock()
		return resp, nil
	})
}

// to returns the calls to path, oldest first, failing the test when there is none.
func (o *outgoing) to(t *testing.T, path string) []*call {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	var matching []*call
	for _, c := range o.list {
		if c.path == path {
			matching = append(matching, c)
		}
	}
	if len(matching) == 0 {
		t.Fatalf("the app made no call to %s", path)
	}
	return matching
}

// FAPI2Refusals checks what FAPI 2.0 forbids, on both sides: oidc-provider with its FAPI 2.0
// profile refuses it, when the example runs without PARLOGIN_PROFILE (its pushed request, its
// token request, or the client's registration), and parlogin.New refuses it first, naming the
// setting, when the example runs with PARLOGIN_PROFILE=fapi2.
func FAPI2Refusals(t *testing.T, app exampletest.App) {
	p := StartProvider(t, ProviderConfig{FAPI2: true})
	tests := []struct {
		name string
		alg  string                 // of the client's key
		edit func(*parlogin.Config) // the wrong setting
		// The provider's side: the client registered with c is refused (register), or its
		// login fails at endpoint (status, and the provider's reason in its log: detail).
		c        Client
		register string
		status   int
		log      string // in the app's log
		detail   string // in the provider's log
		// newErr is in New's error with the profile.
		newErr string
	}{
		{
			name:   "assertion audience: the token endpoint",
			alg:    "ES256",
			edit:   func(c *parlogin.Config) { c.AssertionAudience = parlogin.AudienceEndpoint },
			status: http.StatusBadGateway, log: "par endpoint answered invalid_client",
			detail: "audience (aud) must equal the issuer identifier url",
			newErr: "Profile FAPI2: AssertionAudience must be AudienceIssuer",
		},
		{
			name:   "RS256 client key",
			alg:    "RS256",
			edit:   func(c *parlogin.Config) { c.ClientKeys[0].Algorithm = "RS256" },
			status: http.StatusBadGateway, log: "par endpoint answered invalid_client",
			detail: "alg mismatch",
			newErr: "signs with RS256, which FAPI 2.0 forbids",
		},
		{
			name:   "no DPoP",
			alg:    "ES256",
			edit:   func(c *parlogin.Config) { c.DPoP = false },
			status: http.StatusBadGateway, log: "token endpoint answered invalid_grant",
			detail: "DPoP proof JWT not provided",
			// With the profile, parlogin turns DPoP on: there is nothing to refuse.
		},
		{
			name:     "client secret",
			alg:      "ES256",
			edit:     func(c *parlogin.Config) { c.ClientKeys, c.ClientSecret = nil, strings.Repeat("s", 43) },
			c:        Client{AuthAlg: "HS256", IDTokenAlg: "ES256"},
			register: "token_endpoint_auth_method",
			newErr:   "Profile FAPI2: ClientSecret (client_secret_jwt) is not allowed; set ClientKeys (private_key_jwt)",
		},
		{
			name:     "RS256 ID tokens",
			alg:      "ES256",
			edit:     func(c *parlogin.Config) { c.IDTokenSigningAlgs = []string{"RS256"} },
			c:        Client{IDTokenAlg: "RS256", Key: exampletest.NewClientKey(t, "ES256").Public(), KeyID: "k"},
			register: "id_token_signed_response_alg",
			newErr:   "Profile FAPI2: IDTokenSigningAlgs may hold only PS256, ES256, EdDSA, not RS256",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.register != "" {
				tc.c.ID, tc.c.Secret = "app-"+rand.Text(), rand.Text()+rand.Text()
				tc.c.RedirectURIs, tc.c.PostLogoutRedirectURIs = []string{"http://127.0.0.1:1/auth/callback"}, []string{"http://127.0.0.1:1/"}
				err := p.register(tc.c)
				if err == nil || !strings.Contains(err.Error(), tc.register) {
					t.Errorf("oidc-provider registered the client: %v, want a refusal naming %s", err, tc.register)
				}
				t.Logf("oidc-provider: %v", err)
			} else {
				c, env := fapi2Client(t, tc.alg, "ES256", false, map[string]string{"PARLOGIN_DPOP": "1"})
				delete(env, "PARLOGIN_PROFILE") // the app without the profile, which would refuse it
				a := startApp(t, p, app, exampletest.Public{}, nil, c, env, tc.edit)
				page := TryLogin(t, browser.NewT(t, nil), a.URL, "/private", "alice")
				if page.Status != tc.status || !strings.Contains(a.Log.String(), tc.log) {
					t.Errorf("login ended %d %s, want %d and %q in the app's log", page.Status, page.URL, tc.status, tc.log)
				}
				if reason := providerError(p, a.Client.ID); !strings.Contains(reason, `"detail":"`+tc.detail+`"`) {
					t.Errorf("oidc-provider's log gives %s as the reason, want %q:\n%s", reason, tc.detail, p.Stderr())
				}
				t.Logf("oidc-provider refused it: %s", tc.detail)
			}
			if tc.newErr == "" {
				return
			}
			err := newWithProfile(t, p, app, tc.alg, tc.edit)
			if err == nil || !strings.Contains(err.Error(), tc.newErr) {
				t.Fatalf("parlogin.New with PARLOGIN_PROFILE=fapi2: %v, want an error naming the setting: %s", err, tc.newErr)
			}
			t.Logf("parlogin.New: %v", err)
		})
	}
}

// newWithProfile makes the example's configuration for p with PARLOGIN_PROFILE=fapi2 and a new
// client key of alg, changes it with edit, and returns New's error.
func newWithProfile(t *testing.T, p *Provider, app exampletest.App, alg string, edit func(*parlogin.Config)) error {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{
		"PARLOGIN_ISSUER":      p.Issuer,
		"PARLOGIN_CLIENT_ID":   "app",
		"PARLOGIN_CLIENT_KEY":  exampletest.WriteClientKey(t, exampletest.NewClientKey(t, alg)),
		"PARLOGIN_PROFILE":     "fapi2",
		"PARLOGIN_SESSION_KEY": hex.EncodeToString(key),
	}
	e, err := demo.Load(func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cfg := app.Config(e)
	cfg.Logger = slog.New(slog.DiscardHandler)
	edit(&cfg)
	auth, err := parlogin.New(context.Background(), cfg)
	if err == nil && auth == nil {
		t.Fatal("New returned neither a middleware nor an error")
	}
	return err
}

// providerError returns the last error that the provider logged for the client clientID, as a
// JSON line: {"event", "client_id", "error", "detail"}.
func providerError(p *Provider, clientID string) string {
	var last string
	for line := range strings.Lines(p.Stderr()) {
		if strings.Contains(line, `"client_id":"`+clientID+`"`) && strings.Contains(line, `"detail":`) {
			last = strings.TrimSpace(line)
		}
	}
	return last
}

// BrowserFAPI2 logs in to the example started with PARLOGIN_PROFILE=fapi2 and an ES256 client
// key, in Chromium, against oidc-provider with its FAPI 2.0 profile, laid out as l says: the
// login reaches the protected page, the callback came as l makes it, and GET /api/token shows a
// DPoP-bound token. It saves screenshots of the provider's login page and of the protected page.
func BrowserFAPI2(t *testing.T, app exampletest.App, l Layout) {
	_, a, tab := startLayoutProfile(t, l, app, true, map[string]string{"PARLOGIN_SAVE_TOKENS": "1"}, nil)
	target := a.URL + "/private?profile=fapi2"
	do(t, tab, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
	Screenshot(t, tab, l.Name+"-fapi2-provider-login")
	browserSignIn(t, tab, "alice")
	if loc, sub := location(t, tab), text(t, tab, `#sub`); loc != target || sub != "alice" {
		t.Fatalf("landed on %s as %q, want %s as alice", loc, sub, target)
	}
	Screenshot(t, tab, l.Name+"-fapi2-protected-page")
	checkCallback(t, a, l, "query")

	do(t, tab, chromedp.Navigate(a.URL+"/api/token"))
	var tok tokenAnswer
	if body := text(t, tab, "body"); json.Unmarshal([]byte(body), &tok) != nil || tok.Type != "DPoP" {
		t.Fatalf("/api/token in the browser: %s, want a DPoP token", body)
	}
}
