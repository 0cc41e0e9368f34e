package oidctest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"net/http"
	"net/url"
	"testing"

	"github.com/parlogin/parlogin/oidctest"
)

// Clients choose the alg of their ID tokens and logout tokens; the JWKS publishes a key for
// each alg in use, with its alg, and the end-session endpoint accepts hints of every alg.
func TestIDTokenAlg(t *testing.T) {
	e := newEnv(t)
	if n := len(e.jwks()); n != 1 {
		t.Fatalf("JWKS has %d keys before any client uses PS256 or ES256, want the RS256 key only", n)
	}
	for _, alg := range []string{"RS256", "PS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			e := e.with(t)
			rc := newReceiver(t, false)
			c := e.addClient(oidctest.Client{IDTokenAlg: alg, BackchannelLogoutURI: rc.URL, PostLogoutRedirectURIs: []string{postLogoutURI}})
			code, _, verifier := e.code(c, nil)
			idToken := e.exchange(c, code, verifier)["id_token"].(string)
			claims, header := e.verifyJWT(idToken, alg)
			kid, key := e.srv.SigningKeyFor(alg)
			if header.KeyID != kid || claims["aud"] != c.ID {
				t.Errorf("ID token kid %s aud %v, want %s and %s", header.KeyID, claims["aud"], kid, c.ID)
			}
			switch key.(type) {
			case *rsa.PrivateKey:
				if alg == "ES256" {
					t.Errorf("SigningKeyFor(%s) is an RSA key", alg)
				}
			case *ecdsa.PrivateKey:
				if alg != "ES256" {
					t.Errorf("SigningKeyFor(%s) is an EC key", alg)
				}
			}
			// The hint of this alg ends the session, and the logout token has the same alg.
			status, body := e.get(e.endpoint("end_session_endpoint") + "?" + url.Values{
				"id_token_hint": {idToken}, "post_logout_redirect_uri": {postLogoutURI},
			}.Encode())
			if status != http.StatusSeeOther {
				t.Fatalf("end session: status %d: %s", status, body)
			}
			_, header = e.verifyJWT(rc.logoutToken(t), alg)
			if header.KeyID != kid || header.ExtraHeaders["typ"] != "logout+jwt" {
				t.Errorf("logout token header %+v, want kid %s and typ logout+jwt", header, kid)
			}
		})
	}
	// Rotation renews the key of every alg in use.
	before := map[string]string{}
	for _, alg := range []string{"RS256", "PS256", "ES256"} {
		before[alg], _ = e.srv.SigningKeyFor(alg)
	}
	e.srv.RotateKeys()
	for alg, old := range before {
		if kid, _ := e.srv.SigningKeyFor(alg); kid == old {
			t.Errorf("%s key not rotated", alg)
		}
	}
	if kid, key := e.srv.SigningKeyFor("HS256"); kid != "" || key != nil {
		t.Errorf("SigningKeyFor(HS256) = %s, %v, want none", kid, key)
	}
	if err := e.srv.BackchannelLogout(context.Background(), "nobody", "alice", ""); err == nil {
		t.Error("BackchannelLogout of an unknown client succeeded")
	}
}

func TestIDTokenAlgInvalid(t *testing.T) {
	e := newEnv(t)
	c := e.addClient(oidctest.Client{IDTokenAlg: "HS256"})
	status, body := e.par(c, func() url.Values { p, _ := e.authParams(c); return p }())
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
}
