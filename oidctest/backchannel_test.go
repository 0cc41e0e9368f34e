package oidctest_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// receiver is a back-channel logout endpoint that records what it receives and answers with
// its handler (200 by default).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []receivedRequest
	answer   http.HandlerFunc
}

type receivedRequest struct {
	method, contentType string
	form                url.Values
}

func newReceiver(t *testing.T, useTLS bool) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.requests = append(rc.requests, receivedRequest{r.Method, r.Header.Get("Content-Type"), r.PostForm})
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
	}))
	if useTLS {
		rc.Config.ErrorLog = log.New(io.Discard, "", 0) // tests make handshakes fail on purpose
		rc.StartTLS()
	} else {
		rc.Start()
	}
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setAnswer(h http.HandlerFunc) {
	rc.mu.Lock()
	rc.answer = h
	rc.mu.Unlock()
}

func (rc *receiver) received() []receivedRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.requests)
}

// logoutToken returns the logout token of the only request rc received, checking how it was sent.
func (rc *receiver) logoutToken(t *testing.T) string {
	t.Helper()
	got := rc.received()
	if len(got) != 1 {
		t.Fatalf("%d back-channel requests, want 1", len(got))
	}
	r := got[0]
	if r.method != http.MethodPost || r.contentType != "application/x-www-form-urlencoded" || len(r.form) != 1 || len(r.form["logout_token"]) != 1 {
		t.Fatalf("back-channel request %s %q %v, want a form POST of logout_token alone", r.method, r.contentType, r.form)
	}
	return r.form.Get("logout_token")
}

func TestBackchannelLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name, subject, sid string
	}{
		{"subject and sid", "alice", "sid-1"},
		{"subject only", "alice", ""},
		{"sid only", "", "sid-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			rc := newReceiver(t, false)
			c := e.addClient(oidctest.Client{BackchannelLogoutURI: rc.URL + "/logout"})
			if err := e.srv.BackchannelLogout(ctx, c.ID, tc.subject, tc.sid); err != nil {
				t.Fatalf("BackchannelLogout: %v", err)
			}
			claims, header := e.verifyIDToken(rc.logoutToken(t))
			kid, _ := e.srv.SigningKey()
			if header["typ"] != "logout+jwt" || header["alg"] != "RS256" || header["kid"] != kid {
				t.Errorf("header %v, want typ logout+jwt, alg RS256, kid %s", header, kid)
			}
			now := e.clock.Now().Unix()
			want := jwt.MapClaims{
				"iss":    e.srv.Issuer,
				"aud":    c.ID,
				"iat":    float64(now),
				"exp":    float64(now + 120),
				"jti":    claims["jti"],
				"events": map[string]any{backchannelLogoutEvent: map[string]any{}},
			}
			if tc.subject != "" {
				want["sub"] = tc.subject
			}
			if tc.sid != "" {
				want["sid"] = tc.sid
			}
			if !reflect.DeepEqual(claims, want) {
				t.Errorf("claims %v, want %v", claims, want)
			}
			if jti, _ := claims["jti"].(string); len(jti) < 22 {
				t.Errorf("jti %q, want at least 128 random bits", jti)
			}

			// Every token has its own jti.
			if err := e.srv.BackchannelLogout(ctx, c.ID, tc.subject, tc.sid); err != nil {
				t.Fatal(err)
			}
			got := rc.received()
			second, _ := e.verifyIDToken(got[1].form.Get("logout_token"))
			if second["jti"] == claims["jti"] {
				t.Errorf("two logout tokens with jti %v", claims["jti"])
			}
		})
	}

	noURI := e.addClient(oidctest.Client{})
	for _, tc := range []struct {
		name, clientID, subject, sid, want string
	}{
		{"neither subject nor sid", e.client.ID, "", "", "needs a subject, a sid or both"},
		{"unknown client", "nobody", "alice", "", `"nobody" is not a registered client`},
		{"client without a back-channel URI", noURI.ID, "alice", "", "has no BackchannelLogoutURI"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.srv.BackchannelLogout(ctx, tc.clientID, tc.subject, tc.sid)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestBackchannelLogoutAnswers(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, false)
	c := e.addClient(oidctest.Client{BackchannelLogoutURI: rc.URL + "/logout"})
	tests := []struct {
		name       string
		answer     http.HandlerFunc
		wantStatus int // 0: no error
		wantBody   string
	}{
		{name: "200", answer: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "204", answer: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }},
		{
			name: "400",
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "invalid logout_token: nonce present", http.StatusBadRequest)
			},
			wantStatus: http.StatusBadRequest, wantBody: "invalid logout_token: nonce present",
		},
		{
			name:       "a redirect is not followed",
			answer:     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/login", http.StatusSeeOther) },
			wantStatus: http.StatusSeeOther, wantBody: "(empty body)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc.setAnswer(tc.answer)
			before := len(rc.received())
			err := e.srv.BackchannelLogout(context.Background(), c.ID, "alice", "")
			if n := len(rc.received()) - before; n != 1 {
				t.Errorf("%d requests received, want 1", n)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			var be *oidctest.BackchannelLogoutError
			if !errors.As(err, &be) {
				t.Fatalf("error %v, want a *BackchannelLogoutError", err)
			}
			if be.ClientID != c.ID || be.URI != c.BackchannelLogoutURI || be.StatusCode != tc.wantStatus || !strings.Contains(be.Body, tc.wantBody) {
				t.Errorf("error %+v, want client %s, URI %s, status %d, body with %q", be, c.ID, c.BackchannelLogoutURI, tc.wantStatus, tc.wantBody)
			}
			if tc.wantStatus == http.StatusSeeOther && be.Location != "/login" {
				t.Errorf("Location %q, want /login", be.Location)
			}
			for _, want := range []string{c.ID, c.BackchannelLogoutURI, strconv.Itoa(tc.wantStatus), tc.wantBody, be.Location} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		gone := e.addClient(oidctest.Client{BackchannelLogoutURI: closed.URL + "/logout"})
		err := e.srv.BackchannelLogout(context.Background(), gone.ID, "alice", "")
		var be *oidctest.BackchannelLogoutError
		if err == nil || errors.As(err, &be) || !strings.Contains(err.Error(), gone.ID) {
			t.Errorf("error %v, want a connection error naming the client", err)
		}
	})
}

