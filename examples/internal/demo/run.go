package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/parlogin/parlogin"
)

// Mount builds an example's handler: its framework's router with the pages and parlogin's routes
// (the callback at callbackPath, GET /auth/login, POST /auth/logout).
type Mount func(auth *parlogin.Middleware, callbackPath string) http.Handler

// Server is a running example.
type Server struct {
	// URL is the app's base URL, such as http://127.0.0.1:8080.
	URL string
	// Auth is the app's parlogin middleware.
	Auth *parlogin.Middleware

	srv     *http.Server
	release func() // the embedded provider, the session store
}

// Start starts an example with the settings read through getenv, logging to out.
func Start(ctx context.Context, getenv func(string) string, out io.Writer, mount Mount) (*Server, error) {
	logger := slog.New(slog.NewTextHandler(out, nil))
	s := LoadSettings(getenv)
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	appURL := "http://" + ln.Addr().String()
	cfg, release, err := s.config(appURL, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	server := &Server{URL: appURL, release: release}
	server.Auth, err = parlogin.New(ctx, cfg)
	if err != nil {
		ln.Close()
		release()
		return nil, err
	}
	server.srv = &http.Server{
		Handler:           mount(server.Auth, callbackPath(cfg.RedirectURL)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := server.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serve", "error", err)
		}
	}()
	provider := cfg.Issuer
	if s.Issuer == "" {
		provider = "the embedded oidctest provider at " + cfg.Issuer + " (sign in with any name)"
	}
	fmt.Fprintf(out, "parlogin example: open %s/private\nsigning in with %s\n", appURL, provider)
	return server, nil
}

// Close stops the app, the embedded provider and the session store.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.release()
	return err
}

// Run runs an example until ctx is done.
func Run(ctx context.Context, getenv func(string) string, out io.Writer, mount Mount) error {
	s, err := Start(ctx, getenv, out, mount)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}
