package parlogin

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

func TestLoginEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOptions{})

	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous API call = %d, want 401", resp.StatusCode)
	}
	toProvider := h.toProvider("/private?x=1&y=%2F")

	// Only client_id and request_uri travel through the browser (RFC 9126 §4).
	loc, _ := toProvider.Location()
	if got := loc.Query(); len(got) != 2 || got.Get("client_id") != h.client.ID ||
		!strings.HasPrefix(got.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Errorf("authorization redirect query = %v, want only client_id and request_uri", got)
	}
	if !strings.HasPrefix(loc.String(), h.op.Issuer) {
		t.Errorf("redirected to %s, not the provider", loc)
	}

	resp := h.callback(h.authorize(toProvider))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback = %d: %v", resp.StatusCode, h.errs.last())
	}
	if loc := resp.Header.Get("Location"); loc != "/private?x=1&y=%2F" {
		t.Errorf("callback redirects to %q, want the original path and query", loc)
	}
	page := jsonBody(t, h.follow(resp))
	if page["sub"] != "alice" || page["name"] != "Alice Example" || page["email"] != "alice@example.com" {
		t.Errorf("protected page saw %v", page)
	}
	if page["path"] != "/private?x=1&y=%2F" {
		t.Errorf("protected page path = %q", page["path"])
	}
	if me := jsonBody(t, h.api("/api/me")); me["sub"] != "alice" {
		t.Errorf("API after login saw %v", me)
	}
	if body := readBody(h.navigate(http.MethodGet, "/", nil)); body != "public page, signed in as alice" {
		t.Errorf("User(r) on a public page: %q", body)
	}
}

func TestPushedAuthorizationRequest(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.Scopes = []string{"email profile", "openid", "email"}
		c.AuthParams = func(r *http.Request) url.Values {
			return url.Values{
				"acr_values":    {"Single_Factor"},
				"login_hint":    {r.URL.Query().Get("hint")},
				"prompt":        {"login"},
				"max_age":       {"300"},
				"ui_locales":    {"fr"},
				"mobilePayload": {"eyJwYXlsb2FkIjoxfQ"},
			}
		}
	}, op: func(s *oidctest.Server) {
		s.SetUser(oidctest.User{Subject: "alice", Claims: map[string]any{"acr": "Single_Factor"}})
	}})
	h.login("/private?hint=alice%40example.com")

	pars := h.op.Requests(EndpointPAR)
	if len(pars) != 1 {
		t.Fatalf("%d PAR requests, want 1", len(pars))
	}
	p := pars[0]
	want := map[string]string{
		"response_type":         "code",
		"client_id":             h.client.ID,
		"redirect_uri":          h.cfg.RedirectURL,
		"scope":                 "openid email profile",
		"code_challenge_method": "S256",
		"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
		"acr_values":            "Single_Factor",
		"login_hint":            "alice@example.com",
		"prompt":                "login",
		"max_age":               "300",
		"ui_locales":            "fr",
		"mobilePayload":         "eyJwYXlsb2FkIjoxfQ",
	}
	for k, v := range want {
		if p.Get(k) != v {
			t.Errorf("PAR %s = %q, want %q", k, p.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge", "client_assertion"} {
		if p.Get(k) == "" {
			t.Errorf("PAR has no %s", k)
		}
	}
	for _, k := range []string{"client_secret", "response_mode", "request"} {
		if p.Has(k) {
			t.Errorf("PAR sent %s", k)
		}
	}
	if len(p.Get("state")) < 26 || len(p.Get("nonce")) < 26 {
		t.Errorf("state %q or nonce %q shorter than 128 bits", p.Get("state"), p.Get("nonce"))
	}
	claims := parseAssertion(t, p.Get("client_assertion"), h.client.Secret)
	if claims["iss"] != h.client.ID || claims["sub"] != h.client.ID || claims["aud"] != h.op.Issuer {
		t.Errorf("assertion claims = %v", claims)
	}
	tokens := h.op.Requests(EndpointToken)
	if len(tokens) != 1 {
		t.Fatalf("%d token requests, want 1", len(tokens))
	}
	tok := tokens[0]
	if tok.Get("code_verifier") == "" || tok.Has("client_secret") {
		t.Errorf("token request: code_verifier %q, client_secret sent: %v", tok.Get("code_verifier"), tok.Has("client_secret"))
	}
	if tok.Get("client_assertion") == p.Get("client_assertion") {
		t.Error("the token request reused the PAR assertion")
	}
}

func parseAssertion(t *testing.T, raw, secret string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"})); err != nil {
		t.Fatalf("assertion: %v", err)
	}
	return claims
}

