package parlogin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// checkNames are the checks of a report, in order.
var checkNames = []string{"config", "discovery", "par_endpoint", "client_auth", "pkce", "iss_parameter", "clock", "par_request", "session_store"}

const (
	checkRedirectURL = "https://app.example.com/auth/callback"
	checkEnvID       = "6c7a1fd3-3a6c-4b0d-9d2e-0f5d2a3c1b7e"
)

// checkCase is a provider and a configuration, and what Check must find: the checks whose
// status is not ok, and texts that the message or hint of a check must contain.
type checkCase struct {
	name   string
	tls    bool
	envID  string
	server func(op *oidctest.Server)                                        // before Start
	config func(t *testing.T, op *oidctest.Server, c *parlogin.Config)      // after Start
	want   map[string]parlogin.CheckStatus                                  // checks not ok
	texts  map[string][]string                                              // check → substrings of message + " | " + hint
	after  func(t *testing.T, op *oidctest.Server, r *parlogin.CheckReport) // more assertions
}

func editMetadata(edit func(m map[string]any)) func(*oidctest.Server) {
	return func(op *oidctest.Server) { op.EditMetadata = edit }
}

func skipsAfterDiscovery(status parlogin.CheckStatus) map[string]parlogin.CheckStatus {
	return map[string]parlogin.CheckStatus{
		"discovery": parlogin.CheckFail, "par_endpoint": status, "client_auth": status, "pkce": status,
		"iss_parameter": status, "par_request": parlogin.CheckSkip,
	}
}

