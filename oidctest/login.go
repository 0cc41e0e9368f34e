package oidctest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is the provider's view of a client returned by Login: the subject it signs in and its
// provider session. sid and signIns are guarded by Server.mu.
type browser struct {
	subject string
	sid     string // its provider session, once it signed in
	signIns int    // sign-ins so far, so that Login can tell whether its navigation signed in
}

// maxLoginPages bounds the provider pages (login form, form_post page) one Login submits.
const maxLoginPages = 4

// Login signs subject in to the application behind target, as a browser would, and returns that
// browser: an HTTP client whose cookie jar holds the application's session. It is meant for
// tests of applications that use this provider:
//
//	client := srv.Login(t, app.URL+"/private", "alice")
//	resp, err := client.Get(app.URL + "/private") // as alice
//
// target is a URL of the application that starts a login: a protected page or its login route.
// Login navigates there with the headers of a browser navigation (Accept: text/html,
// Sec-Fetch-Mode: navigate, Sec-Fetch-Site, and Origin on POSTs), follows the redirects through
// this provider, signs subject in, delivers the authorization response (posting the form_post
// page as a browser runs it) and follows the application's redirects. With LoginForm, Login
// answers the login form; without it, subject is bound to the authorization request it takes
// to the provider (pushed, or in PingOne mode sent in the URL of a GET), so that parallel tests
// can log different subjects in at once without changing the default user. subject is signed in like a username typed in the form: as registered with AddUser or
// SetUser, or as a user generated for that name.
//
// Login fails the test with the URL, status and an excerpt of the page unless the navigation
// signed in at this provider and ended on a 2xx page of the application. Like t.Fatal, it must
// be called from the goroutine running the test.
//
// The returned client goes on behaving like that browser. Requests without a Sec-Fetch-Mode
// header are sent as navigations. It keeps its provider session as a browser keeps the
// provider's cookie: a later login through it (a step-up to a higher acr, another application of
// this provider) signs subject in again in the same session (same sid), and auth_time changes
// only when the request demands a new authentication (prompt=login, an exceeded max_age, or
// acr_values the session does not satisfy). The client does not run pages, though: a login that
// needs the login form, or an application that uses form_post, stops on the provider's page.
// Pass the client to [Server.LoginWith] to drive such a login in the same browser.
//
// The client is based on [Server.Client]: after StartTLS it trusts this server's certificate,
// which is also the certificate of every [httptest] TLS server that does not set its own (valid
// for 127.0.0.1, ::1, example.com and *.example.com). Use [Server.LoginWith] for other
// applications, such as an httptest TLS application with a plain HTTP provider.
func (s *Server) Login(t testing.TB, target, subject string) *http.Client {
	t.Helper()
	return s.LoginWith(t, s.Client(), target, subject)
}

// LoginWith is [Server.Login] with base as the browser.
//
// When base is a client returned by Login or LoginWith for the same subject, the login happens
// in that browser: its cookie jar and provider session. The returned client is then base.
//
// Otherwise base is any client that reaches the application and this server: app.Client() for
// an httptest TLS application and a plain HTTP provider, or a client whose transport resolves
// the application's host name; nil means [Server.Client]. The returned client is a copy of base
// (Timeout, CheckRedirect) whose transport wraps base's, and whose jar is base's, or a new one
// when base has none.
//
// Either way, Login follows every redirect itself, whatever base.CheckRedirect says.
func (s *Server) LoginWith(t testing.TB, base *http.Client, target, subject string) *http.Client {
	t.Helper()
	if problem := checkUsername(subject); problem != "" {
		t.Fatalf("oidctest: Login as %q: %s", subject, problem)
	}
	if base == nil {
		base = s.Client()
	}
	client := base
	n, ok := base.Transport.(*navigator)
	if !ok || n.srv != s || n.browser.subject != subject {
		next := *base
		if ok {
			next.Transport = &navigator{srv: s, browser: &browser{subject: subject}, base: n.base}
		} else {
			next.Transport = &navigator{srv: s, browser: &browser{subject: subject}, base: base.Transport}
		}
		if next.Jar == nil {
			next.Jar, _ = cookiejar.New(nil) // never fails without options
		}
		client = &next
	}
	nav := *client
	nav.CheckRedirect = nil
	if err := s.login(&nav, client.Transport.(*navigator).browser, target); err != nil {
		t.Fatalf("oidctest: Login as %q at %s: %v", subject, target, err)
	}
	return client
}

