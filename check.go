package parlogin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
)

// CheckStatus is the outcome of one check of a [CheckReport].
type CheckStatus string

// The outcomes of a check.
const (
	CheckOK   CheckStatus = "ok"   // nothing to do
	CheckWarn CheckStatus = "warn" // logins work, but something deserves attention
	CheckFail CheckStatus = "fail" // logins would fail, or be unsafe
	CheckSkip CheckStatus = "skip" // not checked, because a check it needs failed
)

// CheckResult is the outcome of one check, for a person to read. It never holds the client
// secret, a client assertion or a request_uri.
type CheckResult struct {
	// Check names what was checked, one of "config", "discovery", "par_endpoint", "client_auth",
	// "pkce", "iss_parameter", "clock", "par_request" and "session_store", in this order.
	Check string `json:"check"`
	// Status is the outcome.
	Status CheckStatus `json:"status"`
	// Message says what was found, in one line.
	Message string `json:"message"`
	// Hint says how to fix it; empty when there is nothing to do.
	Hint string `json:"hint"`
}

// CheckReport is what [Check] found: one result per check.
type CheckReport struct {
	Results []CheckResult `json:"results"`
}

// Err returns nil when no check failed (warnings are not failures), and otherwise an error that
// names each failed check with its message and hint.
func (r *CheckReport) Err() error {
	var errs []error
	for _, res := range r.Results {
		if res.Status == CheckFail {
			msg := "parlogin: check " + res.Check + ": " + res.Message
			if res.Hint != "" {
				msg += " (fix: " + res.Hint + ")"
			}
			errs = append(errs, errors.New(msg))
		}
	}
	return errors.Join(errs...)
}

func (r *CheckReport) add(res CheckResult) { r.Results = append(r.Results, res) }

// Names of the checks, in their order in a report.
const (
	checkConfig       = "config"
	checkDiscovery    = "discovery"
	checkPAREndpoint  = "par_endpoint"
	checkClientAuth   = "client_auth"
	checkPKCE         = "pkce"
	checkIssParameter = "iss_parameter"
	checkClock        = "clock"
	checkPARRequest   = "par_request"
	checkSessionStore = "session_store"
)

// Check tells what stands between c and a working login, before a browser is involved: it
// validates c as [New] does, reads the provider's discovery document, compares the provider's
// clock with Config.Now, sends one real pushed authorization request with the client's
// credentials and redirect URI, and saves, reads back and deletes a session in Config.Store.
// Call it at start-up, or from the command github.com/parlogin/parlogin/cmd/parlogin.
//
// The checks, each with a [CheckResult] in the report:
//
//   - "config": c is valid, as New requires (the Store apart).
//   - "discovery": the discovery document is reachable and names exactly Config.Issuer, with
//     hints for a trailing slash, a discovery URL given as the issuer, and PingOne's issuer shape.
//   - "par_endpoint": the provider publishes a pushed_authorization_request_endpoint, or
//     Config.PAREndpoint is set.
//   - "client_auth": the provider advertises client_secret_jwt and Config.SigningAlg. A provider
//     that does not, yet accepts the client's pushed request, gets a warning only: PingOne does
//     not publish every method it supports.
//   - "pkce": the provider supports PKCE with S256.
//   - "iss_parameter": the provider sends the iss authorization response parameter (RFC 9207); a
//     warning if not.
//   - "clock": the offset between Config.Now and the provider's clock, measured from the Date header
//     of its answers as parlogin measures it; a warning beyond 5 seconds; a failure beyond the 5
//     minutes parlogin corrects, when client assertions would be expired or not yet valid on
//     arrival (Config.AssertionLifetime), or ID tokens issued in the app's future beyond
//     Config.ClockSkew.
//   - "par_request": the provider accepts a pushed authorization request, which proves the client
//     ID, the client secret (through the assertion) and the registered redirect URI; its error is
//     reported and explained otherwise. The request_uri it answers is not used. Config.AuthParams
//     is not called, as it needs a request.
//   - "session_store": a session saved with Config.Store, through the code that saves and reads
//     sessions after login, reads back and can be deleted; a CookieStore must encrypt.
//
// Each call to the provider is bounded by Config.HTTPClient's Timeout, 10 s when zero, and by ctx.
// Check has no effect beyond the pushed request at the provider and the session, deleted again,
// in a server-side store; it does not use Config.Shared, and does not log.
func Check(ctx context.Context, c Config) *CheckReport {
	r := &CheckReport{}
	cfg, res := checkConfiguration(c)
	r.add(res)
	if res.Status == CheckFail {
		for _, name := range []string{checkDiscovery, checkPAREndpoint, checkClientAuth, checkPKCE, checkIssParameter, checkClock, checkPARRequest} {
			r.add(skipped(name, "the configuration is invalid"))
		}
	} else {
		r.Results = append(r.Results, checkProvider(ctx, cfg)...)
	}
	r.add(sessionStoreResult(ctx, cfg))
	r.redact(c.ClientSecret)
	return r
}

