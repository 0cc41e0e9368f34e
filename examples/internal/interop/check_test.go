package interop

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// TestCheckCommandFAPI2 runs parlogin check (cmd/parlogin, built for the test) with
// PARLOGIN_PROFILE=fapi2 and PARLOGIN_CLIENT_KEY against oidc-provider with its FAPI 2.0
// profile: with the key registered, every check passes, and the pushed request is accepted;
// with another key registered, the pushed request is refused (invalid_client).
func TestCheckCommandFAPI2(t *testing.T) {
	p := StartProvider(t, ProviderConfig{FAPI2: true})
	goTool, err := exec.LookPath("go") // go test puts its own toolchain first on PATH
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "parlogin")
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/parlogin/parlogin/cmd/parlogin").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const redirectURL = "http://127.0.0.1:8080/auth/callback"

	// check registers a client whose key is registered, runs the command for the app's key,
	// and returns its exit status and its results by check.
	check := func(t *testing.T, registered bool) (int, map[string]map[string]string) {
		t.Helper()
		key := exampletest.NewClientKey(t, "ES256")
		public := key.Public()
		if !registered {
			public = exampletest.NewClientKey(t, "ES256").Public()
		}
		c := Client{
			ID: "app-" + rand.Text(), RedirectURIs: []string{redirectURL}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:8080/"},
			Key: public, KeyID: thumbprint(t, key.Public()), DPoPBoundAccessTokens: true, IDTokenAlg: "ES256",
		}
		p.Register(t, c)
		sessionKey := make([]byte, 32)
		_, _ = rand.Read(sessionKey)
		env := []string{
			"PARLOGIN_ISSUER=" + p.Issuer,
			"PARLOGIN_CLIENT_ID=" + c.ID,
			"PARLOGIN_CLIENT_KEY=" + exampletest.WriteClientKey(t, key),
			"PARLOGIN_PROFILE=fapi2",
			"PARLOGIN_REDIRECT_URL=" + redirectURL,
			"PARLOGIN_SESSION_KEY=" + hex.EncodeToString(sessionKey),
		}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PARLOGIN_") {
				env = append(env, kv)
			}
		}
		cmd := exec.Command(bin, "check", "-json")
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		var list []map[string]string
		if err := json.Unmarshal(stdout.Bytes(), &list); err != nil {
			t.Fatalf("parlogin check -json: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		results := map[string]map[string]string{}
		for _, r := range list {
			results[r["check"]] = r
			t.Logf("%-4s %-13s %s", r["status"], r["check"], r["message"])
		}
		return cmd.ProcessState.ExitCode(), results
	}

	t.Run("key registered", func(t *testing.T) {
		code, r := check(t, true)
		for _, name := range []string{"config", "discovery", "par_endpoint", "pkce", "iss_parameter", "clock", "par_request", "session_store"} {
			if r[name]["status"] != "ok" {
				t.Errorf("%s: %v, want ok", name, r[name])
			}
		}
		if code != 0 {
			t.Fatalf("exit status %d, want 0", code)
		}
		if auth := r["client_auth"]; auth["status"] != "ok" {
			t.Errorf("client_auth %v, want ok: oidc-provider advertises private_key_jwt with ES256", auth)
		}
	})

	t.Run("another key registered", func(t *testing.T) {
		code, r := check(t, false)
		if par := r["par_request"]; code != 1 || par["status"] != "fail" || !strings.Contains(par["message"], "invalid_client") {
			t.Fatalf("exit status %d, par_request %v: want 1 and oidc-provider's invalid_client", code, par)
		}
		if auth := r["client_auth"]; auth["status"] == "fail" || !strings.Contains(r["par_request"]["hint"], "PARLOGIN_CLIENT_KEY") {
			t.Errorf("client_auth %q, par_request hint %q: want client_auth not failed (oidc-provider advertises private_key_jwt) and the hint naming PARLOGIN_CLIENT_KEY",
				auth["message"], r["par_request"]["hint"])
		}
	})
}
