package oidctest_test

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// dpopKey is the key pair of a DPoP client written for these tests.
type dpopKey struct {
	alg string
	key crypto.Signer
}

// jwk returns the public JWK of k as a JSON object.
func (k dpopKey) jwk(t *testing.T) map[string]any {
	t.Helper()
	b, err := jose.JSONWebKey{Key: k.key.Public()}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jkt returns the RFC 7638 thumbprint of k's public key.
func (k dpopKey) jkt(t *testing.T) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: k.key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// proof returns a DPoP proof (RFC 9449 section 4.2) for method and u at the time of e's clock,
// for accessToken when it is not empty, with nonce when it is not empty, after edit changes its
// header and claims.
func (e *env) proof(k dpopKey, method, u, accessToken, nonce string, edit func(header map[string]any, claims jwt.MapClaims)) string {
	e.t.Helper()
	claims := jwt.MapClaims{"jti": randomString(), "htm": method, "htu": u, "iat": e.clock.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), claims)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = k.jwk(e.t)
	if edit != nil {
		edit(tok.Header, claims)
	}
	s, err := tok.SignedString(k.key)
	if err != nil {
		e.t.Fatalf("signing a DPoP proof: %v", err)
	}
	return s
}

// tokenProof returns a DPoP proof for the token endpoint.
func (e *env) tokenProof(k dpopKey, nonce string) string {
	return e.proof(k, http.MethodPost, e.endpoint("token_endpoint"), "", nonce, nil)
}

// post posts form to u with extra headers and returns the whole answer.
func (e *env) post(u string, form url.Values, header http.Header) (*http.Response, []byte) {
	e.t.Helper()
	req := mustRequest(e.t, http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.do(req)
}

// tokenDPoP posts form plus client authentication for c to the token endpoint with the DPoP
// proofs given (none, one, or several headers).
func (e *env) tokenDPoP(c oidctest.Client, form url.Values, proofs ...string) (*http.Response, []byte) {
	e.t.Helper()
	return e.post(e.endpoint("token_endpoint"), merge(form, e.clientAuth(c)), http.Header{"Dpop": proofs})
}

// codeForm returns the form that redeems code.
func codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
}

// userinfoDPoP calls the userinfo endpoint with accessToken in the scheme given, and proof in a
// DPoP header when it is not empty.
func (e *env) userinfoDPoP(scheme, accessToken, proof string) (*http.Response, []byte) {
	e.t.Helper()
	req := mustRequest(e.t, http.MethodGet, e.endpoint("userinfo_endpoint"), nil)
	req.Header.Set("Authorization", scheme+" "+accessToken)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.do(req)
}

// wantChallenge checks a 401 answer of the userinfo endpoint and its WWW-Authenticate challenge.
func wantChallenge(t *testing.T, resp *http.Response, body []byte, scheme, code string) {
	t.Helper()
	challenge := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(challenge, scheme+" ") || !strings.Contains(challenge, `error="`+code+`"`) {
		t.Errorf("status %d, WWW-Authenticate %q, want 401 and a %s challenge with error %s: %s", resp.StatusCode, challenge, scheme, code, body)
	}
}

// dpopES and dpopOther are two ES256 DPoP keys.
func dpopES() dpopKey    { return dpopKey{"ES256", ecKey()} }
func dpopOther() dpopKey { return dpopKey{"ES256", ecKey2()} }