func skipped(name, why string) CheckResult {
	return CheckResult{Check: name, Status: CheckSkip, Message: "not checked: " + why}
}

// checkConfiguration validates c with withDefaults, which Check then uses: every check sees the
// defaults New would fill in. The Store is left to sessionStoreResult.
func checkConfiguration(c Config) (Config, CheckResult) {
	logs := &logRecorder{}
	probe := c
	probe.Store = placeholderStore{}
	probe.Logger = slog.New(logs) // withDefaults's warnings become the check's
	cfg, err := probe.withDefaults()
	cfg.Store = c.Store
	res := CheckResult{Check: checkConfig}
	if err != nil {
		var msgs []string
		for line := range strings.SplitSeq(err.Error(), "\n") {
			msgs = append(msgs, strings.TrimPrefix(line, "parlogin: config: "))
		}
		res.Status, res.Message = CheckFail, strings.Join(msgs, "; ")
		res.Hint = "correct these settings (see the documentation of parlogin.Config)"
		return cfg, res
	}
	warnings, hints := logs.messages(), []string(nil)
	if len(warnings) > 0 {
		hints = append(hints, "use https for the provider and the app")
	}
	var spaced []string
	for _, f := range []struct{ name, value string }{
		{"Config.Issuer", c.Issuer}, {"Config.ClientID", c.ClientID},
		{"Config.ClientSecret", c.ClientSecret}, {"Config.RedirectURL", c.RedirectURL},
	} {
		if strings.TrimSpace(f.value) != f.value {
			spaced = append(spaced, f.name)
		}
	}
	if len(spaced) > 0 {
		warnings = append(warnings, strings.Join(spaced, ", ")+" begins or ends with white space, which the provider will not expect")
		hints = append(hints, "remove the stray spaces or line breaks")
	}
	if len(warnings) > 0 {
		res.Status, res.Message, res.Hint = CheckWarn, strings.Join(warnings, "; "), strings.Join(hints, "; ")
		return cfg, res
	}
	res.Status = CheckOK
	res.Message = fmt.Sprintf("issuer, client ID, client secret (a key long enough for %s) and redirect URL are valid", cfg.SigningAlg)
	if len(cfg.ClientKeys) > 0 {
		res.Message = fmt.Sprintf("issuer, client ID, client key %q (%s) and redirect URL are valid", cfg.ClientKeys[0].ID, cfg.ClientKeys[0].algorithm())
	}
	return cfg, res
}

// placeholderStore stands for Config.Store while checkConfiguration validates the rest.
type placeholderStore struct{ sessions.Store }

