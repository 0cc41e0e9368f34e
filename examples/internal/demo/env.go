package demo

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/parlogin/parlogin/oidctest"
	"github.com/redis/go-redis/v9"
)

// CallbackPath is where the examples serve parlogin's callback: they mount parlogin's routes at
// /auth, so PARLOGIN_REDIRECT_URL must end in it.
const CallbackPath = "/auth/callback"

// Env is an example's settings, read from the PARLOGIN_* variables by [Load]. Its fields named
// like [parlogin.Config]'s go there unchanged.
type Env struct {
	// Addr is where the app listens (PARLOGIN_ADDR).
	Addr string
	// URL is the app's URL as browsers see it: the origin of RedirectURL, such as
	// http://127.0.0.1:8080 or, behind a proxy, https://app.example.com.
	URL string

	Issuer       string // PARLOGIN_ISSUER, or the embedded provider's
	ClientID     string // PARLOGIN_CLIENT_ID, or the client registered at the embedded provider
	ClientSecret string // PARLOGIN_CLIENT_SECRET, or that client's
	RedirectURL  string // PARLOGIN_REDIRECT_URL, default http://{Addr}/auth/callback
	// PostLogoutRedirectURL is URL + "/": derived from RedirectURL, never from Addr.
	PostLogoutRedirectURL string
	SigningAlg            string   // PARLOGIN_AUTH_ALG
	ResponseMode          string   // PARLOGIN_RESPONSE_MODE
	Scopes                []string // PARLOGIN_SCOPES, default profile and email
	SaveTokens            bool     // PARLOGIN_SAVE_TOKENS=1

	// HashKey and BlockKey are the session cookies' MAC and encryption keys, 32 bytes each,
	// derived from PARLOGIN_SESSION_KEY with HKDF.
	HashKey, BlockKey []byte

	// Redis is a go-redis client of the server at PARLOGIN_REDIS_ADDR, nil without it: made with
	// redis.NewClient(&redis.Options{Addr: "host:port"}), or Network "unix" and the socket's path.
	Redis *redis.Client

	// Provider is the embedded provider, when PARLOGIN_ISSUER is unset; nil otherwise.
	Provider *oidctest.Server
}

// Load reads the settings through getenv (os.Getenv). Without PARLOGIN_ISSUER, it starts the
// embedded provider and registers the example there as a client. Close releases what Load
// started; a program that runs until it is killed need not call it.
func Load(getenv func(string) string) (*Env, error) {
	e := &Env{
		Addr:         cmp.Or(getenv("PARLOGIN_ADDR"), "127.0.0.1:8080"),
		Issuer:       getenv("PARLOGIN_ISSUER"),
		ClientID:     getenv("PARLOGIN_CLIENT_ID"),
		ClientSecret: getenv("PARLOGIN_CLIENT_SECRET"),
		RedirectURL:  getenv("PARLOGIN_REDIRECT_URL"),
		SigningAlg:   getenv("PARLOGIN_AUTH_ALG"),
		ResponseMode: getenv("PARLOGIN_RESPONSE_MODE"),
		Scopes:       strings.Fields(cmp.Or(getenv("PARLOGIN_SCOPES"), "profile email")),
		SaveTokens:   getenv("PARLOGIN_SAVE_TOKENS") == "1",
	}
	if e.RedirectURL == "" {
		host, port, err := net.SplitHostPort(e.Addr)
		if err != nil {
			return nil, fmt.Errorf("PARLOGIN_ADDR %q is not host:port", e.Addr)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1" // listening on every interface: loopback is one of them
		}
		e.RedirectURL = "http://" + net.JoinHostPort(host, port) + CallbackPath
	}
	u, err := url.Parse(e.RedirectURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != CallbackPath {
		return nil, fmt.Errorf("PARLOGIN_REDIRECT_URL %q must be an http(s) URL whose path is %s: the examples serve parlogin's routes at /auth", e.RedirectURL, CallbackPath)
	}
	e.URL = u.Scheme + "://" + u.Host
	e.PostLogoutRedirectURL = e.URL + "/"

	if e.HashKey, e.BlockKey, err = sessionKeys(getenv("PARLOGIN_SESSION_KEY")); err != nil {
		return nil, err
	}
	if e.Issuer != "" && (e.ClientID == "" || e.ClientSecret == "") {
		return nil, errors.New("PARLOGIN_ISSUER is set: PARLOGIN_CLIENT_ID and PARLOGIN_CLIENT_SECRET are required too")
	}
	if addr := getenv("PARLOGIN_REDIS_ADDR"); addr != "" {
		if e.Redis, err = dialRedis(addr); err != nil {
			return nil, err
		}
	}
	if e.Issuer == "" {
		e.startProvider()
	}
	return e, nil
}

// Close stops the embedded provider and closes the Redis client.
func (e *Env) Close() {
	if e.Provider != nil {
		e.Provider.Close()
	}
	if e.Redis != nil {
		_ = e.Redis.Close()
	}
}

// startProvider starts the embedded provider, with a login form, and registers the example.
func (e *Env) startProvider() {
	e.Provider = oidctest.NewUnstartedServer()
	e.Provider.LoginForm = true
	e.Provider.Start()
	client := e.Provider.AddClient(oidctest.Client{
		RedirectURIs:           []string{e.RedirectURL},
		PostLogoutRedirectURIs: []string{e.PostLogoutRedirectURL},
		BackchannelLogoutURI:   e.URL + "/auth/backchannel-logout",
		AuthAlg:                e.SigningAlg,
	})
	e.Issuer, e.ClientID, e.ClientSecret = e.Provider.Issuer, client.ID, client.Secret
	slog.Info("PARLOGIN_ISSUER is not set: signing in at an embedded test provider; any user name will do", "issuer", e.Issuer)
}

// sessionKeys derives the cookies' MAC and encryption keys from PARLOGIN_SESSION_KEY, or from a
// random key when it is empty.
func sessionKeys(encoded string) (hashKey, blockKey []byte, err error) {
	key, err := hex.DecodeString(encoded)
	if err != nil {
		key, err = base64.StdEncoding.DecodeString(encoded)
	}
	switch {
	case encoded == "":
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		slog.Warn("PARLOGIN_SESSION_KEY is not set: using a random key, so sessions end when the app restarts (generate one with: openssl rand -hex 32)")
	case err != nil || len(key) < 32:
		return nil, nil, errors.New("PARLOGIN_SESSION_KEY must be at least 32 random bytes, hex or base64 encoded (openssl rand -hex 32)")
	}
	if hashKey, err = hkdf.Key(sha256.New, key, nil, "parlogin example cookie mac", 32); err != nil {
		return nil, nil, err
	}
	if blockKey, err = hkdf.Key(sha256.New, key, nil, "parlogin example cookie encryption", 32); err != nil {
		return nil, nil, err
	}
	return hashKey, blockKey, nil
}

// dialRedis returns a client of the Redis server at addr, host:port or a unix socket's path,
// once it has answered.
func dialRedis(addr string) (*redis.Client, error) {
	opts := &redis.Options{Addr: addr}
	if strings.Contains(addr, "/") {
		opts.Network = "unix"
	}
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("PARLOGIN_REDIS_ADDR: %w", err)
	}
	return rdb, nil
}
