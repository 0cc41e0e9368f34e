package parlogin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"
)

// Audience selects the "aud" claim of client assertions.
type Audience int

const (
	// AudienceIssuer sets "aud" to the issuer identifier, as RFC 9126 §2 recommends for pushed
	// authorization requests. Accepted by PingOne, Keycloak, Okta and oidc-provider.
	AudienceIssuer Audience = iota
	// AudienceEndpoint sets "aud" to the URL of the endpoint being called (the PAR endpoint or the
	// token endpoint), for providers that accept nothing else.
	AudienceEndpoint
)

// Defaults of the optional Config fields.
const (
	defaultSessionMaxAge     = 8 * time.Hour
	defaultAssertionLifetime = 60 * time.Second
	defaultClockSkew         = 30 * time.Second
	defaultTimeout           = 10 * time.Second
)

// maxAssertionLifetime is PingOne's limit for a client assertion's "exp", and a sane one anywhere.
const maxAssertionLifetime = time.Hour

// Config describes the provider, the client and the sessions. Fields marked required must be set;
// the zero value of every other field selects the documented default.
type Config struct {
	// Issuer is the provider's issuer identifier (required), for example
	// "https://auth.pingone.com/{envID}/as". The discovery document is read from
	// Issuer + "/.well-known/openid-configuration" and must name exactly this issuer.
	Issuer string

	// ClientID is the OAuth 2.0 client identifier (required).
	ClientID string

	// ClientSecret is the client secret, for client_secret_jwt (required unless ClientKeys is set).
	// It is used only as the HMAC key of the client assertions (RFC 7523) and request objects; it
	// is never sent, logged or put in an error. It must be at least as long as SigningAlg's hash
	// (RFC 7518 §3.2): 32 bytes for HS256, 48 for HS384, 64 for HS512. Rotate it at run time with
	// [Middleware.SetClientSecret].
	ClientSecret string

	// ClientKeys, instead of ClientSecret, authenticate the client with private_key_jwt (RFC 7523,
	// OpenID Connect Core §9): assertions and request objects are signed with the first key (ES256,
	// PS256, EdDSA, or RS256 where a provider needs it), from a crypto.Signer, so that keys may
	// live in a KMS or an HSM; every key is published by [Middleware.JWKS] for providers that
	// fetch the client's jwks_uri. Register the public keys, or that URL, at the provider. Rotate
	// them with [Middleware.SetClientKeys].
	ClientKeys []ClientKey

	// RedirectURL is the absolute URL of the callback (required), registered at the provider.
	// Route it to [Middleware.Callback]. An https URL makes every cookie Secure.
	RedirectURL string

	// Store keeps the sessions (required). Its keys must survive restarts, and replicas of an app
	// share them. parlogin sets the cookie options itself on every save, whatever the store's
	// defaults: HttpOnly, SameSite=Lax, Path=/, Secure when RedirectURL is https.
	//
	// A [sessions.CookieStore] must encrypt: create it with a hash key and a block key,
	// sessions.NewCookieStore(hashKey, blockKey), each of 32 random bytes; its cookies hold the
	// user's claims and a pending login's PKCE verifier and nonce. It holds about 4 KB per cookie:
	// enough for the identity, usually too little for tokens (see SaveTokens). A server-side store
	// (Redis: github.com/parlogin/parlogin/stores/parloginredis) keeps only an identifier in the
	// cookie.
	Store sessions.Store

	// Shared is the state that replicas of the app share (see [Shared]): set it, to the same
	// store on every replica, when the app runs as several processes. By default it is kept in
	// this process's memory.
	Shared Shared

	// Scopes are requested in addition to "openid", which is always sent. parlogin asks for
	// nothing more by default, which every provider grants: add "profile" and "email" for the
	// user's name and email, as most apps do, and "offline_access" where the provider issues
	// refresh tokens for it (Okta, Auth0, oidc-provider; PingOne decides by grant type).
	Scopes []string

	// AuthParams, if set, returns extra authorization parameters for the login started by r:
	// acr_values, login_hint, max_age, prompt, ui_locales, claims, or provider extras such as
	// PingOne's mobilePayload. A parameter that parlogin owns (response_type, response_mode,
	// client_id, redirect_uri, scope, state, nonce, code_challenge, code_challenge_method, request,
	// request_uri, client_assertion…) fails the login with [ErrAuthParam]. When max_age or
	// acr_values are sent, the ID token's auth_time and acr are checked against them.
	AuthParams func(r *http.Request) url.Values

	// ResponseMode is "query" (the default) or "form_post": how the provider sends the
	// authorization response to the callback, which must then accept POST too. The provider's
	// form_post is cross-site when it is on another site than the app, so that a form_post login's
	// cookies are SameSite=None; Secure: RedirectURL must be https (or on a loopback host).
	ResponseMode string

	// RequestObject sends the authorization parameters as a signed request object (RFC 9101),
	// signed with SigningAlg and the client secret, inside the pushed authorization request.
	RequestObject bool

	// SigningAlg is the HMAC algorithm of client assertions and request objects signed with
	// ClientSecret: "HS256" (the default), "HS384" or "HS512". ClientKeys have their own.
	SigningAlg string

	// AssertionAudience selects the "aud" of client assertions; the default is AudienceIssuer.
	AssertionAudience Audience

	// AssertionLifetime is how long a client assertion is valid; default 60 s, at most one hour.
	AssertionLifetime time.Duration

	// LazyDiscovery lets New succeed when the provider cannot be reached: discovery is then retried
	// when a login needs it, at most every 5 seconds, and logins fail with a [*ProviderError]
	// meanwhile, while signed-in users go on being served (their sessions need no provider). For
	// apps that must start while the provider is down. Configuration mistakes still fail New.
	LazyDiscovery bool

	// PAREndpoint overrides the discovery document's pushed_authorization_request_endpoint, for
	// providers that support PAR without publishing it. Without either, New fails.
	PAREndpoint string

	// IDTokenSigningAlgs limits the algorithms accepted for ID token signatures; by default, the
	// asymmetric algorithms the provider publishes. "none" and HMAC are never accepted.
	IDTokenSigningAlgs []string

	// DPoP binds the access and refresh tokens to a key of the session (RFC 9449, OAuth 2.0
	// Demonstrating Proof of Possession), so that a stolen token is worthless without it: an ES256
	// key is made for each login, its thumbprint pushed as dpop_jkt, and every call to the token
	// and UserInfo endpoints carries a proof signed with it (with the provider's DPoP-Nonce when it
	// asks for one). With SaveTokens, the key is kept in the session, for [Middleware.Token] and
	// [Middleware.Client], which sign the proofs of the app's API calls.
	DPoP bool

	// Profile applies a security profile's rules: [FAPI2] for the FAPI 2.0 Security Profile. New
	// then refuses what the profile forbids, naming the setting.
	Profile Profile

	// SkipUserInfo skips the call to the provider's UserInfo endpoint after login. By default its
	// claims are added to the ID token's: providers that follow OpenID Connect Core §5.4 (Okta,
	// oidc-provider) return the claims of the profile and email scopes there, not in the ID token.
	// Skip it to save a round trip when the ID token carries what the app needs.
	SkipUserInfo bool

	// SaveTokens keeps the ID token, access token and refresh token in the session, for
	// [Middleware.Token] and for the id_token_hint of logout. Off by default: tokens rarely fit in a
	// cookie, and a login whose session cannot be saved fails with [ErrSessionStore].
	SaveTokens bool

	// SessionName is the name of the session cookie; pending logins use SessionName + "-flow-…".
	// The default is "__Host-parlogin" when RedirectURL is https and "parlogin" otherwise.
	SessionName string

	// SessionMaxAge is how long a session lasts after login; default 8 hours.
	SessionMaxAge time.Duration

	// PostLogoutRedirectURL is where the provider sends the user after logout
	// (post_logout_redirect_uri, registered at the provider). Without an end_session_endpoint,
	// [Middleware.Logout] redirects there itself; the default is "/".
	PostLogoutRedirectURL string

	// ClockSkew is the leeway allowed between the app's and the provider's clocks when checking
	// exp, iat and auth_time; default 30 s.
	ClockSkew time.Duration

	// HTTPClient makes the calls to the provider; by default a client with its own connection
	// pool. Its Timeout, 10 s when zero, bounds each call, and together the calls that serving one
	// request makes: the PAR of a login start; the token, JWKS and UserInfo calls of a callback; a
	// refresh; a discovery. Its transport is wrapped so that response bodies are bounded.
	HTTPClient *http.Client

	// ErrorHandler answers requests that fail: a login that cannot start, a callback that fails a
	// check, an anonymous API request. The default answers the status from [ErrorStatus] with its
	// status text only, and logs the error. err never contains secrets or tokens. Calling it is the
	// last thing parlogin does with the response: the handler may write it, or leave it to a
	// framework (as parloginecho.ErrorHandler does).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// OnEvent, if set, is called for every login started, succeeded or failed, logout, refresh and
	// back-channel logout (see [Event]), for metrics and audit logs; module
	// github.com/parlogin/parlogin/adapters/parloginotel turns them into OpenTelemetry metrics. It
	// is called synchronously, on the request's goroutine: it must be quick and safe for
	// concurrent use. Events hold no token, code, secret or assertion.
	OnEvent func(ctx context.Context, e Event)

	// Logger receives warnings and the default error handler's reports; default slog.Default().
	Logger *slog.Logger

	// Now is the clock; default time.Now.
	Now func() time.Time
}

