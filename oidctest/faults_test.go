package oidctest_test

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

func TestFaults(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		endpoint   oidctest.Endpoint
		fault      oidctest.Fault
		wantStatus int
		wantType   string
		wantBody   string // exact body; or, with wantCode, ignored
		wantCode   string // an OAuth JSON error
		wantHeader [2]string
	}{
		{name: "PAR error", endpoint: parlogin.EndpointPAR, fault: oidctest.Fault{Error: "temporarily_unavailable", ErrorDescription: "try later"},
			wantStatus: 400, wantType: "application/json", wantCode: "temporarily_unavailable"},
		{name: "PAR error with status", endpoint: parlogin.EndpointPAR, fault: oidctest.Fault{Error: "server_error", Status: 503},
			wantStatus: 503, wantType: "application/json", wantCode: "server_error"},
		{name: "PAR status and text body", endpoint: parlogin.EndpointPAR, fault: oidctest.Fault{Status: 500, Body: "oops"},
			wantStatus: 500, wantType: "text/plain; charset=utf-8", wantBody: "oops"},
		{name: "PAR 201 with malformed JSON", endpoint: parlogin.EndpointPAR, fault: oidctest.Fault{Status: 201, Body: `{"request_uri":`},
			wantStatus: 201, wantType: "application/json", wantBody: `{"request_uri":`},
		{name: "token status only", endpoint: parlogin.EndpointToken, fault: oidctest.Fault{Status: 502},
			wantStatus: 502, wantBody: ""},
		{name: "token body without status", endpoint: parlogin.EndpointToken, fault: oidctest.Fault{Body: `{"access_token":42}`},
			wantStatus: 200, wantType: "application/json", wantBody: `{"access_token":42}`},
		{name: "invalid status", endpoint: parlogin.EndpointToken, fault: oidctest.Fault{Status: 42},
			wantStatus: 500, wantBody: ""},
		{name: "discovery error", endpoint: parlogin.EndpointDiscovery, fault: oidctest.Fault{Error: "server_error", Status: 500},
			wantStatus: 500, wantType: "application/json", wantCode: "server_error"},
		{name: "JWKS body", endpoint: parlogin.EndpointJWKS, fault: oidctest.Fault{Status: 200, Body: `{"keys":[]}`},
			wantStatus: 200, wantType: "application/json", wantBody: `{"keys":[]}`},
		{name: "userinfo error", endpoint: parlogin.EndpointUserInfo, fault: oidctest.Fault{Error: "invalid_token", Status: 401},
			wantStatus: 401, wantType: "application/json", wantCode: "invalid_token", wantHeader: [2]string{"WWW-Authenticate", `Bearer error="invalid_token"`}},
		{name: "end session error", endpoint: parlogin.EndpointEndSession, fault: oidctest.Fault{Error: "server_error", ErrorDescription: "down"},
			wantStatus: 400, wantType: "text/html; charset=utf-8", wantBody: ""},
	}
	urls := map[oidctest.Endpoint]string{
		parlogin.EndpointDiscovery:  e.srv.Issuer + "/.well-known/openid-configuration",
		parlogin.EndpointJWKS:       e.endpoint("jwks_uri"),
		parlogin.EndpointPAR:        e.endpoint("pushed_authorization_request_endpoint"),
		parlogin.EndpointToken:      e.endpoint("token_endpoint"),
		parlogin.EndpointUserInfo:   e.endpoint("userinfo_endpoint"),
		parlogin.EndpointEndSession: e.endpoint("end_session_endpoint"),
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			e.srv.Inject(tc.endpoint, tc.fault)
			defer e.srv.ClearFaults()
			// The fault applies before normal processing: the request needs no authentication.
			method := http.MethodGet
			if tc.endpoint == parlogin.EndpointPAR || tc.endpoint == parlogin.EndpointToken {
				method = http.MethodPost
			}
			resp, body := e.do(mustRequest(t, method, urls[tc.endpoint], nil))
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); tc.wantType != "" && got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			switch {
			case tc.wantCode != "":
				wantOAuthError(t, resp.StatusCode, body, tc.wantStatus, tc.wantCode)
			case tc.wantType != "text/html; charset=utf-8" && string(body) != tc.wantBody:
				t.Errorf("body %q, want %q", body, tc.wantBody)
			}
			if h := tc.wantHeader; h[0] != "" && resp.Header.Get(h[0]) != h[1] {
				t.Errorf("%s %q, want %q", h[0], resp.Header.Get(h[0]), h[1])
			}
		})
	}
}

