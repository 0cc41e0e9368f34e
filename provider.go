package parlogin

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryRetry is how often Config.LazyDiscovery retries a failed discovery.
const discoveryRetry = 5 * time.Second

// provider is what parlogin knows of the OpenID Provider after discovery.
type provider struct {
	oidc          *oidc.Provider
	authURL       *url.URL
	parURL        string
	tokenURL      string
	userInfoURL   string
	endSessionURL string
	revocationURL string
	// issParameter: the provider promises "iss" in authorization responses (RFC 9207).
	issParameter bool
	oauth2       oauth2.Config
	verifier     *oidc.IDTokenVerifier
}

// metadata is the provider metadata parlogin reads beyond what go-oidc exposes. Whether the
// provider requires PAR (require_pushed_authorization_requests) does not matter: parlogin always
// pushes.
type metadata struct {
	PAREndpoint        string   `json:"pushed_authorization_request_endpoint"`
	EndSessionEndpoint string   `json:"end_session_endpoint"`
	RevocationEndpoint string   `json:"revocation_endpoint"`
	DPoPAlgs           []string `json:"dpop_signing_alg_values_supported"`
	IssParameter       bool     `json:"authorization_response_iss_parameter_supported"`
	JWKSURI            string   `json:"jwks_uri"`
	IDTokenAlgs        []string `json:"id_token_signing_alg_values_supported"`
}

// discover reads the provider's discovery document (OpenID Connect Discovery 1.0 §4) through
// go-oidc, which checks that it names the configured issuer.
func (m *Middleware) discover(ctx context.Context) (*provider, error) {
	c := m.cfg
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, m.client), c.Issuer)
	if err != nil {
		return nil, &ProviderError{Endpoint: EndpointDiscovery, Err: err}
	}
	var meta metadata
	if err := op.Claims(&meta); err != nil {
		return nil, &ProviderError{Endpoint: EndpointDiscovery, Description: "malformed discovery document", Err: err}
	}
	p := &provider{
		oidc:          op,
		parURL:        cmp.Or(c.PAREndpoint, meta.PAREndpoint),
		tokenURL:      op.Endpoint().TokenURL,
		userInfoURL:   op.UserInfoEndpoint(),
		endSessionURL: meta.EndSessionEndpoint,
		revocationURL: meta.RevocationEndpoint,
		issParameter:  meta.IssParameter,
	}
	if p.parURL == "" {
		return nil, fmt.Errorf("parlogin: %s publishes no pushed_authorization_request_endpoint; set Config.PAREndpoint if it supports PAR", c.Issuer)
	}
	p.authURL, err = url.Parse(op.Endpoint().AuthURL)
	if err != nil || !p.authURL.IsAbs() {
		return nil, fmt.Errorf("parlogin: discovery: authorization_endpoint %q is not an absolute URL", op.Endpoint().AuthURL)
	}
	for _, u := range []string{p.parURL, p.tokenURL} {
		if parsed, err := url.Parse(u); err != nil || !parsed.IsAbs() {
			return nil, fmt.Errorf("parlogin: discovery: endpoint %q is not an absolute URL", u)
		}
	}
	p.oauth2 = oauth2.Config{
		ClientID: c.ClientID,
		// No ClientSecret: the client authenticates with an assertion, and a second method in the
		// same request (client_secret or Basic) is an error at strict providers.
		Endpoint:    oauth2.Endpoint{AuthURL: p.authURL.String(), TokenURL: p.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: c.RedirectURL,
	}
	if parsed, err := url.Parse(meta.JWKSURI); err != nil || !parsed.IsAbs() {
		return nil, fmt.Errorf("parlogin: discovery: jwks_uri %q is not an absolute URL", meta.JWKSURI)
	}
	if c.DPoP && !slices.Contains(meta.DPoPAlgs, "ES256") {
		return nil, fmt.Errorf("parlogin: Config.DPoP: %s does not publish DPoP with ES256 (dpop_signing_alg_values_supported: %v)", c.Issuer, meta.DPoPAlgs)
	}
	algs := c.idTokenAlgs(meta.IDTokenAlgs)
	if c.Profile == FAPI2 {
		switch {
		case len(algs) == 0:
			return nil, fmt.Errorf("parlogin: Profile FAPI2: %s signs ID tokens with %v, none of which FAPI 2.0 allows (PS256, ES256, EdDSA)", c.Issuer, meta.IDTokenAlgs)
		case !meta.IssParameter:
			return nil, fmt.Errorf("parlogin: Profile FAPI2: %s does not promise the iss authorization response parameter (RFC 9207), which FAPI 2.0 requires", c.Issuer)
		}
	}
	p.verifier = oidc.NewVerifier(c.Issuer, newKeySet(meta.JWKSURI, m.client, c.Now), &oidc.Config{
		ClientID:             c.ClientID,
		SupportedSigningAlgs: algs, // go-oidc's default when empty: RS256
		// go-oidc compares exp with no leeway; shifting its clock back allows ClockSkew.
		Now: func() time.Time { return m.clock.providerNow().Add(-c.ClockSkew) },
	})
	return p, nil
}

// lazyProvider holds the provider once discovered, for Config.LazyDiscovery: until then, a
// caller that needs it starts a discovery, at most once per discoveryRetry, which the callers
// that come meanwhile wait for.
type lazyProvider struct {
	mu       sync.Mutex
	p        *provider
	inFlight chan struct{} // closed when the discovery in flight ends; nil when none is
	lastTry  time.Time
	lastErr  error
}

// provider returns the discovered provider, discovering it first if need be. ctx bounds the wait,
// not the discovery: a discovery serves every caller waiting for it, and one whose browser went
// away must not fail the others.
func (m *Middleware) provider(ctx context.Context) (*provider, error) {
	l := &m.op
	l.mu.Lock()
	if l.p != nil {
		defer l.mu.Unlock()
		return l.p, nil
	}
	wait := l.inFlight
	if wait == nil {
		if l.lastErr != nil && m.cfg.Now().Sub(l.lastTry) < discoveryRetry {
			defer l.mu.Unlock()
			return nil, l.lastErr
		}
		wait = make(chan struct{})
		l.inFlight = wait
		go m.discoverOnce(wait) //nolint:gosec // G118: a discovery serves every waiting request, not only this one
	}
	l.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return nil, &ProviderError{Endpoint: EndpointDiscovery, Description: "waiting for discovery", Err: ctx.Err()}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p, l.lastErr
}

// discoverOnce runs one discovery on a context of its own, bounded by Config.Timeout, and closes
// done once it has recorded the outcome.
func (m *Middleware) discoverOnce(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	p, err := m.discover(ctx)
	l := &m.op
	l.mu.Lock()
	l.p, l.lastErr, l.lastTry, l.inFlight = p, err, m.cfg.Now(), nil
	l.mu.Unlock()
	close(done)
	if err != nil && m.started.Load() {
		m.cfg.Logger.Warn("parlogin: discovery failed; retrying when a login needs it", "error", err)
	}
}