func TestDPoP(t *testing.T) {
	e := newEnv(t)
	k, other := dpopES(), dpopOther()
	code, _, verifier := e.code(e.client, func(p url.Values) { p.Set("scope", "openid email offline_access") })
	resp, body := e.tokenDPoP(e.client, codeForm(code, verifier), e.tokenProof(k, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: status %d: %s", resp.StatusCode, body)
	}
	tokens := decodeJSON(t, body)
	access, refresh := tokens["access_token"].(string), tokens["refresh_token"].(string)
	if tokens["token_type"] != "DPoP" {
		t.Errorf("token_type %v, want DPoP", tokens["token_type"])
	}
	userinfo := e.endpoint("userinfo_endpoint")

	resp, body = e.userinfoDPoP("DPoP", access, e.proof(k, http.MethodGet, userinfo, access, "", nil))
	if resp.StatusCode != http.StatusOK || decodeJSON(t, body)["email"] != "alice@example.com" {
		t.Fatalf("userinfo with DPoP: status %d: %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name, scheme, proof, code string
		wantScheme                string
	}{
		{name: "as a Bearer token", scheme: "Bearer", code: "invalid_token", wantScheme: "DPoP"},
		{name: "as a Bearer token with a proof", scheme: "Bearer", proof: e.proof(k, http.MethodGet, userinfo, access, "", nil), code: "invalid_token", wantScheme: "DPoP"},
		{name: "without proof", scheme: "DPoP", code: "invalid_dpop_proof", wantScheme: "DPoP"},
		{name: "proof of another key", scheme: "DPoP", proof: e.proof(other, http.MethodGet, userinfo, access, "", nil), code: "invalid_dpop_proof", wantScheme: "DPoP"},
		{name: "no ath", scheme: "DPoP", proof: e.proof(k, http.MethodGet, userinfo, "", "", nil), code: "invalid_dpop_proof", wantScheme: "DPoP"},
		{name: "ath of another token", scheme: "DPoP", proof: e.proof(k, http.MethodGet, userinfo, refresh, "", nil), code: "invalid_dpop_proof", wantScheme: "DPoP"},
		{name: "htu of the token endpoint", scheme: "DPoP", proof: e.proof(k, http.MethodGet, e.endpoint("token_endpoint"), access, "", nil), code: "invalid_dpop_proof", wantScheme: "DPoP"},
		{name: "htm POST", scheme: "DPoP", proof: e.proof(k, http.MethodPost, userinfo, access, "", nil), code: "invalid_dpop_proof", wantScheme: "DPoP"},
		{name: "unknown token", scheme: "DPoP", proof: e.proof(k, http.MethodGet, userinfo, "nope", "", nil), code: "invalid_token", wantScheme: "DPoP"},
	} {
		t.Run("userinfo "+tc.name, func(t *testing.T) {
			token := access
			if tc.name == "unknown token" {
				token = "nope"
			}
			resp, body := e.with(t).userinfoDPoP(tc.scheme, token, tc.proof)
			wantChallenge(t, resp, body, tc.wantScheme, tc.code)
			if algs := resp.Header.Get("WWW-Authenticate"); !strings.Contains(algs, `algs="ES256 PS256 EdDSA"`) {
				t.Errorf("challenge %q does not name the algorithms", algs)
			}
		})
	}
	// A proof is single use at the resource too.
	proof := e.proof(k, http.MethodGet, userinfo, access, "", nil)
	if resp, body := e.userinfoDPoP("DPoP", access, proof); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
	}
	resp, body = e.userinfoDPoP("DPoP", access, proof)
	wantChallenge(t, resp, body, "DPoP", "invalid_dpop_proof")

	// The refresh token of a DPoP-bound grant needs a proof of the same key.
	refreshForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	resp, body = e.tokenDPoP(e.client, refreshForm)
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_grant")
	resp, body = e.tokenDPoP(e.client, refreshForm, e.tokenProof(other, ""))
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_grant")
	resp, body = e.tokenDPoP(e.client, refreshForm, e.tokenProof(k, ""))
	if resp.StatusCode != http.StatusOK || decodeJSON(t, body)["token_type"] != "DPoP" {
		t.Fatalf("refresh with the grant's key: status %d: %s", resp.StatusCode, body)
	}
	// A Bearer token is not accepted with the DPoP scheme.
	bearerCode, _, bearerVerifier := e.code(e.client, nil)
	bearer := e.exchange(e.client, bearerCode, bearerVerifier)["access_token"].(string)
	resp, body = e.userinfoDPoP("DPoP", bearer, e.proof(k, http.MethodGet, userinfo, bearer, "", nil))
	wantChallenge(t, resp, body, "DPoP", "invalid_token")
	if resp, body := e.userinfo(bearer); resp.StatusCode != http.StatusOK {
		t.Errorf("Bearer token as Bearer: status %d: %s", resp.StatusCode, body)
	}
}

// Each check of a DPoP proof at the token endpoint fails on its own, and leaves the code usable.
func TestDPoPProofChecks(t *testing.T) {
	e := newEnv(t)
	k, other := dpopES(), dpopOther()
	tokenURL := e.endpoint("token_endpoint")
	edited := func(edit func(h map[string]any, c jwt.MapClaims)) func() []string {
		return func() []string { return []string{e.proof(k, http.MethodPost, tokenURL, "", "", edit)} }
	}
	used := e.tokenProof(k, "")
	firstCode, _, firstVerifier := e.code(e.client, nil)
	if resp, body := e.tokenDPoP(e.client, codeForm(firstCode, firstVerifier), used); resp.StatusCode != http.StatusOK {
		t.Fatalf("token: status %d: %s", resp.StatusCode, body)
	}
	tests := []struct {
		name   string
		proofs func() []string
		why    string
	}{
		{"forged signature", func() []string {
			// Signed with another key than the one in its jwk header.
			p := e.proof(other, http.MethodPost, tokenURL, "", "", func(h map[string]any, _ jwt.MapClaims) { h["jwk"] = k.jwk(e.t) })
			return []string{p}
		}, "invalid signature"},
		{"replayed jti", func() []string { return []string{used} }, "already used"},
		{"htm GET", func() []string { return []string{e.proof(k, http.MethodGet, tokenURL, "", "", nil)} }, "htm"},
		{"htm post", edited(func(_ map[string]any, c jwt.MapClaims) { c["htm"] = "post" }), "htm"},
		{"htu of another endpoint", edited(func(_ map[string]any, c jwt.MapClaims) { c["htu"] = e.endpoint("userinfo_endpoint") }), "htu"},
		{"htu of another port", edited(func(_ map[string]any, c jwt.MapClaims) { c["htu"] = "http://127.0.0.1:1/token" }), "htu"},
		{"htu with a query", edited(func(_ map[string]any, c jwt.MapClaims) { c["htu"] = tokenURL + "?x=1" }), "no query"},
		{"htu with a fragment", edited(func(_ map[string]any, c jwt.MapClaims) { c["htu"] = tokenURL + "#x" }), "no fragment"},
		{"htu relative", edited(func(_ map[string]any, c jwt.MapClaims) { c["htu"] = "/token" }), "absolute"},
		{"iat 61 s ago", edited(func(_ map[string]any, c jwt.MapClaims) { c["iat"] = e.clock.Now().Add(-61 * time.Second).Unix() }), "too old"},
		{"iat 20 s ahead", edited(func(_ map[string]any, c jwt.MapClaims) { c["iat"] = e.clock.Now().Add(20 * time.Second).Unix() }), "future"},
		{"no iat", edited(func(_ map[string]any, c jwt.MapClaims) { delete(c, "iat") }), "iat"},
		{"no jti", edited(func(_ map[string]any, c jwt.MapClaims) { delete(c, "jti") }), "jti"},
		{"no htu", edited(func(_ map[string]any, c jwt.MapClaims) { delete(c, "htu") }), "htu"},
		{"typ JWT", edited(func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "JWT" }), "typ"},
		{"no jwk", edited(func(h map[string]any, _ jwt.MapClaims) { delete(h, "jwk") }), "jwk"},
		{"private key in jwk", edited(func(h map[string]any, _ jwt.MapClaims) {
			jwk := k.jwk(e.t)
			jwk["d"] = base64.RawURLEncoding.EncodeToString(ecKey().D.Bytes())
			h["jwk"] = jwk
		}), "private key"},
		{"alg none", func() []string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"jti": randomString(), "htm": "POST", "htu": tokenURL, "iat": e.clock.Now().Unix()})
			tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", k.jwk(e.t)
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return []string{s}
		}, "alg none"},
		{"alg HS256", func() []string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"jti": randomString(), "htm": "POST", "htu": tokenURL, "iat": e.clock.Now().Unix()})
			tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", k.jwk(e.t)
			s, _ := tok.SignedString([]byte("secret"))
			return []string{s}
		}, "alg HS256"},
		{"alg RS256", func() []string {
			return []string{e.proof(dpopKey{"RS256", rsaKey()}, http.MethodPost, tokenURL, "", "", nil)}
		}, "alg RS256"},
		{"alg of another key type", edited(func(h map[string]any, _ jwt.MapClaims) { h["jwk"] = dpopKey{"PS256", rsaKey()}.jwk(e.t) }), "type RSA"},
		{"two DPoP headers", func() []string { return []string{e.tokenProof(k, ""), e.tokenProof(k, "")} }, "one DPoP header"},
		{"not a JWT", func() []string { return []string{"not-a-jwt"} }, "compact"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			code, _, verifier := e.code(e.client, nil)
			resp, body := e.tokenDPoP(e.client, codeForm(code, verifier), tc.proofs()...)
			wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_dpop_proof")
			if !strings.Contains(string(body), tc.why) {
				t.Errorf("error_description does not say %q: %s", tc.why, body)
			}
			resp, body = e.tokenDPoP(e.client, codeForm(code, verifier), e.tokenProof(k, ""))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the code after a refused proof: status %d: %s", resp.StatusCode, body)
			}
		})
	}
	// htu is compared after normalisation (RFC 3986 section 6.2.2 and 6.2.3).
	for _, htu := range []string{strings.Replace(tokenURL, "http://", "HTTP://", 1), strings.Replace(tokenURL, "/token", "/%74oken", 1)} {
		code, _, verifier := e.code(e.client, nil)
		p := e.proof(k, http.MethodPost, htu, "", "", nil)
		if resp, body := e.tokenDPoP(e.client, codeForm(code, verifier), p); resp.StatusCode != http.StatusOK {
			t.Errorf("htu %s: status %d: %s", htu, resp.StatusCode, body)
		}
	}
	// PS256 and EdDSA proofs are accepted too.
	for _, key := range []dpopKey{{"PS256", rsaKey()}, {"EdDSA", edKey()}} {
		code, _, verifier := e.code(e.client, nil)
		if resp, body := e.tokenDPoP(e.client, codeForm(code, verifier), e.tokenProof(key, "")); resp.StatusCode != http.StatusOK {
			t.Errorf("%s proof: status %d: %s", key.alg, resp.StatusCode, body)
		}
	}
}

