package parlogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// Refetches of the JWKS for unknown key IDs are rate limited: a burst of jwksRefreshBurst, then one
// per jwksRefreshEvery.
const (
	jwksRefreshBurst = 3
	jwksRefreshEvery = 10 * time.Second
)

// The keys are also fetched again once they are older than the JWKS response's Cache-Control
// max-age, bounded to [jwksMinAge, jwksMaxAge] (jwksMinAge without one), so that a key the
// provider removed stops verifying: a key it withdrew because it leaked must not verify tokens
// until the app restarts.
const (
	jwksMinAge = 5 * time.Minute
	jwksMaxAge = 24 * time.Hour
)

// asymmetricAlgs are the ID token algorithms go-oidc supports; HMAC and "none" are never accepted.
var asymmetricAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA,
}

// errNoKey is reported when no key of the provider verifies a signature.
var errNoKey = errors.New("no key of the provider verifies the signature")

// keySet verifies ID token signatures with the keys of the provider's JWKS (OpenID Connect Core
// §10.1.1); it implements go-oidc's KeySet. Like go-oidc's RemoteKeySet it fetches the JWKS on
// first use and again for a key it does not know, as providers rotate keys; unlike it, those
// refetches are rate limited, so that tokens with made-up key IDs cannot turn into a stream of
// requests to the provider, and the keys are fetched again when they are older than the
// provider's Cache-Control allows. Fetched keys go on verifying while the JWKS endpoint is down.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu         sync.Mutex
	keys       []jose.JSONWebKey
	stale      time.Time     // when the keys are to be fetched again
	fetching   chan struct{} // closed when the fetch in flight ends; nil when none is
	credit     float64       // refetches allowed now, up to jwksRefreshBurst
	creditTime time.Time
}

func newKeySet(url string, client *http.Client, now func() time.Time) *keySet {
	return &keySet{url: url, client: client, now: now, credit: jwksRefreshBurst, creditTime: now()}
}

// VerifySignature returns the payload of the compact JWS raw once a key of the provider verifies
// it. go-oidc has checked the algorithm against the allow-list before calling it.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	// Compact only: ID tokens are compact JWS (OpenID Connect Core §2), and ParseSigned's search for
	// whitespace and the JSON serialization costs a third of the verification.
	jws, err := jose.ParseSignedCompact(raw, asymmetricAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %w", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, stale := k.cached()
	if stale {
		// Failing, the fetch leaves the keys as they were, and is tried again jwksRefreshEvery later.
		_ = k.refresh(ctx, false)
		keys, _ = k.cached()
	}
	if payload, ok := verifyWith(jws, keys, kid); ok {
		return payload, nil
	}
	if err := k.refresh(ctx, true); err != nil {
		return nil, err
	}
	keys, _ = k.cached()
	if payload, ok := verifyWith(jws, keys, kid); ok {
		return payload, nil
	}
	return nil, errNoKey
}

func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) ([]byte, bool) {
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// cached returns the keys fetched, and whether they are due to be fetched again.
func (k *keySet) cached() ([]jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, !k.now().Before(k.stale)
}

// refresh fetches the JWKS, or waits for the fetch in flight; for an unknown key (limited), only
// while the rate limit allows.
func (k *keySet) refresh(ctx context.Context, limited bool) error {
	k.mu.Lock()
	if wait := k.fetching; wait != nil {
		k.mu.Unlock()
		select {
		case <-wait:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	now := k.now()
	if limited {
		k.credit = min(jwksRefreshBurst, k.credit+float64(now.Sub(k.creditTime))/float64(jwksRefreshEvery))
		k.creditTime = now
		if k.credit < 1 {
			k.mu.Unlock()
			return fmt.Errorf("%w; the keys were refetched too recently to try again", errNoKey)
		}
		k.credit--
	}
	done := make(chan struct{})
	k.fetching = done
	k.mu.Unlock()

	// The fetch serves every verification waiting for it, not only this one's request.
	keys, maxAge, err := k.fetch(context.WithoutCancel(ctx))
	k.mu.Lock()
	if err == nil {
		k.keys = keys
		k.stale = k.now().Add(maxAge)
	} else {
		k.stale = k.now().Add(jwksRefreshEvery)
	}
	k.fetching = nil
	k.mu.Unlock()
	close(done)
	return err
}

// fetch reads the JWKS and how long it may be used. Keys of unknown types and encryption keys are
// skipped rather than failing the whole set.
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching keys: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching keys: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("fetching keys: HTTP %d", resp.StatusCode)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, 0, fmt.Errorf("fetching keys: malformed JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil || key.Use == "enc" || !key.IsPublic() {
			continue
		}
		keys = append(keys, key)
	}
	return keys, cacheMaxAge(resp.Header.Get("Cache-Control")), nil
}

// cacheMaxAge returns the max-age of a Cache-Control header (RFC 9111 §5.2.2.1) within
// [jwksMinAge, jwksMaxAge]: jwksMinAge when there is none.
func cacheMaxAge(header string) time.Duration {
	for _, directive := range strings.Split(header, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		seconds, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
		if err != nil || seconds < 0 {
			break
		}
		return min(max(time.Duration(min(seconds, int64(jwksMaxAge/time.Second)))*time.Second, jwksMinAge), jwksMaxAge)
	}
	return jwksMinAge
}

var _ oidc.KeySet = (*keySet)(nil)