func TestSigningAlgorithmsAndAudiences(t *testing.T) {
	tests := []struct {
		name     string
		alg      string
		audience Audience
	}{
		{"HS256 issuer", "HS256", AudienceIssuer},
		{"HS384 endpoint", "HS384", AudienceEndpoint},
		{"HS512 issuer", "HS512", AudienceIssuer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{
				client: func(c *oidctest.Client) { c.AuthAlg = tc.alg; c.Secret = testSecret },
				config: func(c *Config) { c.SigningAlg = tc.alg; c.AssertionAudience = tc.audience },
			})
			if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
				t.Fatalf("login failed: %v", page)
			}
			par := h.op.Requests(EndpointPAR)[0]
			claims := parseAssertion(t, par.Get("client_assertion"), h.client.Secret)
			wantAud := h.op.Issuer
			if tc.audience == AudienceEndpoint {
				wantAud = h.auth.op.p.parURL
			}
			if claims["aud"] != wantAud {
				t.Errorf("aud = %v, want %v", claims["aud"], wantAud)
			}
		})
	}
}

func TestRequestObjectMode(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.RequestObject = true
		c.AuthParams = func(*http.Request) url.Values { return url.Values{"max_age": {"600"}} }
	}})
	if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
		t.Fatalf("login failed: %v", page)
	}
	par := h.op.Requests(EndpointPAR)[0]
	if par.Get("request") == "" || par.Has("state") || par.Has("scope") {
		t.Errorf("PAR with a request object sent %v", par)
	}
	ro := parseAssertion(t, par.Get("request"), h.client.Secret)
	if ro["max_age"] != float64(600) || ro["response_type"] != "code" || ro["aud"] != h.op.Issuer {
		t.Errorf("request object claims = %v", ro)
	}
}

func TestFormPost(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.ResponseMode = "form_post" }})
	toProvider := h.toProvider("/private")
	// The pending login's cookie must travel with the provider's cross-site POST.
	flow := flowCookies(toProvider)
	if len(flow) != 1 || flow[0].SameSite != http.SameSiteNoneMode || !flow[0].Secure {
		t.Errorf("form_post flow cookie = %+v, want SameSite=None; Secure", flow)
	}
	fromProvider := h.authorize(toProvider)
	if fromProvider.StatusCode != http.StatusOK {
		t.Fatalf("provider answered %d, want the form_post page", fromProvider.StatusCode)
	}
	resp := h.callback(fromProvider)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form_post callback = %d: %v", resp.StatusCode, h.errs.last())
	}
	if page := jsonBody(t, h.follow(resp)); page["sub"] != "alice" {
		t.Errorf("after form_post login: %v", page)
	}
}

func flowCookies(resp *http.Response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "-flow-") {
			out = append(out, c)
		}
	}
	return out
}

func TestCookieAttributes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	toProvider := h.toProvider("/private")
	flow := flowCookies(toProvider)
	if len(flow) != 1 {
		t.Fatalf("%d flow cookies set, want 1", len(flow))
	}
	resp := h.callback(h.authorize(toProvider))
	// Responses that set login cookies stay out of caches; the callback's URL, which carries the
	// code, stays out of Referer headers.
	for _, r := range []*http.Response{toProvider, resp} {
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", r.Request.URL.Path, got)
		}
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("callback: Referrer-Policy %q, want no-referrer", got)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-parlogin" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no __Host-parlogin cookie set by the callback: %v", resp.Cookies())
	}
	for _, c := range []*http.Cookie{flow[0], session} {
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %s: HttpOnly=%v Secure=%v SameSite=%v Path=%q Domain=%q", c.Name, c.HttpOnly, c.Secure, c.SameSite, c.Path, c.Domain)
		}
	}
	if !strings.HasPrefix(flow[0].Name, "__Host-parlogin-flow-") || flow[0].MaxAge != int(flowLifetime/time.Second) {
		t.Errorf("flow cookie %s MaxAge %d", flow[0].Name, flow[0].MaxAge)
	}
	if want := int(defaultSessionMaxAge / time.Second); session.MaxAge < want-2 || session.MaxAge > want {
		t.Errorf("session MaxAge = %d, want about %d", session.MaxAge, want)
	}
	// The callback consumed the pending login: its cookie is deleted.
	var deleted bool
	for _, c := range resp.Cookies() {
		deleted = deleted || c.Name == flow[0].Name && c.MaxAge < 0
	}
	if !deleted {
		t.Error("the callback did not delete the pending login's cookie")
	}
}