func TestDPoPNonce(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) { s.DPoPNonce = true })
	k := dpopES()
	code, _, verifier := e.code(e.client, nil)

	resp, body := e.tokenDPoP(e.client, codeForm(code, verifier), e.tokenProof(k, ""))
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "use_dpop_nonce")
	nonce := resp.Header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	resp, body = e.tokenDPoP(e.client, codeForm(code, verifier), e.tokenProof(k, "made-up"))
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "use_dpop_nonce")
	resp, body = e.tokenDPoP(e.client, codeForm(code, verifier), e.tokenProof(k, nonce))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("token with the nonce: status %d, DPoP-Nonce %q: %s", resp.StatusCode, resp.Header.Get("DPoP-Nonce"), body)
	}
	access := decodeJSON(t, body)["access_token"].(string)
	userinfo := func(nonce string) (*http.Response, []byte) {
		return e.userinfoDPoP("DPoP", access, e.proof(k, http.MethodGet, e.endpoint("userinfo_endpoint"), access, nonce, nil))
	}
	resp, body = userinfo("")
	wantChallenge(t, resp, body, "DPoP", "use_dpop_nonce")
	if resp.Header.Get("DPoP-Nonce") != nonce {
		t.Errorf("userinfo DPoP-Nonce %q, want %q", resp.Header.Get("DPoP-Nonce"), nonce)
	}
	if resp, body := userinfo(nonce); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the nonce: status %d: %s", resp.StatusCode, body)
	}

	// After 5 minutes a new nonce is issued; the previous one is accepted until the next.
	e.clock.Advance(5 * time.Minute)
	resp, body = userinfo(nonce)
	fresh := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != http.StatusOK || fresh == nonce || fresh == "" {
		t.Fatalf("previous nonce: status %d, DPoP-Nonce %q (was %q): %s", resp.StatusCode, fresh, nonce, body)
	}
	e.clock.Advance(5 * time.Minute)
	resp, body = userinfo(nonce)
	wantChallenge(t, resp, body, "DPoP", "use_dpop_nonce")
	if resp, body := userinfo(fresh); resp.StatusCode != http.StatusOK {
		t.Fatalf("the nonce of 5 minutes ago: status %d: %s", resp.StatusCode, body)
	}

	// A proof at the PAR endpoint needs the nonce too.
	params, _ := e.authParams(e.client)
	parURL := e.endpoint("pushed_authorization_request_endpoint")
	resp, body = e.post(parURL, merge(params, e.clientAuth(e.client)), http.Header{"Dpop": {e.proof(k, http.MethodPost, parURL, "", "", nil)}})
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "use_dpop_nonce")
}