func TestFaultTimes(t *testing.T) {
	e := newEnv(t)
	push := func() int {
		t.Helper()
		params, _ := e.authParams(e.client)
		status, _ := e.par(e.client, params)
		return status
	}

	e.srv.Inject(parlogin.EndpointPAR, oidctest.Fault{Status: 503, Times: 2})
	for i, want := range []int{503, 503, 201, 201} {
		if got := push(); got != want {
			t.Errorf("PAR %d with Times 2: status %d, want %d", i+1, got, want)
		}
	}

	e.srv.Inject(parlogin.EndpointPAR, oidctest.Fault{Status: 503})
	for i := range 3 {
		if got := push(); got != 503 {
			t.Errorf("PAR %d with Times 0: status %d, want 503", i+1, got)
		}
	}
	e.srv.Inject(parlogin.EndpointPAR, oidctest.Fault{Status: 500}) // replaces the fault
	if got := push(); got != 500 {
		t.Errorf("after a second Inject: status %d, want 500", got)
	}
	e.srv.ClearFaults()
	if got := push(); got != 201 {
		t.Errorf("after ClearFaults: status %d, want 201", got)
	}
}

func TestAuthorizationFault(t *testing.T) {
	e := newEnv(t)
	fault := oidctest.Fault{Error: "access_denied", ErrorDescription: "the user said no"}

	e.srv.Inject(parlogin.EndpointAuthorization, fault)
	params, _ := e.authParams(e.client)
	uri := e.push(e.client, params)
	got := e.authorizeParams(e.client, uri)
	want := url.Values{"error": {"access_denied"}, "error_description": {"the user said no"}, "state": {params.Get("state")}, "iss": {e.srv.Issuer}}
	if got.Encode() != want.Encode() {
		t.Errorf("redirect with %v, want %v", got, want)
	}

	params, _ = e.authParams(e.client)
	params.Set("response_mode", "form_post")
	resp, body := e.authorize(e.client, e.push(e.client, params))
	want.Set("state", params.Get("state"))
	if fields := hiddenFields(string(body)); resp.StatusCode != http.StatusOK || fields.Encode() != want.Encode() {
		t.Errorf("form_post: status %d, fields %v, want %v", resp.StatusCode, fields, want)
	}

	e.srv.Inject(parlogin.EndpointAuthorization, oidctest.Fault{Status: 500, Body: "down"})
	params, _ = e.authParams(e.client)
	resp, body = e.authorize(e.client, e.push(e.client, params))
	if resp.StatusCode != 500 || string(body) != "down" {
		t.Errorf("Status and Body: status %d: %q, want 500 down", resp.StatusCode, body)
	}
}

func TestFaultDelay(t *testing.T) {
	t.Run("elapses", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Inject(parlogin.EndpointPAR, oidctest.Fault{Delay: time.Millisecond})
		params, _ := e.authParams(e.client)
		if status, body := e.par(e.client, params); status != http.StatusCreated {
			t.Errorf("status %d, want 201 after the delay: %s", status, body)
		}
	})

	t.Run("released by the request context", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Inject(parlogin.EndpointPAR, oidctest.Fault{Delay: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The request is written once the handler reads the body (Expect: 100-continue).
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }})
		_, err := e.delayedPAR(ctx)
		if err == nil || ctx.Err() == nil {
			t.Fatalf("request ended with %v, want a cancelled context", err)
		}
		// Cleanup closes the server, which blocks until the handler has returned.
	})

	t.Run("released by Close", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Inject(parlogin.EndpointPAR, oidctest.Fault{Delay: time.Hour})
		written := make(chan struct{})
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(written) }})
		type result struct {
			status int
			err    error
		}
		done := make(chan result, 1)
		go func() {
			status, err := e.delayedPAR(ctx)
			done <- result{status, err}
		}()
		<-written
		e.srv.Close()
		if r := <-done; r.err != nil || r.status != http.StatusCreated {
			t.Errorf("delayed request: status %d, error %v; want 201 once Close released it", r.status, r.err)
		}
	})
}

// delayedPAR sends a valid PAR request with Expect: 100-continue, so that the request is
// written only once the provider's handler reads it.
func (e *env) delayedPAR(ctx context.Context) (int, error) {
	params, _ := e.authParams(e.client)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint("pushed_authorization_request_endpoint"), strings.NewReader(merge(params, e.clientAuth(e.client)).Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Expect", "100-continue")
	tr := e.http.Transport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = time.Minute
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