// login runs the navigation of Login in b.
func (s *Server) login(c *http.Client, b *browser, target string) error {
	s.lock()
	signIns := b.signIns
	s.mu.Unlock()
	resp, page, err := navigate(c, http.MethodGet, target, nil, "")
	for range maxLoginPages {
		if err != nil || !s.serves(resp.Request.URL) || resp.StatusCode != http.StatusOK {
			break
		}
		// A page of this provider that the browser must submit: the login form or the
		// form_post page.
		action, fields, ok := parseForm(page)
		if !ok {
			break
		}
		if fields.Has("interaction") {
			fields.Set("username", b.subject)
		}
		to, perr := resp.Request.URL.Parse(action)
		if perr != nil {
			return fmt.Errorf("the form of %s has an invalid action %q", resp.Request.URL, action)
		}
		resp, page, err = navigate(c, http.MethodPost, to.String(), fields, origin(resp.Request.URL))
	}
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s %s", resp.Request.Method, resp.Request.URL)
	if s.serves(resp.Request.URL) || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the navigation ended at %s, which answered %d: %s", where, resp.StatusCode, excerpt(page))
	}
	s.lock()
	signedIn := b.signIns > signIns
	s.mu.Unlock()
	if !signedIn {
		return fmt.Errorf("the navigation ended at %s (status %d) without signing in at the provider; target must start a login (a protected page or the login route): %s", where, resp.StatusCode, excerpt(page))
	}
	return nil
}

// navigate sends a navigation request (a form POST when form is not nil, with the Origin of the
// page submitting it) and returns the final answer with its body, up to 1 MB.
func navigate(c *http.Client, method, target string, form url.Values, fromOrigin string) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", fromOrigin)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer of %s %s: %w", resp.Request.Method, resp.Request.URL, err)
	}
	return resp, page, nil
}

// serves reports whether u is a URL of this server.
func (s *Server) serves(u *url.URL) bool {
	return origin(u) == s.URL
}

// bind binds the pushed request uri, if it is still unused, to b.
func (s *Server) bind(uri string, b *browser) {
	s.lock()
	defer s.mu.Unlock()
	if p, ok := s.pushed[uri]; ok && !p.used && p.request.browser == nil {
		p.request.browser = b
	}
}

// directLogin is a Login browser waiting for the authorization request it sent without PAR
// (PingOne mode), which is known only by its query.
type directLogin struct {
	browser *browser
	expires time.Time
}

// bindDirect binds the authorization request of query, not pushed, to b.
func (s *Server) bindDirect(query string, b *browser) {
	now := s.now()
	s.lock()
	defer s.mu.Unlock()
	s.directLogins[query] = &directLogin{browser: b, expires: now.Add(interactionLifetime)}
	s.maybeSweepLocked(now)
}

// takeDirectBrowser returns the Login browser that sent the authorization request of query, not
// pushed, or nil.
func (s *Server) takeDirectBrowser(query string, now time.Time) *browser {
	s.lock()
	defer s.mu.Unlock()
	d, ok := s.directLogins[query]
	if !ok {
		return nil
	}
	delete(s.directLogins, query)
	if now.After(d.expires) {
		return nil
	}
	return d.browser
}

// navigator is the transport of a Login client: it sends requests as browser navigations and
// binds the authorization requests it takes to the authorization endpoint to its browser.
type navigator struct {
	srv     *Server
	browser *browser
	base    http.RoundTripper // nil means http.DefaultTransport
}

func (n *navigator) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper must not modify its request
	setNavigationHeaders(req)
	if n.srv.serves(req.URL) && req.URL.EscapedPath() == n.srv.cfg.authorizePath {
		q := req.URL.Query()
		switch {
		case q.Get("request_uri") != "":
			n.srv.bind(q.Get("request_uri"), n.browser)
		case n.srv.cfg.pingOne && req.Method == http.MethodGet && q.Get("client_id") != "":
			n.srv.bindDirect(req.URL.RawQuery, n.browser)
		}
	}
	base := n.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// setNavigationHeaders gives req the headers of a browser navigation (Fetch Metadata), unless