// dpop_jkt, or a DPoP proof at the PAR endpoint, binds the code to a key (RFC 9449 section 10).
func TestDPoPCodeBinding(t *testing.T) {
	e := newEnv(t)
	k, other := dpopES(), dpopOther()
	parURL := e.endpoint("pushed_authorization_request_endpoint")
	withJKT := func(p url.Values) { p.Set("dpop_jkt", k.jkt(t)) }
	for _, tc := range []struct {
		name     string
		push     func(p url.Values) (url.Values, http.Header) // the PAR request
		proofs   func() []string                              // of the token request
		wantCode string
	}{
		{name: "dpop_jkt, same key", push: func(p url.Values) (url.Values, http.Header) { withJKT(p); return p, nil }, proofs: func() []string { return []string{e.tokenProof(k, "")} }},
		{name: "dpop_jkt, other key", push: func(p url.Values) (url.Values, http.Header) { withJKT(p); return p, nil }, proofs: func() []string { return []string{e.tokenProof(other, "")} }, wantCode: "invalid_grant"},
		{name: "dpop_jkt, no proof", push: func(p url.Values) (url.Values, http.Header) { withJKT(p); return p, nil }, proofs: func() []string { return nil }, wantCode: "invalid_grant"},
		{name: "PAR proof, same key", push: func(p url.Values) (url.Values, http.Header) {
			return p, http.Header{"Dpop": {e.proof(k, http.MethodPost, parURL, "", "", nil)}}
		}, proofs: func() []string { return []string{e.tokenProof(k, "")} }},
		{name: "PAR proof, other key", push: func(p url.Values) (url.Values, http.Header) {
			return p, http.Header{"Dpop": {e.proof(k, http.MethodPost, parURL, "", "", nil)}}
		}, proofs: func() []string { return []string{e.tokenProof(other, "")} }, wantCode: "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			params, verifier := e.authParams(e.client)
			params, header := tc.push(params)
			resp, body := e.post(parURL, merge(params, e.clientAuth(e.client)), header)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("PAR: status %d: %s", resp.StatusCode, body)
			}
			r, b := e.authorize(e.client, decodeJSON(t, body)["request_uri"].(string))
			code := redirectParams(t, r, b, redirectURI).Get("code")
			resp, body = e.tokenDPoP(e.client, codeForm(code, verifier), tc.proofs()...)
			if tc.wantCode == "" {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("token: status %d: %s", resp.StatusCode, body)
				}
				return
			}
			wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, tc.wantCode)
		})
	}
	t.Run("dpop_jkt and a proof of another key", func(t *testing.T) {
		e := e.with(t)
		params, _ := e.authParams(e.client)
		withJKT(params)
		resp, body := e.post(parURL, merge(params, e.clientAuth(e.client)), http.Header{"Dpop": {e.proof(other, http.MethodPost, parURL, "", "", nil)}})
		wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_request")
	})
	t.Run("malformed dpop_jkt", func(t *testing.T) {
		e := e.with(t)
		params, _ := e.authParams(e.client)
		params.Set("dpop_jkt", "abc")
		status, body := e.par(e.client, params)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
	})
}

