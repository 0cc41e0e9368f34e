// Package oidctest provides an OpenID Provider for tests, shaped like [net/http/httptest]: a
// [Server] listens on a loopback address, a test registers a [Client], points the application
// under test at [Server.Issuer], drives a login and asserts what the application sent with
// [Server.Requests].
//
// The provider speaks the protocol parlogin uses: the authorization code flow of OpenID Connect
// with Pushed Authorization Requests (RFC 9126) authenticated by client_secret_jwt (RFC 7523
// sections 2.2 and 3, OpenID Connect Core section 9), PKCE S256 (RFC 7636), the iss
// authorization response parameter (RFC 9207), refresh tokens, token revocation (RFC 7009),
// request objects (RFC 9101) signed with the client secret, userinfo, RP-initiated logout and
// back-channel logout. With [Server.EnvID] it takes the shape and the documented behaviour of
// PingOne instead (see PingOne mode below).
//
// A minimal test:
//
//	srv := oidctest.NewServer()
//	defer srv.Close()
//	client := srv.AddClient(oidctest.Client{
//		RedirectURIs: []string{app.URL + "/auth/callback"},
//	})
//	// Configure the application with srv.Issuer, client.ID and client.Secret, then:
//	browser := srv.Login(t, app.URL+"/private", "bob")
//	resp, err := browser.Get(app.URL + "/private") // signed in as bob
//
// # Logging in
//
// [Server.Login] makes the requests a browser makes to log in to the application (navigation
// headers, redirects through the provider, the login form when [Server.LoginForm] is set, the
// form_post page) and returns that browser's client, signed in as the subject it names. Parallel
// tests can log different subjects in at once. The client keeps its provider session, so later
// logins through it (a step-up, another application) sign the same user in again, with a new
// authentication only when the request demands one (prompt=login, max_age, acr_values).
//
// Without Login, the authorization endpoint signs the default user ([Server.SetUser]) in at
// once, or shows the login form.
//
// # Strictness
//
// The provider exists to prove that clients send correct requests, so it refuses anything else
// with the OAuth 2.0 error a real provider would answer. Without EnvID (PingOne mode follows
// PingOne instead, where PingOne is documented to be more lenient):
//
//   - The authorization endpoint accepts only pushed requests (client_id and request_uri); a
//     request_uri is bound to its client, single use and valid for 60 seconds.
//   - Client authentication is client_secret_jwt only. The assertion must be signed with the
//     client secret (HS256, HS384 or HS512, or only [Client.AuthAlg]), have iss and sub equal to the
//     client ID, an aud naming the issuer, the token endpoint or the endpoint called, an exp at
//     most one hour ahead and a jti never seen before. A second authentication method in the same
//     request (client_secret, an Authorization header) is refused.
//   - PAR requires response_type=code, an exactly registered redirect_uri, the openid scope and a
//     PKCE S256 code_challenge; it refuses request_uri. With a request object, only its claims
//     are used.
//   - Codes are single use and valid for 60 seconds; redeeming one needs the redirect_uri and the
//     code_verifier. Redeeming a code twice revokes the tokens issued from it.
//   - Refresh tokens are rotated on every use.
//   - The revocation endpoint authenticates clients like the token endpoint. Revoking a refresh
//     token revokes its grant (the refresh token and its access tokens); revoking an access
//     token revokes that token. An unknown, expired or revoked token is answered 200 (RFC 7009
//     section 2.2); a valid token of another client is refused with invalid_grant and left
//     alone (section 2.1).
//   - No parameter may be repeated, bodies are limited to 1 MB, and malformed input of any kind
//     is answered with an error, never a panic.
//
// # Time
//
// Expiry follows the provider's clock ([Server.SetClock]): request_uris and codes
// last 60 seconds, access and ID tokens one hour, logout tokens two minutes, provider sessions 24
// hours after their last sign-in, and the exp, iat and nbf of client assertions and request
// objects are checked against it with 15 seconds of leeway. (PingOne mode: codes last 10 minutes
// and sessions 30 days, as PingOne documents.) Tests move the clock instead of sleeping.
//
// # Authentication context
//
// ID tokens carry auth_time, acr, amr and sid (the provider session). By default the provider
// answers like one that can perform any step-up: acr is the first of the request's acr_values,
// amr is ["pwd"], and auth_time is the time of the sign-in. [User.ACR] and [User.AMR] fix them,
// so that a test can make the provider answer a weaker authentication than requested (RFC 9470).
//
// # Back-channel logout
//
// A client registered with a [Client.BackchannelLogoutURI] receives a logout token (OpenID
// Connect Back-Channel Logout 1.0) when a user it signed in signs out at the end-session
// endpoint with an id_token_hint naming that session; [Server.BackchannelLogout] sends one
// directly and reports the application's answer, so that a test can check that the application
// ends its session. [Server.HTTPClient] sends them.
//
// # Faults and forged answers
//
// [Server.Inject] makes an endpoint answer an error, a raw status and body, or late. Hooks edit
// what the provider sends: [Server.SetIDTokenHook] and [Server.SetIDTokenSigner] for ID tokens,
// [Server.SetLogoutTokenHook] and [Server.SetLogoutTokenSigner] for logout tokens,
// [Server.SetAuthorizationResponseHook] for authorization responses, [Server.EditMetadata] for
// the discovery document, and [Server.RotateKeys] for key rotation.
//
// # Login form
//
// With [Server.LoginForm], the authorization endpoint shows a small HTML sign-in page instead of
// signing the default user in at once, so that a person can use the provider in a browser, as the
// parlogin examples do. Any username signs in: a user registered with [Server.AddUser], or one
// generated for that name.
//
// # PingOne mode
//
// With [Server.EnvID] set, the provider follows PingOne's published contract, so that a test
// that passes against it says something about PingOne: not stricter, not different, where
// PingOne's documentation says what it does. The sources are cited next to each fact in the code
// (pingone.go and the handlers). In short:
//
//   - The issuer is {URL}/{EnvID}/as, with the endpoints below it: /authorize, /par, /token,
//     /userinfo, /jwks, /revoke and /signoff. The discovery document is PingOne's, with the
//     values PingOne publishes: response_modes_supported with pi.flow, scopes_supported
//     without offline_access, require_pushed_authorization_requests false, PingOne's four
//     token endpoint authentication methods and its claims; no RFC 9207 or back-channel logout
//     metadata, which PingOne does not publish.
//   - PAR answers 201 with urn:ietf:params:oauth:request_uri:<uuid> and expires_in 60; a
//     request_uri is single use. Requests that were not pushed are accepted too, unless the
//     client sets [Client.RequirePushedAuthorizationRequests].
//   - PKCE follows [Client.PKCEEnforcement]: OPTIONAL by default (plain or S256), REQUIRED or
//     S256_REQUIRED.
//   - response_mode may be query, fragment, form_post or pi.flow. pi.flow needs no
//     redirect_uri and is answered with PingOne's JSON flow response (status COMPLETED and
//     authorizeResponse); this provider does not implement PingOne's flows API, so such a
//     request completes at once. Authorization responses carry no iss.
//   - Client assertions are checked as PingOne documents: iss and sub the client ID, aud the
//     issuer, the token endpoint or the endpoint called, exp at most one hour ahead, nbf not in
//     the future, HS256/384/512. PingOne validates neither iat nor jti, so a jti is not
//     required and may be used again; [Server.StrictClientAssertions] adds those checks.
//   - Codes last 10 minutes. A refresh token comes with the tokens of a code when the client's
//     [Client.GrantTypes] contains "refresh_token" or the scope contains offline_access; it is
//     rotated on every use and lasts as long as its session: 30 days after the sign-on, or
//     until signoff.
//   - The revocation endpoint revokes only tokens for a custom resource: a token whose scope
//     has only OpenID Connect scopes (and offline_access) is answered 200 and keeps working.
//   - /signoff (GET or POST) takes an optional id_token_hint (which may be expired),
//     post_logout_redirect_uri and state, ignores client_id, and answers 302 Found: to
//     post_logout_redirect_uri (registered for the hint's application, or for any application
//     without a hint) with state, or to a signed-off page at {URL}/{EnvID}/signon/.
//   - Errors are OAuth 2.0 JSON ({"error", "error_description"}) at PAR, token, revocation and
//     userinfo; a pi.flow authorization error is PingOne's platform error ({"id", "code",
//     "message", "details"}).
//
// What PingOne's document advertises and this provider does not implement, so that a test
// relying on it says nothing about PingOne: the implicit and hybrid response types, the
// client_credentials and device authorization grants, the introspection and device
// authorization endpoints (advertised, but answered 404 here), client authentication other than
// client_secret_jwt (PingOne authenticates each application with its one configured method;
// these clients are CLIENT_SECRET_JWT applications), request objects that are unsigned or
// signed with RS*, the flows API and PingOne's session cookie (so /signoff without id_token_hint
// ends no session), and requests without the openid scope, which are refused here.
//
// Where PingOne's documentation is silent, the code says "not documented" and why it chose what
// it does: the 15 seconds of leeway on times, the absence of iss, the status of error pages, the
// codes of a pi.flow error, and the 200 answered for a token the revocation endpoint does not
// revoke. Logout tokens are still sent to clients that register a [Client.BackchannelLogoutURI].
package oidctest