func TestCheck(t *testing.T) {
	const (
		ok   = parlogin.CheckOK
		warn = parlogin.CheckWarn
		fail = parlogin.CheckFail
		skip = parlogin.CheckSkip
	)
	clockOff := func(d time.Duration) func(*testing.T, *oidctest.Server, *parlogin.Config) {
		return func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) {
			c.Now = func() time.Time { return time.Now().Add(d) }
		}
	}
	cases := []checkCase{
		{name: "all pass"},
		{name: "all pass over TLS", tls: true},
		{
			// PingOne publishes no authorization_response_iss_parameter_supported.
			name: "all pass in PingOne's shape", envID: checkEnvID,
			want: map[string]parlogin.CheckStatus{"iss_parameter": warn},
		},
		{
			name:   "wrong client secret",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.ClientSecret = strings.Repeat("s", 43) },
			want:   map[string]parlogin.CheckStatus{"par_request": fail},
			texts: map[string][]string{"par_request": {
				"invalid_client", "HTTP 401", "wrong Config.ClientID or Config.ClientSecret", "CLIENT_SECRET_JWT", "or the clock is off;", "another Config.SigningAlg than HS256",
			}},
		},
		{
			name:   "unknown client ID",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.ClientID = "nobody" },
			want:   map[string]parlogin.CheckStatus{"par_request": fail},
			texts:  map[string][]string{"par_request": {"invalid_client", "nobody is not a registered client"}},
		},
		{
			name: "unregistered redirect URI",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) {
				c.RedirectURL = "https://app.example.com/callback"
			},
			want: map[string]parlogin.CheckStatus{"par_request": fail},
			texts: map[string][]string{"par_request": {
				"invalid_request: redirect_uri is not registered", "HTTP 400", "register exactly https://app.example.com/callback as a redirect URI",
			}},
		},
		{
			name:   "PAR endpoint missing",
			server: editMetadata(func(m map[string]any) { delete(m, "pushed_authorization_request_endpoint") }),
			want:   map[string]parlogin.CheckStatus{"par_endpoint": fail, "par_request": skip},
			texts: map[string][]string{
				"par_endpoint": {"no pushed_authorization_request_endpoint", "set Config.PAREndpoint"},
				"par_request":  {"not checked: no PAR endpoint"},
			},
		},
		{
			name:   "PAR endpoint set in Config",
			server: editMetadata(func(m map[string]any) { delete(m, "pushed_authorization_request_endpoint") }),
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) { c.PAREndpoint = op.Issuer + "/par" },
			texts:  map[string][]string{"par_endpoint": {"Config.PAREndpoint", "publishes none"}},
		},
		{
			name:   "PAR endpoint without PAR",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) { c.PAREndpoint = op.Issuer + "/nothing" },
			want:   map[string]parlogin.CheckStatus{"par_request": fail},
			texts:  map[string][]string{"par_request": {"HTTP 404", "404 page not found", "nothing answers pushed authorization requests at"}},
		},
		{
			name:   "client_secret_jwt not advertised",
			server: editMetadata(func(m map[string]any) { m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic"} }),
			want:   map[string]parlogin.CheckStatus{"client_auth": warn},
			texts:  map[string][]string{"client_auth": {"[client_secret_basic] has no client_secret_jwt", "accepted", "nothing to change"}},
		},
		{
			name:   "client_secret_jwt not advertised nor accepted",
			server: editMetadata(func(m map[string]any) { m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic"} }),
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.ClientSecret = strings.Repeat("s", 43) },
			want:   map[string]parlogin.CheckStatus{"client_auth": fail, "par_request": fail},
			texts:  map[string][]string{"client_auth": {"has no client_secret_jwt", "CLIENT_SECRET_JWT"}},
		},
		{
			name:   "auth methods not published",
			server: editMetadata(func(m map[string]any) { delete(m, "token_endpoint_auth_methods_supported") }),
			want:   map[string]parlogin.CheckStatus{"client_auth": warn},
			texts:  map[string][]string{"client_auth": {"no token_endpoint_auth_methods_supported", "client_secret_basic only"}},
		},
		{
			name: "PAR auth methods without client_secret_jwt",
			server: editMetadata(func(m map[string]any) {
				m["pushed_authorization_request_endpoint_auth_methods_supported"] = []string{"tls_client_auth"}
			}),
			want:  map[string]parlogin.CheckStatus{"client_auth": warn},
			texts: map[string][]string{"client_auth": {"pushed_authorization_request_endpoint_auth_methods_supported [tls_client_auth]"}},
		},
		{
			name: "signing algorithm not advertised",
			server: editMetadata(func(m map[string]any) {
				m["token_endpoint_auth_signing_alg_values_supported"] = []string{"HS512", "RS256"}
			}),
			want:  map[string]parlogin.CheckStatus{"client_auth": warn},
			texts: map[string][]string{"client_auth": {"[HS512 RS256] has no HS256"}},
		},
		{
			name: "signing algorithm neither advertised nor accepted",
			server: editMetadata(func(m map[string]any) {
				m["token_endpoint_auth_signing_alg_values_supported"] = []string{"HS512", "RS256"}
			}),
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.ClientSecret = strings.Repeat("s", 43) },
			want:   map[string]parlogin.CheckStatus{"client_auth": fail, "par_request": fail},
			texts:  map[string][]string{"client_auth": {"set Config.SigningAlg to one of [HS512]"}},
		},
		{
			name:   "no PKCE S256",
			server: editMetadata(func(m map[string]any) { m["code_challenge_methods_supported"] = []string{"plain"} }),
			want:   map[string]parlogin.CheckStatus{"pkce": fail},
			texts:  map[string][]string{"pkce": {"[plain] has no S256", "enable PKCE with S256"}},
		},
		{
			name:   "PKCE methods not published",
			server: editMetadata(func(m map[string]any) { delete(m, "code_challenge_methods_supported") }),
			want:   map[string]parlogin.CheckStatus{"pkce": warn},
			texts:  map[string][]string{"pkce": {"S256_REQUIRED"}},
		},
		{
			name:   "no iss parameter",
			server: editMetadata(func(m map[string]any) { m["authorization_response_iss_parameter_supported"] = false }),
			want:   map[string]parlogin.CheckStatus{"iss_parameter": warn},
			texts:  map[string][]string{"iss_parameter": {"RFC 9207", "nothing to change"}},
		},
		{
			name:   "endpoint URL not absolute",
			server: editMetadata(func(m map[string]any) { m["token_endpoint"] = "/token" }),
			want:   map[string]parlogin.CheckStatus{"discovery": fail, "par_request": skip},
			texts:  map[string][]string{"discovery": {`endpoint "/token" is not an absolute URL`, "tell its administrators"}},
		},
		{
			name:   "discovery document with a malformed field",
			server: editMetadata(func(m map[string]any) { m["code_challenge_methods_supported"] = "S256" }),
			want:   skipsAfterDiscovery(skip),
			texts:  map[string][]string{"discovery": {"the discovery document is malformed"}},
		},
		{
			name: "no discovery document",
			config: func(_ *testing.T, op *oidctest.Server, _ *parlogin.Config) {
				op.Inject(parlogin.EndpointDiscovery, oidctest.Fault{Body: "<html>welcome</html>"})
			},
			want:  skipsAfterDiscovery(skip),
			texts: map[string][]string{"discovery": {"failed to decode", "is not an OpenID Provider's discovery document"}},
		},
		{
			name: "issuer configured with a trailing slash",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				c.Issuer = op.Issuer + "/"
			},
			want: map[string]parlogin.CheckStatus{"discovery": fail, "par_request": skip},
			texts: map[string][]string{"discovery": {
				"names the issuer", "not Config.Issuer", "without the trailing slash",
			}},
		},
		{
			name:   "issuer published with a trailing slash",
			server: editMetadata(func(m map[string]any) { m["issuer"] = m["issuer"].(string) + "/" }),
			want:   map[string]parlogin.CheckStatus{"discovery": fail, "par_request": skip},
			texts:  map[string][]string{"discovery": {"with the trailing slash"}},
		},
		{
			name:   "another issuer",
			server: editMetadata(func(m map[string]any) { m["issuer"] = "https://elsewhere.example.com" }),
			want:   map[string]parlogin.CheckStatus{"discovery": fail, "par_request": skip},
			texts:  map[string][]string{"discovery": {`"https://elsewhere.example.com"`, "if that is your provider"}},
		},
		{
			name: "discovery URL as the issuer",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				c.Issuer = op.Issuer + "/.well-known/openid-configuration"
			},
			want:  skipsAfterDiscovery(skip),
			texts: map[string][]string{"discovery": {"HTTP 404", "the URL of the discovery document", "set it to"}},
			after: func(t *testing.T, op *oidctest.Server, r *parlogin.CheckReport) {
				if hint := result(t, r, "discovery").Hint; !strings.Contains(hint, `"`+op.Issuer+`"`) {
					t.Errorf("hint %q does not name the issuer %s", hint, op.Issuer)
				}
			},
		},
		{
			name:  "PingOne issuer without /as",
			envID: checkEnvID,
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				c.Issuer = op.URL + "/" + checkEnvID
			},
			want:  skipsAfterDiscovery(skip),
			texts: map[string][]string{"discovery": {"HTTP 404", "PingOne's issuer is {authPath}/{envID}/as", checkEnvID + `/as"`}},
		},
		{
			name: "provider down",
			config: func(_ *testing.T, op *oidctest.Server, _ *parlogin.Config) {
				op.Close()
			},
			want:  map[string]parlogin.CheckStatus{"discovery": fail, "par_endpoint": skip, "client_auth": skip, "pkce": skip, "iss_parameter": skip, "clock": skip, "par_request": skip},
			texts: map[string][]string{"discovery": {"connection refused", "check that this machine reaches 127.0.0.1:"}},
		},
		{
			name: "provider slow",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				op.Inject(parlogin.EndpointDiscovery, oidctest.Fault{Delay: time.Minute})
				c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
			},
			want:  map[string]parlogin.CheckStatus{"discovery": fail, "par_endpoint": skip, "client_auth": skip, "pkce": skip, "iss_parameter": skip, "clock": skip, "par_request": skip},
			texts: map[string][]string{"discovery": {"no answer within 200ms"}},
		},
		{
			name:   "clock 2 minutes behind, corrected",
			config: clockOff(-2 * time.Minute),
			want:   map[string]parlogin.CheckStatus{"clock": warn},
			texts:  map[string][]string{"clock": {"2m0s behind the provider's", "parlogin corrects offsets up to 5m0s", "NTP"}},
		},
		{
			name:   "clock 2 minutes ahead, corrected",
			config: clockOff(2 * time.Minute),
			want:   map[string]parlogin.CheckStatus{"clock": warn},
			texts:  map[string][]string{"clock": {"2m0s ahead of the provider's"}},
		},
		{
			name:   "clock 2 hours behind",
			config: clockOff(-2 * time.Hour),
			want:   map[string]parlogin.CheckStatus{"clock": fail, "par_request": fail},
			texts: map[string][]string{
				"clock": {
					"2h0m0s behind the provider's, beyond the 5m0s parlogin corrects",
					"ID tokens would be issued in the app's future, beyond Config.ClockSkew (30s), and client assertions (valid 1m0s) would have expired on arrival",
				},
				"par_request": {"invalid_client", "has expired", "(it is: see clock)"},
			},
		},
		{
			name:   "clock 2 hours ahead",
			config: clockOff(2 * time.Hour),
			want:   map[string]parlogin.CheckStatus{"clock": fail, "par_request": fail},
			texts: map[string][]string{
				"clock":       {"2h0m0s ahead of the provider's", "client assertions (valid 1m0s) would not be valid yet on arrival"},
				"par_request": {"invalid_client", "(it is: see clock)"},
			},
		},
		{
			name: "provider's clock 2 hours ahead",
			config: func(_ *testing.T, op *oidctest.Server, _ *parlogin.Config) {
				op.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
			},
			want:  map[string]parlogin.CheckStatus{"clock": fail, "par_request": fail},
			texts: map[string][]string{"clock": {"2h0m0s behind the provider's"}},
		},
		{
			name: "clock 10 minutes ahead with long assertions",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) {
				clockOff(10*time.Minute)(nil, nil, c)
				c.AssertionLifetime = time.Hour
			},
			want:  map[string]parlogin.CheckStatus{"clock": fail, "par_request": fail},
			texts: map[string][]string{"clock": {"10m0s ahead", "issued in the provider's future, which providers refuse"}},
		},
		{
			name: "clock 10 minutes behind with lenient limits",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) {
				clockOff(-10*time.Minute)(nil, nil, c)
				c.AssertionLifetime, c.ClockSkew = time.Hour, time.Hour
			},
			want:  map[string]parlogin.CheckStatus{"clock": warn},
			texts: map[string][]string{"clock": {"10m0s behind", "allow it, barely"}},
		},
		{
			name:   "clock 10 seconds ahead",
			config: clockOff(10 * time.Second),
			want:   map[string]parlogin.CheckStatus{"clock": warn},
			texts:  map[string][]string{"clock": {"10s ahead"}},
		},
		{
			name:   "clock 10 seconds behind",
			config: clockOff(-10 * time.Second),
			want:   map[string]parlogin.CheckStatus{"clock": warn},
			texts:  map[string][]string{"clock": {"10s behind"}},
		},
		{
			name:   "unencrypted cookie store",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.Store = sessions.NewCookieStore(hashKey) },
			want:   map[string]parlogin.CheckStatus{"session_store": fail},
			texts:  map[string][]string{"session_store": {"does not encrypt", "sessions.NewCookieStore(hashKey, blockKey)"}},
		},
		{
			name:   "no store",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.Store = nil },
			want:   map[string]parlogin.CheckStatus{"session_store": fail},
			texts:  map[string][]string{"session_store": {"Config.Store is not set"}},
		},
		{
			name: "server-side store",
			config: func(t *testing.T, _ *oidctest.Server, c *parlogin.Config) {
				dir := t.TempDir()
				c.Store = sessions.NewFilesystemStore(dir, hashKey, blockKey)
				t.Cleanup(func() {
					// The check's session was deleted.
					if files, err := os.ReadDir(dir); err != nil || len(files) != 0 {
						t.Errorf("the store's directory holds %d files (err %v), want none", len(files), err)
					}
				})
			},
			texts: map[string][]string{"session_store": {"*sessions.FilesystemStore reads back and is deleted"}},
		},
		{
			name:   "failing store",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.Store = failingStore{} },
			want:   map[string]parlogin.CheckStatus{"session_store": fail},
			texts:  map[string][]string{"session_store": {"saving a session failed", "store unreachable"}},
		},
		{
			name:   "tokens in a cookie store",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.SaveTokens = true },
			want:   map[string]parlogin.CheckStatus{"session_store": warn},
			texts:  map[string][]string{"session_store": {"4 KB", "server-side store"}},
		},
		{
			name: "invalid configuration",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) {
				c.ClientSecret, c.ResponseMode = "short", "fragment"
			},
			want: map[string]parlogin.CheckStatus{"config": fail, "discovery": skip, "par_endpoint": skip, "client_auth": skip,
				"pkce": skip, "iss_parameter": skip, "clock": skip, "par_request": skip},
			texts: map[string][]string{
				"config":    {"ClientSecret is shorter than 32 bytes", `; ResponseMode "fragment" is not query or form_post`},
				"discovery": {"not checked: the configuration is invalid"},
			},
		},
		{
			name:   "client secret with a line break",
			config: func(_ *testing.T, _ *oidctest.Server, c *parlogin.Config) { c.ClientSecret += "\n" },
			want:   map[string]parlogin.CheckStatus{"config": warn, "par_request": fail},
			texts:  map[string][]string{"config": {"Config.ClientSecret begins or ends with white space", "remove the stray spaces"}},
		},
		{
			name: "plain http to the app",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				c.RedirectURL = "http://app.example.com/auth/callback"
				op.AddClient(oidctest.Client{ID: c.ClientID, Secret: c.ClientSecret, RedirectURIs: []string{c.RedirectURL}})
			},
			want:  map[string]parlogin.CheckStatus{"config": warn},
			texts: map[string][]string{"config": {"plain http to a non-loopback host", "http://app.example.com/auth/callback", "use https"}},
		},
		{
			name: "provider failing",
			config: func(_ *testing.T, op *oidctest.Server, _ *parlogin.Config) {
				op.Inject(parlogin.EndpointPAR, oidctest.Fault{Status: http.StatusInternalServerError, Body: "oops\n\tretry"})
			},
			want:  map[string]parlogin.CheckStatus{"par_request": fail},
			texts: map[string][]string{"par_request": {"HTTP 500", "oops retry", "the provider failed"}},
		},
		{
			name: "invalid scope",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				c.Scopes = []string{"profile email", "profile"}
				op.Inject(parlogin.EndpointPAR, oidctest.Fault{Error: "invalid_scope", ErrorDescription: "unknown scope"})
			},
			want:  map[string]parlogin.CheckStatus{"par_request": fail},
			texts: map[string][]string{"par_request": {"invalid_scope: unknown scope", `the scope "openid profile email"`}},
		},
		{
			name: "unauthorized client",
			config: func(_ *testing.T, op *oidctest.Server, _ *parlogin.Config) {
				op.Inject(parlogin.EndpointPAR, oidctest.Fault{Error: "unauthorized_client"})
			},
			want:  map[string]parlogin.CheckStatus{"par_request": fail},
			texts: map[string][]string{"par_request": {"unauthorized_client", "authorization code grant"}},
		},
		{
			name: "provider echoing credentials",
			config: func(_ *testing.T, op *oidctest.Server, c *parlogin.Config) {
				op.Inject(parlogin.EndpointPAR, oidctest.Fault{Status: http.StatusUnauthorized, Error: "invalid_client",
					ErrorDescription: "bad assertion eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln with secret " + c.ClientSecret +
						" for urn:ietf:params:oauth:request_uri:abc"})
			},
			want:  map[string]parlogin.CheckStatus{"par_request": fail},
			texts: map[string][]string{"par_request": {"bad assertion [redacted] with secret [redacted] for [redacted]"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := oidctest.NewUnstartedServer()
			op.EnvID = tc.envID
			if tc.server != nil {
				tc.server(op)
			}
			if tc.tls {
				op.StartTLS()
			} else {
				op.Start()
			}
			t.Cleanup(op.Close)
			client := op.AddClient(oidctest.Client{RedirectURIs: []string{checkRedirectURL}})
			c := parlogin.Config{
				Issuer:       op.Issuer,
				ClientID:     client.ID,
				ClientSecret: client.Secret,
				RedirectURL:  checkRedirectURL,
				Store:        sessions.NewCookieStore(hashKey, blockKey),
			}
			if tc.tls {
				c.HTTPClient = op.Client()
			}
			if tc.config != nil {
				tc.config(t, op, &c)
			}

			r := parlogin.Check(context.Background(), c)

			var names []string
			for _, res := range r.Results {
				names = append(names, res.Check)
				want := tc.want[res.Check]
				if want == "" {
					want = ok
				}
				if res.Status != want {
					t.Errorf("%s: status %s, want %s: %s | %s", res.Check, res.Status, want, res.Message, res.Hint)
				}
				if res.Message == "" || (res.Status == fail || res.Status == warn) && res.Hint == "" {
					t.Errorf("%s: %s without a message or a hint: %+v", res.Check, res.Status, res)
				}
				if strings.Contains(res.Message, "\n") || strings.Contains(res.Hint, "\n") {
					t.Errorf("%s: more than one line: %+v", res.Check, res)
				}
			}
			if strings.Join(names, " ") != strings.Join(checkNames, " ") {
				t.Errorf("checks %v, want %v", names, checkNames)
			}
			for name, texts := range tc.texts {
				res := result(t, r, name)
				for _, text := range texts {
					if !strings.Contains(res.Message+" | "+res.Hint, text) {
						t.Errorf("%s: %q | %q does not contain %q", name, res.Message, res.Hint, text)
					}
				}
			}
			failed := false
			for _, s := range tc.want {
				failed = failed || s == fail
			}
			if err := r.Err(); (err != nil) != failed {
				t.Errorf("Err() = %v, want an error: %v", err, failed)
			}
			wantNoCredentials(t, r, client.Secret)
			if tc.after != nil {
				tc.after(t, op, r)
			}
		})
	}
}

