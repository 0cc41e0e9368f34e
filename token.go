package parlogin

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Token returns the OAuth 2.0 token of the signed-in user of r, to call APIs on their behalf; it
// needs Config.SaveTokens. An access token that has expired (or expires within Config.ClockSkew) is
// first refreshed with the refresh token and a fresh client assertion, the new ID token verified,
// and the session saved through w: call Token before writing the response. It returns
// [ErrNoToken] when there is no usable token, and a [*ProviderError] when the refresh fails.
func (m *Middleware) Token(w http.ResponseWriter, r *http.Request) (*oauth2.Token, error) {
	rec, d, ok := m.loadSession(r)
	if !ok || d.AccessToken == "" {
		return nil, ErrNoToken
	}
	now := m.cfg.Now()
	if d.TokenExpiry == 0 || now.Add(m.cfg.ClockSkew).Before(time.Unix(d.TokenExpiry, 0)) {
		return d.token(), nil
	}
	if d.RefreshToken == "" {
		return nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrNoToken)
	}
	fresh, err := m.refresh.do(d.RefreshToken, now, func() (*sessionData, error) {
		// Detached from r: the refresh serves every request waiting for it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), m.cfg.Timeout)
		defer cancel()
		op, err := m.provider(ctx)
		if err != nil {
			return nil, err
		}
		return m.refreshSession(ctx, op, d)
	})
	if err != nil {
		return nil, err
	}
	if err := m.saveSession(w, r, rec, fresh); err != nil {
		return nil, err
	}
	return fresh.token(), nil
}

// refreshSession redeems d's refresh token (RFC 6749 §6) and returns d updated with the new tokens
// and, when the provider sent a new ID token, its claims (OpenID Connect Core §12.2).
func (m *Middleware) refreshSession(ctx context.Context, op *provider, d *sessionData) (*sessionData, error) {
	assertion, err := m.signer.assertion(op.tokenURL)
	if err != nil {
		return nil, fmt.Errorf("parlogin: signing client assertion: %w", err)
	}
	status, body, err := m.post(ctx, EndpointToken, op.tokenURL, url.Values{
		"grant_type":            {"refresh_token"},
		"refresh_token":         {d.RefreshToken},
		"client_id":             {m.cfg.ClientID},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, jsonOAuthError(EndpointToken, status, body)
	}
	var answer struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		IDToken      string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.AccessToken == "" {
		return nil, &ProviderError{Endpoint: EndpointToken, StatusCode: status, Description: "malformed token response", Err: err}
	}
	token := &oauth2.Token{AccessToken: answer.AccessToken, TokenType: answer.TokenType, RefreshToken: answer.RefreshToken}
	if answer.ExpiresIn > 0 {
		token.Expiry = m.cfg.Now().Add(time.Duration(answer.ExpiresIn) * time.Second)
	}
	fresh := *d
	if answer.IDToken != "" {
		token = token.WithExtra(map[string]any{"id_token": answer.IDToken})
		v, err := m.verifyIDToken(ctx, op, token, nil)
		if err != nil {
			return nil, err
		}
		if v.Subject != d.Subject {
			return nil, fmt.Errorf("%w: refreshed id token is for another subject", ErrInvalidIDToken)
		}
		fresh.Claims = v.Claims
	}
	fresh.setToken(token)
	return &fresh, nil
}

// refreshResultTTL is how long a refresh's result is reused for requests that still carry the
// session from before it (the browser has not stored the new cookie yet).
const refreshResultTTL = 30 * time.Second

// refreshGroup makes the refreshes of one refresh token share one call to the provider. A page
// that fires several requests with an expired access token would otherwise redeem the same
// refresh token several times, and providers that rotate refresh tokens treat the second use as
// theft and revoke the whole grant.
type refreshGroup struct {
	mu    sync.Mutex
	calls map[[sha256.Size]byte]*refreshCall
}

type refreshCall struct {
	done   chan struct{}
	result *sessionData
	err    error
	until  time.Time // zero while in flight
}

func (g *refreshGroup) do(refreshToken string, now time.Time, refresh func() (*sessionData, error)) (*sessionData, error) {
	key := sha256.Sum256([]byte(refreshToken)) // no tokens kept as map keys
	g.mu.Lock()
	if c, ok := g.calls[key]; ok && (c.until.IsZero() || now.Before(c.until)) {
		g.mu.Unlock()
		<-c.done
		return c.result, c.err
	}
	if g.calls == nil {
		g.calls = make(map[[sha256.Size]byte]*refreshCall)
	}
	for k, c := range g.calls {
		if !c.until.IsZero() && !now.Before(c.until) {
			delete(g.calls, k)
		}
	}
	c := &refreshCall{done: make(chan struct{})}
	g.calls[key] = c
	g.mu.Unlock()

	c.result, c.err = refresh()
	g.mu.Lock()
	if c.err != nil {
		delete(g.calls, key) // a failure is not reused: the next request may try again
	} else {
		c.until = now.Add(refreshResultTTL)
	}
	g.mu.Unlock()
	close(c.done)
	return c.result, c.err
}