func TestLogoutTokenHookAndSigner(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, false)
	c := e.addClient(oidctest.Client{BackchannelLogoutURI: rc.URL + "/logout"})
	send := func() string {
		t.Helper()
		n := len(rc.received())
		if err := e.srv.BackchannelLogout(context.Background(), c.ID, "alice", "sid-1"); err != nil {
			t.Fatal(err)
		}
		return rc.received()[n].form.Get("logout_token")
	}

	e.srv.SetLogoutTokenHook(func(claims map[string]any) {
		claims["nonce"] = "n-1"
		claims["aud"] = "another-client"
		delete(claims, "events")
	})
	claims, _ := e.verifyIDToken(send())
	if _, ok := claims["events"]; ok || claims["nonce"] != "n-1" || claims["aud"] != "another-client" || claims["sid"] != "sid-1" {
		t.Errorf("hooked claims %v, want nonce, aud another-client, no events", claims)
	}

	var signed map[string]any
	e.srv.SetLogoutTokenSigner(func(claims map[string]any) string {
		signed = claims
		return "forged.logout.token"
	})
	if got := send(); got != "forged.logout.token" || signed["nonce"] != "n-1" {
		t.Errorf("signer: sent %q from claims %v, want the forged token from the hooked claims", got, signed)
	}

	e.srv.SetLogoutTokenHook(nil)
	e.srv.SetLogoutTokenSigner(nil)
	claims, header := e.verifyIDToken(send())
	if _, ok := claims["nonce"]; ok || claims["aud"] != c.ID || header["typ"] != "logout+jwt" {
		t.Errorf("after removing the hook and signer: %v %v", header, claims)
	}
}

