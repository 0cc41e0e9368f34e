package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parlogin/parlogin/oidctest"
)

const redirectURL = "https://app.example.com/auth/callback"

// provider starts a provider with a client registered for redirectURL, and returns the
// environment that configures the command for it.
func provider(t *testing.T) (*oidctest.Server, map[string]string) {
	t.Helper()
	op := oidctest.NewServer()
	t.Cleanup(op.Close)
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{redirectURL}})
	return op, map[string]string{
		"PARLOGIN_ISSUER":        op.Issuer,
		"PARLOGIN_CLIENT_ID":     client.ID,
		"PARLOGIN_CLIENT_SECRET": client.Secret,
		"PARLOGIN_REDIRECT_URL":  redirectURL,
		"PARLOGIN_SESSION_KEY":   strings.Repeat("ab", 32),
	}
}

// runCommand runs the command with args and env, and returns its exit status and outputs.
func runCommand(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(name string) string { return env[name] }, &stdout, &stderr)
	for _, out := range []string{stdout.String(), stderr.String()} {
		for _, s := range []string{env["PARLOGIN_CLIENT_SECRET"], "eyJ", "urn:ietf:params:oauth:request_uri:"} {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("output shows %q:\n%s", s, out)
			}
		}
	}
	return code, stdout.String(), stderr.String()
}

func TestCheckCommand(t *testing.T) {
	cases := []struct {
		name     string
		env      func(env map[string]string)
		code     int
		lines    []string // lines (trimmed of spacing) that stdout must contain
		contains []string // texts that stdout must contain
	}{
		{
			name: "all pass",
			code: 0,
			lines: []string{
				"OK config issuer, client ID, client secret (a key long enough for HS256) and redirect URL are valid",
				"OK pkce PKCE with S256",
				"OK session_store a session saved with an encrypted cookie store reads back and is deleted (cookie of",
				"All checks passed.",
			},
		},
		{
			name: "wrong secret",
			env:  func(env map[string]string) { env["PARLOGIN_CLIENT_SECRET"] = strings.Repeat("x", 43) },
			code: 1,
			lines: []string{
				"FAIL par_request par endpoint answered invalid_client: client_assertion has an invalid signature (HTTP 401)",
				"fix: the provider refused the client authentication: wrong PARLOGIN_CLIENT_ID or PARLOGIN_CLIENT_SECRET,",
				"1 check failed, 0 warnings: logins will not work until the failures are fixed.",
			},
		},
		{
			name: "redirect URL not registered",
			env: func(env map[string]string) {
				delete(env, "PARLOGIN_REDIRECT_URL")
				env["PARLOGIN_ADDR"] = "0.0.0.0:9999"
			},
			code: 1,
			lines: []string{
				"fix: register exactly http://127.0.0.1:9999/auth/callback as a redirect URI of the application (PARLOGIN_REDIRECT_URL)",
			},
		},
		{
			name: "issuer with a trailing slash",
			env:  func(env map[string]string) { env["PARLOGIN_ISSUER"] += "/" },
			code: 1,
			lines: []string{
				"fix: set PARLOGIN_ISSUER to exactly",
				"SKIP par_request not checked: discovery failed",
			},
		},
		{
			name: "no session key",
			env:  func(env map[string]string) { delete(env, "PARLOGIN_SESSION_KEY") },
			code: 0,
			lines: []string{
				"WARN session_store a session saved with an encrypted cookie store reads back and is deleted (cookie of",
				"fix: set PARLOGIN_SESSION_KEY to 32 random bytes: openssl rand -hex 32",
				"No check failed; 1 warning.",
			},
			contains: []string{"; but PARLOGIN_SESSION_KEY is not set: the examples then use a random key, and sessions end when the app restarts"},
		},
		{
			name: "bad session key",
			env:  func(env map[string]string) { env["PARLOGIN_SESSION_KEY"] = "too short" },
			code: 1,
			lines: []string{
				"FAIL session_store PARLOGIN_SESSION_KEY must be at least 32 bytes, hex or base64 encoded",
				"fix: generate a key: openssl rand -hex 32",
			},
		},
		{
			name: "base64 session key and Redis",
			env: func(env map[string]string) {
				env["PARLOGIN_SESSION_KEY"] = strings.Repeat("QUJD", 11)
				env["PARLOGIN_REDIS_ADDR"] = "127.0.0.1:6379"
			},
			code:  0,
			lines: []string{"WARN session_store PARLOGIN_REDIS_ADDR is set, but this command checks only the cookie keys"},
		},
		{
			name:  "tokens in cookies",
			env:   func(env map[string]string) { env["PARLOGIN_SAVE_TOKENS"] = "1" },
			code:  0,
			lines: []string{"fix: use a server-side store (Redis), or turn off PARLOGIN_SAVE_TOKENS"},
		},
		{
			name:  "invalid algorithm",
			env:   func(env map[string]string) { env["PARLOGIN_AUTH_ALG"] = "RS256" },
			code:  1,
			lines: []string{`FAIL config SigningAlg "RS256" is not HS256, HS384 or HS512`, "SKIP discovery not checked: the configuration is invalid"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, env := provider(t)
			if tc.env != nil {
				tc.env(env)
			}
			code, stdout, stderr := runCommand(t, env, "check")
			if code != tc.code || stderr != "" {
				t.Errorf("exit status %d, stderr %q; want %d and nothing", code, stderr, tc.code)
			}
			var lines []string
			for line := range strings.Lines(stdout) {
				lines = append(lines, strings.Join(strings.Fields(line), " "))
			}
			for _, want := range tc.lines {
				found := false
				for _, line := range lines {
					found = found || strings.HasPrefix(line, want)
				}
				if !found {
					t.Errorf("no line starting with %q in:\n%s", want, stdout)
				}
			}
			for _, want := range tc.contains {
				if !strings.Contains(stdout, want) {
					t.Errorf("output does not contain %q:\n%s", want, stdout)
				}
			}
			if len(lines) < 12 || !strings.HasPrefix(lines[0], "parlogin check: client "+env["PARLOGIN_CLIENT_ID"]+" at ") {
				t.Errorf("output is not a header, nine checks and a summary:\n%s", stdout)
			}
		})
	}
}

