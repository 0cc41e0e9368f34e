package oidctest

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxJWKSBytes bounds the JWK Set read from a client's jwks_uri.
const maxJWKSBytes = 1 << 20

// authMethod returns the authentication method of c: its AuthMethod, or by default
// private_key_jwt for a FAPI 2.0 client and client_secret_jwt for the others.
func (s *Server) authMethod(c Client) string {
	switch {
	case c.AuthMethod != "":
		return c.AuthMethod
	case s.fapi2(c):
		return privateKeyJWT
	}
	return clientSecretJWT
}

// privateKeyAlgs returns the algorithms accepted for the JWTs of c, a private_key_jwt client:
// PS256, ES256 and EdDSA for a FAPI 2.0 client (FAPI 2.0 Security Profile section 5.4.1);
// RS256, RS384 and RS512 in PingOne mode ("For PRIVATE_KEY_JWT signing, the platform supports the
// RS256, RS384, and RS512", https://developer.pingidentity.com/pingone-api/auth/auth-config-options/create-a-private-key-jwt.html);
// RS256, PS256, ES256 and EdDSA otherwise.
func (s *Server) privateKeyAlgs(c Client) []string {
	switch {
	case s.fapi2(c):
		return fapiAlgs()
	case s.cfg.pingOne:
		return []string{"RS256", "RS384", "RS512"}
	}
	return privateKeyJWTAlgs()
}

// privateKeyJWTAlgs returns the algorithms accepted for private_key_jwt without FAPI 2.0 and
// PingOne modes.
func privateKeyJWTAlgs() []string { return []string{"RS256", "PS256", "ES256", "EdDSA"} }

// registrationProblem returns why the registration of c cannot work, or "".
func (s *Server) registrationProblem(c Client) string {
	method := s.authMethod(c)
	fapi := s.fapi2(c)
	switch {
	case method != clientSecretJWT && method != privateKeyJWT:
		return fmt.Sprintf("AuthMethod %s is neither client_secret_jwt nor private_key_jwt", printable(method))
	case fapi && s.cfg.pingOne:
		return "FAPI 2.0 is not available in PingOne mode"
	case c.DPoPBoundAccessTokens && s.cfg.pingOne:
		return "DPoP is not available in PingOne mode"
	case fapi && method != privateKeyJWT:
		return "a FAPI 2.0 client must authenticate with private_key_jwt, not " + method + " (FAPI 2.0 Security Profile section 5.3.2.1)"
	}
	if c.IDTokenAlg != "" {
		switch {
		case s.cfg.pingOne && c.IDTokenAlg != "RS256":
			return "IDTokenAlg must be RS256 in PingOne mode, the only alg PingOne publishes"
		case fapi && c.IDTokenAlg != "PS256" && c.IDTokenAlg != "ES256":
			return fmt.Sprintf("IDTokenAlg %s is not allowed for a FAPI 2.0 client: use PS256 or ES256", printable(c.IDTokenAlg))
		case !slices.Contains(idTokenAlgs(), c.IDTokenAlg):
			return fmt.Sprintf("IDTokenAlg %s is not RS256, PS256 or ES256", printable(c.IDTokenAlg))
		}
	}
	if method == clientSecretJWT {
		if len(c.Keys) > 0 || c.JWKSURI != "" {
			return "Keys and JWKSURI are for private_key_jwt, but the client's AuthMethod is client_secret_jwt"
		}
		return ""
	}
	algs := s.privateKeyAlgs(c)
	if c.AuthAlg != "" && !slices.Contains(algs, c.AuthAlg) {
		return fmt.Sprintf("AuthAlg %s is not one of %s", printable(c.AuthAlg), strings.Join(algs, ", "))
	}
	switch {
	case len(c.Keys) > 0 && c.JWKSURI != "":
		return "set Keys or JWKSURI, not both (RFC 7591 section 2)"
	case len(c.Keys) == 0 && c.JWKSURI == "":
		return "a private_key_jwt client needs Keys or JWKSURI"
	case c.JWKSURI != "":
		u, err := url.Parse(c.JWKSURI)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
			return "JWKSURI is not an absolute http or https URL"
		case u.Scheme != "https" && fapi:
			return "JWKSURI must be https for a FAPI 2.0 client (FAPI 2.0 Security Profile section 5.4.2)"
		case u.Scheme != "https" && s.cfg.pingOne:
			return "JWKSURI must be https in PingOne mode, as PingOne's jwksUrl"
		}
		return ""
	}
	for i, k := range c.Keys {
		key, err := checkPublicKey(k.Key)
		switch {
		case err != nil:
			return fmt.Sprintf("Keys[%d] %v", i, err)
		case k.ID == "" && len(c.Keys) > 1:
			return fmt.Sprintf("Keys[%d] has no ID, which a client with several keys needs", i)
		case k.Alg != "" && !slices.Contains(algs, k.Alg):
			return fmt.Sprintf("Keys[%d] has Alg %s, which is not one of %s", i, printable(k.Alg), strings.Join(algs, ", "))
		case k.Alg != "" && keyType(k.Alg) != publicKeyType(key):
			return fmt.Sprintf("Keys[%d] is an %s key, which alg %s cannot use", i, publicKeyType(key), k.Alg)
		}
	}
	return ""
}

