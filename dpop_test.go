package parlogin

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// A proof is what RFC 9449 §4.2 describes: typed, signed by the key in its header, with the
// request's method and URL (no query), a fresh jti, and the access token's hash when it carries
// one; the key's thumbprint is RFC 7638's.
func TestDPoPProof(t *testing.T) {
	key, err := newDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := decodeDPoPKey(key.encode())
	if err != nil || !decoded.private.Equal(key.private) {
		t.Fatalf("the key does not survive its encoding: %v", err)
	}
	now := time.Unix(1_800_000_000, 0)
	raw, err := key.proof(http.MethodGet, "https://api.example/v1/accounts", "nonce-1", "the-token", now)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatalf("header %+v", h)
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("the proof does not verify with the key in its header: %v", err)
	}
	var c struct {
		JTI, HTM, HTU, Nonce, ATH string
		IAT                       int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.JTI) < 20 || c.HTM != "GET" || c.HTU != "https://api.example/v1/accounts" || c.IAT != now.Unix() ||
		c.Nonce != "nonce-1" {
		t.Fatalf("claims %+v", c)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	if claims["ath"] != base64.RawURLEncoding.EncodeToString(sha256Of("the-token")) {
		t.Fatalf("ath %v", claims["ath"])
	}
	want, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if key.thumbprint() != base64.RawURLEncoding.EncodeToString(want) {
		t.Fatalf("thumbprint %s, want %s", key.thumbprint(), base64.RawURLEncoding.EncodeToString(want))
	}
}

// A resource server that asks for its nonce gets the request again, with it; the nonce is
// remembered for the next request.
func TestDPoPTransportNonce(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		jws, err := jose.ParseSignedCompact(r.Header.Get("DPoP"), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			http.Error(w, "no proof", http.StatusBadRequest)
			return
		}
		var c struct{ Nonce, HTU, ATH string }
		payload, _ := jws.Verify(jws.Signatures[0].Header.JSONWebKey)
		_ = json.Unmarshal(payload, &c)
		if c.Nonce != "n1" {
			w.Header().Set("DPoP-Nonce", "n1")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if strings.Contains(c.HTU, "?") || c.ATH == "" || r.Header.Get("Authorization") != "DPoP tok" {
			http.Error(w, "bad proof", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer api.Close()
	key, _ := newDPoPKey()
	client := &http.Client{Transport: apiTransport{base: http.DefaultTransport, token: "tok", tokenType: "DPoP",
		dpop: &dpopTransport{base: http.DefaultTransport, key: key, nonces: &dpopNonces{}, now: time.Now}}}
	for i, want := range []int32{2, 3} {
		resp, err := client.Get(api.URL + "/v1/accounts?page=2")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || calls.Load() != want {
			t.Fatalf("request %d: %d after %d calls, want 200 after %d", i, resp.StatusCode, calls.Load(), want)
		}
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// proofClaims returns the claims of the DPoP proof of req, verified with the key in its header.
func proofClaims(t *testing.T, req *http.Request) (claims struct{ ATH string }) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(req.Header.Get("DPoP"), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("proof: %v", err)
	}
	payload, err := jws.Verify(jws.Signatures[0].Header.JSONWebKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(payload, &claims)
	return claims
}

// A proof's ath is the hash of the access token whatever the case of the DPoP scheme that carries
// it: go-oidc's UserInfo sends the token type as the provider spelt it, such as "dpop".
func TestDPoPProofATHAnyCase(t *testing.T) {
	key, _ := newDPoPKey()
	var proof struct{ ATH string }
	transport := dpopTransport{key: key, nonces: &dpopNonces{}, now: time.Now,
		base: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			proof = proofClaims(t, req)
			return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
		})}
	sum := sha256.Sum256([]byte("tok"))
	for _, scheme := range []string{"DPoP", "dpop", "DPOP"} {
		req := httptest.NewRequest(http.MethodGet, "https://op.example/userinfo", nil)
		req.Header.Set("Authorization", scheme+" tok")
		if _, err := transport.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if proof.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("Authorization %q: ath %q, want the hash of the token", scheme+" tok", proof.ATH)
		}
	}
}

// An API client sends the user's token on a redirect within the API's origin, and never on a
// redirect to another origin, such as a download on a storage service.
func TestAPIClientTokenStaysWithinOrigin(t *testing.T) {
	var elsewhere atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Store(r.Header.Get("Authorization") + r.Header.Get("DPoP"))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusFound)
		case "/download":
			http.Redirect(w, r, other.URL+"/file", http.StatusFound)
		case "/here":
			if !strings.HasSuffix(r.Header.Get("Authorization"), " tok") {
				http.Error(w, "no token", http.StatusUnauthorized)
			}
		}
	}))
	defer api.Close()
	key, _ := newDPoPKey()
	for name, transport := range map[string]apiTransport{
		"Bearer": {base: http.DefaultTransport, token: "tok", tokenType: "Bearer"},
		"DPoP": {base: http.DefaultTransport, token: "tok", tokenType: "DPoP",
			dpop: &dpopTransport{base: http.DefaultTransport, key: key, nonces: &dpopNonces{}, now: time.Now}},
	} {
		client := &http.Client{Transport: transport}
		resp, err := client.Get(api.URL + "/moved")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: a redirect within the API's origin: %d, want the token sent again", name, resp.StatusCode)
		}
		elsewhere.Store("unreached")
		resp, err = client.Get(api.URL + "/download")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := elsewhere.Load(); got != "" {
			t.Errorf("%s: another origin got %q", name, got)
		}
	}
}
