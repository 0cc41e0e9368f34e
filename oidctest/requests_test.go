package oidctest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parlogin/parlogin"
)

func TestRequests(t *testing.T) {
	e := newEnv(t)
	// A rejected PAR request is recorded too.
	e.par(e.client, url.Values{"client_id": {e.client.ID}, "client_secret": {"wrong"}})
	code, params, verifier := e.code(e.client, nil)
	e.exchange(e.client, code, verifier)

	pars := e.srv.Requests(parlogin.EndpointPAR)
	if len(pars) != 2 {
		t.Fatalf("%d PAR requests recorded, want 2", len(pars))
	}
	if pars[0].Get("client_secret") != "wrong" {
		t.Errorf("first PAR request %v, want the rejected one", pars[0])
	}
	for _, name := range []string{"state", "nonce", "code_challenge", "client_assertion"} {
		if pars[1].Get(name) == "" || (params.Has(name) && pars[1].Get(name) != params.Get(name)) {
			t.Errorf("recorded PAR %s = %q, want %q", name, pars[1].Get(name), params.Get(name))
		}
	}
	authz := e.srv.Requests(parlogin.EndpointAuthorization)
	if len(authz) != 1 || authz[0].Get("client_id") != e.client.ID || !strings.HasPrefix(authz[0].Get("request_uri"), "urn:") {
		t.Errorf("recorded authorization requests %v, want one with client_id and request_uri", authz)
	}
	tokens := e.srv.Requests(parlogin.EndpointToken)
	if len(tokens) != 1 || tokens[0].Get("code") != code || tokens[0].Get("code_verifier") != verifier {
		t.Errorf("recorded token requests %v, want one with the code and verifier", tokens)
	}

	// Requests returns copies.
	pars[1].Set("state", "changed")
	if e.srv.Requests(parlogin.EndpointPAR)[1].Get("state") == "changed" {
		t.Error("changing the result of Requests changed the record")
	}
	if got := e.srv.Requests(parlogin.EndpointEndSession); len(got) != 0 {
		t.Errorf("Requests(EndSession) = %v, want none", got)
	}
}