// result returns the result of the named check.
func result(t *testing.T, r *parlogin.CheckReport, name string) parlogin.CheckResult {
	t.Helper()
	for _, res := range r.Results {
		if res.Check == name {
			return res
		}
	}
	t.Fatalf("no result for check %s", name)
	return parlogin.CheckResult{}
}

// wantNoCredentials fails unless the report is free of the secret, JWTs and request_uris.
func wantNoCredentials(t *testing.T, r *parlogin.CheckReport, secret string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, "eyJ", "urn:ietf:params:oauth:request_uri:"} {
		if strings.Contains(string(b), s) {
			t.Errorf("report shows %q: %s", s, b)
		}
	}
}

// failingStore is a session store that cannot be reached.
type failingStore struct{}

func (failingStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return nil, errStoreUnreachable
}

func (failingStore) New(r *http.Request, name string) (*sessions.Session, error) {
	return nil, errStoreUnreachable
}

func (failingStore) Save(*http.Request, http.ResponseWriter, *sessions.Session) error {
	return errStoreUnreachable
}

var errStoreUnreachable = storeError("store unreachable")

type storeError string

func (e storeError) Error() string { return string(e) }

func TestCheckErr(t *testing.T) {
	r := &parlogin.CheckReport{Results: []parlogin.CheckResult{
		{Check: "clock", Status: parlogin.CheckWarn, Message: "slightly off", Hint: "NTP"},
		{Check: "par_request", Status: parlogin.CheckFail, Message: "invalid_client", Hint: "fix the secret"},
		{Check: "session_store", Status: parlogin.CheckFail, Message: "unreachable"},
	}}
	want := "parlogin: check par_request: invalid_client (fix: fix the secret)\nparlogin: check session_store: unreachable"
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
	r.Results = r.Results[:1]
	if err := r.Err(); err != nil {
		t.Errorf("Err() with a warning = %v, want nil", err)
	}
}

// TestCheckContext: the end of ctx ends the calls to the provider at once, and is told apart
// from the provider's slowness.
func TestCheckContext(t *testing.T) {
	for _, e := range []parlogin.Endpoint{parlogin.EndpointDiscovery, parlogin.EndpointPAR} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			op := oidctest.NewServer()
			defer op.Close()
			op.Inject(e, oidctest.Fault{Delay: time.Minute})
			client := op.AddClient(oidctest.Client{RedirectURIs: []string{checkRedirectURL}})
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			r := parlogin.Check(ctx, parlogin.Config{
				Issuer: op.Issuer, ClientID: client.ID, ClientSecret: client.Secret,
				RedirectURL: checkRedirectURL, Store: sessions.NewCookieStore(hashKey, blockKey),
			})
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Check took %v", took)
			}
			name := map[parlogin.Endpoint]string{parlogin.EndpointDiscovery: "discovery", parlogin.EndpointPAR: "par_request"}[e]
			want := "interrupted before the provider answered: context deadline exceeded"
			if res := result(t, r, name); res.Status != parlogin.CheckFail || res.Message != want {
				t.Errorf("%s: %+v, want a failure: %s", name, res, want)
			}
		})
	}
}
