package parlogin

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Event is something that happened to a login or a session, for metrics and audit logs: see
// [Config.OnEvent]. It never holds a token, a code, a secret or an assertion.
type Event struct {
	Kind EventKind
	// Issuer is the provider; Subject the user, when known.
	Issuer  string
	Subject string
	// Duration is a login's, from its start to the end of its callback, or a refresh's.
	Duration time.Duration
	// Reason classifies a failure in a word that does not vary with its details, for metrics and
	// error pages: see [Reason]. Empty for successes.
	Reason string
	// Err is the failure, inspectable with errors.Is and errors.As; nil for successes.
	Err error
}

// EventKind says what an Event is about.
type EventKind string

// Kinds of Event.
const (
	EventLoginStarted      EventKind = "login_started"      // a pushed authorization request was accepted
	EventLoginSucceeded    EventKind = "login_succeeded"    // a callback started a session
	EventLoginFailed       EventKind = "login_failed"       // a login could not start or finish
	EventLogout            EventKind = "logout"             // the user signed out
	EventRefresh           EventKind = "refresh"            // tokens were refreshed
	EventRefreshFailed     EventKind = "refresh_failed"     // a refresh failed; with Reason "refused" the session ended
	EventBackchannelLogout EventKind = "backchannel_logout" // the provider ended sessions
	// EventStepUp: a signed-in user was sent to authenticate again for a route's Policy; or, with
	// Reason "subject_changed", came back from it as another user, whose session replaced theirs.
	EventStepUp EventKind = "step_up"
	// EventClockOffset: the offset of the provider's clock from the app's (Duration), measured from
	// the Date header of its answers and applied to the times it issues and checks, changed.
	EventClockOffset EventKind = "clock_offset"
)

// Reasons of failure, as [Reason] returns them.
const (
	reasonUnauthenticated     = "unauthenticated" // no session, for a request that cannot log in
	reasonInsufficient        = "insufficient_authentication"
	reasonCancelled           = "cancelled"            // the user cancelled, or the provider refused them
	reasonProviderUnavailable = "provider_unavailable" // the provider did not answer, or failed
	reasonStale               = "stale"                // a login that expired, was already finished, or another browser's
	reasonRejected            = "rejected"             // a response that failed a check: forged, replayed or mixed up
	reasonMisconfigured       = "misconfigured"        // the provider refused the client, or the app's settings cannot work
	reasonStoreUnavailable    = "store_unavailable"    // the session store or the shared state cannot be reached
	reasonRefused             = "refused"              // the provider refused a refresh token: the session ended
	reasonForbidden           = "forbidden"            // a cross-origin request was refused
	reasonInternal            = "internal"             // anything else
)

// Reason classifies err for people and metrics, as the default error page and [Event.Reason] do:
//
//   - "unauthenticated": no session, for a request that cannot start a login;
//   - "insufficient_authentication": a session that does not meet a route's Policy, for a
//     request that cannot authenticate again;
//   - "cancelled": the user cancelled at the provider, or the provider refused them;
//   - "provider_unavailable": the provider did not answer, or failed;
//   - "stale": a login that expired, was finished already, or was started in another browser;
//   - "rejected": a response that failed a check (forged, replayed or mixed up);
//   - "misconfigured": the provider refused the client, or the app's settings cannot work;
//   - "store_unavailable": the session store or Config.Shared cannot be reached;
//   - "refused": the provider refused a refresh token, and the session ended;
//   - "forbidden": a cross-origin or otherwise refused request;
//   - "internal": anything else.
func Reason(err error) string {
	var pe *ProviderError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrNoToken):
		return reasonUnauthenticated
	case errors.Is(err, ErrInsufficientAuthentication):
		return reasonInsufficient
	case errors.Is(err, ErrInvalidState):
		return reasonStale
	case errors.Is(err, ErrIssuerMismatch), errors.Is(err, ErrNonceMismatch), errors.Is(err, ErrInvalidIDToken),
		errors.Is(err, ErrInvalidCallback):
		return reasonRejected
	case errors.Is(err, ErrCrossOrigin), errors.Is(err, ErrMethodNotAllowed):
		return reasonForbidden
	case errors.Is(err, ErrAuthParam):
		return reasonMisconfigured
	case errors.Is(err, ErrSessionStore):
		if ErrorStatus(err) == http.StatusServiceUnavailable {
			return reasonStoreUnavailable
		}
		return reasonMisconfigured
	case errors.As(err, &pe):
		return providerReason(pe)
	default:
		return reasonInternal
	}
}

func providerReason(pe *ProviderError) string {
	if pe.Endpoint == EndpointAuthorization {
		switch pe.Code {
		case "access_denied", "login_required", "consent_required", "interaction_required",
			"account_selection_required", "unmet_authentication_requirements":
			return reasonCancelled
		case "server_error", "temporarily_unavailable":
			return reasonProviderUnavailable
		case "invalid_request_uri":
			return reasonStale
		}
		return reasonMisconfigured
	}
	switch {
	case pe.Endpoint == EndpointToken && pe.Code == "invalid_grant":
		return reasonRejected // a code that is not good; a refresh token's refusal is reported as "refused"
	case pe.Code != "" && pe.StatusCode < 500:
		return reasonMisconfigured // invalid_client, invalid_request, unauthorized_client…
	}
	return reasonProviderUnavailable
}

// emit reports e to Config.OnEvent.
func (m *Middleware) emit(ctx context.Context, e Event) {
	if m.cfg.OnEvent == nil {
		return
	}
	e.Issuer = m.cfg.Issuer
	if e.Err != nil && e.Reason == "" {
		e.Reason = Reason(e.Err)
	}
	m.cfg.OnEvent(ctx, e)
}
