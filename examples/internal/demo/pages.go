package demo

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"github.com/parlogin/parlogin"
	"golang.org/x/oauth2"
)

// profile is what the pages show of a user.
type profile struct {
	Subject  string    `json:"sub"`
	Issuer   string    `json:"iss"`
	Name     string    `json:"name,omitempty"`
	Email    string    `json:"email,omitempty"`
	AuthTime time.Time `json:"auth_time,omitzero"`
	Expiry   time.Time `json:"session_expiry"`
}

func newProfile(u *parlogin.User) *profile {
	if u == nil {
		return nil
	}
	p := &profile{Subject: u.Subject, Issuer: u.Issuer, AuthTime: u.AuthTime, Expiry: u.Expiry}
	_ = u.Claims(p) // name and email, when the provider sent them
	p.Subject, p.Issuer = u.Subject, u.Issuer
	return p
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}} — parlogin example</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
dt{font-weight:600}button{font:inherit}nav a{margin-right:1rem}</style></head>
<body><nav><a href="/">Home</a><a href="/private">Private page</a><a href="/api/me">/api/me</a></nav>
<h1>{{.Title}}</h1>
{{with .User}}
<p>Signed in as <strong id="sub">{{.Subject}}</strong>.</p>
<dl><dt>Name</dt><dd id="name">{{.Name}}</dd><dt>Email</dt><dd id="email">{{.Email}}</dd>
<dt>Issuer</dt><dd>{{.Issuer}}</dd><dt>Session ends</dt><dd>{{.Expiry.Format "2006-01-02 15:04 MST"}}</dd></dl>
<form method="post" action="/auth/logout"><button id="logout">Sign out</button></form>
{{else}}
<p>You are not signed in. <a id="login" href="/auth/login?return_to=/private">Sign in</a></p>
{{end}}
</body></html>
`))

func render(w http.ResponseWriter, title string, u *parlogin.User) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, struct {
		Title string
		User  *profile
	}{title, newProfile(u)})
}

// Home renders the public home page; u is the signed-in user or nil.
func Home(w http.ResponseWriter, u *parlogin.User) { render(w, "parlogin example", u) }

// Private renders the protected page for u.
func Private(w http.ResponseWriter, u *parlogin.User) { render(w, "Private page", u) }

// Me answers the protected JSON API with u's profile.
func Me(w http.ResponseWriter, u *parlogin.User) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(newProfile(u))
}

// Token answers GET /api/token with what kind of token tok is and when it expires, never with the
// tokens themselves: they are credentials, for the app's own calls to APIs.
func Token(w http.ResponseWriter, tok *oauth2.Token) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Type   string    `json:"token_type"`
		Expiry time.Time `json:"expiry,omitzero"`
	}{tok.Type(), tok.Expiry.UTC()})
}
