package parlogin

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/sessions"
)

const testSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestAssertion(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		alg      string
		audience Audience
		endpoint string
		wantAud  string
	}{
		{"HS256 issuer audience", "HS256", AudienceIssuer, "https://op.example/as/par", "https://op.example/as"},
		{"HS384 endpoint audience", "HS384", AudienceEndpoint, "https://op.example/as/token", "https://op.example/as/token"},
		{"HS512", "HS512", AudienceIssuer, "https://op.example/as/par", "https://op.example/as"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSigner(Config{
				ClientID: "client-1", Issuer: "https://op.example/as", SigningAlg: tc.alg,
				ClientSecret: testSecret, AssertionAudience: tc.audience,
				AssertionLifetime: time.Minute, Now: func() time.Time { return now },
			})
			raw, err := s.assertion(signingKey{secret: []byte(testSecret)}, tc.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(raw, testSecret) {
				t.Fatal("assertion contains the secret")
			}
			claims := jwt.MapClaims{}
			tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
				jwt.WithValidMethods([]string{tc.alg}), jwt.WithTimeFunc(func() time.Time { return now }))
			if err != nil {
				t.Fatalf("assertion does not verify with the secret: %v", err)
			}
			if tok.Header["alg"] != tc.alg {
				t.Errorf("alg = %v, want %s", tok.Header["alg"], tc.alg)
			}
			want := map[string]any{"iss": "client-1", "sub": "client-1", "aud": tc.wantAud,
				"iat": float64(now.Unix()), "exp": float64(now.Add(time.Minute).Unix())}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("%s = %v, want %v", k, claims[k], v)
				}
			}
			if jti, _ := claims["jti"].(string); len(jti) < 26 {
				t.Errorf("jti %q is shorter than 128 bits of base32", jti)
			}
		})
	}
}

func TestAssertionJTIUnique(t *testing.T) {
	s := testSigner(Config{ClientID: "c", Issuer: "https://op.example", SigningAlg: "HS256",
		ClientSecret: testSecret, AssertionLifetime: time.Minute, Now: time.Now})
	seen := make(map[string]bool)
	for range 1000 {
		raw, err := s.assertion(signingKey{secret: []byte(testSecret)}, "https://op.example/par")
		if err != nil {
			t.Fatal(err)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
			t.Fatal(err)
		}
		jti := claims["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %q repeated", jti)
		}
		seen[jti] = true
	}
}

func TestRequestObject(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := testSigner(Config{ClientID: "client-1", Issuer: "https://op.example/as", SigningAlg: "HS256",
		ClientSecret: testSecret, AssertionLifetime: time.Minute, Now: func() time.Time { return now }})
	raw, err := s.requestObject(signingKey{secret: []byte(testSecret)}, map[string]any{"scope": "openid", "max_age": 30, "iss": "attacker"})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["typ"] != "oauth-authz-req+jwt" {
		t.Errorf("typ = %v, want oauth-authz-req+jwt (RFC 9101 §10.8)", tok.Header["typ"])
	}
	for k, v := range map[string]any{"iss": "client-1", "aud": "https://op.example/as", "client_id": "client-1",
		"scope": "openid", "max_age": float64(30)} {
		if claims[k] != v {
			t.Errorf("%s = %v, want %v", k, claims[k], v)
		}
	}
}

// testStore returns a cookie store with testSecret's halves as its MAC and encryption keys.
func testStore() *sessions.CookieStore {
	return sessions.NewCookieStore([]byte(testSecret[:32]), []byte(testSecret[32:]))
}

// testSigner returns the assertion signer of c, on c's clock.
func testSigner(c Config) *assertionSigner { return newAssertionSigner(c, c.Now) }