// logRecorder is a slog.Handler that keeps the messages logged to it.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	line := strings.TrimPrefix(rec.Message, "parlogin: ")
	rec.Attrs(func(a slog.Attr) bool {
		line += " (" + a.Value.String() + ")"
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// checkMetadata is what the checks read from the discovery document. A nil list was not
// published.
type checkMetadata struct {
	PAREndpoint          string   `json:"pushed_authorization_request_endpoint"`
	TokenAuthMethods     []string `json:"token_endpoint_auth_methods_supported"`
	TokenAuthAlgs        []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	PARAuthMethods       []string `json:"pushed_authorization_request_endpoint_auth_methods_supported"`
	CodeChallengeMethods []string `json:"code_challenge_methods_supported"`
	IssParameter         bool     `json:"authorization_response_iss_parameter_supported"`
}

// checkProvider runs the checks that talk to the provider, through a Middleware made as New makes
// it, without its sessions: discovery, then one pushed authorization request.
func checkProvider(ctx context.Context, cfg Config) []CheckResult {
	rec := &exchangeRecorder{}
	m := &Middleware{cfg: cfg, timeout: defaultTimeout, scope: scopeParam(cfg.Scopes)}
	// The clock learns the provider's from its answers, and the assertions follow it, as in New;
	// Check neither logs nor emits events.
	m.clock = &clockOffset{now: cfg.Now, logger: slog.New(slog.DiscardHandler), emit: func(context.Context, Event) {}}
	m.signer = newAssertionSigner(cfg, m.clock.providerNow)
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
		if hc.Timeout > 0 {
			m.timeout = hc.Timeout
		}
	}
	rec.base = hc.Transport
	if rec.base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		defer t.CloseIdleConnections()
		rec.base = t
	}
	hc.Transport = rec
	m.client = newHTTPClient(&hc, m.timeout, m.clock)

	dctx, cancel := context.WithTimeout(ctx, m.timeout)
	op, discoverErr := m.discover(dctx)
	cancel()
	discovery, meta := discoveryResult(m, discoverErr, rec.discovery())
	if discoverErr != nil && ctx.Err() != nil {
		discovery = interrupted(ctx, checkDiscovery)
	}
	clock := clockResult(cfg, m.clock, len(rec.all()) > 0)

	if meta == nil {
		why := "no discovery document"
		return []CheckResult{discovery,
			skipped(checkPAREndpoint, why), skipped(checkClientAuth, why), skipped(checkPKCE, why),
			skipped(checkIssParameter, why), clock, skipped(checkPARRequest, "discovery failed"),
		}
	}
	var par parOutcome
	switch {
	case op != nil:
		par = parRequestResult(ctx, m, op, clock, rec)
	case discovery.Status == CheckOK:
		par.CheckResult = skipped(checkPARRequest, "no PAR endpoint")
	default:
		par.CheckResult = skipped(checkPARRequest, "discovery failed")
	}
	return []CheckResult{
		discovery,
		parEndpointResult(cfg, meta),
		clientAuthResult(cfg, meta, par),
		pkceResult(meta),
		issParameterResult(meta),
		clock,
		par.CheckResult,
	}
}

// discoveryResult reports discover's outcome, given x, the answer to the discovery request. It
// returns the discovery document when there is one to read, even one for another issuer.
func discoveryResult(m *Middleware, err error, x *exchange) (CheckResult, *checkMetadata) {
	issuer := m.cfg.Issuer
	wellKnown := strings.TrimSuffix(issuer, "/") + wellKnownSuffix // as go-oidc builds it
	res := CheckResult{Check: checkDiscovery, Status: CheckFail}
	var meta *checkMetadata
	if x != nil && x.status == http.StatusOK {
		wellKnown = x.url // after any redirect
		var md checkMetadata
		if jsonErr := json.Unmarshal(x.body, &md); jsonErr == nil {
			meta = &md
		} else if err == nil {
			res.Message = "the discovery document is malformed: " + jsonErr.Error()
			res.Hint = "the provider's discovery document is broken: tell its administrators"
			return res, nil
		}
	}
	var pe *ProviderError
	var mismatch *oidc.IssuerMismatchError
	fromProvider := errors.As(err, &pe) // discovery itself failed; otherwise a check after it
	switch {
	case err == nil, !fromProvider && meta != nil && meta.PAREndpoint == "" && m.cfg.PAREndpoint == "":
		// Without a PAR endpoint, discover fails once go-oidc has read the document: par_endpoint
		// reports it.
		res.Status = CheckOK
		res.Message = fmt.Sprintf("%s names the issuer %s", wellKnown, issuer)
	case errors.As(err, &mismatch):
		res.Message = fmt.Sprintf("%s names the issuer %q, not Config.Issuer %q", wellKnown, mismatch.Discovered, issuer)
		res.Hint = issuerHint(issuer, mismatch.Discovered)
	case !fromProvider && (strings.HasPrefix(err.Error(), "parlogin: Profile FAPI2") || strings.HasPrefix(err.Error(), "parlogin: Config.DPoP")):
		// The document is sound, but the provider does not offer what the configuration demands.
		res.Message = strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = "enable it at the provider (DPoP, PS256 or ES256 ID tokens, the iss parameter), or change the configuration that demands it (Config.Profile, Config.DPoP)"
	case !fromProvider:
		// The document names the issuer but is unusable, such as an endpoint URL that is not absolute.
		res.Message = strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = "the provider's discovery document is broken: tell its administrators"
	case x == nil && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		res.Message = fmt.Sprintf("GET %s: no answer within %v", wellKnown, m.timeout)
		res.Hint = fmt.Sprintf("check that this machine reaches %s (address, DNS, proxy, firewall)", hostOf(issuer))
	case x == nil:
		res.Message = strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = fmt.Sprintf("check that this machine reaches %s (address, DNS, proxy, firewall, TLS certificate)", hostOf(issuer))
	case x.status != http.StatusOK:
		res.Message = fmt.Sprintf("GET %s answered HTTP %d", x.url, x.status)
		res.Hint = issuerHint(issuer, "")
	default:
		res.Message = strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = wellKnown + " is not an OpenID Provider's discovery document: check Config.Issuer"
	}
	return res, meta
}

