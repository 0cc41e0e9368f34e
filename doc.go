// Package parlogin signs users of a net/http app in with OpenID Connect, starting every login
// with a Pushed Authorization Request (RFC 9126) authenticated with client_secret_jwt or
// private_key_jwt (RFC 7523, OpenID Connect Core §9).
//
// # Quick start
//
//	auth, err := parlogin.New(ctx, parlogin.Config{
//		Issuer:       "https://auth.pingone.com/<envID>/as",
//		ClientID:     "…",
//		ClientSecret: "…",
//		RedirectURL:  "https://app.example.com/auth/callback",
//		Store:        sessions.NewCookieStore(hashKey, blockKey),
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("/auth/", auth.Handler()) // callback, login, logout, backchannel-logout
//	mux.Handle("/app/", auth.Require(app))
//
// Inside app, [FromContext] returns the signed-in [User]. Package
// [github.com/parlogin/parlogin/oidctest] is a strict in-process provider to test such apps: its
// Server.Login returns a signed-in client in one call.
//
// # The flow
//
// A browser that requests a protected page without a session is sent to log in: parlogin makes a
// state, a nonce and a PKCE verifier, keeps them in a short-lived cookie of their own, and POSTs
// the authorization parameters to the provider's PAR endpoint with a fresh client assertion (a
// JWT: iss = sub = client_id, aud = issuer, a unique jti, a 60-second exp). The browser then goes
// to the authorization endpoint with only client_id and the request_uri the provider returned. At
// the callback, parlogin checks the state (and iss, RFC 9207), exchanges the code with another
// assertion and the PKCE verifier, verifies the ID token and its nonce, adds the claims of the
// UserInfo endpoint, starts a fresh session and returns the user to the page they asked for.
//
// A signed-in user's requests cost little: a session cookie seen before is served from a bounded
// in-memory cache, its expiry and revocations checked every time.
//
// # Replicas
//
// Several processes of one app share their session store's keys and a [Shared], such as the Redis
// one of github.com/parlogin/parlogin/stores/parloginredis: a state is then consumed once, a
// refresh token redeemed once, and a logout (or a back-channel logout) ends a session on every
// replica within a second, cookie sessions included.
//
// # Routes and frameworks
//
// [Middleware.Require] is a func(http.Handler) http.Handler, for net/http and chi, and
// [Middleware.RequirePolicy] its step-up variant (RFC 9470); [Middleware.Authenticate] serves
// framework adapters, such as the modules github.com/parlogin/parlogin/adapters/parloginchi,
// parlogingin and parloginecho. [Middleware.Handler] serves parlogin's own routes, which Require
// lets through unguarded.
//
// # Security model
//
//   - Every login uses PKCE S256 (RFC 7636), a 130-bit state and nonce, and PAR, so that the
//     authorization parameters travel over the authenticated back channel, not the browser.
//   - A state is single-use (on every replica) and bound to the browser that started the login:
//     it names a cookie that only that browser holds, encrypted and MACed with its name. Several
//     logins may be pending at once (tabs); at most five, for at most ten minutes each.
//   - The authorization response's iss is compared with the issuer whenever present and required
//     when the provider advertises authorization_response_iss_parameter_supported (mix-up defence).
//     An error response counts as the provider's only for a pending login of this browser.
//   - The ID token is verified by github.com/coreos/go-oidc/v3 (signature from the provider's JWKS,
//     refetched as its Cache-Control says; algorithm allow-list without "none" or HMAC; iss, aud,
//     exp), then by parlogin: nonce, azp, iat, at_hash when present, auth_time against a requested
//     max_age, acr against requested acr_values. Times follow the provider's clock, measured from
//     its Date headers within ±5 minutes.
//   - After login the session is a new one (no fixation), bound to the issuer and the client; it
//     holds the identity and, only when asked, the tokens (DPoP-bound with Config.DPoP). Cookies
//     are HttpOnly, SameSite=Lax (None and Secure for form_post logins, whose callback is a
//     cross-site POST), Secure on https, and __Host- prefixed by default on https. Return targets
//     are relative paths on the app's own origin.
//   - Logout is POST-only and refuses cross-origin requests; it ends the session on every replica
//     and revokes the refresh token at the provider. A refresh in flight cannot revive it.
//   - The client secret is only ever an HMAC key: never sent, logged or put in an error. Every call
//     to the provider has a timeout and a bounded response size.
//
// # Errors and events
//
// Failures reach [Config.ErrorHandler] as errors that [errors.Is] matches against the sentinels
// ([ErrInvalidState], [ErrIssuerMismatch], …) or that [errors.As] turns into a [*ProviderError].
// The default handler answers browsers with a page that says what happened in one sentence
// ([Reason]), with a way on and a reference that is also in the log, and other clients with the
// status of [ErrorStatus]. [Config.OnEvent] receives token-free [Event]s for metrics and audit.
//
// # Standards
//
//   - RFC 6749, OAuth 2.0: https://www.rfc-editor.org/rfc/rfc6749
//   - RFC 7636, PKCE: https://www.rfc-editor.org/rfc/rfc7636
//   - RFC 7523, JWT client authentication: https://www.rfc-editor.org/rfc/rfc7523
//   - RFC 7009, Token Revocation: https://www.rfc-editor.org/rfc/rfc7009
//   - RFC 9126, Pushed Authorization Requests: https://www.rfc-editor.org/rfc/rfc9126
//   - RFC 9101, JWT-Secured Authorization Request: https://www.rfc-editor.org/rfc/rfc9101
//   - RFC 9207, Authorization Server Issuer Identification: https://www.rfc-editor.org/rfc/rfc9207
//   - RFC 9449, DPoP: https://www.rfc-editor.org/rfc/rfc9449
//   - RFC 9470, Step Up Authentication Challenge: https://www.rfc-editor.org/rfc/rfc9470
//   - RFC 9700, OAuth 2.0 Security Best Current Practice: https://www.rfc-editor.org/rfc/rfc9700
//   - OpenID Connect Core 1.0: https://openid.net/specs/openid-connect-core-1_0.html
//   - OpenID Connect RP-Initiated Logout 1.0: https://openid.net/specs/openid-connect-rpinitiated-1_0.html
//   - OpenID Connect Back-Channel Logout 1.0: https://openid.net/specs/openid-connect-backchannel-1_0.html
//   - FAPI 2.0 Security Profile: https://openid.net/specs/fapi-security-profile-2_0-final.html
package parlogin
