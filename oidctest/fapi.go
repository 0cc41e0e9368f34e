package oidctest

import (
	"net"
	"net/url"
)

// FAPI 2.0 mode (Server.FAPI2, Client.FAPI2) holds clients to the FAPI 2.0 Security Profile
// (https://openid.net/specs/fapi-security-profile-2_0-final.html). The package documentation
// lists what it changes; the checks are next to the others, each citing its section.

// fapi2 reports whether client c is held to the FAPI 2.0 Security Profile.
func (s *Server) fapi2(c Client) bool {
	return s.cfg.fapi2 || c.FAPI2
}

// fapiAlgs returns the JWS algorithms FAPI 2.0 allows: "PS256, ES256, or EdDSA (using the
// Ed25519 variant)" (FAPI 2.0 Security Profile section 5.4.1).
func fapiAlgs() []string { return []string{"PS256", "ES256", "EdDSA"} }

// fapiRedirectURI reports whether a FAPI 2.0 client may use redirect URI u (registered exactly): FAPI 2.0 Security
// Profile section 5.3.2.2 says the authorization server "shall not allow redirect URIs that use
// the "http" scheme except for native clients that use loopback interface redirection as
// described in Section 7.3 of RFC 8252", which names loopback IP literals (127.0.0.1 and
// [::1]); RFC 8252 section 8.3 advises against "localhost", so it is refused.
func fapiRedirectURI(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	if parsed.Scheme != "http" {
		return true // https, or a private-use scheme of a native client (RFC 8252 section 7.1)
	}
	ip := net.ParseIP(parsed.Hostname())
	return ip != nil && ip.IsLoopback()
}
