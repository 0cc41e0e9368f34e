package parlogin

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SetClientSecret makes secret the client secret, at run time, without a restart and without
// losing a login: assertions (and request objects) are signed with it from now on, and when the
// provider answers invalid_client to one, the call is made once more with the previous secret, for
// as long as keepPrevious. So the secret can be rotated in either order:
//
//   - provider first: generate a new secret at the provider while it keeps the previous one valid
//     (PingOne does, for the time you choose), then call SetClientSecret on every replica;
//   - app first: call SetClientSecret with the new secret, which the provider refuses until it has
//     it, and logins go on with the previous one meanwhile; then change it at the provider.
//
// Which secret the provider accepted is logged: at Info the first time it accepts the new one,
// as a warning (at most once a minute) while it accepts only the previous one. secret must be as
// long as Config.ClientSecret must be; it is never logged or put in an error. SetClientSecret is
// safe for concurrent use with logins in flight.
func (m *Middleware) SetClientSecret(secret string, keepPrevious time.Duration) error {
	if len(m.cfg.ClientKeys) > 0 {
		return errors.New("parlogin: SetClientSecret: the client authenticates with keys (private_key_jwt): see SetClientKeys")
	}
	if n := max(32, hmacHashSize[m.cfg.SigningAlg]); len(secret) < n {
		return fmt.Errorf("parlogin: SetClientSecret: the secret is shorter than %d bytes, too weak an HMAC key for %s (RFC 7518 §3.2)", n, m.cfg.SigningAlg)
	}
	m.signer.rotate([]byte(secret), m.cfg.Now().Add(keepPrevious))
	m.rotation.Lock()
	m.rotation.newAccepted, m.rotation.warnedAt = false, time.Time{}
	m.rotation.Unlock()
	return nil
}

// withClientAuth calls call with the secret or key to authenticate with; when the provider refuses
// the client (invalid_client) and a previous one is still kept, it calls it once more with that
// one. Providers authenticate the client before they look at its grant, so that the authorization
// code or refresh token of a refused request is still good for the second.
func (m *Middleware) withClientAuth(ctx context.Context, call func(key signingKey) error) error {
	keys := m.signer.keys(m.cfg.Now())
	err := call(keys[0])
	rotating := len(keys) > 1
	if err == nil {
		if rotating {
			m.accepted(ctx, true)
		}
		return nil
	}
	if !rotating || !refusedClient(err) {
		return err
	}
	if retryErr := call(keys[1]); retryErr != nil {
		// The previous secret's own answer: a refusal of it, or a request for a DPoP nonce,
		// which the caller retries (RFC 9449 §8).
		return retryErr
	}
	m.accepted(ctx, false)
	return nil
}

// refusedClient reports whether err is the provider's refusal of the client's authentication.
func refusedClient(err error) bool {
	var pe *ProviderError
	return errors.As(err, &pe) && pe.Code == "invalid_client"
}

// accepted logs which secret the provider accepted during a rotation.
func (m *Middleware) accepted(ctx context.Context, newSecret bool) {
	m.rotation.Lock()
	defer m.rotation.Unlock()
	switch now := m.cfg.Now(); {
	case newSecret && !m.rotation.newAccepted:
		m.rotation.newAccepted = true
		m.cfg.Logger.InfoContext(ctx, "parlogin: the provider accepted the new client secret")
	case !newSecret && now.Sub(m.rotation.warnedAt) >= time.Minute:
		m.rotation.warnedAt = now
		m.cfg.Logger.WarnContext(ctx, "parlogin: the provider refused the new client secret and accepted the previous one: set the new one at the provider before the previous one is dropped")
	}
}
