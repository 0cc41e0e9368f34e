package parlogin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// A page that fires several requests with an expired access token would redeem the same refresh
// token several times, on several replicas; providers that rotate refresh tokens treat the second
// use as theft and revoke the whole grant. So a refresh token is redeemed once: within a process,
// the requests that need it share one call (refreshGroup); across replicas, the first to claim it
// in Config.Shared calls the provider and shares the result there, sealed with a key derived from
// the refresh token itself, which only the holders of that session know (Middleware.redeem).

// refreshKey names the refreshes of refreshToken in Config.Shared: no token is kept as a key.
func refreshKey(refreshToken string) string {
	sum := sha256.Sum256([]byte(refreshToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// refreshGroup makes the concurrent refreshes of one refresh token in a process share one call.
type refreshGroup struct {
	mu    sync.Mutex
	calls map[string]*refreshCall
}

type refreshCall struct {
	done   chan struct{}
	result *sessionData
	err    error
}

// do calls refresh, or waits for the call in flight for the same refresh token and returns its
// result.
func (g *refreshGroup) do(refreshToken string, refresh func() (*sessionData, error)) (*sessionData, error) {
	key := refreshKey(refreshToken)
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.result, c.err
	}
	if g.calls == nil {
		g.calls = make(map[string]*refreshCall)
	}
	c := &refreshCall{done: make(chan struct{}), err: errors.New("parlogin: the refresh did not finish")}
	g.calls[key] = c
	g.mu.Unlock()

	// Even if refresh panics, the waiters are released and the next request may try again.
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.result, c.err = refresh()
	return c.result, c.err
}

// refreshResult is what a replica that redeemed a refresh token tells the others.
type refreshResult struct {
	Session *sessionData `json:"s,omitempty"`
	// Refused is the provider's error code when it refused the refresh token, or "id_token"
	// when its new ID token failed verification: the session must end.
	Refused string `json:"r,omitempty"`
}

// refreshSealKey derives the key that seals a refresh's result from the refresh token redeemed.
func refreshSealKey(refreshToken string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(refreshToken), nil, "parlogin refresh result", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealRefreshResult seals the outcome of redeeming refreshToken: fresh, or the error that ends
// the session.
func sealRefreshResult(refreshToken string, fresh *sessionData, err error) ([]byte, error) {
	res := refreshResult{Session: fresh}
	if err != nil {
		res.Refused = "id_token"
		var pe *ProviderError
		if errors.As(err, &pe) {
			res.Refused = pe.Code
		}
	}
	plain, mErr := json.Marshal(res)
	if mErr != nil {
		return nil, mErr
	}
	aead, kErr := refreshSealKey(refreshToken)
	if kErr != nil {
		return nil, kErr
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, nil), nil
}

// openRefreshResult opens the result of another replica's redemption of d's refresh token.
func openRefreshResult(d *sessionData, sealed []byte) (*sessionData, error) {
	aead, err := refreshSealKey(d.RefreshToken)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("%w: a malformed refresh result", ErrSessionStore)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: a refresh result that does not open: %w", ErrSessionStore, err)
	}
	var res refreshResult
	if err := json.Unmarshal(plain, &res); err != nil {
		return nil, fmt.Errorf("%w: a malformed refresh result: %w", ErrSessionStore, err)
	}
	switch {
	case res.Refused == "id_token":
		return nil, fmt.Errorf("%w: the refreshed id token failed verification on another replica", ErrInvalidIDToken)
	case res.Refused != "":
		return nil, &ProviderError{Endpoint: EndpointToken, Code: oauthErrorText(res.Refused), Description: "refused when another replica redeemed the refresh token"}
	case res.Session == nil || res.Session.ID != d.ID:
		return nil, fmt.Errorf("%w: a refresh result for another session", ErrSessionStore)
	}
	return res.Session, nil
}