var hmacHashSize = map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}

// withDefaults validates c and returns it with defaults filled in. It reports every problem at
// once, so that a misconfigured app fails at start-up with the whole list.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("parlogin: config: "+format, args...))
	}
	if c.Issuer == "" {
		bad("Issuer is required")
	} else if u, err := url.Parse(c.Issuer); err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("Issuer must be an absolute URL without query or fragment")
	}
	if c.ClientID == "" {
		bad("ClientID is required")
	}
	if c.SigningAlg == "" {
		c.SigningAlg = "HS256"
	}
	if _, ok := hmacHashSize[c.SigningAlg]; !ok {
		bad("SigningAlg %q is not HS256, HS384 or HS512", c.SigningAlg)
	}
	switch {
	case c.ClientSecret == "" && len(c.ClientKeys) == 0:
		bad("ClientSecret (client_secret_jwt) or ClientKeys (private_key_jwt) is required")
	case c.ClientSecret != "" && len(c.ClientKeys) > 0:
		bad("ClientSecret and ClientKeys are both set: a client authenticates one way (a second method in the same request is an error at strict providers)")
	case len(c.ClientKeys) > 0:
		if err := checkClientKeys(c.ClientKeys, c.Profile); err != nil {
			bad("ClientKeys: %v", err)
		}
		c.ClientKeys = slices.Clone(c.ClientKeys)
	default:
		if n := max(32, hmacHashSize[c.SigningAlg]); len(c.ClientSecret) < n {
			bad("ClientSecret is shorter than %d bytes, too weak an HMAC key for %s (RFC 7518 §3.2)", n, c.SigningAlg)
		}
	}
	var redirect *url.URL
	if c.RedirectURL == "" {
		bad("RedirectURL is required")
	} else if u, err := url.Parse(c.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		bad("RedirectURL must be an absolute http(s) URL without fragment")
	} else {
		redirect = u
	}
	if c.Store == nil {
		bad("Store is required")
	} else if cs, ok := c.Store.(*sessions.CookieStore); ok && !encrypts(cs) {
		bad("Store is a CookieStore without an encryption key, whose cookies would show the user's claims and the PKCE verifier: create it with sessions.NewCookieStore(hashKey, blockKey), with a blockKey of 32 random bytes")
	}
	switch c.ResponseMode {
	case "", "query":
	case "form_post":
		if redirect != nil && redirect.Scheme == "http" && !isLoopback(redirect.Hostname()) {
			bad("ResponseMode form_post needs an https RedirectURL: the provider's POST to the callback is cross-site, and browsers send the pending login's cookie with it only when it is SameSite=None and Secure, which they accept over https (and http://localhost) only")
		}
	case "pi.flow":
		bad("ResponseMode pi.flow is PingOne's flow API, for sign-on pages that an app renders itself, which parlogin does not drive: use query or form_post")
	default:
		bad("ResponseMode %q is not query or form_post", c.ResponseMode)
	}
	if c.AssertionAudience != AudienceIssuer && c.AssertionAudience != AudienceEndpoint {
		bad("AssertionAudience %d is unknown", c.AssertionAudience)
	}
	if c.AssertionLifetime == 0 {
		c.AssertionLifetime = defaultAssertionLifetime
	}
	if c.AssertionLifetime < 0 || c.AssertionLifetime > maxAssertionLifetime {
		bad("AssertionLifetime must be between 0 and one hour")
	}
	for _, alg := range c.IDTokenSigningAlgs {
		if alg == "none" || strings.HasPrefix(alg, "HS") {
			bad("IDTokenSigningAlgs may not contain %q", alg)
		}
	}
	if c.SessionMaxAge == 0 {
		c.SessionMaxAge = defaultSessionMaxAge
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = defaultClockSkew
	}
	if c.SessionMaxAge < 0 || c.ClockSkew < 0 {
		bad("SessionMaxAge and ClockSkew may not be negative")
	}
	secure := redirect != nil && redirect.Scheme == "https"
	if c.SessionName == "" {
		c.SessionName = "parlogin"
		if secure {
			c.SessionName = "__Host-parlogin"
		}
	}
	if !secure && (strings.HasPrefix(c.SessionName, "__Host-") || strings.HasPrefix(c.SessionName, "__Secure-")) {
		bad("SessionName %q needs an https RedirectURL", c.SessionName)
	}
	if c.PostLogoutRedirectURL != "" {
		if u, err := url.Parse(c.PostLogoutRedirectURL); err != nil || !u.IsAbs() {
			bad("PostLogoutRedirectURL must be an absolute URL")
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Profile == FAPI2 {
		c.DPoP = true // sender-constrained tokens are the profile's
		for _, problem := range fapi2Problems(c) {
			bad("%s", problem)
		}
	} else if c.Profile != 0 {
		bad("Profile %d is unknown", c.Profile)
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	for _, raw := range []string{c.Issuer, c.RedirectURL} {
		if u, _ := url.Parse(raw); u.Scheme == "http" && !isLoopback(u.Hostname()) {
			c.Logger.Warn("parlogin: plain http to a non-loopback host: codes, tokens and cookies travel in clear", "url", raw)
		}
	}
	return c, nil
}

// encrypts reports whether the codecs of cs encrypt: the value of an encoded probe must not show.
func encrypts(cs *sessions.CookieStore) bool {
	if len(cs.Codecs) == 0 {
		return false
	}
	probe := rand.Text()
	for _, codec := range cs.Codecs {
		encoded, err := codec.Encode("parlogin-probe", probe)
		if err != nil {
			return false
		}
		// securecookie's format: base64("timestamp|base64(value)|mac").
		b, err := base64.URLEncoding.DecodeString(encoded)
		if err != nil {
			return false
		}
		parts := bytes.SplitN(b, []byte("|"), 3)
		if len(parts) != 3 {
			return false
		}
		value, err := base64.URLEncoding.DecodeString(string(parts[1]))
		if err != nil || bytes.Contains(value, []byte(probe)) {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