// verifyClientJWT checks the alg and the signature of t, a client assertion or a request object
// of c (whose registration is valid): HS256, HS384 or HS512 with the client's secrets for a
// client_secret_jwt client, an algorithm of privateKeyAlgs with the client's keys for a
// private_key_jwt client. A JWT of the other method is refused.
func (s *Server) verifyClientJWT(ctx context.Context, c Client, t *jws) error {
	hmac := slices.Contains(hmacAlgs(), t.alg)
	if s.authMethod(c) == clientSecretJWT {
		if !hmac && slices.Contains(privateKeyJWTAlgs(), t.alg) {
			return fmt.Errorf("uses alg %s of private_key_jwt, but the client is registered for client_secret_jwt (HS256, HS384 or HS512)", t.alg)
		}
		if err := checkHMACAlg(t, c); err != nil {
			return err
		}
		return verifyClientHMAC(t, c)
	}
	algs := s.privateKeyAlgs(c)
	switch {
	case hmac:
		return fmt.Errorf("uses alg %s of client_secret_jwt, but the client is registered for private_key_jwt", t.alg)
	case !slices.Contains(algs, t.alg):
		return fmt.Errorf("uses alg %s; the client's JWTs must use %s", printable(t.alg), strings.Join(algs, ", "))
	case c.AuthAlg != "" && t.alg != c.AuthAlg:
		return fmt.Errorf("uses alg %s but the client is registered for %s", t.alg, c.AuthAlg)
	}
	keys, err := s.clientKeys(ctx, c)
	if err != nil {
		return err
	}
	candidates, err := selectKeys(keys, t)
	if err != nil {
		return err
	}
	for _, k := range candidates {
		if err = verifySignature(t, k); err == nil {
			return nil
		}
	}
	return err
}

// clientKeys returns the public keys of c: its Keys, or the key set at its JWKSURI.
func (s *Server) clientKeys(ctx context.Context, c Client) ([]publicJWK, error) {
	if c.JWKSURI != "" {
		return s.fetchClientJWKS(ctx, c)
	}
	keys := make([]publicJWK, 0, len(c.Keys))
	for _, k := range c.Keys {
		key, err := checkPublicKey(k.Key) // checked by registrationProblem
		if err != nil {
			return nil, err
		}
		keys = append(keys, publicJWK{kid: k.ID, alg: k.Alg, key: key})
	}
	return keys, nil
}

// fetchClientJWKS fetches and reads the JWK Set at c's JWKSURI. Keys whose use is "enc" are left
// out; any other key must be a valid public signing key, and no key may have private members.
func (s *Server) fetchClientJWKS(ctx context.Context, c Client) ([]publicJWK, error) {
	s.lock()
	client := s.httpClient
	s.mu.Unlock()
	if client == nil {
		return nil, errors.New("cannot be checked: the server is not started")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.JWKSURI, nil)
	if err != nil {
		return nil, errors.New("cannot be checked: the client's JWKSURI is not a valid URL")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot be checked: fetching the client's jwks_uri failed: %s", printable(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("cannot be checked: reading the client's jwks_uri failed: %s", printable(err.Error()))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("cannot be checked: the client's jwks_uri answered HTTP %d", resp.StatusCode)
	case len(body) > maxJWKSBytes:
		return nil, errors.New("cannot be checked: the client's jwks_uri answered more than 1 MB")
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.Keys == nil {
		return nil, errors.New("cannot be checked: the client's jwks_uri did not answer a JWK Set ({\"keys\": [...]})")
	}
	var keys []publicJWK
	for i, m := range set.Keys {
		for _, name := range privateJWKMembers {
			if _, ok := m[name]; ok {
				return nil, fmt.Errorf("cannot be checked: key %d of the client's jwks_uri has the private key member %s", i, name)
			}
		}
		if use, _ := m["use"].(string); use == "enc" {
			continue
		}
		k, err := parseJWK(m)
		if err != nil {
			return nil, fmt.Errorf("cannot be checked: key %d of the client's jwks_uri %w", i, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// selectKeys returns the keys among keys that may have signed t: the keys its kid names, or the
// only key when it has no kid, of the type and alg t uses.
func selectKeys(keys []publicJWK, t *jws) ([]crypto.PublicKey, error) {
	if len(keys) == 0 {
		return nil, errors.New("cannot be checked: the client has no signing key")
	}
	var named []publicJWK
	if t.kid == "" {
		if len(keys) > 1 {
			return nil, errors.New("has no kid header, which is required: the client has several keys")
		}
		named = keys
	} else {
		for _, k := range keys {
			if k.kid == t.kid {
				named = append(named, k)
			}
		}
		if len(named) == 0 {
			return nil, fmt.Errorf("has kid %s, which names no key of the client", printable(t.kid))
		}
	}
	var out []crypto.PublicKey
	var reason error
	for _, k := range named {
		switch {
		case k.alg != "" && k.alg != t.alg:
			reason = fmt.Errorf("uses alg %s, but the client's key is for %s", t.alg, printable(k.alg))
		case publicKeyType(k.key) != keyType(t.alg):
			reason = fmt.Errorf("uses alg %s, which the client's %s key cannot verify", t.alg, publicKeyType(k.key))
		default:
			out = append(out, k.key)
		}
	}
	if len(out) == 0 {
		return nil, reason
	}
	return out, nil
}
