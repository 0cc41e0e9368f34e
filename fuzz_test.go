package parlogin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzCallback sends arbitrary authorization responses to the callback, as query or form_post
// body. Without a pending login's state nothing may get through: no panic, no session, no success;
// the only redirect allowed is a restarted login at the provider (invalid_request_uri).
func FuzzCallback(f *testing.F) {
	h := newHarness(f, harnessOptions{})
	iss := "iss=" + h.op.Issuer
	for _, seed := range []string{
		"", "code=x&state=y", "error=access_denied&state=AAAAAAAAAAAAAAAAAAAAAAAAAA",
		"error=invalid_request_uri&" + iss, "code=x&state=&iss=", "state=%zz", "iss=a&iss=b",
		"code=" + strings.Repeat("c", 5000), "error=%0d%0aSet-Cookie:x", "state=" + strings.Repeat("A", 26),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, params string, post bool) {
		var req *http.Request
		if post {
			req = httptest.NewRequest(http.MethodPost, "/auth/callback", strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, "/auth/callback", nil)
			req.URL.RawQuery = params
		}
		rec := httptest.NewRecorder()
		h.auth.Callback(rec, req)
		for _, c := range rec.Result().Cookies() {
			if c.Name == h.auth.cfg.SessionName && c.MaxAge >= 0 {
				t.Fatalf("%q set a session cookie", params)
			}
		}
		switch {
		case rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), h.op.Issuer):
			// invalid_request_uri: the login starts again at the provider
		case rec.Code < 400:
			t.Fatalf("%q: status %d, Location %q", params, rec.Code, rec.Header().Get("Location"))
		}
	})
}

// FuzzParseRequestURI checks the reading of the provider's answer to a pushed authorization
// request: a request_uri comes only from a successful answer, and is a bounded printable string.
func FuzzParseRequestURI(f *testing.F) {
	for _, seed := range []string{
		`{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}`,
		`{"request_uri":""}`, `{"request_uri":42}`, `{"error":"invalid_client"}`, `null`, `[]`,
		`{"request_uri":"a\nb"}`, `{"request_uri":"` + strings.Repeat("x", 2000) + `"}`, "",
	} {
		f.Add(201, []byte(seed))
		f.Add(400, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		uri, err := parseRequestURI(status, body)
		if err != nil {
			if uri != "" {
				t.Fatalf("error %v with request_uri %q", err, uri)
			}
			return
		}
		if status != 200 && status != 201 {
			t.Fatalf("status %d accepted", status)
		}
		if uri == "" || len(uri) > maxRequestURI || strings.IndexFunc(uri, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			t.Fatalf("accepted request_uri %q", uri)
		}
		var answer struct {
			RequestURI string `json:"request_uri"`
		}
		if json.Unmarshal(body, &answer) != nil || answer.RequestURI != uri {
			t.Fatalf("request_uri %q is not the body's %q", uri, body)
		}
	})
}

// FuzzDecodeAttempt decodes arbitrary pending logins: no panic, and a decoded one has the nonce and
// verifier without which its checks would be void.
func FuzzDecodeAttempt(f *testing.F) {
	for _, seed := range []string{
		`{"n":"N","v":"V","t":1800000000000,"r":"/private","m":"60","a":"mfa","f":true}`,
		`{"n":"","v":"V"}`, `{"t":1}`, `{"n":1}`, `{}`, `null`, `"x"`, "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		a, err := decodeAttempt(raw, "STATE")
		if err != nil {
			return
		}
		if a.Nonce == "" || a.Verifier == "" || a.State != "STATE" {
			t.Fatalf("decoded %+v from %q", a, raw)
		}
	})
}

// FuzzDecodeSession decodes arbitrary session data: no panic, and a session is live only with an
// ID, a subject, the app's issuer and client, and an expiry in the future.
func FuzzDecodeSession(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	sm := &sessionManager{issuer: "https://op.example", clientID: "app"}
	for _, seed := range []string{
		`{"id":"S","sub":"alice","iss":"https://op.example","aud":"app","exp":1800003600,"c":{"name":"Alice"}}`,
		`{"id":"S","sub":"","iss":"https://op.example","aud":"app","exp":1800003600}`,
		`{"id":"","sub":"alice","iss":"https://op.example","aud":"app","exp":1800003600}`,
		`{"id":"S","sub":"alice","iss":"https://evil.example","aud":"app","exp":1800003600}`,
		`{"id":"S","sub":"alice","iss":"https://op.example","aud":"other","exp":1800003600}`,
		`{"id":"S","sub":"alice","iss":"https://op.example","aud":"app","exp":1}`, `{"c":[1,2]}`, `null`, "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, expires, ok := sm.decode(&record{value: raw}, now)
		if !ok {
			return
		}
		if d.ID == "" || d.Subject == "" || d.Issuer != "https://op.example" || d.Client != "app" ||
			!now.Before(time.Unix(d.Expiry, 0)) || !expires.Equal(time.Unix(d.Expiry, 0)) {
			t.Fatalf("live session %+v from %q", d, raw)
		}
		_ = d.user(expires, nil) // builds without panicking
	})
}
