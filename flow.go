package parlogin

import (
	"cmp"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

const (
	// flowLifetime bounds how long a login may take, from its start to the callback.
	flowLifetime = 10 * time.Minute
	// maxPendingLogins bounds the logins pending at once in one browser (several tabs, a restored
	// browser session); starting one more evicts the oldest.
	maxPendingLogins = 5
	// pendingCookieBudget bounds the bytes of the pending logins' cookies, the one just started
	// included, so that the Cookie header stays well under 4 KB even with long return targets.
	pendingCookieBudget = 3072
)

// attempt is a pending login: what the callback needs to finish it.
type attempt struct {
	State    string `json:"-"` // the session's name carries it
	Nonce    string `json:"n"`
	Verifier string `json:"v"`           // PKCE code verifier (RFC 7636)
	Created  int64  `json:"t"`           // Unix milliseconds
	ReturnTo string `json:"r,omitempty"` // safe relative target
	MaxAge   string `json:"m,omitempty"` // max_age as sent, "" when not sent
	ACR      string `json:"a,omitempty"` // acr_values as sent
	FormPost bool   `json:"f,omitempty"` // response_mode=form_post
	// StepUpFrom is the subject of the session that the login steps up (see Policy).
	StepUpFrom string `json:"s,omitempty"`
	// DPoPKey is the DPoP key of the session to come (Config.DPoP), encoded.
	DPoPKey string `json:"k,omitempty"`
}

func newAttempt(returnTo string, params url.Values, now time.Time) *attempt {
	return &attempt{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Created:  now.UnixMilli(),
		ReturnTo: returnTo,
		MaxAge:   params.Get("max_age"),
		ACR:      params.Get("acr_values"),
	}
}

// flows keeps pending logins, one session per login named prefix + state, the way
// mod_auth_openidc keeps one state cookie per login: logins started at the same moment in several
// tabs do not overwrite each other, as they would in one shared cookie that every tab rewrites.
type flows struct {
	store  store
	prefix string
	secure bool // https: every cookie is Secure
	// crossSite: the app is on https or loopback, where browsers accept the SameSite=None; Secure
	// cookies that the provider's cross-site form_post to the callback carries.
	crossSite bool
	now       func() time.Time
	shared    Shared // remembers the states consumed, on every replica
}

// save stores a as a pending login, then evicts the oldest ones beyond the bounds.
func (f *flows) save(w http.ResponseWriter, r *http.Request, a *attempt) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	size, err := f.store.save(w, r, &record{name: f.prefix + a.State, value: string(b)}, f.options(a.FormPost, int(flowLifetime/time.Second)))
	if err != nil {
		return fmt.Errorf("%w: saving the pending login: %w", ErrSessionStore, err)
	}
	f.evict(w, r, pendingCookieBudget-size)
	return nil
}

// options are the cookie options of a pending login. The provider's form_post to the callback is
// a cross-site POST whenever the provider is on another site than the app (auth.pingone.com and
// app.example.com), and such a request carries only SameSite=None cookies, which browsers accept
// only when Secure: over https, and on loopback hosts, which they treat as secure contexts. Query
// mode logins keep SameSite=Lax: the provider's redirect is a top-level GET, which carries them.
func (f *flows) options(formPost bool, maxAge int) *sessions.Options {
	if formPost && f.crossSite {
		return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode}
	}
	return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: f.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// evict deletes the pending logins of r so that, beside the one just added, at most
// maxPendingLogins-1 remain, with cookies of at most budget bytes: unreadable and expired ones
// first, then the oldest.
func (f *flows) evict(w http.ResponseWriter, r *http.Request, budget int) {
	type pending struct {
		rec     *record
		created int64 // -1: unreadable or expired
		order   int   // position in the Cookie header: browsers list older cookies first
		size    int
	}
	var all []pending
	seen := make(map[string]bool)
	for _, c := range r.Cookies() {
		// Browsers keep a few dozen cookies per site at most; bound the work for other clients.
		if !strings.HasPrefix(c.Name, f.prefix) || seen[c.Name] || len(seen) == 4*maxPendingLogins {
			continue
		}
		seen[c.Name] = true
		p := pending{created: -1, order: len(all), size: len(c.Name) + len(c.Value)}
		var ok bool
		if p.rec, ok, _ = f.store.load(r, c.Name, c.Value); ok {
			if a, err := f.decode(p.rec); err == nil && !f.expired(a) {
				p.created = a.Created
			}
		}
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b pending) int {
		return cmp.Or(cmp.Compare(b.created, a.created), cmp.Compare(b.order, a.order))
	})
	kept, size := 0, 0
	for _, p := range all {
		if p.created >= 0 && kept < maxPendingLogins-1 && size+p.size <= budget {
			kept++
			size += p.size
			continue
		}
		f.delete(w, r, p.rec)
	}
}