// interrupted is the failure of a check whose calls ctx ended, rather than their own timeout.
func interrupted(ctx context.Context, name string) CheckResult {
	return CheckResult{
		Check: name, Status: CheckFail,
		Message: "interrupted before the provider answered: " + context.Cause(ctx).Error(),
		Hint:    "run the check again, with more time",
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		return u.Host
	}
	return rawURL
}

const wellKnownSuffix = "/.well-known/openid-configuration"

// issuerHint says how to correct issuer, given the issuer that its discovery document names
// (empty when there was no document).
func issuerHint(issuer, discovered string) string {
	trimmed := strings.TrimSuffix(issuer, "/")
	switch {
	case strings.HasSuffix(trimmed, wellKnownSuffix):
		return fmt.Sprintf("Config.Issuer is the URL of the discovery document, not the issuer: set it to %q", strings.TrimSuffix(trimmed, wellKnownSuffix))
	case discovered != "" && discovered == issuer+"/":
		return fmt.Sprintf("set Config.Issuer to exactly %q, with the trailing slash: ID tokens name it byte for byte", discovered)
	case discovered != "" && discovered == trimmed:
		return fmt.Sprintf("set Config.Issuer to exactly %q, without the trailing slash: ID tokens name it byte for byte", discovered)
	}
	if want, ok := pingOneIssuer(issuer); ok && want != issuer {
		if want == "" {
			return "PingOne's issuer is {authPath}/{envID}/as, such as https://auth.pingone.com/{envID}/as"
		}
		return fmt.Sprintf("PingOne's issuer is {authPath}/{envID}/as: set Config.Issuer to %q", want)
	}
	if discovered != "" {
		return fmt.Sprintf("set Config.Issuer to %q if that is your provider: it is the issuer that ID tokens will name", discovered)
	}
	return "check Config.Issuer: the discovery document must be at {issuer}" + wellKnownSuffix
}

// pingOneIssuer returns PingOne's issuer, {authPath}/{envID}/as, for an issuer that looks like
// PingOne's: on a host auth.pingone.*, or with an environment ID (a UUID) in its path followed by
// nothing or by "as" (such as {authPath}/{envID} or {authPath}/{envID}/as/authorize). It returns
// "" and true for a PingOne host without an environment ID.
func pingOneIssuer(issuer string) (string, bool) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", false
	}
	pingOneHost := strings.HasPrefix(u.Host, "auth.pingone.")
	segments := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, s := range segments {
		if !uuidPattern.MatchString(s) {
			continue
		}
		if rest := segments[i+1:]; pingOneHost || len(rest) == 0 || rest[0] == "as" {
			return u.Scheme + "://" + u.Host + "/" + strings.Join(segments[:i+1], "/") + "/as", true
		}
	}
	return "", pingOneHost
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func parEndpointResult(cfg Config, meta *checkMetadata) CheckResult {
	res := CheckResult{Check: checkPAREndpoint, Status: CheckOK}
	switch {
	case cfg.PAREndpoint != "" && meta.PAREndpoint == "":
		res.Message = "Config.PAREndpoint " + cfg.PAREndpoint + " (the discovery document publishes none)"
	case cfg.PAREndpoint != "" && cfg.PAREndpoint == meta.PAREndpoint:
		res.Message = "Config.PAREndpoint " + cfg.PAREndpoint + ", as published"
	case cfg.PAREndpoint != "":
		res.Message = "Config.PAREndpoint " + cfg.PAREndpoint + ", instead of the published " + meta.PAREndpoint
	case meta.PAREndpoint == "":
		res.Status = CheckFail
		res.Message = "the discovery document has no pushed_authorization_request_endpoint"
		res.Hint = "enable pushed authorization requests (RFC 9126) at the provider; if it supports them without publishing the endpoint, set Config.PAREndpoint"
	default:
		res.Message = "pushed_authorization_request_endpoint " + meta.PAREndpoint
	}
	return res
}

// parOutcome is the par_request check's result, and whether the provider accepted the client's
// authentication: a request_uri, or an OAuth error other than invalid_client.
type parOutcome struct {
	CheckResult
	clientAccepted bool
}