func TestRequireAnonymous(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"navigation", http.MethodGet, map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusSeeOther},
		{"old browser navigation", http.MethodGet, map[string]string{"Accept": "text/html,*/*"}, http.StatusSeeOther},
		{"fetch", http.MethodGet, map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, http.StatusUnauthorized},
		{"xhr", http.MethodGet, map[string]string{"X-Requested-With": "XMLHttpRequest", "Accept": "text/html"}, http.StatusUnauthorized},
		{"api client", http.MethodGet, map[string]string{"Accept": "application/json"}, http.StatusUnauthorized},
		{"no accept", http.MethodGet, nil, http.StatusUnauthorized},
		{"form post", http.MethodPost, map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.app.URL+"/private", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp := h.do(req)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !errors.Is(h.errs.last(), ErrUnauthenticated) {
				t.Errorf("error handler got %v, want ErrUnauthenticated", h.errs.last())
			}
			if got := resp.Header.Get("WWW-Authenticate"); tc.want == http.StatusUnauthorized && got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", got)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	rec := httptest.NewRecorder()
	r, ok := h.auth.Authenticate(rec, req, Policy{})
	if ok || r != req || rec.Code != http.StatusUnauthorized {
		t.Fatalf("Authenticate(anonymous) = %v, %v, status %d", r, ok, rec.Code)
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext of an empty context reports a user")
	}
	if u, ok := FromContext(NewContext(context.Background(), nil)); ok || u != nil {
		t.Error("FromContext reports a nil user")
	}
}

func TestMultipleTabs(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// Three tabs start logins before any finishes; they finish in another order.
	first := h.toProvider("/private?tab=1")
	second := h.toProvider("/private?tab=2")
	third := h.toProvider("/private?tab=3")
	for _, tc := range []struct {
		start *http.Response
		want  string
	}{{second, "/private?tab=2"}, {third, "/private?tab=3"}, {first, "/private?tab=1"}} {
		resp := h.callback(h.authorize(tc.start))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback for %s = %d: %v", tc.want, resp.StatusCode, h.errs.last())
		}
		if loc := resp.Header.Get("Location"); loc != tc.want {
			t.Errorf("returned to %s, want %s", loc, tc.want)
		}
	}
}

func TestPendingLoginsBounded(t *testing.T) {
	tests := []struct {
		name     string
		returnTo string
		wantKept int
	}{
		// Bounded in number: a flood of login starts keeps the newest five.
		{"short targets", "/private?tab=", maxPendingLogins},
		// Bounded in bytes: long return targets keep fewer, so the header stays small.
		{"long targets", "/private?q=" + strings.Repeat("x", maxReturnTo-20) + "&tab=", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			var starts []*http.Response
			for i := range maxPendingLogins + 3 {
				starts = append(starts, h.toProvider(tc.returnTo+strconv.Itoa(i)))
			}
			u, _ := url.Parse(h.app.URL)
			kept, header := 0, 0
			for _, c := range h.jar.Cookies(u) {
				if strings.Contains(c.Name, "-flow-") {
					kept++
					header += len(c.Name) + len(c.Value) + len("; =")
				}
			}
			t.Logf("%d pending logins take %d bytes of Cookie header", kept, header)
			if kept != tc.wantKept {
				t.Errorf("%d pending logins kept, want %d", kept, tc.wantKept)
			}
			if header > 3*1024 {
				t.Errorf("pending logins take %d bytes of Cookie header, want at most 3 KB", header)
			}
			// The oldest were evicted; the newest still completes.
			if resp := h.callback(h.authorize(starts[0])); resp.StatusCode == http.StatusSeeOther || !errors.Is(h.errs.last(), ErrInvalidState) {
				t.Errorf("evicted login completed: %d, %v", resp.StatusCode, h.errs.last())
			}
			if resp := h.callback(h.authorize(starts[len(starts)-1])); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("newest login failed: %d, %v", resp.StatusCode, h.errs.last())
			}
		})
	}
}

