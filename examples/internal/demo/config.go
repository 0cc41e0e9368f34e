// Package demo holds what the example programs share: settings from PARLOGIN_* variables, the
// embedded provider used when none is configured, the pages, and the server's life cycle. Each
// example only wires these into its framework's router.
package demo

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/boj/redistore"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// Settings are the example's settings, read from PARLOGIN_* environment variables.
type Settings struct {
	Addr         string // PARLOGIN_ADDR, default 127.0.0.1:8080
	Issuer       string // PARLOGIN_ISSUER; empty: start the embedded oidctest provider
	ClientID     string // PARLOGIN_CLIENT_ID
	ClientSecret string // PARLOGIN_CLIENT_SECRET
	RedirectURL  string // PARLOGIN_REDIRECT_URL, default http://{Addr}/auth/callback
	AuthAlg      string // PARLOGIN_AUTH_ALG: HS256 (default), HS384, HS512
	ResponseMode string // PARLOGIN_RESPONSE_MODE: query (default) or form_post
	Scopes       string // PARLOGIN_SCOPES, space-separated, default "profile email"
	SaveTokens   bool   // PARLOGIN_SAVE_TOKENS=1 keeps tokens (needed by some providers' logout)
	SessionKey   string // PARLOGIN_SESSION_KEY: ≥32 bytes, hex or base64; generated when empty
	// RedisAddr, PARLOGIN_REDIS_ADDR, keeps sessions in Redis (host:port, or the path of a unix
	// socket) instead of cookies: for tokens, which rarely fit in a cookie, and for logouts that
	// end the session everywhere.
	RedisAddr string
}

// LoadSettings reads the settings through getenv.
func LoadSettings(getenv func(string) string) Settings {
	s := Settings{
		Addr:         getenv("PARLOGIN_ADDR"),
		Issuer:       getenv("PARLOGIN_ISSUER"),
		ClientID:     getenv("PARLOGIN_CLIENT_ID"),
		ClientSecret: getenv("PARLOGIN_CLIENT_SECRET"),
		RedirectURL:  getenv("PARLOGIN_REDIRECT_URL"),
		AuthAlg:      getenv("PARLOGIN_AUTH_ALG"),
		ResponseMode: getenv("PARLOGIN_RESPONSE_MODE"),
		Scopes:       getenv("PARLOGIN_SCOPES"),
		SaveTokens:   getenv("PARLOGIN_SAVE_TOKENS") == "1",
		SessionKey:   getenv("PARLOGIN_SESSION_KEY"),
		RedisAddr:    getenv("PARLOGIN_REDIS_ADDR"),
	}
	if s.Addr == "" {
		s.Addr = "127.0.0.1:8080"
	}
	if s.Scopes == "" {
		s.Scopes = "profile email"
	}
	return s
}

// config returns the parlogin configuration for an app listening at appURL. Without an issuer
// it starts the embedded provider and registers the app. close releases what config started.
func (s Settings) config(appURL string, logger *slog.Logger) (c parlogin.Config, close func(), err error) {
	redirectURL := s.RedirectURL
	if redirectURL == "" {
		redirectURL = appURL + "/auth/callback"
	}
	store, closeStore, err := s.store(logger)
	if err != nil {
		return parlogin.Config{}, nil, err
	}
	c = parlogin.Config{
		Issuer:                s.Issuer,
		ClientID:              s.ClientID,
		ClientSecret:          s.ClientSecret,
		RedirectURL:           redirectURL,
		Store:                 store,
		Scopes:                strings.Fields(s.Scopes),
		SigningAlg:            s.AuthAlg,
		ResponseMode:          s.ResponseMode,
		SaveTokens:            s.SaveTokens,
		PostLogoutRedirectURL: appURL + "/",
		Logger:                logger,
	}
	if s.Issuer != "" {
		if s.ClientID == "" || s.ClientSecret == "" {
			closeStore()
			return c, nil, errors.New("PARLOGIN_ISSUER is set: PARLOGIN_CLIENT_ID and PARLOGIN_CLIENT_SECRET are required too")
		}
		return c, closeStore, nil
	}
	op := oidctest.NewUnstartedServer()
	op.LoginForm = true
	op.Start()
	client := op.AddClient(oidctest.Client{
		RedirectURIs:           []string{redirectURL},
		PostLogoutRedirectURIs: []string{c.PostLogoutRedirectURL},
		AuthAlg:                s.AuthAlg,
	})
	c.Issuer, c.ClientID, c.ClientSecret = op.Issuer, client.ID, client.Secret
	return c, func() { op.Close(); closeStore() }, nil
}

// store returns the session store, its signing and encryption keys derived from the session key:
// Redis with RedisAddr, cookies otherwise. close releases it.
func (s Settings) store(logger *slog.Logger) (store sessions.Store, close func(), err error) {
	key, err := decodeKey(s.SessionKey)
	if err != nil {
		return nil, nil, err
	}
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		logger.Warn("PARLOGIN_SESSION_KEY is not set: using a random key, so sessions end when the app restarts")
	}
	hashKey, err := hkdf.Key(sha256.New, key, nil, "parlogin example cookie mac", 32)
	if err != nil {
		return nil, nil, err
	}
	blockKey, err := hkdf.Key(sha256.New, key, nil, "parlogin example cookie encryption", 32)
	if err != nil {
		return nil, nil, err
	}
	if s.RedisAddr == "" {
		return sessions.NewCookieStore(hashKey, blockKey), func() {}, nil
	}
	network := "tcp"
	if strings.HasPrefix(s.RedisAddr, "/") {
		network = "unix"
	}
	rs, err := redistore.NewRediStore(10, network, s.RedisAddr, "", "", hashKey, blockKey)
	if err != nil {
		return nil, nil, fmt.Errorf("PARLOGIN_REDIS_ADDR: %w", err)
	}
	rs.SetMaxLength(64 << 10) // tokens fit; the cookie holds only the session's identifier
	return rs, func() { _ = rs.Close() }, nil
}

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		key, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("PARLOGIN_SESSION_KEY must be at least 32 bytes, hex or base64 encoded")
	}
	return key, nil
}

// callbackPath is the path of the redirect URL, where the callback is routed.
func callbackPath(redirectURL string) string {
	u, err := url.Parse(redirectURL)
	if err != nil || u.Path == "" {
		return "/auth/callback"
	}
	return u.Path
}