func clientAuthResult(cfg Config, meta *checkMetadata, par parOutcome) CheckResult {
	res := CheckResult{Check: checkClientAuth}
	method, alg := "client_secret_jwt", cfg.SigningAlg
	if len(cfg.ClientKeys) > 0 {
		method, alg = "private_key_jwt", cfg.ClientKeys[0].algorithm()
	}
	var missing []string
	switch {
	case meta.TokenAuthMethods == nil:
		missing = append(missing, "the discovery document has no token_endpoint_auth_methods_supported, whose default is client_secret_basic only")
	case !slices.Contains(meta.TokenAuthMethods, method):
		missing = append(missing, fmt.Sprintf("token_endpoint_auth_methods_supported %v has no %s", meta.TokenAuthMethods, method))
	}
	if meta.PARAuthMethods != nil && !slices.Contains(meta.PARAuthMethods, method) {
		missing = append(missing, fmt.Sprintf("pushed_authorization_request_endpoint_auth_methods_supported %v has no %s", meta.PARAuthMethods, method))
	}
	if meta.TokenAuthAlgs != nil && !slices.Contains(meta.TokenAuthAlgs, alg) {
		missing = append(missing, fmt.Sprintf("token_endpoint_auth_signing_alg_values_supported %v has no %s", meta.TokenAuthAlgs, alg))
	}
	switch {
	case len(missing) == 0:
		res.Status = CheckOK
		res.Message = "the provider advertises " + method + " with " + alg
	case par.clientAccepted:
		res.Status = CheckWarn
		res.Message = strings.Join(missing, "; ") + "; yet the provider accepted the client's assertion (par_request)"
		res.Hint = "nothing to change while logins work: some providers, PingOne among them, do not publish every method they accept"
	default:
		res.Status = CheckFail
		res.Message = strings.Join(missing, "; ")
		res.Hint = "enable client_secret_jwt for the application (PingOne: Token Endpoint Authentication Method CLIENT_SECRET_JWT)"
		if method == "private_key_jwt" {
			res.Hint = "enable private_key_jwt for the application (PingOne: Token Endpoint Authentication Method PRIVATE_KEY_JWT), with a key of an algorithm the provider accepts"
		} else if meta.TokenAuthAlgs != nil && !slices.Contains(meta.TokenAuthAlgs, cfg.SigningAlg) {
			res.Hint += fmt.Sprintf(", and set Config.SigningAlg to one of %v", slices.DeleteFunc(slices.Clone(meta.TokenAuthAlgs), func(alg string) bool {
				_, ok := hmacHashSize[alg]
				return !ok
			}))
		}
	}
	return res
}

func pkceResult(meta *checkMetadata) CheckResult {
	res := CheckResult{Check: checkPKCE}
	switch {
	case meta.CodeChallengeMethods == nil:
		res.Status = CheckWarn
		res.Message = "the discovery document has no code_challenge_methods_supported: the provider may ignore PKCE, which parlogin sends all the same"
		res.Hint = "make the provider require PKCE with S256 for the application (PingOne: PKCE Enforcement S256_REQUIRED)"
	case !slices.Contains(meta.CodeChallengeMethods, "S256"):
		res.Status = CheckFail
		res.Message = fmt.Sprintf("code_challenge_methods_supported %v has no S256, the only method parlogin uses", meta.CodeChallengeMethods)
		res.Hint = "enable PKCE with S256 at the provider"
	default:
		res.Status = CheckOK
		res.Message = "PKCE with S256"
	}
	return res
}

func issParameterResult(meta *checkMetadata) CheckResult {
	if meta.IssParameter {
		return CheckResult{Check: checkIssParameter, Status: CheckOK, Message: "the provider sends iss in authorization responses (RFC 9207), which parlogin checks"}
	}
	return CheckResult{
		Check:   checkIssParameter,
		Status:  CheckWarn,
		Message: "the provider does not promise the iss authorization response parameter (authorization_response_iss_parameter_supported, RFC 9207)",
		Hint:    "nothing to change in the app: parlogin checks iss whenever it comes; the mix-up defence it gives matters most to apps that use several providers",
	}
}

// clockWarn is the clock offset beyond which Check warns.
const clockWarn = 5 * time.Second

