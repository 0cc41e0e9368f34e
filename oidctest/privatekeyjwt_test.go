package oidctest_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// parWith pushes valid parameters for c, authenticated with assertion.
func (e *env) parWith(c oidctest.Client, assertion string) (int, []byte) {
	e.t.Helper()
	params, _ := e.authParams(c)
	params.Set("client_assertion_type", jwtBearer)
	params.Set("client_assertion", assertion)
	return e.par(c, params)
}

func TestPrivateKeyJWT(t *testing.T) {
	e := newEnv(t)
	es := testKey{alg: "ES256", kid: "ec-1", key: ecKey()}
	ps := testKey{alg: "PS256", kid: "rsa-1", key: rsaKey()}
	rs := testKey{alg: "RS256", kid: "rsa-1", key: rsaKey()}
	ed := testKey{alg: "EdDSA", kid: "ed-1", key: edKey()}
	two := func(c *oidctest.Client) {
		c.Keys = []oidctest.ClientKey{es.clientKey(), ps.clientKey()}
	}
	tests := []struct {
		name     string
		register testKey                        // the client's key
		edit     func(*oidctest.Client)         // its registration
		sign     func(c oidctest.Client) string // the assertion; default a valid one
		wantCode string                         // "" for 201
		why      string                         // in the error_description
	}{
		{name: "ES256", register: es},
		{name: "PS256", register: ps},
		{name: "RS256", register: rs},
		{name: "EdDSA", register: ed},
		{name: "one key, no kid", register: testKey{alg: "ES256", key: ecKey()}},
		{name: "one key with an ID, no kid header", register: es, sign: func(c oidctest.Client) string {
			return testKey{alg: "ES256", key: ecKey()}.sign(e.t, e.assertionClaims(c))
		}},
		{name: "several keys, kid selects", register: ps, edit: two},
		{name: "several keys, no kid", register: ps, edit: two, sign: func(c oidctest.Client) string {
			return testKey{alg: "PS256", key: rsaKey()}.sign(e.t, e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "several keys"},
		{name: "unknown kid", register: es, sign: func(c oidctest.Client) string {
			return testKey{alg: "ES256", kid: "other", key: ecKey()}.sign(e.t, e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "names no key"},
		{name: "forged signature", register: es, sign: func(c oidctest.Client) string {
			return testKey{alg: "ES256", kid: "ec-1", key: ecKey2()}.sign(e.t, e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "invalid signature"},
		{name: "DER signature", register: es, sign: func(c oidctest.Client) string {
			return derSigned(e.t, ecKey(), "ec-1", e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "not 64 octets"},
		{name: "alg of another key type", register: es, sign: func(c oidctest.Client) string {
			return testKey{alg: "PS256", kid: "ec-1", key: rsaKey()}.sign(e.t, e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "EC key cannot verify"},
		{name: "key registered for another alg", register: rs, edit: func(c *oidctest.Client) {
			c.Keys[0].Alg = "PS256"
		}, wantCode: "invalid_client", why: "key is for PS256"},
		{name: "AuthAlg", register: rs, edit: func(c *oidctest.Client) { c.AuthAlg = "PS256" }, wantCode: "invalid_client", why: "registered for PS256"},
		{name: "client_secret_jwt assertion", register: es, sign: func(c oidctest.Client) string {
			return sign(e.t, jwt.SigningMethodHS256, []byte(c.Secret), e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "registered for private_key_jwt"},
		{name: "alg none", register: es, sign: func(c oidctest.Client) string {
			return unsigned(e.assertionClaims(c))
		}, wantCode: "invalid_client", why: "alg none"},
		{name: "aud of another server", register: es, sign: func(c oidctest.Client) string {
			claims := e.assertionClaims(c)
			claims["aud"] = "https://other.example"
			return es.sign(e.t, claims)
		}, wantCode: "invalid_client", why: "claim aud"},
		{name: "aud the PAR endpoint", register: es, sign: func(c oidctest.Client) string {
			claims := e.assertionClaims(c)
			claims["aud"] = e.endpoint("pushed_authorization_request_endpoint")
			return es.sign(e.t, claims)
		}},
		{name: "exp more than an hour ahead", register: es, sign: func(c oidctest.Client) string {
			claims := e.assertionClaims(c)
			claims["exp"] = e.clock.Now().Add(2 * time.Hour).Unix()
			return es.sign(e.t, claims)
		}, wantCode: "invalid_client", why: "exp"},
		{name: "sub is not the client", register: es, sign: func(c oidctest.Client) string {
			claims := e.assertionClaims(c)
			claims["sub"] = "someone"
			return es.sign(e.t, claims)
		}, wantCode: "invalid_client", why: "claim sub"},
		{name: "no keys", register: es, edit: func(c *oidctest.Client) { c.Keys = nil }, wantCode: "invalid_client", why: "needs Keys or JWKSURI"},
		{name: "Keys and JWKSURI", register: es, edit: func(c *oidctest.Client) { c.JWKSURI = "https://app.example/jwks" }, wantCode: "invalid_client", why: "not both"},
		{name: "RSA key of 1024 bits", register: testKey{alg: "RS256", key: rsa1024()}, wantCode: "invalid_client", why: "shorter than 2048 bits"},
		{name: "P-384 key", register: testKey{alg: "ES256", key: ecKey()}, edit: func(c *oidctest.Client) {
			c.Keys[0].Key = p384Key().Public()
		}, wantCode: "invalid_client", why: "P-256"},
		{name: "private key registered", register: es, edit: func(c *oidctest.Client) { c.Keys[0].Key = ecKey() }, wantCode: "invalid_client", why: "private key"},
		{name: "several keys without ID", register: ps, edit: func(c *oidctest.Client) {
			c.Keys = []oidctest.ClientKey{{Key: ecKey().Public()}, ps.clientKey()}
		}, wantCode: "invalid_client", why: "no ID"},
		{name: "unknown AuthMethod", register: es, edit: func(c *oidctest.Client) { c.AuthMethod = "client_secret_basic" }, wantCode: "invalid_client", why: "neither client_secret_jwt nor private_key_jwt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			c := e.addKeyClient(tc.register, tc.edit)
			assertion := e.assertion(c)
			if tc.sign != nil {
				assertion = tc.sign(c)
			}
			status, body := e.parWith(c, assertion)
			if tc.wantCode == "" {
				if status != http.StatusCreated {
					t.Fatalf("status %d, want 201: %s", status, body)
				}
				return
			}
			wantOAuthError(t, status, body, http.StatusUnauthorized, tc.wantCode)
			if !strings.Contains(string(body), tc.why) {
				t.Errorf("error_description does not say %q: %s", tc.why, body)
			}
		})
	}
}

// A client registered for client_secret_jwt refuses private_key_jwt assertions.
func TestClientSecretJWTRefusesKeys(t *testing.T) {
	e := newEnv(t)
	k := testKey{alg: "ES256", kid: "k", key: ecKey()}
	c := e.addClient(oidctest.Client{Keys: []oidctest.ClientKey{k.clientKey()}})
	status, body := e.parWith(c, k.sign(t, e.assertionClaims(c)))
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	c = e.addClient(oidctest.Client{})
	status, body = e.parWith(c, k.sign(t, e.assertionClaims(c)))
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(string(body), "registered for client_secret_jwt") {
		t.Errorf("description does not say why: %s", body)
	}
}

// Every endpoint that authenticates clients accepts private_key_jwt: PAR, token (code and
// refresh) and revocation.
func TestPrivateKeyJWTFlow(t *testing.T) {
	e := newEnv(t)
	c := e.addKeyClient(testKey{alg: "ES256", kid: "k", key: ecKey()}, nil)
	code, _, verifier := e.code(c, func(p url.Values) { p.Set("scope", "openid offline_access") })
	tokens := e.exchange(c, code, verifier)
	status, body := e.refreshWith(c, tokens["refresh_token"].(string))
	if status != http.StatusOK {
		t.Fatalf("refresh: status %d: %s", status, body)
	}
	status, body = e.revoke(c, url.Values{"token": {decodeJSON(t, body)["refresh_token"].(string)}})
	wantRevoked(t, status, body)
}

func TestPrivateKeyJWTFromJWKSURI(t *testing.T) {
	first := testKey{alg: "ES256", kid: "first", key: ecKey()}
	second := testKey{alg: "PS256", kid: "second", key: rsaKey()}
	jwks, serve := jwksServer(t, first)
	e := newEnv(t, func(s *oidctest.Server) { s.HTTPClient = jwks.Client() })
	c := e.addKeyClient(first, func(c *oidctest.Client) { c.Keys, c.JWKSURI = nil, jwks.URL })

	if status, body := e.parWith(c, first.sign(t, e.assertionClaims(c))); status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", status, body)
	}
	// The client rotates its key: the provider reads the new set at once.
	serve(jwksOf(t, second), http.StatusOK)
	if status, body := e.parWith(c, second.sign(t, e.assertionClaims(c))); status != http.StatusCreated {
		t.Fatalf("after rotation: status %d, want 201: %s", status, body)
	}
	status, body := e.parWith(c, first.sign(t, e.assertionClaims(c)))
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")

	// Encryption keys are ignored; private members, broken answers and broken keys fail.
	serve(editJWKS(t, jwksOf(t, second, testKey{kid: "enc", key: ecKey2()}), "enc", "use", "enc"), http.StatusOK)
	if status, body := e.parWith(c, second.sign(t, e.assertionClaims(c))); status != http.StatusCreated {
		t.Fatalf("with an enc key: status %d, want 201: %s", status, body)
	}
	d := base64.RawURLEncoding.EncodeToString(ecKey().D.Bytes())
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"private member", string(editJWKS(t, jwksOf(t, second, first), "first", "d", d)), 200},
		{"500", string(jwksOf(t, second)), 500},
		{"not a JWK Set", `{"keys": "none"}`, 200},
		{"HTML", `<html></html>`, 200},
		{"symmetric key", `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"second"}]}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			serve([]byte(tc.body), tc.status)
			status, body := e.parWith(c, second.sign(t, e.assertionClaims(c)))
			wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
		})
	}
}

func TestRequestObjectWithClientKey(t *testing.T) {
	e := newEnv(t)
	k := testKey{alg: "ES256", kid: "k", key: ecKey()}
	c := e.addKeyClient(k, nil)
	params, _ := e.authParams(c)
	claims := jwt.MapClaims{"iss": c.ID, "aud": e.srv.Issuer, "exp": e.clock.Now().Add(time.Minute).Unix()}
	for name := range params {
		claims[name] = params.Get(name)
	}
	for _, tc := range []struct {
		name     string
		request  string
		wantCode string
	}{
		{name: "signed with the client's key", request: k.sign(t, claims)},
		{name: "signed with another key", request: testKey{alg: "ES256", kid: "k", key: ecKey2()}.sign(t, claims), wantCode: "invalid_request_object"},
		{name: "signed with the secret", request: sign(t, jwt.SigningMethodHS256, []byte(c.Secret), claims), wantCode: "invalid_request_object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			status, body := e.par(c, url.Values{"client_id": {c.ID}, "request": {tc.request}})
			if tc.wantCode == "" {
				if status != http.StatusCreated {
					t.Fatalf("status %d, want 201: %s", status, body)
				}
				return
			}
			wantOAuthError(t, status, body, http.StatusBadRequest, tc.wantCode)
		})
	}
}

// PingOne mode accepts private_key_jwt with the algorithms PingOne documents: RS256, RS384 and
// RS512.
func TestPingOnePrivateKeyJWT(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) { s.EnvID = "env" })
	for _, tc := range []struct {
		key  testKey
		want int
	}{
		{testKey{alg: "RS256", kid: "k", key: rsaKey()}, http.StatusCreated},
		{testKey{alg: "RS512", kid: "k", key: rsaKey()}, http.StatusCreated},
		{testKey{alg: "PS256", kid: "k", key: rsaKey()}, http.StatusUnauthorized},
		{testKey{alg: "ES256", kid: "k", key: ecKey()}, http.StatusUnauthorized},
	} {
		t.Run(tc.key.alg, func(t *testing.T) {
			e := e.with(t)
			c := e.addKeyClient(tc.key, nil)
			if status, body := e.parWith(c, e.assertion(c)); status != tc.want {
				t.Errorf("status %d, want %d: %s", status, tc.want, body)
			}
		})
	}
}

// editJWKS sets member name of the key kid of the JWK Set set to value.
func editJWKS(t *testing.T, set []byte, kid, name, value string) []byte {
	t.Helper()
	var m struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(set, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range m.Keys {
		if k["kid"] == kid {
			k[name] = value
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// derSigned returns claims signed with ES256 but with the signature in ASN.1 DER, a common
// mistake of clients that use crypto/ecdsa.SignASN1.
func derSigned(t *testing.T, key *ecdsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = kid
	input, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(input))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// unsigned returns claims as a JWT with alg none.
func unsigned(claims jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}
