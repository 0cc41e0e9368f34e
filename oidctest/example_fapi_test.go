package oidctest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// A FAPI 2.0 client at the protocol level: it registers its public key for private_key_jwt,
// pushes its authorization request, redeems the code with a DPoP proof, which binds the access
// token to its DPoP key, and calls the userinfo endpoint with that token and a new proof. A
// test of an application does the same through the application, and asserts what the
// provider answers.
func Example_fapi2() {
	srv := oidctest.NewUnstartedServer()
	srv.FAPI2 = true
	srv.Start()
	defer srv.Close()

	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // signs client assertions
	dpopKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)   // signs DPoP proofs
	client := srv.AddClient(oidctest.Client{
		AuthMethod:   "private_key_jwt", // the default with FAPI2
		Keys:         []oidctest.ClientKey{{ID: "key-1", Key: clientKey.Public()}},
		RedirectURIs: []string{"https://app.example/auth/callback"},
	})

	// private_key_jwt: aud is the issuer, as a string (FAPI 2.0).
	assertion := func() string {
		now := time.Now()
		t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"iss": client.ID, "sub": client.ID, "aud": srv.Issuer,
			"jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		})
		t.Header["kid"] = "key-1"
		s, _ := t.SignedString(clientKey)
		return s
	}
	// A DPoP proof (RFC 9449) for a request, with ath when it carries an access token.
	proof := func(method, u, accessToken string) string {
		claims := jwt.MapClaims{"jti": rand.Text(), "htm": method, "htu": u, "iat": time.Now().Unix()}
		if accessToken != "" {
			sum := sha256.Sum256([]byte(accessToken))
			claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		t.Header["typ"] = "dpop+jwt"
		t.Header["jwk"] = jose.JSONWebKey{Key: dpopKey.Public()}
		s, _ := t.SignedString(dpopKey)
		return s
	}
	post := func(u string, form url.Values, dpop string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if dpop != "" {
			req.Header.Set("DPoP", dpop)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return body
	}

	verifier := rand.Text() + rand.Text()
	challenge := sha256.Sum256([]byte(verifier))
	pushed := post(srv.Issuer+"/par", url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion()},
		"response_type":         {"code"},
		"client_id":             {client.ID},
		"redirect_uri":          {"https://app.example/auth/callback"},
		"scope":                 {"openid email"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}, "")

	// The browser's visit to the authorization endpoint, which redirects with the code.
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(srv.Issuer + "/authorize?" + url.Values{
		"client_id": {client.ID}, "request_uri": {pushed["request_uri"].(string)},
	}.Encode())
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))
	fmt.Println("iss in the response:", callback.Query().Get("iss") == srv.Issuer)

	tokens := post(srv.Issuer+"/token", url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion()},
		"grant_type":            {"authorization_code"},
		"code":                  {callback.Query().Get("code")},
		"redirect_uri":          {"https://app.example/auth/callback"},
		"code_verifier":         {verifier},
	}, proof(http.MethodPost, srv.Issuer+"/token", ""))
	fmt.Println("token_type:", tokens["token_type"])
	accessToken := tokens["access_token"].(string)

	req, _ := http.NewRequest(http.MethodGet, srv.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "DPoP "+accessToken)
	req.Header.Set("DPoP", proof(http.MethodGet, srv.Issuer+"/userinfo", accessToken))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	userinfo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("userinfo:", resp.StatusCode, strings.Contains(string(userinfo), `"email":"alice@example.com"`))

	// The same token as a Bearer token is refused.
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Del("DPoP")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("as Bearer:", resp.StatusCode, resp.Header.Get("WWW-Authenticate")[:len(`DPoP algs="ES256 PS256 EdDSA", error="invalid_token"`)])
	// Output:
	// iss in the response: true
	// token_type: DPoP
	// userinfo: 200 true
	// as Bearer: 401 DPoP algs="ES256 PS256 EdDSA", error="invalid_token"
}
