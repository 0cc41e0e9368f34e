package oidctest

import (
	"maps"
	"slices"
	"strings"
)

// User is an identity the provider signs in.
type User struct {
	Subject string
	// Claims are extra ID token / userinfo claims: name, email, email_verified, acr, ….
	// Claims of the standard scopes (profile, email, address, phone) are released only when that
	// scope was granted; other claims are always released. Claims the provider sets itself (iss, sub, aud, exp,
	// iat, nbf, jti, auth_time, nonce, at_hash, c_hash, sid, azp) are ignored, and "acr" is used
	// only when the authorization request has no acr_values.
	Claims map[string]any
}

// SetUser sets the identity that is signed in automatically (or prefilled in the login form).
// Default: Subject "alice", Claims name "Alice Example", email "alice@example.com", email_verified true.
func (s *Server) SetUser(u User) {
	u.Claims = maps.Clone(u.Claims)
	s.lock()
	s.defaultUser = u
	s.mu.Unlock()
}

// AddUser registers an identity that the login form accepts by its subject. Without a registered
// user for a username typed in the form, the form signs in a user with that subject and generated
// name/email ("<username>@example.com").
func (s *Server) AddUser(u User) {
	u.Claims = maps.Clone(u.Claims)
	s.lock()
	s.users[u.Subject] = u
	s.mu.Unlock()
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
	"acr": true,
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
