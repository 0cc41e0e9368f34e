package parlogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Token returns the OAuth 2.0 token of the signed-in user of r, to call APIs on their behalf; it
// needs Config.SaveTokens. An access token that has expired (or expires within Config.ClockSkew) is
// first refreshed with the refresh token and a fresh client assertion, the new ID token verified,
// and the session saved through w: call Token before writing the response.
//
// It returns [ErrNoToken] when there is no usable token. When the provider refuses the refresh
// token, or its new ID token fails verification, the session ends (the user must sign in again)
// and the error says why; when the provider cannot be reached, the session is kept and Token
// returns a [*ProviderError].
//
// With Config.DPoP, the token's TokenType is "DPoP": it is good only with a proof of the session's
// key, which [Middleware.Client] adds to the app's API calls.
func (m *Middleware) Token(w http.ResponseWriter, r *http.Request) (*oauth2.Token, error) {
	tok, _, err := m.token(w, r)
	return tok, err
}

// token is Token, with the session data the token belongs to.
func (m *Middleware) token(w http.ResponseWriter, r *http.Request) (*oauth2.Token, *sessionData, error) {
	s, err := m.sessions.load(r, true)
	if err != nil {
		return nil, nil, err
	}
	if s == nil || s.data.AccessToken == "" {
		return nil, nil, ErrNoToken
	}
	d := s.data
	now := m.cfg.Now()
	if d.TokenExpiry == 0 || now.Add(m.cfg.ClockSkew).Before(time.Unix(d.TokenExpiry, 0)) {
		return d.token(), d, nil
	}
	if d.RefreshToken == "" {
		return nil, nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrNoToken)
	}
	started := now
	fresh, err := m.refreshes.do(d.RefreshToken, func() (*sessionData, error) {
		// Detached from r: the refresh serves every request waiting for it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), m.timeout)
		defer cancel()
		return m.redeem(ctx, d)
	})
	if err != nil {
		e := Event{Kind: EventRefreshFailed, Subject: d.Subject, Err: err}
		if refreshEndsSession(err) {
			e.Reason = reasonRefused
			if endErr := m.sessions.end(r.Context(), w, r, s.key, s.rec, d); endErr != nil {
				m.cfg.Logger.Warn("parlogin: ending a session whose refresh was refused", "error", endErr)
			}
		}
		m.emit(r.Context(), e)
		return nil, nil, err
	}
	if err := m.sessions.save(r.Context(), w, r, s, fresh); err != nil {
		if errors.Is(err, errSessionEnded) {
			err = fmt.Errorf("%w: the session ended during the refresh", ErrNoToken)
		}
		m.emit(r.Context(), Event{Kind: EventRefreshFailed, Subject: d.Subject, Err: err})
		return nil, nil, err
	}
	m.emit(r.Context(), Event{Kind: EventRefresh, Subject: d.Subject, Duration: m.cfg.Now().Sub(started)})
	return fresh.token(), fresh, nil
}

// refreshEndsSession reports whether a failed refresh means that the session cannot go on: the
// provider refused the grant (revoked, expired, or used twice), or answered an ID token that is
// not this session's. Other failures (the provider unreachable) leave it for a later try.
func refreshEndsSession(err error) bool {
	var pe *ProviderError
	return errors.Is(err, ErrInvalidIDToken) ||
		errors.As(err, &pe) && pe.Endpoint == EndpointToken && pe.Code == "invalid_grant"
}