func TestBackchannelLogoutTLS(t *testing.T) {
	t.Run("TLS provider, httptest TLS app", func(t *testing.T) {
		srv := oidctest.NewTLSServer()
		defer srv.Close()
		rc := newReceiver(t, true)
		c := srv.AddClient(oidctest.Client{BackchannelLogoutURI: rc.URL + "/logout"})
		if err := srv.BackchannelLogout(context.Background(), c.ID, "alice", ""); err != nil {
			t.Errorf("BackchannelLogout: %v", err)
		}
	})
	t.Run("plain provider, TLS app", func(t *testing.T) {
		rc := newReceiver(t, true)
		for _, withClient := range []bool{false, true} {
			srv := oidctest.NewUnstartedServer()
			if withClient {
				srv.HTTPClient = rc.Client()
			}
			srv.Start()
			defer srv.Close()
			c := srv.AddClient(oidctest.Client{BackchannelLogoutURI: rc.URL + "/logout"})
			err := srv.BackchannelLogout(context.Background(), c.ID, "alice", "")
			if withClient && err != nil {
				t.Errorf("with HTTPClient: %v", err)
			}
			if !withClient && (err == nil || !strings.Contains(err.Error(), "certificate")) {
				t.Errorf("without HTTPClient: error %v, want a certificate error", err)
			}
		}
	})
}

// TestEndSessionBackchannelLogout signs a user out at the end-session endpoint: every client
// the user's provider session signed in to gets a logout token, before the browser is answered.
func TestEndSessionBackchannelLogout(t *testing.T) {
	e := newEnv(t)
	a := newRP(t, e.srv, e.clock.Now, rpOptions{})
	b := newRP(t, e.srv, e.clock.Now, rpOptions{responseMode: "form_post"})
	other := newRP(t, e.srv, e.clock.Now, rpOptions{})

	browser := e.srv.Login(t, a.URL+"/me", "bob")
	e.srv.LoginWith(t, browser, b.URL+"/me", "bob")
	sid := a.claims(t, browser)["sid"]
	e.srv.Login(t, other.URL+"/me", "bob") // another browser: another session
	idTokens, _ := a.received()

	status, body := e.get(e.endpoint("end_session_endpoint") + "?" + url.Values{"id_token_hint": {idTokens[0]}}.Encode())
	if status != http.StatusOK || !strings.Contains(string(body), "Signed out") {
		t.Fatalf("end session: %d %s", status, body)
	}
	for _, r := range []*rp{a, b} {
		_, logoutTokens := r.received()
		if len(logoutTokens) != 1 {
			t.Fatalf("client %s received %d logout tokens, want 1", r.client.ID, len(logoutTokens))
		}
		claims, header := e.verifyIDToken(logoutTokens[0])
		if header["typ"] != "logout+jwt" || claims["aud"] != r.client.ID || claims["sub"] != "bob" || claims["sid"] != sid {
			t.Errorf("client %s: logout token %v %v, want typ logout+jwt, its aud, sub bob, sid %v", r.client.ID, header, claims, sid)
		}
	}
	if _, logoutTokens := other.received(); len(logoutTokens) != 0 {
		t.Errorf("a client of another session received %d logout tokens", len(logoutTokens))
	}

	// The session is over: the same hint ends nothing, and the browser's next login starts a
	// new session.
	e.get(e.endpoint("end_session_endpoint") + "?" + url.Values{"id_token_hint": {idTokens[0]}}.Encode())
	if _, logoutTokens := a.received(); len(logoutTokens) != 1 {
		t.Errorf("a second end session sent %d logout tokens in all, want still 1", len(logoutTokens))
	}
	e.srv.LoginWith(t, browser, a.URL+"/login", "bob")
	if again := a.claims(t, browser); again["sid"] == sid {
		t.Errorf("after sign-out, the browser signed in again in the ended session %v", sid)
	}

	t.Run("a login without Login, and a redirect", func(t *testing.T) {
		e := e.with(t)
		rc := newReceiver(t, false)
		c := e.addClient(oidctest.Client{BackchannelLogoutURI: rc.URL + "/logout", PostLogoutRedirectURIs: []string{postLogoutURI}})
		code, _, verifier := e.code(c, nil)
		hint := e.exchange(c, code, verifier)["id_token"].(string)
		hinted, _ := e.verifyIDToken(hint)
		e.clock.Advance(2 * time.Hour) // an expired hint is accepted
		resp, body := e.do(mustRequest(t, http.MethodGet, e.endpoint("end_session_endpoint")+"?"+url.Values{
			"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI},
		}.Encode(), nil))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != postLogoutURI {
			t.Fatalf("end session: %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		claims, _ := e.verifyIDToken(rc.logoutToken(t))
		if claims["sid"] != hinted["sid"] || claims["sub"] != "alice" || claims["aud"] != c.ID {
			t.Errorf("logout token %v, want the hint's sid %v, sub alice, aud %s", claims, hinted["sid"], c.ID)
		}
	})
}
