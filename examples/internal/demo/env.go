package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/internal/settings"
	"github.com/parlogin/parlogin/oidctest"
	"github.com/redis/go-redis/v9"
)

// CallbackPath is where the examples serve parlogin's callback: they mount parlogin's routes at
// /auth, so PARLOGIN_REDIRECT_URL must end in it.
const CallbackPath = "/auth/callback"

// Env is an example's settings, read from the PARLOGIN_* variables by [Load]. Its fields named
// like [parlogin.Config]'s go there unchanged.
type Env struct {
	// Settings are the PARLOGIN_* variables, read as the parlogin command reads them. Issuer,
	// ClientID and ClientSecret are the embedded provider's when PARLOGIN_ISSUER is unset.
	settings.Settings

	// URL is the app's URL as browsers see it: the origin of RedirectURL, such as
	// http://127.0.0.1:8080 or, behind a proxy, https://app.example.com.
	URL string
	// PostLogoutRedirectURL is URL + "/": derived from RedirectURL, never from Addr.
	PostLogoutRedirectURL string

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
	s, err := settings.Read(getenv)
	if err != nil {
		return nil, err
	}
	e := &Env{Settings: *s}
	u, err := url.Parse(e.RedirectURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != CallbackPath {
		return nil, fmt.Errorf("PARLOGIN_REDIRECT_URL %q must be an http(s) URL whose path is %s: the examples serve parlogin's routes at /auth", e.RedirectURL, CallbackPath)
	}
	e.URL = u.Scheme + "://" + u.Host
	e.PostLogoutRedirectURL = e.URL + "/"

	var random bool
	if e.HashKey, e.BlockKey, random, err = e.CookieKeys(); err != nil {
		return nil, fmt.Errorf("%w (generate one with: openssl rand -hex 32)", err)
	}
	if random {
		slog.Warn("PARLOGIN_SESSION_KEY is not set: using a random key, so sessions end when the app restarts (generate one with: openssl rand -hex 32)")
	}
	if missing := e.Missing(); e.Issuer != "" && len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return nil, fmt.Errorf("PARLOGIN_ISSUER is set: %s %s required too", strings.Join(missing, " and "), verb)
	}
	if e.RedisAddr != "" {
		if e.Redis, err = dialRedis(e.RedisAddr); err != nil {
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

// startProvider starts the embedded provider, with a login form, and registers the example: with
// its client key's public part for private_key_jwt (PARLOGIN_CLIENT_KEY), bound to DPoP-bound
// tokens (PARLOGIN_DPOP), in the provider's FAPI 2.0 mode (PARLOGIN_PROFILE=fapi2).
func (e *Env) startProvider() {
	e.Provider = oidctest.NewUnstartedServer()
	e.Provider.LoginForm = true
	e.Provider.FAPI2 = e.Profile == parlogin.FAPI2
	e.Provider.Start()
	c := oidctest.Client{
		RedirectURIs:           []string{e.RedirectURL},
		PostLogoutRedirectURIs: []string{e.PostLogoutRedirectURL},
		BackchannelLogoutURI:   e.URL + "/auth/backchannel-logout",
		AuthAlg:                e.SigningAlg,
		DPoPBoundAccessTokens:  e.DPoP,
	}
	if len(e.ClientKeys) > 0 {
		c.AuthMethod, c.AuthAlg = "private_key_jwt", ""
		for _, k := range e.ClientKeys {
			c.Keys = append(c.Keys, oidctest.ClientKey{ID: k.ID, Key: k.Signer.Public()})
		}
	}
	client := e.Provider.AddClient(c)
	e.Issuer, e.ClientID = e.Provider.Issuer, client.ID
	if len(e.ClientKeys) == 0 {
		e.ClientSecret = client.Secret
	}
	slog.Info("PARLOGIN_ISSUER is not set: signing in at an embedded test provider; any user name will do", "issuer", e.Issuer)
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