// clockResult reports the offset between the provider's clock and Config.Now that clock measured
// from the Date header of the provider's answers, as a Middleware measures it. Within
// maxClockOffset, parlogin corrects it; beyond, client assertions and ID tokens are judged by the
// app's clock. answered says whether the provider answered at all.
func clockResult(cfg Config, clock *clockOffset, answered bool) CheckResult {
	clock.mu.Lock()
	samples := clock.taken
	var offset time.Duration
	if samples > 0 {
		offset = clock.estimate()
	}
	clock.mu.Unlock()
	res := CheckResult{Check: checkClock}
	switch {
	case !answered:
		return skipped(checkClock, "no answer from the provider")
	case samples == 0:
		res.Status = CheckWarn
		res.Message = "the provider's answers have no Date header: the clock offset cannot be measured, nor corrected"
		res.Hint = "make sure the app's clock is synchronised (NTP)"
		return res
	}
	const hint = "synchronise the app's clock with NTP (timedatectl set-ntp true, chrony)"
	behind, ahead := offset, -offset // positive when the app's clock is behind, or ahead
	rounded := max(behind, ahead).Round(time.Second)
	switch {
	case behind <= clockWarn && ahead <= clockWarn:
		res.Status = CheckOK
		res.Message = fmt.Sprintf("the app's and the provider's clocks agree within %v (offset %v, from the Date header)", clockWarn, offset.Round(time.Second))
		return res
	case behind <= maxClockOffset && ahead <= maxClockOffset:
		res.Status, res.Hint = CheckWarn, hint
		res.Message = fmt.Sprintf("the app's clock is %v %s the provider's: parlogin corrects offsets up to %v, measured from the provider's answers, but the app's own times (sessions, cookies) are off", rounded, aheadOrBehind(ahead > 0), maxClockOffset)
		return res
	}
	// Beyond what parlogin corrects.
	var why []string
	if behind > cfg.ClockSkew {
		why = append(why, fmt.Sprintf("ID tokens would be issued in the app's future, beyond Config.ClockSkew (%v)", cfg.ClockSkew))
	}
	if behind > cfg.AssertionLifetime {
		why = append(why, fmt.Sprintf("client assertions (valid %v) would have expired on arrival", cfg.AssertionLifetime))
	}
	if ahead > cfg.AssertionLifetime {
		why = append(why, fmt.Sprintf("client assertions (valid %v) would not be valid yet on arrival", cfg.AssertionLifetime))
	} else if ahead > 0 {
		why = append(why, "client assertions would be issued in the provider's future, which providers refuse")
	}
	res.Status, res.Hint = CheckFail, hint
	if len(why) == 0 {
		res.Status = CheckWarn
		why = append(why, "Config.ClockSkew and Config.AssertionLifetime allow it, barely")
	}
	res.Message = fmt.Sprintf("the app's clock is %v %s the provider's, beyond the %v parlogin corrects: %s", rounded, aheadOrBehind(ahead > 0), maxClockOffset, strings.Join(why, ", and "))
	return res
}

func aheadOrBehind(ahead bool) string {
	if ahead {
		return "ahead of"
	}
	return "behind"
}

// parRequestResult sends a pushed authorization request for a login that nobody will finish.
func parRequestResult(ctx context.Context, m *Middleware, op *provider, clock CheckResult, rec *exchangeRecorder) parOutcome {
	res := parOutcome{CheckResult: CheckResult{Check: checkPARRequest}}
	params := m.authorizationParams(newAttempt("/", nil, m.cfg.Now()), nil)
	pctx, cancel := context.WithTimeout(ctx, m.timeout)
	_, err := m.pushAuthorizationRequest(pctx, op, params) // the request_uri is left unused
	cancel()
	if err == nil {
		res.Status, res.clientAccepted = CheckOK, true
		res.Message = fmt.Sprintf("%s accepted client %s with redirect_uri %s", op.parURL, m.cfg.ClientID, m.cfg.RedirectURL)
		if x := rec.find(op.parURL); x != nil {
			res.Message += fmt.Sprintf(" (HTTP %d)", x.status)
		}
		res.Message += ": client ID, secret and redirect URI are right"
		return res
	}
	res.Status = CheckFail
	res.Message = strings.TrimPrefix(err.Error(), "parlogin: ")
	var pe *ProviderError
	if !errors.As(err, &pe) {
		return res
	}
	res.clientAccepted = pe.Code != "" && pe.Code != "invalid_client" && pe.StatusCode < 500
	if x := rec.find(op.parURL); pe.Code == "" && x != nil && len(x.body) > 0 {
		res.Message += ": " + excerpt(x.body)
	}
	res.Hint = parHint(m, op, pe, clock)
	switch {
	case ctx.Err() != nil:
		res.CheckResult = interrupted(ctx, checkPARRequest)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		res.Message = fmt.Sprintf("POST %s: no answer within %v", op.parURL, m.timeout)
	}
	return res
}

