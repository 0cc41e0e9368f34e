package oidctest

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/parlogin/parlogin/internal/endpoint"
)

func TestRequestsAreBounded(t *testing.T) {
	s := NewUnstartedServer()
	const n = 2*maxRecordedRequests + 500
	for i := range n {
		s.record(endpoint.PAR, url.Values{"i": {strconv.Itoa(i)}})
	}
	s.record(endpoint.Token, url.Values{"i": {"token"}})

	got := s.Requests(endpoint.PAR)
	if len(got) != maxRecordedRequests {
		t.Fatalf("%d PAR requests kept, want %d", len(got), maxRecordedRequests)
	}
	for j, v := range got {
		if want := strconv.Itoa(n - maxRecordedRequests + j); v.Get("i") != want {
			t.Fatalf("request %d is number %s, want %s (the newest, oldest first)", j, v.Get("i"), want)
		}
	}
	if tok := s.Requests(endpoint.Token); len(tok) != 1 || tok[0].Get("i") != "token" {
		t.Errorf("Token requests %v, want their own record", tok)
	}
	if none := s.Requests(endpoint.UserInfo); none == nil || len(none) != 0 {
		t.Errorf("Requests(UserInfo) = %#v, want an empty slice", none)
	}
}
