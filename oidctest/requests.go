package oidctest

import "net/url"

// maxRecordedRequests is how many requests of each endpoint Requests keeps.
const maxRecordedRequests = 1000

// Requests returns copies of the form parameters of the requests received at e (PAR, Token and
// Revocation: the POST body; Authorization/EndSession/UserInfo: the query + form), oldest first,
// so that tests can assert what a client sent. Rejected requests are recorded too.
//
// Only the most recent 1000 requests of each endpoint are kept, so that a long-running server
// (such as one embedded in an example program) does not grow without bound.
func (s *Server) Requests(e Endpoint) []url.Values {
	s.lock()
	defer s.mu.Unlock()
	return s.requests[e].all()
}

// record keeps a copy of the parameters of a request to e.
func (s *Server) record(e Endpoint, params url.Values) {
	v := cloneValues(params)
	s.lock()
	l := s.requests[e]
	if l == nil {
		l = &requestLog{}
		s.requests[e] = l
	}
	l.add(v)
	s.mu.Unlock()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// requestLog is a ring of the most recent maxRecordedRequests requests of one endpoint.
// A nil *requestLog is empty.
type requestLog struct {
	entries []url.Values
	oldest  int // index of the oldest entry once the ring is full
}

func (l *requestLog) add(v url.Values) {
	if len(l.entries) < maxRecordedRequests {
		l.entries = append(l.entries, v)
		return
	}
	l.entries[l.oldest] = v
	l.oldest = (l.oldest + 1) % len(l.entries)
}

// all returns copies of the entries, oldest first.
func (l *requestLog) all() []url.Values {
	if l == nil {
		return []url.Values{}
	}
	out := make([]url.Values, 0, len(l.entries))
	for i := range l.entries {
		out = append(out, cloneValues(l.entries[(l.oldest+i)%len(l.entries)]))
	}
	return out
}
