package oidctest

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