// its sender made it another kind of request (a Sec-Fetch-Mode other than navigate). Headers
// that the sender set on the first request of a redirect chain are kept on that request.
func setNavigationHeaders(req *http.Request) {
	h := req.Header
	if mode := h.Get("Sec-Fetch-Mode"); mode != "" && mode != "navigate" {
		return
	}
	redirected := req.Response != nil
	h.Set("Sec-Fetch-Mode", "navigate")
	if h.Get("Sec-Fetch-Dest") == "" {
		h.Set("Sec-Fetch-Dest", "document")
	}
	if h.Get("Accept") == "" {
		h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	}

	// The chain of URLs of this navigation, and the page that started it.
	first := req
	chain := []*url.URL{req.URL}
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		first = r.Response.Request
		chain = append(chain, first.URL)
	}
	from := first.Header.Get("Origin")
	if from == "" && first.Method != http.MethodGet && first.Method != http.MethodHead {
		from = origin(first.URL) // a form of the page itself
	}
	if redirected || h.Get("Sec-Fetch-Site") == "" {
		h.Set("Sec-Fetch-Site", fetchSite(from, chain))
	}
	switch {
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
		if redirected {
			h.Del("Origin") // copied by http.Client from a POST; navigations by GET send none
		}
	case redirected && fetchSite(from, chain) != "same-origin":
		h.Set("Origin", "null") // a POST redirected across origins (307, 308)
	case h.Get("Origin") == "":
		h.Set("Origin", from)
	}
}

// fetchSite returns the Sec-Fetch-Site of a navigation started by a page of origin from ("" for
// one the user started, as from the address bar) through the URLs of chain.
func fetchSite(from string, chain []*url.URL) string {
	if from == "" {
		return "none"
	}
	f, err := url.Parse(from)
	if err != nil || f.Host == "" {
		return "cross-site" // an opaque ("null") origin
	}
	site := "same-origin"
	for _, u := range chain {
		switch {
		case origin(u) == origin(f):
		case sameSite(u, f):
			site = "same-site"
		default:
			return "cross-site"
		}
	}
	return site
}

// origin returns the serialized origin of u, "scheme://host[:port]", as browsers send it.
func origin(u *url.URL) string {
	o := &url.URL{Scheme: strings.ToLower(u.Scheme), Host: strings.ToLower(u.Host)}
	if p := u.Port(); (o.Scheme == "http" && p == "80") || (o.Scheme == "https" && p == "443") {
		o.Host = strings.ToLower(u.Hostname())
		if strings.Contains(o.Host, ":") {
			o.Host = "[" + o.Host + "]"
		}
	}
	return o.String()
}

// sameSite reports whether a and b are schemefully same-site. Without the public suffix list, a
// site is approximated by the last two labels of a host name (app.example.com and
// auth.example.com are same-site; 127.0.0.1 and localhost are not): enough for tests.
func sameSite(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && site(a.Hostname()) == site(b.Hostname())
}

func site(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(host, ":") || strings.Trim(host, "0123456789.") == "" {
		return host // an IP address is its own site
	}
	labels := strings.Split(host, ".")
	if len(labels) > 2 {
		labels = labels[len(labels)-2:]
	}
	return strings.Join(labels, ".")
}

var (
	formTag     = regexp.MustCompile(`(?is)<form\b[^>]*\baction="([^"]*)"`)
	inputTag    = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	inputName   = regexp.MustCompile(`(?is)\bname="([^"]*)"`)
	inputValue  = regexp.MustCompile(`(?is)\bvalue="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`(?is)\btype="hidden"`)
)

// parseForm reads the form of a page of this provider (the login form or the form_post page):
// its action and its hidden fields. The pages come from html.go, so attributes are always
// double-quoted.
func parseForm(page []byte) (action string, fields url.Values, ok bool) {
	m := formTag.FindSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	fields = url.Values{}
	for _, input := range inputTag.FindAll(page, -1) {
		name, value := inputName.FindSubmatch(input), inputValue.FindSubmatch(input)
		if name == nil || value == nil || !hiddenInput.Match(input) {
			continue
		}
		fields.Add(html.UnescapeString(string(name[1])), html.UnescapeString(string(value[1])))
	}
	return html.UnescapeString(string(m[1])), fields, true
}
