package parlogin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy is what a route demands of the way its user authenticated (OpenID Connect's acr and
// auth_time; RFC 9470, OAuth 2.0 Step Up Authentication Challenge): see [Middleware.RequirePolicy].
// The zero Policy demands nothing beyond a session.
type Policy struct {
	// ACR lists the authentication context classes that the route accepts, the most wanted first,
	// such as "urn:mace:incommon:iap:silver" or a PingOne sign-on policy's name: the acr that the
	// provider asserted at login must be one of them.
	ACR []string
	// MaxAge is how long ago, at most, the user authenticated at the provider (auth_time), such as
	// five minutes for a payment; zero for no limit. It is sent as max_age, in seconds.
	MaxAge time.Duration
	// PromptLogin sends prompt=login with the step-up, which makes the provider authenticate the
	// user again whatever its own session says: for providers that ignore max_age, or that do not
	// apply acr_values to a session they already have.
	PromptLogin bool
}

// ErrInsufficientAuthentication is reported by [Middleware.RequirePolicy] for a request whose user
// is signed in, but not the way the route's Policy demands, and that cannot be sent to
// authenticate again (an API call, a script's fetch, a POST). The default error handler answers
// 401 with WWW-Authenticate: Bearer error="insufficient_user_authentication" and the acr_values
// and max_age to ask for (RFC 9470 §3).
var ErrInsufficientAuthentication = errors.New("parlogin: insufficient user authentication")

// insufficientAuthentication is ErrInsufficientAuthentication with the policy that was not met.
type insufficientAuthentication struct {
	policy Policy
}

func (e *insufficientAuthentication) Error() string {
	return ErrInsufficientAuthentication.Error() + ": " + e.policy.String()
}

func (e *insufficientAuthentication) Unwrap() error { return ErrInsufficientAuthentication }

// String describes p, as acr_values and max_age.
func (p Policy) String() string {
	var parts []string
	if len(p.ACR) > 0 {
		parts = append(parts, "acr_values="+strings.Join(p.ACR, " "))
	}
	if p.MaxAge > 0 {
		parts = append(parts, "max_age="+p.maxAge())
	}
	return strings.Join(parts, ", ")
}

// maxAge is p.MaxAge in whole seconds, at least one.
func (p Policy) maxAge() string {
	return strconv.FormatInt(max(1, int64(p.MaxAge/time.Second)), 10)
}

// check reports why u's authentication does not meet p, or "" when it does. auth_time is compared
// with the provider's clock (now, read only for a MaxAge: the zero policy costs nothing), with skew
// allowed.
func (p Policy) check(u *User, now func() time.Time, skew time.Duration) string {
	if len(p.ACR) > 0 && !slices.Contains(p.ACR, u.ACR) {
		return "acr"
	}
	if p.MaxAge > 0 && (u.AuthTime.IsZero() || now().Sub(u.AuthTime) > p.MaxAge+skew) {
		return "max_age"
	}
	return ""
}

// params returns the authorization parameters that ask the provider for an authentication that
// meets p.
func (p Policy) params() map[string]string {
	params := make(map[string]string, 3)
	if len(p.ACR) > 0 {
		params["acr_values"] = strings.Join(p.ACR, " ")
	}
	if p.MaxAge > 0 {
		params["max_age"] = p.maxAge()
	}
	if p.PromptLogin {
		params["prompt"] = "login"
	}
	return params
}

// challenge is the WWW-Authenticate header of a 401 for err (RFC 9110 §15.5.2, RFC 6750 §3,
// RFC 9470 §3).
func challenge(err error) string {
	var ie *insufficientAuthentication
	if !errors.As(err, &ie) {
		return "Bearer"
	}
	c := `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required"`
	if len(ie.policy.ACR) > 0 {
		c += fmt.Sprintf(", acr_values=%q", strings.Join(ie.policy.ACR, " "))
	}
	if ie.policy.MaxAge > 0 {
		c += ", max_age=" + ie.policy.maxAge()
	}
	return c
}

// RequirePolicy returns a middleware like [Middleware.Require] that also demands p of the way the
// user authenticated: for routes that need a stronger or a recent authentication (step-up).
//
//	mux.Handle("/pay/", auth.RequirePolicy(parlogin.Policy{ACR: []string{"mfa"}, MaxAge: 5 * time.Minute})(pay))
//
// A signed-in user whose session does not meet p is sent, by a browser navigation, through a new
// pushed login that asks the provider for it (acr_values, max_age, and prompt=login with
// p.PromptLogin), and comes back to the same URL with a new session; the provider's answer is held
// to p as any login's is to what it asked (a lower acr, or an older auth_time, is refused). If the
// user comes back as someone else, their session replaces the first and an [EventStepUp] with
// Reason "subject_changed" reports it. Any other request gets [ErrInsufficientAuthentication].
func (m *Middleware) RequirePolicy(p Policy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r, ok := m.Authenticate(w, r, p); ok {
				next.ServeHTTP(w, r)
			}
		})
	}
}