func TestSessionFixation(t *testing.T) {
	dir := t.TempDir()
	store := sessions.NewFilesystemStore(dir, []byte(testSecret))
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store = store }})
	// An attacker plants a session of their own making in the victim's browser before login.
	planted := sessions.NewSession(store, "__Host-parlogin")
	planted.Values["planted"] = "yes"
	planted.Options = &sessions.Options{Path: "/", MaxAge: 3600}
	rec := httptest.NewRecorder()
	if err := store.Save(httptest.NewRequest(http.MethodGet, "/", nil), rec, planted); err != nil {
		t.Fatal(err)
	}
	plantedCookie := rec.Result().Cookies()[0]
	h.setCookie(plantedCookie.Name, plantedCookie.Value)

	h.login("/private")
	after := h.cookie("__Host-parlogin")
	if after == nil || after.Value == plantedCookie.Value {
		t.Fatal("the session identifier planted before login survived it")
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(plantedCookie)
	if s, err := store.New(req, "__Host-parlogin"); err == nil && !s.IsNew {
		t.Error("the planted session's record still exists in the store")
	}
}

func TestTokensInSession(t *testing.T) {
	t.Run("too large for a cookie", func(t *testing.T) {
		h := newHarness(t, harnessOptions{
			config: func(c *Config) { c.SaveTokens = true },
			op: func(s *oidctest.Server) {
				s.SetUser(oidctest.User{Subject: "alice", Claims: map[string]any{"groups": strings.Repeat("g", 2000)}})
			},
		})
		resp := h.callback(h.authorize(h.toProvider("/private")))
		if !errors.Is(h.errs.last(), ErrSessionStore) || resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("callback = %d, error %v; want a clear ErrSessionStore", resp.StatusCode, h.errs.last())
		}
		if !strings.Contains(h.errs.last().Error(), "SaveTokens") {
			t.Errorf("error %q does not say what to do", h.errs.last())
		}
	})
	t.Run("server-side store", func(t *testing.T) {
		store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
		store.MaxLength(0)
		h := newHarness(t, harnessOptions{config: func(c *Config) { c.SaveTokens = true; c.Store = store }})
		h.login("/private")
		resp := h.navigate(http.MethodGet, "/token", nil)
		if resp.StatusCode != http.StatusOK || readBody(resp) == "" {
			t.Fatalf("Token = %d %s", resp.StatusCode, readBody(resp))
		}
	})
	t.Run("not kept by default", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		h.login("/private")
		if resp := h.navigate(http.MethodGet, "/token", nil); resp.StatusCode == http.StatusOK {
			t.Fatal("Token returned a token although SaveTokens is off")
		}
	})
}

func cookiejarNew() (http.CookieJar, error) { return cookiejar.New(nil) }

// foreignSession returns a session cookie for alice that would be valid for issuer, encoded with
// a key the app does not have.
func foreignSession(t *testing.T, issuer string) string {
	t.Helper()
	foreign := newStore(sessions.NewCookieStore([]byte("another key, another app, 32+ bytes long"), []byte("another encryption key, 32 bytes")))
	rec := &record{name: "__Host-parlogin", value: `{"sub":"alice","iss":"` + issuer + `","exp":4102444800}`}
	w := httptest.NewRecorder()
	if _, err := foreign.save(w, httptest.NewRequest(http.MethodGet, "/", nil), rec, &sessions.Options{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0].Value
}

func TestFailedLoginKeepsSession(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	h.op.Inject(EndpointToken, oidctest.Fault{Error: "server_error", Status: 500})
	resp := h.callback(h.authorize(h.toProvider("/auth/login?return_to=/private")))
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("failed re-login = %d, want 502", resp.StatusCode)
	}
	if me := jsonBody(t, h.api("/api/me")); me["sub"] != "alice" {
		t.Fatalf("the session before the failed login is gone: %v", me)
	}
}

