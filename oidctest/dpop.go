package oidctest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DPoP (RFC 9449): proofs at the token, PAR and userinfo endpoints, DPoP-bound access tokens,
// refresh tokens of DPoP-bound grants, codes bound to a key with dpop_jkt, and the nonces of
// Server.DPoPNonce. PingOne mode does not implement DPoP: there, a DPoP header is ignored, as by
// a provider that does not support it, and tokens are Bearer tokens.

const (
	// dpopMaxAge is how long after its iat a DPoP proof is accepted (RFC 9449 section 4.3 leaves
	// the window to the server; section 11.1 suggests seconds or minutes). Proofs dated in the
	// future are accepted up to clockSkew, like every other JWT here, which is within the 10 to
	// 60 seconds of FAPI 2.0 Security Profile section 5.3.2.1.
	dpopMaxAge = 60 * time.Second
	// dpopNonceLifetime is how often the nonce of Server.DPoPNonce changes.
	dpopNonceLifetime = 5 * time.Minute
	// dpopJKTLength is the length of a base64url SHA-256 JWK thumbprint.
	dpopJKTLength = 43
)

// dpopAlgs returns the algorithms accepted for DPoP proofs, as dpop_signing_alg_values_supported
// publishes them: asymmetric ones only, as RFC 9449 section 4.2 requires, and those of FAPI 2.0.
func dpopAlgs() []string { return []string{"ES256", "PS256", "EdDSA"} }

// dpopReplayKey identifies a DPoP proof by its key and jti.
type dpopReplayKey struct{ jkt, jti string }

// dpopNonceState is the nonce of Server.DPoPNonce, guarded by Server.mu.
type dpopNonceState struct {
	current, previous string
	issued            time.Time // of current
}

func invalidDPoPProof(format string, args ...any) *oauthError {
	return newError(http.StatusBadRequest, "invalid_dpop_proof", format, args...)
}

// checkDPoPProof checks the DPoP proof of r, a request to the endpoint at endpointURL, as RFC
// 9449 section 4.3 says, and returns the RFC 7638 thumbprint of its key. It reports present
// false, and no error, when r has no DPoP header. accessToken is the token r presents to a
// protected resource, whose hash the proof's ath must be; "" at the authorization server. The
// errors are those of an authorization server: 400 invalid_dpop_proof, or use_dpop_nonce when
// the provider demands a nonce the proof lacks.
func (s *Server) checkDPoPProof(r *http.Request, endpointURL, accessToken string, now time.Time) (jkt string, present bool, oerr *oauthError) {
	values := r.Header.Values("DPoP")
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(values) > 1 || strings.Contains(values[0], ","):
		return "", true, invalidDPoPProof("a request may carry one DPoP header only (RFC 9449 section 4.3)")
	}
	t, err := parseJWS(strings.TrimSpace(values[0]))
	if err != nil {
		return "", true, invalidDPoPProof("the DPoP proof %v", err)
	}
	if typ, _ := t.header["typ"].(string); !strings.EqualFold(typ, "dpop+jwt") {
		return "", true, invalidDPoPProof("the DPoP proof must have typ dpop+jwt in its header")
	}
	if !slices.Contains(dpopAlgs(), t.alg) {
		return "", true, invalidDPoPProof("the DPoP proof uses alg %s; accepted: %s (never none or a MAC)", printable(t.alg), strings.Join(dpopAlgs(), ", "))
	}
	jwk, ok := t.header["jwk"].(map[string]any)
	if !ok {
		return "", true, invalidDPoPProof("the DPoP proof must have its public key as a JWK in the jwk header")
	}
	k, err := parseJWK(jwk)
	if err != nil {
		return "", true, invalidDPoPProof("the jwk of the DPoP proof %v", err)
	}
	if publicKeyType(k.key) != keyType(t.alg) {
		return "", true, invalidDPoPProof("the DPoP proof uses alg %s with a key of type %s", t.alg, publicKeyType(k.key))
	}
	if err := verifySignature(t, k.key); err != nil {
		return "", true, invalidDPoPProof("the DPoP proof %v", err)
	}
	jkt = jwkThumbprint(k.key)

	jti, err := stringClaim(t.claims, "jti")
	if err != nil || jti == "" {
		return "", true, invalidDPoPProof("the DPoP proof must have a jti")
	}
	if htm, err := stringClaim(t.claims, "htm"); err != nil || htm != r.Method {
		return "", true, invalidDPoPProof("the htm of the DPoP proof must be the method of the request, %s", r.Method)
	}
	htu, err := stringClaim(t.claims, "htu")
	if err != nil || htu == "" {
		return "", true, invalidDPoPProof("the DPoP proof must have an htu")
	}
	if err := checkHTU(htu, endpointURL); err != nil {
		return "", true, invalidDPoPProof("the htu of the DPoP proof %v", err)
	}
	iat, ok, err := timeClaim(t.claims, "iat")
	switch {
	case err != nil:
		return "", true, invalidDPoPProof("the DPoP proof: %v", err)
	case !ok:
		return "", true, invalidDPoPProof("the DPoP proof must have an iat")
	case iat.After(now.Add(clockSkew)):
		return "", true, invalidDPoPProof("the iat of the DPoP proof is in the future")
	case now.After(iat.Add(dpopMaxAge)):
		return "", true, invalidDPoPProof("the DPoP proof is too old: its iat is more than %v ago", dpopMaxAge)
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if ath, err := stringClaim(t.claims, "ath"); err != nil || ath != b64(sum[:]) {
			return "", true, invalidDPoPProof("the ath of the DPoP proof must be the base64url SHA-256 hash of the access token")
		}
	}
	if s.cfg.dpopNonce {
		current, previous := s.dpopNonces(now)
		nonce, err := stringClaim(t.claims, "nonce")
		switch {
		case err != nil || nonce == "":
			return "", true, newError(http.StatusBadRequest, "use_dpop_nonce", "the DPoP proof must have the nonce of the DPoP-Nonce header")
		case nonce != current && nonce != previous:
			return "", true, newError(http.StatusBadRequest, "use_dpop_nonce", "the nonce of the DPoP proof is not, or no longer, accepted: use the one of the DPoP-Nonce header")
		}
	}
	if !s.useDPoPJTI(dpopReplayKey{jkt, jti}, iat.Add(dpopMaxAge), now) {
		return "", true, invalidDPoPProof("the jti of the DPoP proof was already used")
	}
	return jkt, true, nil
}

