// Package exampletest is the end-to-end tests that every example passes: each starts the example's
// code (its main.go's config and routes) with its embedded provider, and drives it as a browser
// would.
package exampletest

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/demo"
)

// App is an example's code, from its main.go.
type App struct {
	// Config returns parlogin's configuration for the settings env.
	Config func(env *demo.Env) parlogin.Config
	// Routes returns the app's handler: the pages, /api/me, /api/token when saveTokens is set,
	// and parlogin's routes at /auth.
	Routes func(auth *parlogin.Middleware, saveTokens bool) http.Handler
}

// Server is an example started for a test.
type Server struct {
	// URL is where the test reaches the app: its public URL when it was started with a
	// [Public] host, otherwise its listen address, http://127.0.0.1:port, which is also its
	// public URL unless PARLOGIN_REDIRECT_URL says otherwise.
	URL string
	// Env is the example's settings; Env.Provider is the embedded provider, if started.
	Env  *demo.Env
	Auth *parlogin.Middleware
}

// Start starts app on a free loopback port, as its main function would, with the settings env on
// top of the defaults, and stops it when the test ends. edit, if not nil, changes parlogin's
// configuration last (for what no PARLOGIN_* variable sets, such as the clock). The app logs to
// the test's log.
func Start(t *testing.T, app App, env map[string]string, edit func(*parlogin.Config)) *Server {
	t.Helper()
	return StartPublic(t, app, Public{}, env, edit)
}

// Public is the name under which browsers reach an app started by [StartPublic], which listens on
// 127.0.0.1 whatever the name: its site, as browsers see it.
type Public struct {
	// Host is the host name of the app's public URL, such as localhost, or app.test mapped to
	// 127.0.0.1 by the browser's resolver: PARLOGIN_REDIRECT_URL is
	// {scheme}://{Host}:{port}/auth/callback, with the port the app listens on. Empty: the
	// listen address, 127.0.0.1.
	Host string
	// TLS, if not nil, serves the app over https with this configuration (its certificate
	// for Host): the scheme of the public URL is then https.
	TLS *tls.Config
}

// StartPublic is [Start] for an app reached at pub: its redirect URL names pub's host and
// scheme, unless env sets PARLOGIN_REDIRECT_URL, and Server.URL is its public URL.
func StartPublic(t *testing.T, app App, pub Public, env map[string]string, edit func(*parlogin.Config)) *Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil) // its listener is open: the address is known
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	defaults := map[string]string{
		"PARLOGIN_ADDR":        addr,
		"PARLOGIN_SESSION_KEY": hex.EncodeToString(key),
	}
	if pub.Host != "" || pub.TLS != nil {
		scheme, host := "http", cmp.Or(pub.Host, "127.0.0.1")
		if pub.TLS != nil {
			scheme = "https"
		}
		_, port, _ := net.SplitHostPort(addr)
		defaults["PARLOGIN_REDIRECT_URL"] = scheme + "://" + net.JoinHostPort(host, port) + demo.CallbackPath
	}
	e, err := demo.Load(func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		return defaults[name]
	})
	if err != nil {
		t.Fatalf("loading the settings: %v", err)
	}
	t.Cleanup(e.Close)
	cfg := app.Config(e)
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	if edit != nil {
		edit(&cfg)
	}
	auth, err := parlogin.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("parlogin.New: %v", err)
	}
	srv.Config.Handler = app.Routes(auth, e.SaveTokens)
	srv.Config.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	url := "http://" + addr
	if pub.TLS != nil {
		srv.TLS = pub.TLS
		srv.StartTLS()
	} else {
		srv.Start()
	}
	if pub.Host != "" || pub.TLS != nil {
		url = e.URL
	}
	return &Server{URL: url, Env: e, Auth: auth}
}

// testWriter sends an example's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}