func TestDPoPBoundAccessTokens(t *testing.T) {
	e := newEnv(t)
	c := e.addClient(oidctest.Client{DPoPBoundAccessTokens: true})
	code, _, verifier := e.code(c, nil)
	resp, body := e.tokenDPoP(c, codeForm(code, verifier))
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_request")
	resp, body = e.tokenDPoP(c, codeForm(code, verifier), e.tokenProof(dpopES(), ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token with a proof: status %d: %s", resp.StatusCode, body)
	}
}

// PingOne mode does not implement DPoP: the header is ignored, as by a provider without DPoP.
func TestPingOneIgnoresDPoP(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) { s.EnvID = "env" })
	code, _, verifier := e.code(e.client, nil)
	resp, body := e.tokenDPoP(e.client, codeForm(code, verifier), "not even a JWT")
	if resp.StatusCode != http.StatusOK || decodeJSON(t, body)["token_type"] != "Bearer" {
		t.Fatalf("status %d: %s, want 200 and a Bearer token", resp.StatusCode, body)
	}
	if _, ok := e.meta["dpop_signing_alg_values_supported"]; ok {
		t.Error("PingOne's discovery document advertises DPoP")
	}
	// Clients that need DPoP cannot work there, and say so.
	for name, edit := range map[string]func(*oidctest.Client){
		"FAPI2":                 func(c *oidctest.Client) { c.FAPI2 = true },
		"DPoPBoundAccessTokens": func(c *oidctest.Client) { c.DPoPBoundAccessTokens = true },
	} {
		c := e.addKeyClient(testKey{alg: "RS256", kid: "k", key: rsaKey()}, edit)
		status, body := e.parWith(c, e.assertion(c))
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
		if !strings.Contains(string(body), "PingOne mode") {
			t.Errorf("%s: the error does not say why: %s", name, body)
		}
	}
}
