module github.com/parlogin/parlogin

go 1.25.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/go-jose/go-jose/v4 v4.1.4
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/gorilla/sessions v1.4.0
	golang.org/x/oauth2 v0.36.0
)

require github.com/gorilla/securecookie v1.1.2