func TestCheckCommandJSON(t *testing.T) {
	t.Parallel()
	_, env := provider(t)
	env["PARLOGIN_CLIENT_SECRET"] = strings.Repeat("x", 43)
	code, stdout, stderr := runCommand(t, env, "check", "-json")
	if code != 1 || stderr != "" {
		t.Errorf("exit status %d, stderr %q; want 1 and nothing", code, stderr)
	}
	var results []map[string]string
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("output is not an array of objects of strings: %v\n%s", err, stdout)
	}
	want := []string{"config ok", "discovery ok", "par_endpoint ok", "client_auth ok", "pkce ok", "iss_parameter ok", "clock ok", "par_request fail", "session_store ok"}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(results), len(want), stdout)
	}
	for i, r := range results {
		if len(r) != 4 || r["message"] == "" {
			t.Errorf("result %d has not exactly check, status, message and hint: %v", i, r)
		}
		if _, ok := r["hint"]; !ok {
			t.Errorf("result %d has no hint: %v", i, r)
		}
		if got := r["check"] + " " + r["status"]; got != want[i] {
			t.Errorf("result %d is %q, want %q", i, got, want[i])
		}
	}
	if hint := results[7]["hint"]; !strings.Contains(hint, "PARLOGIN_CLIENT_SECRET") {
		t.Errorf("par_request hint %q does not name PARLOGIN_CLIENT_SECRET", hint)
	}
}

func TestCheckCommandUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout string
		stderr string
	}{
		{name: "no command", code: 2, stderr: "usage: parlogin check [-json]"},
		{name: "unknown command", args: []string{"serve"}, code: 2, stderr: "usage: parlogin check"},
		{name: "help", args: []string{"-h"}, code: 0, stdout: "PARLOGIN_SESSION_KEY"},
		{name: "check help", args: []string{"check", "-h"}, code: 0, stdout: "Exit status: 0 when no check failed"},
		{name: "unknown flag", args: []string{"check", "-yaml"}, code: 2, stderr: "parlogin check: flag provided but not defined: -yaml"},
		{name: "extra argument", args: []string{"check", "now"}, code: 2, stderr: `parlogin check: unexpected argument "now"`},
		{
			name:   "nothing set",
			args:   []string{"check", "-json"},
			code:   2,
			stderr: "parlogin check: PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID, PARLOGIN_CLIENT_SECRET not set",
		},
		{
			name: "bad address",
			args: []string{"check"},
			env: map[string]string{
				"PARLOGIN_ISSUER": "https://op.example.com", "PARLOGIN_CLIENT_ID": "app", "PARLOGIN_CLIENT_SECRET": "secret",
				"PARLOGIN_ADDR": "8080",
			},
			code:   2,
			stderr: `parlogin check: PARLOGIN_ADDR "8080" is not host:port`,
		},
		{
			name:   "no secret",
			args:   []string{"check"},
			env:    map[string]string{"PARLOGIN_ISSUER": "https://op.example.com", "PARLOGIN_CLIENT_ID": "app"},
			code:   2,
			stderr: "parlogin check: PARLOGIN_CLIENT_SECRET not set",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			if !strings.Contains(stdout, tc.stdout) || tc.stdout == "" && stdout != "" {
				t.Errorf("stdout %q, want %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) || tc.stderr == "" && stderr != "" {
				t.Errorf("stderr %q, want %q", stderr, tc.stderr)
			}
		})
	}
}

// writeClientKey writes a new EC P-256 private key as a PKCS#8 PEM file, and returns its path
// and public key.
func writeClientKey(t *testing.T) (string, crypto.PublicKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "client-key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key.Public()
}