// parHint explains the provider's refusal of a pushed authorization request.
func parHint(m *Middleware, op *provider, pe *ProviderError, clock CheckResult) string {
	desc := strings.ToLower(pe.Description)
	switch {
	case pe.Code == "invalid_client":
		h := "the provider refused the client authentication: wrong Config.ClientID or Config.ClientSecret, the application's token endpoint auth method is not CLIENT_SECRET_JWT (PingOne), or the clock is off"
		if len(m.cfg.ClientKeys) > 0 {
			h = "the provider refused the client authentication: wrong Config.ClientID, the provider does not have the public key of Config.ClientKeys (kid " + m.cfg.ClientKeys[0].ID + "; register it, or the app's /auth/jwks as the client's jwks_uri), the application's token endpoint auth method is not PRIVATE_KEY_JWT (PingOne), or the clock is off"
		}
		if clock.Status == CheckFail {
			h += " (it is: see clock)"
		}
		if len(m.cfg.ClientKeys) > 0 {
			return h + "; less often, the provider does not allow the key's algorithm (" + m.cfg.ClientKeys[0].algorithm() + "), or wants an assertion aud other than the issuer (Config.AssertionAudience)"
		}
		return h + "; less often, the provider wants another Config.SigningAlg than " + m.cfg.SigningAlg + ", or an assertion aud other than the issuer (Config.AssertionAudience)"
	case pe.Code == "invalid_redirect_uri" || strings.Contains(desc, "redirect"):
		return fmt.Sprintf("register exactly %s as a redirect URI of the application (Config.RedirectURL): the provider compares it character for character", m.cfg.RedirectURL)
	case pe.Code == "unauthorized_client":
		return "the application may not use this flow: enable the authorization code grant with the response type code (and PAR) for it at the provider"
	case pe.Code == "invalid_scope":
		return fmt.Sprintf("the provider refused the scope %q: remove from Config.Scopes what it does not know, or grant those scopes to the application", m.scope)
	case pe.Code == "unsupported_response_type":
		return "enable the response type code (the authorization code flow) for the application"
	case pe.Code == "invalid_request_object":
		return "the provider refused the signed request object: turn off Config.RequestObject, or allow request objects signed with " + m.cfg.SigningAlg
	case pe.Code == "server_error" || pe.Code == "temporarily_unavailable" || pe.StatusCode >= 500:
		return "the provider failed: try again later, and ask its administrators if that persists"
	case pe.Code == "" && (pe.StatusCode == http.StatusNotFound || pe.StatusCode == http.StatusMethodNotAllowed):
		return fmt.Sprintf("nothing answers pushed authorization requests at %s: check Config.PAREndpoint, or that PAR is enabled at the provider", op.parURL)
	case pe.StatusCode == 0:
		return fmt.Sprintf("check that this machine reaches %s (address, DNS, proxy, firewall, TLS certificate)", hostOf(op.parURL))
	}
	return fmt.Sprintf("read the provider's description above; the request had response_type=code, client_id, redirect_uri %s, scope %q, state, nonce and PKCE S256", m.cfg.RedirectURL, m.scope)
}

// excerpt returns the start of a body that is not an OAuth error, safe to show.
func excerpt(body []byte) string {
	const n = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return oauthErrorText(s)
}