// useDPoPJTI records the jti of a DPoP proof until the proof is too old to be accepted, and
// reports false if it was seen before.
func (s *Server) useDPoPJTI(k dpopReplayKey, until, now time.Time) bool {
	s.lock()
	defer s.mu.Unlock()
	if seen, ok := s.dpopJTIs[k]; ok && !now.After(seen) {
		return false
	}
	s.dpopJTIs[k] = until
	s.maybeSweepLocked(now)
	return true
}

// dpopNonces returns the nonce that DPoP proofs must carry and the previous one, which is still
// accepted ("" when there is none), making a new nonce when the current one is
// dpopNonceLifetime old.
func (s *Server) dpopNonces(now time.Time) (current, previous string) {
	s.lock()
	defer s.mu.Unlock()
	n := &s.dpopNonce
	switch {
	case n.current == "":
		n.current, n.issued = randomToken(16), now
	case !now.Before(n.issued.Add(dpopNonceLifetime)):
		n.previous = n.current
		if !now.Before(n.issued.Add(2 * dpopNonceLifetime)) {
			n.previous = "" // unused for a whole lifetime: both are stale
		}
		n.current, n.issued = randomToken(16), now
	}
	return n.current, n.previous
}

// dpopEnabled reports whether the provider implements DPoP: not in PingOne mode.
func (s *Server) dpopEnabled() bool { return !s.cfg.pingOne }

// checkHTU compares the htu of a DPoP proof with the URL of the endpoint called, after the
// syntax- and scheme-based normalisation of RFC 3986 section 6.2.2 and 6.2.3 that RFC 9449
// section 4.3 asks for: case of the scheme and host, default port, percent-encoding and the
// empty path. An htu with a query or fragment is refused: section 4.2 defines it without them.
func checkHTU(htu, endpointURL string) error {
	u, err := url.Parse(htu)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return errors.New("is not an absolute URL")
	case u.User != nil:
		return errors.New("must not have user information")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(htu, "#"):
		return errors.New("must have no query and no fragment (RFC 9449 section 4.2)")
	}
	want, _ := url.Parse(endpointURL)
	if normalizeURL(u) != normalizeURL(want) {
		return fmt.Errorf("must be the URL of the endpoint called, %s", endpointURL)
	}
	return nil
}

// normalizeURL returns scheme://host:port/path of u, normalised.
func normalizeURL(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	if port != "" || strings.Contains(host, ":") {
		host = net.JoinHostPort(host, port)
		host = strings.TrimSuffix(host, ":")
	}
	path := normalizePercent(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// normalizePercent decodes the percent-encoded unreserved characters of an escaped path and
// upper-cases the hexadecimal digits of the others (RFC 3986 section 6.2.2.1 and 6.2.2.2).
func normalizePercent(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b.WriteByte(p[i])
			continue
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString(strings.ToUpper(p[i : i+3]))
		}
		i += 2
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// validJKT reports whether v has the syntax of a SHA-256 JWK thumbprint: 43 base64url characters.
func validJKT(v string) bool {
	if len(v) != dpopJKTLength {
		return false
	}
	_, err := b64Strict.DecodeString(v)
	return err == nil
}

// tokenRequestDPoP checks the DPoP proof of a token request of client c and returns its key's
// thumbprint, "" without a proof. A FAPI 2.0 client, or one with DPoPBoundAccessTokens, must send
// one.
func (s *Server) tokenRequestDPoP(r *http.Request, c Client, tokenURL string, now time.Time) (string, *oauthError) {
	if !s.dpopEnabled() {
		return "", nil
	}
	jkt, present, oerr := s.checkDPoPProof(r, tokenURL, "", now)
	switch {
	case oerr != nil:
		return "", oerr
	case !present && s.fapi2(c):
		return "", invalidRequest("a DPoP proof is required: FAPI 2.0 allows only sender-constrained access tokens (FAPI 2.0 Security Profile section 5.3.2.1)")
	case !present && c.DPoPBoundAccessTokens:
		return "", invalidRequest("a DPoP proof is required: the client is registered with dpop_bound_access_tokens (RFC 9449 section 5.2)")
	}
	return jkt, nil
}

// dpopChallenge is the WWW-Authenticate challenge of the DPoP scheme (RFC 9449 section 7.1) for
// an error of a protected resource.
func dpopChallenge(code, description string) string {
	return `DPoP algs="` + strings.Join(dpopAlgs(), " ") + `", error="` + code + `", error_description="` + challengeSafe(description) + `"`
}

// challengeSafe makes a description safe in a quoted string of a challenge: no '"' or '\' and
// only printable ASCII (RFC 6750 section 3).
func challengeSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