// fapiProvider starts a provider in FAPI 2.0 mode with a client registered for private_key_jwt
// with registered, and returns the environment of PARLOGIN_PROFILE=fapi2 with the key at path.
func fapiProvider(t *testing.T, path string, registered crypto.PublicKey) map[string]string {
	t.Helper()
	op := oidctest.NewUnstartedServer()
	op.FAPI2 = true
	op.Start()
	t.Cleanup(op.Close)
	client := op.AddClient(oidctest.Client{
		RedirectURIs: []string{redirectURL},
		Keys:         []oidctest.ClientKey{{ID: "key-1", Key: registered}},
	})
	return map[string]string{
		"PARLOGIN_ISSUER":        op.Issuer,
		"PARLOGIN_CLIENT_ID":     client.ID,
		"PARLOGIN_CLIENT_KEY":    path,
		"PARLOGIN_CLIENT_KEY_ID": "key-1",
		"PARLOGIN_REDIRECT_URL":  redirectURL,
		"PARLOGIN_PROFILE":       "fapi2",
		"PARLOGIN_SESSION_KEY":   strings.Repeat("ab", 32),
	}
}

// TestCheckCommandClientKey: PARLOGIN_CLIENT_KEY and PARLOGIN_PROFILE=fapi2, against a provider
// in FAPI 2.0 mode, which accepts private_key_jwt only.
func TestCheckCommandClientKey(t *testing.T) {
	t.Parallel()
	results := func(t *testing.T, env map[string]string) (int, map[string]map[string]string) {
		t.Helper()
		code, stdout, stderr := runCommand(t, env, "check", "-json")
		var list []map[string]string
		if err := json.Unmarshal([]byte(stdout), &list); err != nil || stderr != "" {
			t.Fatalf("output %v:\n%s\nstderr %s", err, stdout, stderr)
		}
		byCheck := map[string]map[string]string{}
		for _, r := range list {
			byCheck[r["check"]] = r
		}
		return code, byCheck
	}

	t.Run("key registered", func(t *testing.T) {
		t.Parallel()
		path, public := writeClientKey(t)
		code, r := results(t, fapiProvider(t, path, public))
		if code != 0 || r["config"]["status"] != "ok" || r["par_request"]["status"] != "ok" {
			t.Fatalf("exit status %d, config %v, par_request %v: want 0 and both ok", code, r["config"], r["par_request"])
		}
		if auth := r["client_auth"]; auth["status"] != "ok" {
			t.Errorf("client_auth %v, want ok: the provider advertises private_key_jwt with ES256", auth)
		}
	})

	t.Run("key unknown to the provider", func(t *testing.T) {
		t.Parallel()
		path, _ := writeClientKey(t)
		_, other := writeClientKey(t)
		code, r := results(t, fapiProvider(t, path, other))
		if par := r["par_request"]; code != 1 || par["status"] != "fail" || !strings.Contains(par["message"], "invalid_client") {
			t.Fatalf("exit status %d, par_request %v: want 1 and the provider's invalid_client", code, par)
		}
		if auth := r["client_auth"]; auth["status"] == "fail" || !strings.Contains(r["par_request"]["hint"], "PARLOGIN_CLIENT_KEY") {
			t.Errorf("client_auth %s (%s), par_request hint %q: want client_auth not failed (the provider advertises private_key_jwt) and the hint naming PARLOGIN_CLIENT_KEY",
				auth["status"], auth["message"], r["par_request"]["hint"])
		}
	})

	t.Run("settings refused before any check", func(t *testing.T) {
		t.Parallel()
		path, _ := writeClientKey(t)
		for _, tc := range []struct {
			name   string
			change func(env map[string]string)
			stderr string
		}{
			{"no key file", func(env map[string]string) { env["PARLOGIN_CLIENT_KEY"] += ".missing" }, "parlogin check: PARLOGIN_CLIENT_KEY " + path + ".missing: no such file or directory"},
			{"FAPI 2.0 with a secret", func(env map[string]string) {
				delete(env, "PARLOGIN_CLIENT_KEY")
				delete(env, "PARLOGIN_CLIENT_KEY_ID")
				env["PARLOGIN_CLIENT_SECRET"] = strings.Repeat("s", 43)
			}, "parlogin check: PARLOGIN_PROFILE=fapi2 needs PARLOGIN_CLIENT_KEY"},
			{"key and secret", func(env map[string]string) { env["PARLOGIN_CLIENT_SECRET"] = strings.Repeat("s", 43) }, "PARLOGIN_CLIENT_KEY and PARLOGIN_CLIENT_SECRET are both set"},
		} {
			env := map[string]string{
				"PARLOGIN_ISSUER": "https://op.example.com", "PARLOGIN_CLIENT_ID": "app",
				"PARLOGIN_CLIENT_KEY": path, "PARLOGIN_CLIENT_KEY_ID": "key-1", "PARLOGIN_PROFILE": "fapi2",
			}
			tc.change(env)
			if code, stdout, stderr := runCommand(t, env, "check"); code != 2 || stdout != "" || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("%s: exit status %d, stdout %q, stderr %q; want 2 and %q", tc.name, code, stdout, stderr, tc.stderr)
			}
		}
	})
}
