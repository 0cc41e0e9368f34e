package parlogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// User is the signed-in end user, as established by the ID token at login.
type User struct {
	// Subject is the provider's identifier for the user ("sub"), unique per Issuer.
	Subject string
	// Issuer is the provider that authenticated the user ("iss").
	Issuer string
	// AuthTime is when the user last authenticated at the provider ("auth_time"), or the zero
	// time when the provider did not say.
	AuthTime time.Time
	// ACR is the authentication context class the provider asserted ("acr"), and AMR the
	// authentication methods ("amr"), such as "pwd" and "otp", when it did. A [Policy] holds
	// routes to them.
	ACR string
	AMR []string
	// Expiry is when the parlogin session ends (see [Config.SessionMaxAge]).
	Expiry time.Time

	claims json.RawMessage
	client string // the client ID of the Middleware that signed the user in
}

// Claims unmarshals the user's identity claims (name, email, groups… everything in the ID token and
// the UserInfo answer except the protocol claims, such as nonce, aud, exp, and the authentication's
// acr, amr and auth_time, which are fields of User) into v, like [encoding/json.Unmarshal].
func (u *User) Claims(v any) error {
	if len(u.claims) == 0 {
		return errors.New("parlogin: user has no claims")
	}
	return json.Unmarshal(u.claims, v)
}

type userKey struct{}

// NewContext returns a copy of ctx that carries u.
func NewContext(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// signedInRequest is a request of a signed-in user, made on each: the request with its context,
// which carries its user, in one allocation.
type signedInRequest struct {
	req http.Request
	ctx userContext
}

// userContext carries a user as NewContext's context does, with the array of the user's AMR,
// which most providers fill with one or two methods.
type userContext struct {
	context.Context
	user User
	amr  [2]string
}

// String names the context as context.WithValue's would, without printing the user's claims.
func (c *userContext) String() string {
	if s, ok := c.Context.(fmt.Stringer); ok {
		return s.String() + ".WithValue(parlogin.userKey, *parlogin.User)"
	}
	return fmt.Sprintf("%T.WithValue(parlogin.userKey, *parlogin.User)", c.Context)
}

func (c *userContext) Value(key any) any {
	if key == (userKey{}) {
		return &c.user
	}
	return c.Context.Value(key)
}

// FromContext returns the user carried by ctx, as put there by [Middleware.Require] or
// [NewContext]. It reports false, and never panics, when there is none.
func FromContext(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