// redeem redeems d's refresh token once across every replica (see refreshes): the first to claim
// it calls the provider and shares the result, the others wait for that result.
func (m *Middleware) redeem(ctx context.Context, d *sessionData) (*sessionData, error) {
	key := refreshKey(d.RefreshToken)
	wait := refreshPollMin
	for {
		if raw, err := m.shared.Get(ctx, "refresh/"+key); err != nil {
			return nil, fmt.Errorf("%w: reading a refresh's result: %w", ErrSessionStore, err)
		} else if raw != nil {
			return openRefreshResult(d, raw)
		}
		owner, err := m.shared.Claim(ctx, "refreshing/"+key, m.cfg.Now().Add(m.timeout))
		if err != nil {
			return nil, fmt.Errorf("%w: claiming a refresh: %w", ErrSessionStore, err)
		}
		if owner {
			return m.refreshAndShare(ctx, d, key)
		}
		// Another replica is redeeming this refresh token: wait for its result, or for its claim
		// to go (it failed, or died).
		select {
		case <-ctx.Done():
			return nil, &ProviderError{Endpoint: EndpointToken, Description: "waiting for a refresh in flight on another replica", Err: ctx.Err()}
		case <-time.After(wait):
		}
		wait = min(2*wait, refreshPollMax)
	}
}

// How often a replica looks for the result of a refresh in flight on another one.
const (
	refreshPollMin = 10 * time.Millisecond
	refreshPollMax = 200 * time.Millisecond
)

// refreshResultTTL is how long a refresh's result is kept for the requests that still carry the
// session from before it (the browser has not stored the new cookie yet, another replica waits).
const refreshResultTTL = 30 * time.Second

// refreshAndShare calls the provider for the refresh claimed under key and shares the result:
// the new session, or the provider's refusal, which would only be repeated (and, at providers
// that detect refresh token reuse, revoke the whole grant) if another replica asked again.
func (m *Middleware) refreshAndShare(ctx context.Context, d *sessionData, key string) (*sessionData, error) {
	op, err := m.provider(ctx)
	var fresh *sessionData
	if err == nil {
		fresh, err = m.refreshSession(ctx, op, d)
	}
	// A budget of its own for sharing the outcome, not what the provider's answer left of ctx: an
	// outcome not shared sends a replica that waits for it to the provider with the same token.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
	defer cancel()
	if err != nil && !refreshEndsSession(err) {
		// Nothing happened at the provider, or nobody knows: let the next request try again.
		if delErr := m.shared.Delete(ctx, "refreshing/"+key); delErr != nil {
			m.cfg.Logger.Warn("parlogin: releasing a failed refresh", "error", delErr)
		}
		return nil, err
	}
	sealed, sealErr := sealRefreshResult(d.RefreshToken, fresh, err)
	if sealErr == nil {
		sealErr = m.shared.Set(ctx, "refresh/"+key, sealed, m.cfg.Now().Add(refreshResultTTL))
	}
	if sealErr != nil {
		m.cfg.Logger.Warn("parlogin: sharing a refresh's result", "error", sealErr)
	}
	return fresh, err
}

// refreshSession redeems d's refresh token (RFC 6749 §6) and returns d updated with the new tokens
// and, when the provider sent a new ID token, its claims (OpenID Connect Core §12.2).
func (m *Middleware) refreshSession(ctx context.Context, op *provider, d *sessionData) (*sessionData, error) {
	client, err := m.providerClient(d.DPoPKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoToken, err)
	}
	var body []byte
	var status int
	err = withDPoPNonce(func() error {
		return m.withClientAuth(ctx, func(key signingKey) error {
			assertion, err := m.signer.assertion(key, op.tokenURL)
			if err != nil {
				return fmt.Errorf("parlogin: signing client assertion: %w", err)
			}
			status, body, err = m.postWith(ctx, client, EndpointToken, op.tokenURL, url.Values{
				"grant_type":            {"refresh_token"},
				"refresh_token":         {d.RefreshToken},
				"client_id":             {m.cfg.ClientID},
				"client_assertion_type": {clientAssertionType},
				"client_assertion":      {assertion},
			})
			if err == nil && status != http.StatusOK {
				err = jsonOAuthError(EndpointToken, status, body)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
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
	if err := m.checkTokenType(answer.TokenType, d.DPoPKey != ""); err != nil {
		return nil, err
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
		// The refreshed ID token's claims replace its predecessor's; those that came from
		// UserInfo stay.
		if fresh.Claims, err = mergeClaims(d.Claims, v.Claims); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
		}
	}
	fresh.setToken(token)
	return &fresh, nil
}
