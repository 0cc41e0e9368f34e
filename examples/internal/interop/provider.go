// Package interop runs the examples against panva's oidc-provider (npm, OpenID-certified), an
// OpenID Provider written independently of parlogin: the harness in interop/op at the root of the
// repository, started as a Node.js process on 127.0.0.1.
//
// Without Node.js or the harness's node_modules (npm ci in interop/op) the tests skip with a
// message; with PARLOGIN_INTEROP=required in the environment, as CI sets it, they fail instead.
package interop

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// Provider is a running oidc-provider.
type Provider struct {
	Issuer string
	stderr *lockedBuffer
	client *http.Client // for the harness's own routes
	stop   func()
}

// harnessDir is interop/op, located from this file so that tests of any package find it.
func harnessDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "interop", "op")
}

// unavailable skips the test, or fails it when interop tests are required.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("PARLOGIN_INTEROP") == "required" {
		t.Fatalf("interop test cannot run: %s", msg)
	}
	t.Skipf("skipping interop test: %s (set PARLOGIN_INTEROP=required to make this a failure)", msg)
}

// Start starts oidc-provider for the test on http://127.0.0.1, and stops it when the test ends.
func Start(t *testing.T) *Provider {
	t.Helper()
	return StartProvider(t, ProviderConfig{})
}

// ProviderConfig says where oidc-provider is, as browsers and the app see it. It always listens on
// 127.0.0.1.
type ProviderConfig struct {
	// Host is the host name of its issuer, such as op.test, which the browser and the app must
	// resolve to 127.0.0.1 (see PKI); default 127.0.0.1.
	Host string
	// PKI, if not nil, serves it over https, with the PKI's certificate for Host: its issuer is
	// then https://{Host}:{port}.
	PKI *PKI
	// FAPI2 starts it with its FAPI 2.0 profile (the harness's OP_PROFILE=fapi2): clients
	// authenticate with private_key_jwt only, DPoP proofs need its nonces, ID tokens are signed
	// with ES256 or PS256. Register clients with a Key or a JWKSURI.
	FAPI2 bool
}

// StartProvider starts oidc-provider for the test as c says, and stops it when the test ends.
func StartProvider(t *testing.T, c ProviderConfig) *Provider {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node is not installed")
	}
	dir := harnessDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil {
		unavailable(t, "oidc-provider is not installed: run npm ci in %s", dir)
	}
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OP_HOST="+c.Host)
	if c.FAPI2 {
		cmd.Env = append(cmd.Env, "OP_PROFILE=fapi2")
	}
	p := &Provider{stderr: &lockedBuffer{}, client: http.DefaultClient}
	if c.PKI != nil {
		certFile, keyFile := c.PKI.Files(t, c.Host)
		cmd.Env = append(cmd.Env, "OP_TLS_CERT="+certFile, "OP_TLS_KEY="+keyFile)
		p.client = c.PKI.Client()
	}
	// The provider dies with the test binary, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting oidc-provider: %v", err)
	}
	p.stop = sync.OnceFunc(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", p.stderr)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var ready struct{ Issuer string }
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil || ready.Issuer == "" {
		t.Fatalf("oidc-provider did not start: %q %v\n%s", line, err, p.stderr)
	}
	p.Issuer = ready.Issuer
	return p
}

// Client is the metadata of a client registered at the provider.
type Client struct {
	ID, Secret             string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	AuthAlg                string // token_endpoint_auth_signing_alg, default HS256
	ResponseModes          []string
	// BackchannelLogoutURI is where the provider posts logout tokens (OpenID Connect
	// Back-Channel Logout 1.0), if set; with BackchannelLogoutSessionRequired, its ID tokens
	// and logout tokens carry the provider session's sid, without it logout tokens name the
	// user (sub) only.
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	// RequireAuthTime puts auth_time in every ID token, as oidc-provider otherwise does only
	// when max_age or prompt=login was asked for.
	RequireAuthTime bool

	// Key, with its ID KeyID, makes the client a private_key_jwt client whose public key is
	// registered (jwks); JWKSURI instead registers the URL of its key set (jwks_uri), where the
	// provider fetches it, a path being on the app. Without either, the client uses
	// client_secret_jwt.
	Key     crypto.PublicKey
	KeyID   string
	JWKSURI string
	// DPoPBoundAccessTokens (dpop_bound_access_tokens, RFC 9449 section 5.2) makes the
	// provider refuse the client's token requests without a DPoP proof.
	DPoPBoundAccessTokens bool
	// IDTokenAlg is id_token_signed_response_alg; oidc-provider's default is RS256.
	IDTokenAlg string
}

// privateKeyJWT reports whether c authenticates with a key.
func (c Client) privateKeyJWT() bool { return c.Key != nil || c.JWKSURI != "" }

// Register registers c as a client that must use PAR: a client_secret_jwt client, or a
// private_key_jwt one with a Key or a JWKSURI.
func (p *Provider) Register(t *testing.T, c Client) {
	t.Helper()
	if err := p.register(c); err != nil {
		t.Fatal(err)
	}
}

// register is Register, returning the provider's refusal.
func (p *Provider) register(c Client) error {
	metadata := map[string]any{
		"client_id":                             c.ID,
		"client_secret":                         c.Secret,
		"redirect_uris":                         c.RedirectURIs,
		"post_logout_redirect_uris":             c.PostLogoutRedirectURIs,
		"grant_types":                           []string{"authorization_code", "refresh_token"},
		"response_types":                        []string{"code"},
		"token_endpoint_auth_method":            "client_secret_jwt",
		"token_endpoint_auth_signing_alg":       cmpOr(c.AuthAlg, "HS256"),
		"require_pushed_authorization_requests": true,
		"require_auth_time":                     c.RequireAuthTime,
	}
	if c.BackchannelLogoutURI != "" {
		metadata["backchannel_logout_uri"] = c.BackchannelLogoutURI
		metadata["backchannel_logout_session_required"] = c.BackchannelLogoutSessionRequired
	}
	if c.privateKeyJWT() {
		delete(metadata, "client_secret")
		delete(metadata, "token_endpoint_auth_signing_alg")
		metadata["token_endpoint_auth_method"] = "private_key_jwt"
		if c.JWKSURI != "" {
			metadata["jwks_uri"] = c.JWKSURI
		} else {
			metadata["jwks"] = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: c.Key, KeyID: c.KeyID, Use: "sig"}}}
		}
	}
	if c.DPoPBoundAccessTokens {
		metadata["dpop_bound_access_tokens"] = true
	}
	if c.IDTokenAlg != "" {
		metadata["id_token_signed_response_alg"] = c.IDTokenAlg
	}
	body, _ := json.Marshal(metadata)
	resp, err := p.client.Post(p.Issuer+"/test/clients", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		var msg strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&msg)
		return fmt.Errorf("registering client: %d %s", resp.StatusCode, msg.String())
	}
	return nil
}

// Stop stops the provider now: it no longer answers, as when it is down.
func (p *Provider) Stop() { p.stop() }

// Stderr returns what the provider printed on stderr so far.
func (p *Provider) Stderr() string { return p.stderr.String() }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
