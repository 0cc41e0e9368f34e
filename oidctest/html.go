package oidctest

import (
	"bytes"
	"html"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// pages are the HTML pages of the provider: self-contained, no external assets, and escaped
// by html/template.
var pages = template.Must(template.New("pages").Parse(`
{{- define "head" -}}
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.}} — oidctest</title>
<style>
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f3f4f6; }
main { width: 100%; max-width: 22rem; margin: 1rem; padding: 2rem; background: #fff;
  border: 1px solid #d0d7de; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h1 { margin: 0 0 .25rem; font-size: 1.5rem; }
p { margin: .5rem 0; }
.note { color: #59636e; font-size: .875rem; }
.error { color: #b42318; }
label { display: block; margin: 1.25rem 0 .25rem; font-weight: 600; }
input[type=text] { box-sizing: border-box; width: 100%; padding: .5rem .625rem; font: inherit;
  border: 1px solid #d0d7de; border-radius: 6px; }
button { margin-top: 1rem; width: 100%; padding: .5rem; font: inherit; font-weight: 600; color: #fff;
  background: #1f6feb; border: 0; border-radius: 6px; cursor: pointer; }
button:hover { background: #1a5fd0; }
code { word-break: break-all; }
</style>
</head>
{{- end}}

{{- define "login" -}}
{{template "head" "Sign in"}}
<body>
<main>
<h1>Sign in</h1>
<p class="note">oidctest, a test OpenID Provider. Any username signs in.</p>
{{- if .Error}}
<p class="error" role="alert">{{.Error}}</p>
{{- end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="interaction" value="{{.Interaction}}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" autofocus required>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
{{end}}

{{- define "form_post" -}}
{{template "head" "Continue"}}
<body onload="document.forms[0].submit()">
<main>
<form method="post" action="{{.Action}}">
{{- range .Fields}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<noscript>
<p>JavaScript is off. Continue to the application:</p>
<button type="submit">Continue</button>
</noscript>
</form>
</main>
</body>
</html>
{{end}}

{{- define "message" -}}
{{template "head" .Title}}
<body>
<main>
<h1>{{.Title}}</h1>
{{- if .Code}}
<p class="error"><code>{{.Code}}</code></p>
{{- end}}
<p>{{.Text}}</p>
</main>
</body>
</html>
{{end}}
`))

// loginData fills the login page.
type loginData struct {
	Action      string // filled by loginPage
	Interaction string
	Username    string
	Error       string
}

// field is a hidden form field.
type field struct{ Name, Value string }

// loginPage renders the login form, which posts to the authorization endpoint.
func (s *Server) loginPage(w http.ResponseWriter, status int, d loginData) {
	d.Action = s.cfg.authorizePath
	writePage(w, status, "login", d, "")
}

// formPostPage renders a page that posts params to redirectURI as soon as it loads.
func (s *Server) formPostPage(w http.ResponseWriter, redirectURI string, params url.Values) {
	var fields []field
	for _, name := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[name] {
			fields = append(fields, field{name, v})
		}
	}
	d := struct {
		Action template.URL // the registered redirect URI, trusted as is (it may have any scheme)
		Fields []field
	}{template.URL(redirectURI), fields} //nolint:gosec // G203: a redirect URI registered exactly and matched before

	writePage(w, http.StatusOK, "form_post", d, "script-src 'unsafe-inline'; ")
}

// errorPage renders an error that cannot be sent to a client.
func (s *Server) errorPage(w http.ResponseWriter, status int, code, description string) {
	writePage(w, status, "message", messageData{Title: "Error", Code: code, Text: description}, "")
}

// signedOutPage renders the page shown after logout without a redirect.
func (s *Server) signedOutPage(w http.ResponseWriter) {
	writePage(w, http.StatusOK, "message", messageData{Title: "Signed out", Text: "You have been signed out."}, "")
}

// messageData fills the message page.
type messageData struct {
	Title, Code, Text string
}

// writePage renders page with data, no caching and a strict Content-Security-Policy.
func writePage(w http.ResponseWriter, status int, page string, data any, extraCSP string) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, page, data); err != nil {
		http.Error(w, "oidctest: cannot render the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "+extraCSP+"frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var (
	invisibleHTML = regexp.MustCompile(`(?is)<style\b.*?</style>|<script\b.*?</script>`)
	htmlTag       = regexp.MustCompile(`(?s)<[^>]*>`)
)

// excerpt returns the start of a page (HTML or not) as text, for an error message.
func excerpt(page []byte) string {
	const limit = 300
	text := invisibleHTML.ReplaceAll(page, nil)
	text = htmlTag.ReplaceAll(text, []byte(" "))
	s := strings.Join(strings.Fields(html.UnescapeString(string(text))), " ")
	if s == "" {
		return "(empty body)"
	}
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