// sessionStoreResult saves a session with Config.Store as a login does, reads it back as a request
// does, and deletes it as a logout does.
func sessionStoreResult(ctx context.Context, cfg Config) CheckResult {
	res := CheckResult{Check: checkSessionStore, Status: CheckFail}
	switch cs, isCookieStore := cfg.Store.(*sessions.CookieStore); {
	case cfg.Store == nil:
		res.Message = "Config.Store is not set"
		res.Hint = "set it to a gorilla/sessions store: sessions.NewCookieStore(hashKey, blockKey), with keys of 32 random bytes that survive restarts"
		return res
	case isCookieStore && !encrypts(cs):
		res.Message = "the CookieStore does not encrypt: its cookies would show the user's claims and the PKCE verifier"
		res.Hint = "create it with a hash key and a block key: sessions.NewCookieStore(hashKey, blockKey), each of 32 random bytes"
		return res
	}
	secure := false
	if u, err := url.Parse(cfg.RedirectURL); err == nil {
		secure = u.Scheme == "https"
	}
	sm := newSessionManager(cfg, newStore(cfg.Store), secure, newRevocations(newMemoryShared(cfg.Now), true, cfg.Now, defaultTimeout))
	now := cfg.Now()
	want := &sessionData{
		Issuer:  cfg.Issuer,
		Subject: "parlogin-check",
		Expiry:  now.Add(cfg.SessionMaxAge).Unix(),
		Claims:  json.RawMessage(`{"name":"Parlogin Check","email":"check@example.com","email_verified":true}`),
	}
	w := &headerWriter{header: http.Header{}}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.RedirectURL, nil)
	if err != nil {
		r, _ = http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	}
	if err := sm.start(w, r, want); err != nil {
		res.Message = "saving a session failed: " + strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = "check that the store is reachable and writable"
		return res
	}
	cookies := (&http.Response{Header: w.header}).Cookies()
	size := 0
	again := r.Clone(ctx)
	for _, c := range cookies {
		again.AddCookie(c) // its name and value
		size += len(c.Name) + len(c.Value)
	}
	s, err := sm.load(again, true)
	switch {
	case err != nil:
		res.Message = "reading a session back failed: " + strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = "check that the store is reachable"
		return res
	case s == nil || s.data.Subject != want.Subject:
		res.Message = "a session saved with the store does not read back"
		res.Hint = "check the store's keys and options: it must decode the cookies it encodes"
		return res
	}
	if err := sm.end(ctx, &headerWriter{header: http.Header{}}, again, s.key, s.rec, s.data); err != nil {
		res.Message = "deleting a session failed, as a logout would: " + strings.TrimPrefix(err.Error(), "parlogin: ")
		res.Hint = "check that the store can delete its records"
		return res
	}
	res.Status = CheckOK
	kind := fmt.Sprintf("%T", cfg.Store)
	if _, ok := cfg.Store.(*sessions.CookieStore); ok {
		kind = "an encrypted cookie store"
	}
	res.Message = fmt.Sprintf("a session saved with %s reads back and is deleted (cookie of %d bytes)", kind, size)
	if _, ok := cfg.Store.(*sessions.CookieStore); ok && cfg.SaveTokens {
		res.Status = CheckWarn
		res.Message += "; with Config.SaveTokens, tokens rarely fit in a cookie's 4 KB, and a login whose session cannot be saved fails"
		res.Hint = "use a server-side store (Redis), or turn off Config.SaveTokens"
	}
	return res
}

// headerWriter is the http.ResponseWriter of checkSessionStore, which needs only the cookies set.
type headerWriter struct{ header http.Header }

func (w *headerWriter) Header() http.Header         { return w.header }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(int)             {}

// redact removes from the report anything that could be a credential: the client secret, JWTs
// (assertions, tokens) and request_uris, should a provider echo them in an error.
func (r *CheckReport) redact(secret string) {
	for i := range r.Results {
		for _, s := range []*string{&r.Results[i].Message, &r.Results[i].Hint} {
			if len(secret) >= 8 {
				*s = strings.ReplaceAll(*s, secret, "[redacted]")
			}
			*s = credentialPattern.ReplaceAllString(*s, "[redacted]")
		}
	}
}

var credentialPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|urn:ietf:params:oauth:request_uri:[^\s"']+`)

// exchangeRecorder records, for Check, what the provider's answers say beyond what parlogin reads:
// their status, and the bodies of the discovery document and of error answers (for the
// explanations). It is the transport below parlogin's own.
type exchangeRecorder struct {
	base http.RoundTripper

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is a request to the provider and its answer.
type exchange struct {
	url, path string
	status    int
	body      []byte // the discovery document, or an error answer's body
}

func (t *exchangeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	x := exchange{url: req.URL.String(), path: req.URL.Path, status: resp.StatusCode}
	if strings.HasSuffix(req.URL.Path, wellKnownSuffix) || resp.StatusCode >= 300 {
		// Never a successful PAR answer's body, which holds a request_uri.
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		x.body = body
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	t.mu.Lock()
	t.exchanges = append(t.exchanges, x)
	t.mu.Unlock()
	return resp, nil
}

// find returns the last exchange with target, or nil.
func (t *exchangeRecorder) find(target string) *exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.exchanges) - 1; i >= 0; i-- {
		if t.exchanges[i].url == target {
			x := t.exchanges[i]
			return &x
		}
	}
	return nil
}

// discovery returns the last answer to a discovery request, or nil.
func (t *exchangeRecorder) discovery() *exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.exchanges) - 1; i >= 0; i-- {
		if strings.HasSuffix(t.exchanges[i].path, wellKnownSuffix) {
			x := t.exchanges[i]
			return &x
		}
	}
	return nil
}

func (t *exchangeRecorder) all() []exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.exchanges)
}
