package parlogin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// backchannelLogoutEvent is the member of a logout token's events claim that makes it one
// (OpenID Connect Back-Channel Logout 1.0 §2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

const (
	// maxLogoutRequest bounds the body of a back-channel logout request: a logout token is a few
	// hundred bytes.
	maxLogoutRequest = 64 << 10
	// maxLogoutTokenAge is how old a logout token may be (its iat), whatever its exp says: the
	// time for which its jti is remembered, so that it is accepted once.
	maxLogoutTokenAge = 5 * time.Minute
)

// errInvalidLogoutToken means a back-channel logout request was refused.
var errInvalidLogoutToken = errors.New("invalid logout token")

// BackchannelLogout ends sessions at the provider's request (OpenID Connect Back-Channel Logout
// 1.0): mount it at a POST route, such as /auth/backchannel-logout, and register its absolute URL
// at the provider as the client's backchannel_logout_uri. The provider posts a logout token, a JWT
// it signed; parlogin verifies it like an ID token (signature with the provider's keys, algorithm,
// iss, aud = client_id, exp, iat) and checks that it is one: its typ (when present) is logout+jwt,
// its events claim holds the back-channel logout event, it names a sid or a sub, it has no nonce,
// and its jti has not been seen before, on any replica.
//
// A token with a sid ends the sessions of that provider session; a token with only a sub ends
// every session of that user at this issuer. Sessions end on every replica sharing Config.Shared,
// cookie sessions included. The answer is 200, or 400 with a JSON error and no session touched
// (503 when the shared state cannot be reached); never cached.
func (m *Middleware) BackchannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		backchannelError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutRequest)
	if err := r.ParseForm(); err != nil {
		backchannelError(w, http.StatusBadRequest, "invalid_request", "malformed request body")
		return
	}
	tokens := r.PostForm["logout_token"]
	if len(tokens) != 1 || tokens[0] == "" {
		backchannelError(w, http.StatusBadRequest, "invalid_request", "exactly one logout_token is required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.timeout)
	defer cancel()
	rv, subject, err := m.verifyLogoutToken(ctx, tokens[0])
	if err == nil {
		err = m.sessions.revoked.publish(ctx, rv)
	}
	switch {
	case err == nil:
		m.cfg.Logger.InfoContext(ctx, "parlogin: back-channel logout", "kind", rv.Kind)
		m.emit(ctx, Event{Kind: EventBackchannelLogout, Subject: subject})
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, errInvalidLogoutToken):
		m.cfg.Logger.WarnContext(ctx, "parlogin: back-channel logout refused", "error", err)
		backchannelError(w, http.StatusBadRequest, "invalid_request", "invalid logout token")
	default:
		m.cfg.Logger.ErrorContext(ctx, "parlogin: back-channel logout failed", "error", err)
		backchannelError(w, ErrorStatus(err), "temporarily_unavailable", "try again later")
	}
}

// logoutTokenClaims are the claims of a logout token that parlogin checks beyond go-oidc.
type logoutTokenClaims struct {
	Subject  string                     `json:"sub"`
	SID      string                     `json:"sid"`
	JTI      string                     `json:"jti"`
	IssuedAt *float64                   `json:"iat"`
	Events   map[string]json.RawMessage `json:"events"`
	Nonce    json.RawMessage            `json:"nonce"` // "null" when present as null: present all the same
}

// verifyLogoutToken verifies raw as a logout token of the provider for this client (§2.6), claims
// its jti, and returns the revocation it asks for.
func (m *Middleware) verifyLogoutToken(ctx context.Context, raw string) (revocation, string, error) {
	op, err := m.provider(ctx)
	if err != nil {
		return revocation{}, "", err
	}
	bad := func(format string, args ...any) (revocation, string, error) {
		return revocation{}, "", fmt.Errorf("%w: "+format, append([]any{errInvalidLogoutToken}, args...)...)
	}
	// Explicit typing (§2.4, RFC 8725 §3.11): a token typed as something else, such as an access
	// token, is not a logout token. "JWT", the generic type (RFC 7519 §5.1), which providers such
	// as Keycloak before 25 send, says nothing: the event and the absence of a nonce tell a logout
	// token from an ID token (§2.6 steps 6 and 7).
	if jws, err := jose.ParseSignedCompact(raw, asymmetricAlgs); err != nil {
		return bad("malformed: %v", err)
	} else if typ, ok := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string); ok {
		if t := strings.TrimPrefix(strings.ToLower(typ), "application/"); t != "logout+jwt" && t != "jwt" {
			return bad("typ %q", oauthErrorText(typ))
		}
	}
	// go-oidc checks the signature against the provider's keys, the algorithm, iss, aud and exp.
	tok, err := op.verifier.Verify(ctx, raw)
	if err != nil {
		return bad("%v", err)
	}
	var c logoutTokenClaims
	if err := tok.Claims(&c); err != nil {
		return bad("claims: %v", err)
	}
	now := m.clock.providerNow()
	var event map[string]any
	switch {
	case json.Unmarshal(c.Events[backchannelLogoutEvent], &event) != nil || event == nil:
		return bad("no back-channel logout event") // its value must be a JSON object (§2.4)
	case c.Nonce != nil:
		return bad("a nonce, which logout tokens may not have")
	case c.Subject == "" && c.SID == "":
		return bad("neither sub nor sid")
	case c.JTI == "":
		return bad("no jti")
	case c.IssuedAt == nil:
		return bad("no iat")
	}
	iat := time.Unix(int64(*c.IssuedAt), 0)
	switch {
	case iat.After(now.Add(m.cfg.ClockSkew)):
		return bad("issued in the future")
	case now.Sub(iat) > maxLogoutTokenAge+m.cfg.ClockSkew:
		return bad("issued more than %v ago", maxLogoutTokenAge)
	}
	// Single use, on every replica: remembered for as long as the token could be accepted. That
	// ends by the provider's clock; Shared expires keys by the app's.
	local := m.cfg.Now()
	sum := sha256.Sum256([]byte(tok.Issuer + "\x00" + c.JTI))
	fresh, err := m.shared.Claim(ctx, "logout/"+base64.RawURLEncoding.EncodeToString(sum[:]),
		local.Add(iat.Add(maxLogoutTokenAge+2*m.cfg.ClockSkew).Sub(now)))
	switch {
	case err != nil:
		return revocation{}, "", fmt.Errorf("%w: recording a logout token's jti: %w", ErrSessionStore, err)
	case !fresh:
		return bad("jti already used")
	}
	// The sessions to end are those started before now by the app's clock, which dates sessions.
	rv := revocation{Issuer: tok.Issuer, Kind: revokeSubject, Value: c.Subject,
		Before: local.UnixMilli(), Until: local.Add(m.cfg.SessionMaxAge).Unix()}
	if c.SID != "" {
		rv.Kind, rv.Value = revokeSID, c.SID
	}
	return rv, c.Subject, nil
}

func backchannelError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
