// Package settings reads the PARLOGIN_* environment variables, the one way for the two programs
// that take them: the examples (examples/internal/demo, which also starts an embedded provider
// and a Redis client) and the parlogin command (cmd/parlogin, which checks a configuration). What
// each does with the settings stays with it.
package settings

import (
	"cmp"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/parlogin/parlogin"
)

// Settings are the values of the PARLOGIN_* variables, with their defaults. The fields named like
// [parlogin.Config]'s go there unchanged.
type Settings struct {
	// Addr is where the app listens (PARLOGIN_ADDR), default 127.0.0.1:8080.
	Addr string

	Issuer       string // PARLOGIN_ISSUER; empty: the examples start an embedded provider
	ClientID     string // PARLOGIN_CLIENT_ID
	ClientSecret string // PARLOGIN_CLIENT_SECRET, for client_secret_jwt
	// RedirectURL is PARLOGIN_REDIRECT_URL, by default http://{Addr}/auth/callback, on
	// 127.0.0.1 when Addr names every interface.
	RedirectURL  string
	SigningAlg   string   // PARLOGIN_AUTH_ALG: HS256, HS384 or HS512
	ResponseMode string   // PARLOGIN_RESPONSE_MODE: query or form_post
	Scopes       []string // PARLOGIN_SCOPES, space-separated, default "profile email"
	SaveTokens   bool     // PARLOGIN_SAVE_TOKENS=1

	// ClientKeys, from PARLOGIN_CLIENT_KEY, is the client's private key for private_key_jwt,
	// with the ID PARLOGIN_CLIENT_KEY_ID or, by default, the key's JWK thumbprint (RFC 7638);
	// nil without PARLOGIN_CLIENT_KEY. See [ReadClientKey].
	ClientKeys []parlogin.ClientKey
	// ClientKeyFile is the path PARLOGIN_CLIENT_KEY names.
	ClientKeyFile string
	// DPoP is PARLOGIN_DPOP=1, and implied by the FAPI 2.0 profile.
	DPoP bool
	// Profile is parlogin.FAPI2 for PARLOGIN_PROFILE=fapi2.
	Profile parlogin.Profile

	// RedisAddr is PARLOGIN_REDIS_ADDR: host:port, or a unix socket's path.
	RedisAddr string

	// SessionKey is PARLOGIN_SESSION_KEY as given: see [Settings.CookieKeys].
	SessionKey string
}

// Read reads the settings through getenv (os.Getenv), with their defaults, and reads the key
// file of PARLOGIN_CLIENT_KEY. It fails on a value that cannot be used, naming its variable; it
// requires nothing, since the examples run without any (see [Settings.Missing]), and leaves
// PARLOGIN_SESSION_KEY to [Settings.CookieKeys].
func Read(getenv func(string) string) (*Settings, error) {
	s := &Settings{
		Addr:          cmp.Or(getenv("PARLOGIN_ADDR"), "127.0.0.1:8080"),
		Issuer:        getenv("PARLOGIN_ISSUER"),
		ClientID:      getenv("PARLOGIN_CLIENT_ID"),
		ClientSecret:  getenv("PARLOGIN_CLIENT_SECRET"),
		RedirectURL:   getenv("PARLOGIN_REDIRECT_URL"),
		SigningAlg:    getenv("PARLOGIN_AUTH_ALG"),
		ResponseMode:  getenv("PARLOGIN_RESPONSE_MODE"),
		Scopes:        strings.Fields(cmp.Or(getenv("PARLOGIN_SCOPES"), "profile email")),
		SaveTokens:    getenv("PARLOGIN_SAVE_TOKENS") == "1",
		ClientKeyFile: getenv("PARLOGIN_CLIENT_KEY"),
		DPoP:          getenv("PARLOGIN_DPOP") == "1",
		RedisAddr:     getenv("PARLOGIN_REDIS_ADDR"),
		SessionKey:    getenv("PARLOGIN_SESSION_KEY"),
	}
	if s.RedirectURL == "" {
		host, port, err := net.SplitHostPort(s.Addr)
		if err != nil {
			return nil, fmt.Errorf("PARLOGIN_ADDR %q is not host:port", s.Addr)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1" // listening on every interface: loopback is one of them
		}
		s.RedirectURL = "http://" + net.JoinHostPort(host, port) + "/auth/callback"
	}

	keyID := getenv("PARLOGIN_CLIENT_KEY_ID")
	switch {
	case s.ClientKeyFile != "" && s.ClientSecret != "":
		return nil, errors.New("PARLOGIN_CLIENT_KEY and PARLOGIN_CLIENT_SECRET are both set: a client authenticates one way, private_key_jwt or client_secret_jwt; unset one")
	case s.ClientKeyFile != "":
		key, err := ReadClientKey(s.ClientKeyFile, keyID)
		if err != nil {
			return nil, err
		}
		s.ClientKeys = []parlogin.ClientKey{key}
	case keyID != "":
		return nil, errors.New("PARLOGIN_CLIENT_KEY_ID is set without PARLOGIN_CLIENT_KEY, the key it names")
	}

	switch profile := getenv("PARLOGIN_PROFILE"); strings.ToLower(profile) {
	case "":
	case "fapi2":
		if s.ClientKeyFile == "" {
			return nil, errors.New("PARLOGIN_PROFILE=fapi2 needs PARLOGIN_CLIENT_KEY: FAPI 2.0 clients authenticate with private_key_jwt, not a client secret")
		}
		s.Profile, s.DPoP = parlogin.FAPI2, true // FAPI 2.0's tokens are sender-constrained
	default:
		return nil, fmt.Errorf("PARLOGIN_PROFILE %q is not fapi2, the only profile", profile)
	}
	return s, nil
}

// Missing returns the variables that a provider of one's own needs and that are not set:
// PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID, and PARLOGIN_CLIENT_SECRET unless PARLOGIN_CLIENT_KEY is set.
func (s *Settings) Missing() []string {
	var missing []string
	if s.Issuer == "" {
		missing = append(missing, "PARLOGIN_ISSUER")
	}
	if s.ClientID == "" {
		missing = append(missing, "PARLOGIN_CLIENT_ID")
	}
	if s.ClientSecret == "" && len(s.ClientKeys) == 0 {
		missing = append(missing, "PARLOGIN_CLIENT_SECRET")
	}
	return missing
}

// CookieKeys returns the session cookies' MAC and encryption keys, 32 bytes each, derived with
// HKDF-SHA256 from PARLOGIN_SESSION_KEY, 32 bytes or more, hex or base64 encoded, so that one
// secret makes both. Without it, they derive from a random key, another at each call, and random
// is true: sessions then end when the app restarts.
func (s *Settings) CookieKeys() (hashKey, blockKey []byte, random bool, err error) {
	key, err := hex.DecodeString(s.SessionKey)
	if err != nil {
		key, err = base64.StdEncoding.DecodeString(s.SessionKey)
	}
	switch {
	case s.SessionKey == "":
		key, random = make([]byte, 32), true
		_, _ = rand.Read(key)
	case err != nil || len(key) < 32:
		return nil, nil, false, errors.New("PARLOGIN_SESSION_KEY must be at least 32 bytes, hex or base64 encoded")
	}
	if hashKey, err = hkdf.Key(sha256.New, key, nil, "parlogin example cookie mac", 32); err != nil {
		return nil, nil, false, err
	}
	if blockKey, err = hkdf.Key(sha256.New, key, nil, "parlogin example cookie encryption", 32); err != nil {
		return nil, nil, false, err
	}
	return hashKey, blockKey, random, nil
}
