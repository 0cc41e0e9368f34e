package demo

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// provider are settings of a provider of one's own, so that Load starts none.
var provider = map[string]string{
	"PARLOGIN_ISSUER":        "https://op.example",
	"PARLOGIN_CLIENT_ID":     "client",
	"PARLOGIN_CLIENT_SECRET": strings.Repeat("s", 32),
	"PARLOGIN_SESSION_KEY":   strings.Repeat("ab", 32),
}

func load(t *testing.T, env map[string]string) (*Env, error) {
	t.Helper()
	settings := maps.Clone(provider)
	maps.Copy(settings, env)
	e, err := Load(func(name string) string { return settings[name] })
	if err == nil {
		t.Cleanup(e.Close)
	}
	return e, err
}

func TestLoadURLs(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		// want: Addr, RedirectURL, URL, PostLogoutRedirectURL
		addr, redirect, url, postLogout string
	}{
		{
			name: "defaults",
			addr: "127.0.0.1:8080", redirect: "http://127.0.0.1:8080/auth/callback",
			url: "http://127.0.0.1:8080", postLogout: "http://127.0.0.1:8080/",
		},
		{
			name: "listening on every interface",
			env:  map[string]string{"PARLOGIN_ADDR": ":9000"},
			addr: ":9000", redirect: "http://127.0.0.1:9000/auth/callback",
			url: "http://127.0.0.1:9000", postLogout: "http://127.0.0.1:9000/",
		},
		{
			name: "behind a proxy: the redirect URL decides, not the listen address",
			env:  map[string]string{"PARLOGIN_ADDR": "0.0.0.0:8080", "PARLOGIN_REDIRECT_URL": "https://app.example/auth/callback"},
			addr: "0.0.0.0:8080", redirect: "https://app.example/auth/callback",
			url: "https://app.example", postLogout: "https://app.example/",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := load(t, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{e.Addr, e.RedirectURL, e.URL, e.PostLogoutRedirectURL}
			if want := []string{tc.addr, tc.redirect, tc.url, tc.postLogout}; !slices.Equal(got, want) {
				t.Errorf("Addr, RedirectURL, URL, PostLogoutRedirectURL = %q, want %q", got, want)
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	e, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.Scopes, []string{"profile", "email"}) || e.SaveTokens || e.Redis != nil || e.Provider != nil {
		t.Errorf("Scopes %q, SaveTokens %v, Redis %v, Provider %v: want profile and email, and nothing else", e.Scopes, e.SaveTokens, e.Redis, e.Provider)
	}
	e, err = load(t, map[string]string{"PARLOGIN_SCOPES": "openid  groups", "PARLOGIN_SAVE_TOKENS": "1"})
	if err != nil || !slices.Equal(e.Scopes, []string{"openid", "groups"}) || !e.SaveTokens {
		t.Errorf("PARLOGIN_SCOPES, PARLOGIN_SAVE_TOKENS: %+v, %v", e, err)
	}
}

func TestLoadEmbeddedProvider(t *testing.T) {
	e, err := Load(func(name string) string {
		return map[string]string{"PARLOGIN_ADDR": "127.0.0.1:8080", "PARLOGIN_SESSION_KEY": provider["PARLOGIN_SESSION_KEY"]}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Provider == nil || e.Issuer != e.Provider.Issuer || e.ClientID == "" || len(e.ClientSecret) < 32 {
		t.Fatalf("without PARLOGIN_ISSUER: provider %v, issuer %q, client %q", e.Provider, e.Issuer, e.ClientID)
	}
}

// With PARLOGIN_CLIENT_KEY, the embedded provider registers the example for private_key_jwt
// with the key's public part, and the example has no secret; with PARLOGIN_PROFILE=fapi2, the
// provider is in FAPI 2.0 mode, which advertises private_key_jwt only.
func TestLoadEmbeddedProviderClientKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{"", "fapi2"} {
		env := map[string]string{"PARLOGIN_SESSION_KEY": provider["PARLOGIN_SESSION_KEY"], "PARLOGIN_CLIENT_KEY": path, "PARLOGIN_PROFILE": profile}
		e, err := Load(func(name string) string { return env[name] })
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if e.ClientSecret != "" || len(e.ClientKeys) != 1 || e.Provider.FAPI2 != (profile == "fapi2") || e.DPoP != (profile == "fapi2") {
			t.Errorf("PARLOGIN_PROFILE=%q: secret %q, keys %v, FAPI2 %v, DPoP %v", profile, e.ClientSecret, e.ClientKeys, e.Provider.FAPI2, e.DPoP)
		}
		resp, err := http.Get(e.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var discovery struct {
			Methods []string `json:"token_endpoint_auth_methods_supported"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&discovery)
		resp.Body.Close()
		if fapi := profile == "fapi2"; fapi != !slices.Contains(discovery.Methods, "client_secret_jwt") || !slices.Contains(discovery.Methods, "private_key_jwt") {
			t.Errorf("PARLOGIN_PROFILE=%q: the provider advertises %v", profile, discovery.Methods)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // in the error
	}{
		{"redirect URL outside /auth", map[string]string{"PARLOGIN_REDIRECT_URL": "https://app.example/oauth2/callback"}, "/auth/callback"},
		{"redirect URL without scheme", map[string]string{"PARLOGIN_REDIRECT_URL": "app.example/auth/callback"}, "PARLOGIN_REDIRECT_URL"},
		{"listen address without port", map[string]string{"PARLOGIN_ADDR": "localhost"}, "PARLOGIN_ADDR"},
		{"issuer without client", map[string]string{"PARLOGIN_CLIENT_ID": ""}, "PARLOGIN_ISSUER is set: PARLOGIN_CLIENT_ID is required too"},
		{"issuer without secret or key", map[string]string{"PARLOGIN_CLIENT_SECRET": ""}, "PARLOGIN_CLIENT_SECRET is required too"},
		{"FAPI 2.0 without key", map[string]string{"PARLOGIN_PROFILE": "fapi2"}, "PARLOGIN_PROFILE=fapi2 needs PARLOGIN_CLIENT_KEY"},
		{"session key too short", map[string]string{"PARLOGIN_SESSION_KEY": strings.Repeat("ab", 31)}, "at least 32"},
		{"session key neither hex nor base64", map[string]string{"PARLOGIN_SESSION_KEY": strings.Repeat("!", 64)}, "hex or base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := load(t, tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error about %s", err, tc.want)
			}
		})
	}
}

// TestSessionKeys: PARLOGIN_SESSION_KEY, hex or base64, makes two different 32-byte keys; a random
// one is used without it.
func TestSessionKeys(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 40)
	fromHex, err := load(t, map[string]string{"PARLOGIN_SESSION_KEY": hex.EncodeToString(key)})
	if err != nil {
		t.Fatal(err)
	}
	fromBase64, err := load(t, map[string]string{"PARLOGIN_SESSION_KEY": base64.StdEncoding.EncodeToString(key)})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromHex.HashKey) != 32 || len(fromHex.BlockKey) != 32 || bytes.Equal(fromHex.HashKey, fromHex.BlockKey) {
		t.Errorf("HashKey %x, BlockKey %x: want two different keys of 32 bytes", fromHex.HashKey, fromHex.BlockKey)
	}
	if !bytes.Equal(fromHex.HashKey, fromBase64.HashKey) || !bytes.Equal(fromHex.BlockKey, fromBase64.BlockKey) {
		t.Error("the same key, hex or base64 encoded, makes different keys")
	}
	random1, err1 := load(t, map[string]string{"PARLOGIN_SESSION_KEY": ""})
	random2, err2 := load(t, map[string]string{"PARLOGIN_SESSION_KEY": ""})
	if err1 != nil || err2 != nil || len(random1.HashKey) != 32 || bytes.Equal(random1.HashKey, random2.HashKey) {
		t.Errorf("without PARLOGIN_SESSION_KEY: %v %v, want random keys", err1, err2)
	}
}