// consume returns the pending login for state and deletes it: a state is good for one callback,
// on any replica.
func (f *flows) consume(w http.ResponseWriter, r *http.Request, state string) (*attempt, error) {
	cookie, err := r.Cookie(f.prefix + state)
	if err != nil {
		return nil, fmt.Errorf("%w: no pending login for this state in this browser", ErrInvalidState)
	}
	rec, ok, err := f.store.load(r, cookie.Name, cookie.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the pending login: %w", ErrSessionStore, err)
	}
	f.delete(w, r, rec)
	if !ok {
		return nil, fmt.Errorf("%w: unreadable pending login", ErrInvalidState)
	}
	a, err := f.decode(rec)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: unreadable pending login: %w", ErrInvalidState, err)
	case f.expired(a):
		return nil, fmt.Errorf("%w: login took longer than %v", ErrInvalidState, flowLifetime)
	}
	// Remembered until the pending login would have expired: a captured cookie replayed with its
	// authorization response is refused as long as it could be accepted.
	fresh, err := f.shared.Claim(r.Context(), "state/"+state, time.UnixMilli(a.Created).Add(flowLifetime))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: recording the state as used: %w", ErrSessionStore, err)
	case !fresh:
		return nil, fmt.Errorf("%w: state already used", ErrInvalidState)
	}
	return a, nil
}

// decode decodes the pending login of rec. The codecs of gorilla's stores bind a cookie to its
// name, which carries the state.
func (f *flows) decode(rec *record) (*attempt, error) {
	return decodeAttempt(rec.value, strings.TrimPrefix(rec.name, f.prefix))
}

// decodeAttempt decodes the pending login stored for state.
func decodeAttempt(raw, state string) (*attempt, error) {
	var a attempt
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return nil, err
	}
	if a.Nonce == "" || a.Verifier == "" {
		return nil, errors.New("pending login without nonce or verifier")
	}
	a.State = state
	return &a, nil
}

func (f *flows) expired(a *attempt) bool {
	age := f.now().Sub(time.UnixMilli(a.Created))
	return age > flowLifetime || age < -flowLifetime
}

// delete deletes the pending login of rec; r is a form_post response when it is a POST.
func (f *flows) delete(w http.ResponseWriter, r *http.Request, rec *record) {
	_ = f.store.remove(w, r, rec, f.options(r.Method == http.MethodPost, -1)) // a leftover is harmless: it expires and is evicted
}

// restartWindow is how long after an automatic restart of a login another one is refused.
const restartWindow = time.Minute

// restarts limits the automatic restarts of logins (see Middleware.recover) to one per browser per
// restartWindow, with a marker cookie. Its attributes follow the pending logins': the marker must
// travel with a form_post response too, or a provider that refuses every request_uri could loop.
type restarts struct {
	name  string
	flows *flows
}

// allow reports whether r's browser may restart a login now, and marks it as having done so.
func (rs restarts) allow(w http.ResponseWriter, r *http.Request) bool {
	if _, err := r.Cookie(rs.name); err == nil {
		return false
	}
	http.SetCookie(w, rs.cookie(r, int(restartWindow/time.Second)))
	return true
}

// clear removes the marker after a login succeeded, so that a later back-button visit to the
// provider recovers again.
func (rs restarts) clear(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(rs.name); err == nil {
		http.SetCookie(w, rs.cookie(r, -1))
	}
}

func (rs restarts) cookie(r *http.Request, maxAge int) *http.Cookie {
	return sessions.NewCookie(rs.name, "1", rs.flows.options(r.Method == http.MethodPost, maxAge))
}
