package parlogin

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
)

func validConfig() Config {
	return Config{
		Issuer:       "https://op.example/as",
		ClientID:     "client-1",
		ClientSecret: testSecret,
		RedirectURL:  "https://app.example/auth/callback",
		Store:        testStore(),
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Config)
		errMsg string // "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer is required"},
		{"relative issuer", func(c *Config) { c.Issuer = "/as" }, "Issuer must be an absolute URL"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://op.example/?x=1" }, "Issuer must be an absolute URL"},
		{"no client id", func(c *Config) { c.ClientID = "" }, "ClientID is required"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret (client_secret_jwt) or ClientKeys (private_key_jwt) is required"},
		{"short secret", func(c *Config) { c.ClientSecret = "too-short" }, "shorter than 32 bytes"},
		{"secret shorter than HS384's hash", func(c *Config) { c.SigningAlg = "HS384"; c.ClientSecret = testSecret[:47] }, "shorter than 48 bytes"},
		{"secret shorter than HS512's hash", func(c *Config) { c.SigningAlg = "HS512"; c.ClientSecret = testSecret[:63] }, "shorter than 64 bytes"},
		{"secret as long as HS512's hash", func(c *Config) { c.SigningAlg = "HS512"; c.ClientSecret = testSecret[:64] }, ""},
		{"cookie store without encryption", func(c *Config) { c.Store = sessions.NewCookieStore([]byte(testSecret)) }, "CookieStore without an encryption key"},
		{"form_post over http to a remote host", func(c *Config) {
			c.RedirectURL = "http://app.example/cb"
			c.ResponseMode = "form_post"
		}, "form_post needs an https RedirectURL"},
		{"form_post over http on loopback", func(c *Config) {
			c.RedirectURL = "http://localhost:8080/cb"
			c.ResponseMode = "form_post"
		}, ""},
		{"no redirect", func(c *Config) { c.RedirectURL = "" }, "RedirectURL is required"},
		{"relative redirect", func(c *Config) { c.RedirectURL = "/auth/callback" }, "RedirectURL must be an absolute"},
		{"ftp redirect", func(c *Config) { c.RedirectURL = "ftp://app.example/cb" }, "RedirectURL must be an absolute"},
		{"no store", func(c *Config) { c.Store = nil }, "Store is required"},
		{"bad alg", func(c *Config) { c.SigningAlg = "RS256" }, "SigningAlg"},
		{"none alg", func(c *Config) { c.SigningAlg = "none" }, "SigningAlg"},
		{"bad response mode", func(c *Config) { c.ResponseMode = "fragment" }, "ResponseMode"},
		{"PingOne's pi.flow", func(c *Config) { c.ResponseMode = "pi.flow" }, "PingOne's flow API"},
		{"assertion lifetime over an hour", func(c *Config) { c.AssertionLifetime = 61 * time.Minute }, "AssertionLifetime"},
		{"id token alg none", func(c *Config) { c.IDTokenSigningAlgs = []string{"none"} }, "IDTokenSigningAlgs"},
		{"id token alg HS256", func(c *Config) { c.IDTokenSigningAlgs = []string{"HS256"} }, "IDTokenSigningAlgs"},
		{"host prefix on http", func(c *Config) {
			c.RedirectURL = "http://127.0.0.1:8080/cb"
			c.SessionName = "__Host-x"
		}, "needs an https RedirectURL"},
		{"negative clock skew", func(c *Config) { c.ClockSkew = -1 }, "may not be negative"},
		{"unknown audience", func(c *Config) { c.AssertionAudience = 7 }, "AssertionAudience"},
		{"relative post-logout", func(c *Config) { c.PostLogoutRedirectURL = "/bye" }, "PostLogoutRedirectURL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.Logger = slog.New(slog.DiscardHandler)
			tc.edit(&c)
			_, err := c.withDefaults()
			switch {
			case tc.errMsg == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.errMsg != "" && err == nil:
				t.Fatalf("no error, want one containing %q", tc.errMsg)
			case tc.errMsg != "" && !strings.Contains(err.Error(), tc.errMsg):
				t.Fatalf("error %q does not contain %q", err, tc.errMsg)
			}
			if err != nil && c.ClientSecret != "" && strings.Contains(err.Error(), c.ClientSecret) {
				t.Fatal("error contains the client secret")
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := validConfig().withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.SessionName != "__Host-parlogin" || c.SigningAlg != "HS256" || c.SessionMaxAge != 8*time.Hour ||
		c.AssertionLifetime != time.Minute || c.ClockSkew != 30*time.Second {
		t.Errorf("defaults not applied: %+v", c)
	}
	plain := validConfig()
	plain.RedirectURL = "http://127.0.0.1:8080/auth/callback"
	if c, _ := plain.withDefaults(); c.SessionName != "parlogin" {
		t.Errorf("SessionName on http = %q, want parlogin (a __Host- cookie needs Secure)", c.SessionName)
	}
}

func TestConfigWarnings(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"plain http to remote host", func(c *Config) { c.Issuer = "http://op.example" }, "plain http"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := validConfig()
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tc.edit(&c)
			if _, err := c.withDefaults(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("log %q does not contain %q", logs.String(), tc.want)
			}
			if strings.Contains(logs.String(), c.ClientSecret) {
				t.Error("log contains the client secret")
			}
		})
	}
}
