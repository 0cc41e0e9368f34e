// Package browser is a small scripted browser for the examples' end-to-end tests: a cookie jar,
// navigation requests that follow redirects, and HTML forms that can be filled in and submitted,
// such as a provider's login page or a form_post response.
package browser

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
)

// Browser keeps cookies across requests and makes navigation requests.
type Browser struct {
	Client *http.Client

	mu      sync.Mutex
	history []*url.URL
}

// New returns a browser whose requests go through transport (nil: the default transport).
func New(transport http.RoundTripper) *Browser {
	if transport == nil {
		transport = http.DefaultTransport
	}
	jar, _ := cookiejar.New(nil)
	b := &Browser{}
	b.Client = &http.Client{Jar: jar, Transport: recorder{b, transport}}
	return b
}

// History returns the URLs of every request made so far, redirects included, oldest first.
func (b *Browser) History() []*url.URL {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.history)
}

// recorder records the URL of every request the browser makes.
type recorder struct {
	b    *Browser
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.b.mu.Lock()
	r.b.history = append(r.b.history, req.URL)
	r.b.mu.Unlock()
	return r.next.RoundTrip(req)
}

// Page is a loaded page.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   string
}

// Get navigates to target, following redirects.
func (b *Browser) Get(target string) (*Page, error) {
	return b.navigate(http.MethodGet, target, nil)
}

// Post posts values to target as a form submission would, following redirects.
func (b *Browser) Post(target string, values url.Values) (*Page, error) {
	return b.navigate(http.MethodPost, target, values)
}

// Fetch makes a script request (not a navigation) to target.
func (b *Browser) Fetch(target string) (*Page, error) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (b *Browser) navigate(method, target string, values url.Values) (*Page, error) {
	var body io.Reader
	if values != nil {
		body = strings.NewReader(values.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, err
	}
	if values != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// A form posts to its own origin; a browser says so (what logout's CSRF check reads).
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	return b.do(req)
}

func (b *Browser) do(req *http.Request) (*Page, error) {
	resp, err := b.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}, nil
}

// Form is an HTML form of a page.
type Form struct {
	Action *url.URL
	Method string
	Fields url.Values // the inputs' names and values, as the page set them
}

// Forms returns the page's forms.
func (p *Page) Forms() ([]*Form, error) {
	doc, err := html.Parse(strings.NewReader(p.Body))
	if err != nil {
		return nil, err
	}
	var forms []*Form
	var current *Form
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				action, _ := p.URL.Parse(attr(n, "action"))
				current = &Form{Action: action, Method: strings.ToUpper(attr(n, "method")), Fields: url.Values{}}
				if current.Method == "" {
					current.Method = http.MethodGet
				}
				forms = append(forms, current)
			case "input", "button":
				if name := attr(n, "name"); current != nil && name != "" && attr(n, "type") != "submit" && n.Data == "input" {
					current.Fields.Add(name, attr(n, "value"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, nil
}

// Submit submits the page's first form, with fields overriding the page's values.
func (b *Browser) Submit(p *Page, fields map[string]string) (*Page, error) {
	forms, err := p.Forms()
	if err != nil {
		return nil, err
	}
	if len(forms) == 0 {
		return nil, fmt.Errorf("no form on %s (status %d): %s", p.URL, p.Status, excerpt(p.Body))
	}
	f := forms[0]
	for k, v := range fields {
		f.Fields.Set(k, v)
	}
	if f.Method == http.MethodGet {
		u := *f.Action
		u.RawQuery = f.Fields.Encode()
		return b.Get(u.String())
	}
	return b.Post(f.Action.String(), f.Fields)
}

// Cookies returns the browser's cookies for target.
func (b *Browser) Cookies(target string) []*http.Cookie {
	u, err := url.Parse(target)
	if err != nil {
		return nil
	}
	return b.Client.Jar.Cookies(u)
}

// T is a Browser for tests: its Get, Post, Fetch and Submit fail the test instead of returning an
// error.
type T struct {
	*Browser
	t testing.TB
}

// NewT returns a new browser for t (see [New]).
func NewT(t testing.TB, transport http.RoundTripper) *T {
	return &T{Browser: New(transport), t: t}
}

// Get navigates to target, following redirects.
func (b *T) Get(target string) *Page { return b.must(b.Browser.Get(target)) }

// Post posts values to target as a form submission would, following redirects.
func (b *T) Post(target string, values url.Values) *Page {
	return b.must(b.Browser.Post(target, values))
}

// Fetch makes a script request (not a navigation) to target.
func (b *T) Fetch(target string) *Page { return b.must(b.Browser.Fetch(target)) }

// Submit submits the page's first form, with fields overriding the page's values.
func (b *T) Submit(p *Page, fields map[string]string) *Page {
	return b.must(b.Browser.Submit(p, fields))
}

func (b *T) must(p *Page, err error) *Page {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func excerpt(s string) string {
	s = string(bytes.TrimSpace([]byte(s)))
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
