package oidctest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// Fault changes how an endpoint answers. It applies before the endpoint's normal processing
// (after the request is recorded), in this order: Delay, then the first of Body, Error and
// Status that is set. A Fault with only Delay set answers normally after the delay.
type Fault struct {
	// Error, when set, is answered as an OAuth 2.0 error (with ErrorDescription). Back-channel
	// endpoints answer JSON {"error","error_description"} with Status (default 400); the
	// authorization endpoint redirects to the client's redirect_uri with error, error_description,
	// state (when known) and iss (not in PingOne mode), honouring response_mode (with pi.flow, it
	// answers PingOne's JSON error, whose first detail holds error and error_description); the
	// end-session endpoint shows an error page with Status (default 400).
	Error, ErrorDescription string
	// Status, with Body, replaces the whole answer of an endpoint (e.g. 500 "oops", or
	// 201 with malformed JSON); Body without Status is answered with 200. The body is sent as
	// application/json when it starts with '{' or '[', as text/plain otherwise.
	// Status without Body and Error answers an empty body with that status. A Status outside
	// 200–599 (net/http cannot send it as a final answer) is answered as 500.
	Status int
	Body   string
	// Delay holds the answer for this long, or until the request's context is done or the server
	// is closed, whichever comes first. A request whose context is done gets no answer.
	Delay time.Duration
	// Times is how many requests the fault applies to; 0 (or less) means until cleared.
	Times int
}

// Inject makes f apply to the next requests at e; it replaces any fault on e.
func (s *Server) Inject(e Endpoint, f Fault) {
	s.lock()
	s.faults[e] = &f
	s.mu.Unlock()
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.lock()
	clear(s.faults)
	s.mu.Unlock()
}

// takeFault returns the fault that applies to a request at e, counting it against Times.
func (s *Server) takeFault(e Endpoint) (Fault, bool) {
	s.lock()
	defer s.mu.Unlock()
	f, ok := s.faults[e]
	if !ok {
		return Fault{}, false
	}
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(s.faults, e)
		}
	}
	return *f, true
}

// waitDelay waits for d, or until ctx is done or closed is closed. It reports false when ctx
// is done (the client has gone and nothing should be answered).
func waitDelay(ctx context.Context, d time.Duration, closed <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-closed:
		return true
	case <-ctx.Done():
		return false
	}
}

// answerFault answers f at e when f replaces the answer, and reports whether it did. An Error
// fault at the authorization endpoint is left to the endpoint, which sends it to the client.
func (s *Server) answerFault(w http.ResponseWriter, e Endpoint, f Fault) bool {
	switch {
	case f.Body != "":
		status := faultStatus(f.Status, http.StatusOK)
		h := w.Header()
		if b := strings.TrimSpace(f.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			h.Set("Content-Type", "application/json")
		} else {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
		return true
	case f.Error != "":
		status := faultStatus(f.Status, http.StatusBadRequest)
		switch e {
		case endpoint.Authorization:
			return false
		case endpoint.EndSession:
			s.errorPage(w, status, f.Error, f.ErrorDescription)
		default:
			if e == endpoint.UserInfo && status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="`+printable(f.Error)+`"`)
			}
			writeOAuthError(w, &oauthError{status: status, code: f.Error, description: f.ErrorDescription})
		}
		return true
	case f.Status != 0:
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(faultStatus(f.Status, http.StatusOK))
		return true
	}
	return false
}

// faultStatus returns the status to answer for a Fault.Status: def when it is 0, 500 when it is
// not a final HTTP status (net/http panics on codes outside 100–999 and treats 1xx as interim).
func faultStatus(status, def int) int {
	switch {
	case status == 0:
		return def
	case status < 200 || status > 599:
		return http.StatusInternalServerError
	}
	return status
}
