// Package oidctest provides an OpenID Provider for tests, shaped like [net/http/httptest]: a
// [Server] listens on a loopback address, a test registers a [Client], points the application
// under test at [Server.Issuer], drives a login and asserts what the application sent with
// [Server.Requests].
//
// The provider speaks the protocol parlogin uses: the authorization code flow of OpenID Connect
// with Pushed Authorization Requests (RFC 9126) authenticated by client_secret_jwt or
// private_key_jwt (RFC 7523 sections 2.2 and 3, OpenID Connect Core section 9), PKCE S256 (RFC
// 7636), the iss authorization response parameter (RFC 9207), DPoP-bound tokens (RFC 9449),
// refresh tokens, token revocation (RFC 7009), request objects (RFC 9101) signed like the
// client's assertions, userinfo, RP-initiated logout and back-channel logout. [Server.FAPI2]
// and [Client.FAPI2] hold clients to the FAPI 2.0 Security Profile (see FAPI 2.0 below). With
// [Server.EnvID] it takes the shape and the documented behaviour of PingOne instead (see PingOne
// mode below).
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
//   - Client authentication is client_secret_jwt or private_key_jwt, as the client is
//     registered ([Client.AuthMethod]); an assertion of the other method is refused. The
//     assertion must be signed with the client secret (HS256, HS384 or HS512) or with a key of
//     the client (see Private key JWT below), or only with [Client.AuthAlg], have iss and sub
//     equal to the client ID, an aud naming the issuer, the token endpoint or the endpoint
//     called, an exp at most one hour ahead and a jti never seen before. A second
//     authentication method in the same request (client_secret, an Authorization header) is
//     refused, and so is every authentication of a client whose registration cannot work,
//     saying why.
//   - PAR requires response_type=code, an exactly registered redirect_uri, the openid scope and a
//     PKCE S256 code_challenge; it refuses request_uri. With a request object, only its claims
//     are used.
//   - Codes are single use and valid for 60 seconds; redeeming one needs the redirect_uri and the
//     code_verifier. Redeeming a code twice revokes the tokens issued from it.
//   - Refresh tokens are rotated on every use, except those of FAPI 2.0 clients, and are good for
//     14 days from their issue (a FAPI 2.0 client's, 14 days from the login).
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
// objects are checked against it with 15 seconds of leeway. A DPoP proof is accepted from 15
// seconds before its iat until 60 seconds after, and the nonce of [Server.DPoPNonce] changes
// every 5 minutes. (PingOne mode: codes last 10 minutes and sessions 30 days, as PingOne
// documents.) Tests move the clock instead of sleeping.
//
// # Private key JWT
//
// A client registered with AuthMethod "private_key_jwt" signs its assertions and request
// objects with its own private key; the provider checks them with the public keys of
// [Client.Keys] ([ClientKey] values: a key ID, an *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey, and optionally the one alg it is for) or of the JWK Set at
// [Client.JWKSURI], fetched with [Server.HTTPClient] whenever a JWT of the client is checked, so
// that the client can rotate its keys. The algorithms are RS256, PS256 (RSA keys of at least
// 2048 bits), ES256 (P-256) and EdDSA (Ed25519), with the signature encodings of RFC 7518 (an
// ES256 signature in ASN.1 DER is refused). The kid header selects the key, and is required
// when the client has several keys. A key set with private key members is refused, keys with
// use "enc" are ignored.
//
// # ID token algorithms
//
// ID tokens and logout tokens are signed with RS256, or with the alg of
// [Client.IDTokenAlg] (id_token_signed_response_alg): PS256 or ES256. The key of each alg is
// generated when a client first needs it, published in the JWKS with its kid and alg, and
// rotated by [Server.RotateKeys]; [Server.SigningKeyFor] returns it, for forged tokens.
//
// # DPoP
//
// The token endpoint accepts a DPoP proof (RFC 9449) in a DPoP header. The proof is checked as
// section 4.3 says: one header; typ dpop+jwt; alg ES256, PS256 or EdDSA (never none, a MAC or
// RS256); a public jwk without private members; its signature; a jti never seen while the proof
// is acceptable; htm the method of the request; htu the URL of the endpoint, compared after
// the normalisation of RFC 3986 (case of scheme and host, default port, percent-encoding), and
// without query or fragment; iat within the window above; and, with [Server.DPoPNonce], the
// provider's nonce. A refused proof is answered 400 invalid_dpop_proof, and the grant is left
// untouched, so a code can be redeemed again with a better proof.
//
// With a proof, the access token is bound to the JWK thumbprint (RFC 7638, SHA-256) of the
// proof's key, cnf.jkt in RFC 9449's terms, and token_type is DPoP. The grant is bound too:
// its refresh token is redeemed only with a proof of the same key. RFC 9449 section 5 demands
// this of public clients only and leaves confidential clients free; this provider demands it of
// every client whose grant is DPoP-bound, so that a client that drops its key at refresh
// fails here. A refresh with a proof of a grant that is not bound issues a DPoP-bound access
// token. The authorization code is bound to a key by the dpop_jkt parameter of the (pushed)
// authorization request, or by a proof sent to the PAR endpoint (section 10): its token request
// must then carry a proof of that key. [Client.DPoPBoundAccessTokens] makes proofs mandatory for
// a client (dpop_bound_access_tokens, section 5.2).
//
// The userinfo endpoint takes a DPoP-bound token as "Authorization: DPoP <token>" with a proof
// whose ath is the base64url SHA-256 hash of the token, whose htm and htu are those of the
// userinfo request, and whose key is the token's. Failures are answered 401 with a
// WWW-Authenticate challenge of the DPoP scheme (algs and error): invalid_token for a
// DPoP-bound token sent as Bearer or a Bearer token sent as DPoP, invalid_dpop_proof for a
// missing or wrong proof.
//
// With [Server.DPoPNonce], every answer of the token, PAR and userinfo endpoints carries a
// DPoP-Nonce header, and a proof without the current or the previous nonce is answered
// use_dpop_nonce: 400 at the token and PAR endpoints (section 8), 401 with a DPoP challenge at
// the userinfo endpoint (section 9). A client retries with a new proof and, at the token
// endpoint, a new client assertion: the assertion's jti was used.
//
// # FAPI 2.0
//
// [Server.FAPI2], for every client, or [Client.FAPI2], for one, holds clients to the FAPI 2.0
// Security Profile (https://openid.net/specs/fapi-security-profile-2_0-final.html). What every
// client already gets satisfies it: pushed authorization requests only, PKCE with S256, iss in
// every authorization response (RFC 9207), codes valid 60 seconds and used once, request_uris
// valid 60 seconds, iat and nbf accepted up to 15 seconds ahead. A FAPI 2.0 client moreover:
//
//   - authenticates with private_key_jwt only (the default of its AuthMethod), signed with
//     PS256, ES256 or EdDSA (section 5.4.1), for assertions and request objects alike;
//   - names the issuer as the only audience of its assertions, as a string, not in an array
//     (section 5.3.2.1, "shall only accept its issuer identifier value ... as a string");
//   - sends a DPoP proof with every token request, so that its access tokens are
//     sender-constrained (an absent proof is invalid_request);
//   - gets ID tokens and logout tokens signed with ES256 by default, or PS256 with
//     IDTokenAlg; RS256 is refused;
//   - registers a JWKSURI with https (section 5.4.2) and redirect URIs that are not http,
//     except on a loopback IP address for native clients (section 5.3.2.2);
//   - keeps its refresh token: refreshes do not rotate it and answer no new one (section
//     5.3.2.1 forbids rotation).
//
// With Server.FAPI2, the discovery document advertises only private_key_jwt, PS256, ES256 and
// EdDSA, and ID tokens in PS256 and ES256. FAPI 2.0 is not available in PingOne mode.
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
//     the future, HS256/384/512 for client_secret_jwt and RS256/384/512 for private_key_jwt.
//     PingOne validates neither iat nor jti, so a jti is not required and may be used again;
//     [Server.StrictClientAssertions] adds those checks. A JWKSURI must be https, as PingOne's
//     jwksUrl.
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
// client_secret_jwt and private_key_jwt (PingOne authenticates each application with its one
// configured method, CLIENT_SECRET_JWT or PRIVATE_KEY_JWT here), unsigned request objects, the
// flows API and PingOne's session cookie (so /signoff without id_token_hint ends no session),
// and requests without the openid scope, which are refused here. DPoP is not implemented in
// PingOne mode: a DPoP header is ignored and tokens are Bearer tokens, as at a provider without
// DPoP, and clients with DPoPBoundAccessTokens or FAPI2 cannot authenticate.
//
// Where PingOne's documentation is silent, the code says "not documented" and why it chose what
// it does: the 15 seconds of leeway on times, the absence of iss, the status of error pages, the
// codes of a pi.flow error, and the 200 answered for a token the revocation endpoint does not
// revoke. Logout tokens are still sent to clients that register a [Client.BackchannelLogoutURI].
package oidctest
