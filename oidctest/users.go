package oidctest

import (
	"maps"
	"slices"
	"strings"
)

// User is an identity the provider signs in.
//
// The authentication context of its ID tokens (RFC 9470, OpenID Connect Core section 2) follows
// what a provider that can perform any step-up would assert: acr is the first of the request's
// acr_values, amr is ["pwd"], and auth_time is the time of the sign-in. ACR and AMR fix them
// instead, for tests of what an application does with a weaker authentication than it asked for.
type User struct {
	Subject string
	// ACR, when set, is the acr asserted for every sign-in of the user, whatever acr_values the
	// request asks for (so that a test can make the provider answer a lower level than
	// requested). When empty, acr is the first of the request's acr_values; without acr_values,
	// it is Claims["acr"] when that is a string, otherwise acr is left out.
	ACR string
	// AMR is the amr claim (RFC 8176 values such as "pwd", "otp", "hwk", "mfa"); default ["pwd"].
	AMR []string
	// Claims are extra ID token / userinfo claims: name, email, email_verified, groups, ….
	// Claims of the standard scopes (profile, email, address, phone) are released only when that
	// scope was granted; other claims are always released. Claims the provider sets itself (iss,
	// sub, aud, exp, iat, nbf, jti, auth_time, nonce, at_hash, c_hash, sid, azp, acr, amr) are
	// never taken from Claims; acr is read as described at ACR.
	Claims map[string]any
}

// SetUser sets the identity that is signed in automatically (or prefilled in the login form).
// Default: Subject "alice", Claims name "Alice Example", email "alice@example.com", email_verified true.
func (s *Server) SetUser(u User) {
	u = u.clone()
	s.lock()
	s.defaultUser = u
	s.mu.Unlock()
}

// AddUser registers an identity that the login form accepts by its subject. Without a registered
// user for a username typed in the form, the form signs in a user with that subject and generated
// name/email ("<username>@example.com").
func (s *Server) AddUser(u User) {
	u = u.clone()
	s.lock()
	s.users[u.Subject] = u
	s.mu.Unlock()
}

// clone returns a copy of u that shares no map or slice with it.
func (u User) clone() User {
	u.AMR = slices.Clone(u.AMR)
	u.Claims = maps.Clone(u.Claims)
	return u
}

func defaultUser() User {
	return User{
		Subject: "alice",
		Claims: map[string]any{
			"name":           "Alice Example",
			"email":          "alice@example.com",
			"email_verified": true,
		},
	}
}

// userFor returns the user signed in for req without a login form: the subject of its Login
// client, or the default user.
func (s *Server) userFor(req authorizationRequest) User {
	if req.browser != nil {
		return s.userNamed(req.browser.subject)
	}
	return s.signedInUser()
}

// signedInUser returns the default user.
func (s *Server) signedInUser() User {
	s.lock()
	defer s.mu.Unlock()
	return s.defaultUser
}

// userNamed returns the user the login form signs in for username: a registered user, the
// default user, or a user generated for it.
func (s *Server) userNamed(username string) User {
	s.lock()
	defer s.mu.Unlock()
	if u, ok := s.users[username]; ok {
		return u
	}
	if s.defaultUser.Subject == username {
		return s.defaultUser
	}
	return User{
		Subject: username,
		Claims: map[string]any{
			"name":           username,
			"email":          username + "@example.com",
			"email_verified": true,
		},
	}
}

// reservedClaims are set by the provider and never taken from User.Claims.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"auth_time": true, "nonce": true, "at_hash": true, "c_hash": true, "sid": true, "azp": true,
	"acr": true, "amr": true,
}

// authenticationContext returns the acr and amr of a new authentication of u for req (see the
// documentation of User).
func authenticationContext(u User, req authorizationRequest) (acr string, amr []string) {
	switch {
	case u.ACR != "":
		acr = u.ACR
	case len(req.acrValues) > 0:
		acr = req.acrValues[0]
	default:
		acr, _ = u.Claims["acr"].(string) // how acr was chosen before User.ACR existed
	}
	amr = slices.Clone(u.AMR)
	if len(amr) == 0 {
		amr = []string{"pwd"}
	}
	return acr, amr
}

// scopeOfClaim maps the claims of the standard scopes (OpenID Connect Core section 5.4) to
// their scope.
var scopeOfClaim = map[string]string{
	"name": "profile", "family_name": "profile", "given_name": "profile", "middle_name": "profile",
	"nickname": "profile", "preferred_username": "profile", "profile": "profile",
	"picture": "profile", "website": "profile", "gender": "profile", "birthdate": "profile",
	"zoneinfo": "profile", "locale": "profile", "updated_at": "profile",
	"email": "email", "email_verified": "email",
	"address": "address", "phone_number": "phone", "phone_number_verified": "phone",
}

// releasedClaims returns a new map with the claims of u that scope releases (without sub).
func releasedClaims(u User, scope string) map[string]any {
	granted := strings.Fields(scope)
	out := make(map[string]any, len(u.Claims)+12)
	for k, v := range u.Claims {
		if reservedClaims[k] {
			continue
		}
		if sc, ok := scopeOfClaim[k]; ok && !slices.Contains(granted, sc) {
			continue
		}
		out[k] = v
	}
	return out
}