func TestLoginReturnTo(t *testing.T) {
	tests := []struct{ returnTo, want string }{
		{"/private?a=b", "/private?a=b"},
		{"", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/%09/evil.example", "/%09/evil.example"},
	}
	for _, tc := range tests {
		t.Run(tc.returnTo, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			resp := h.callback(h.authorize(h.toProvider("/auth/login?return_to=" + url.QueryEscape(tc.returnTo))))
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != tc.want {
				t.Fatalf("return_to %q: %d to %v, want %q", tc.returnTo, resp.StatusCode, loc, tc.want)
			}
		})
	}
}

func TestAuthParamsRejected(t *testing.T) {
	tests := []struct {
		name   string
		params url.Values
	}{
		{"state", url.Values{"state": {"x"}}},
		{"nonce", url.Values{"nonce": {"x"}}},
		{"code_challenge_method", url.Values{"code_challenge_method": {"plain"}}},
		{"redirect_uri", url.Values{"redirect_uri": {"https://evil.example/cb"}}},
		{"client_secret", url.Values{"client_secret": {"x"}}},
		{"scope", url.Values{"scope": {"admin"}}},
		{"request_uri", url.Values{"request_uri": {"urn:x"}}},
		{"two values", url.Values{"prompt": {"login", "consent"}}},
		{"response_mode fragment", url.Values{"response_mode": {"fragment"}}},
		{"max_age not a number", url.Values{"max_age": {"soon"}}},
		{"negative max_age", url.Values{"max_age": {"-1"}}},
		{"max_age with a sign", url.Values{"max_age": {"+5"}}},
		{"max_age with a leading zero", url.Values{"max_age": {"007"}}},
		{"max_age with a space", url.Values{"max_age": {" 5"}}},
		{"max_age too large", url.Values{"max_age": {"99999999999"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{config: func(c *Config) {
				c.AuthParams = func(*http.Request) url.Values { return tc.params }
			}})
			resp := h.navigate(http.MethodGet, "/private", nil)
			if resp.StatusCode != http.StatusInternalServerError || !errors.Is(h.errs.last(), ErrAuthParam) {
				t.Fatalf("status %d, error %v; want ErrAuthParam", resp.StatusCode, h.errs.last())
			}
			if n := len(h.op.Requests(EndpointPAR)); n != 0 {
				t.Errorf("%d PAR requests sent", n)
			}
		})
	}
}

// A form_post login's cookies are SameSite=None; Secure wherever browsers accept them (https, and
// loopback hosts, which they treat as secure contexts), so that the provider's cross-site POST
// carries them; a query-mode login's stay SameSite=Lax.
func TestFormPostCookieAttributes(t *testing.T) {
	tests := []struct {
		redirect string
		formPost bool
		sameSite http.SameSite
		secure   bool
	}{
		{"https://app.example/auth/callback", true, http.SameSiteNoneMode, true},
		{"https://app.example/auth/callback", false, http.SameSiteLaxMode, true},
		{"http://localhost:8080/auth/callback", true, http.SameSiteNoneMode, true},
		{"http://127.0.0.1:8080/auth/callback", true, http.SameSiteNoneMode, true},
		{"http://[::1]:8080/auth/callback", true, http.SameSiteNoneMode, true},
		{"http://localhost:8080/auth/callback", false, http.SameSiteLaxMode, false},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.redirect)
		f := &flows{secure: u.Scheme == "https", crossSite: u.Scheme == "https" || isLoopback(u.Hostname())}
		rs := restarts{name: "marker", flows: f}
		method := http.MethodGet
		if tc.formPost {
			method = http.MethodPost
		}
		marker := rs.cookie(httptest.NewRequest(method, tc.redirect, nil), 60)
		for name, got := range map[string]struct {
			sameSite http.SameSite
			secure   bool
		}{
			"pending login":  {f.options(tc.formPost, 60).SameSite, f.options(tc.formPost, 60).Secure},
			"restart marker": {marker.SameSite, marker.Secure},
		} {
			if got.sameSite != tc.sameSite || got.secure != tc.secure {
				t.Errorf("%s, form_post %v: %s cookie SameSite=%v Secure=%v, want %v %v",
					tc.redirect, tc.formPost, name, got.sameSite, got.secure, tc.sameSite, tc.secure)
			}
		}
	}
}
