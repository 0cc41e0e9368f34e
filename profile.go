package parlogin

import (
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Profile is a set of rules that a configuration must follow: see [Config.Profile].
type Profile int

// FAPI2 is the FAPI 2.0 Security Profile (https://openid.net/specs/fapi-security-profile-2_0-final.html),
// for APIs of high value, such as open banking. Besides what parlogin always does (pushed
// authorization requests, PKCE S256, the iss parameter checked when present), it demands:
//
//   - private_key_jwt client authentication (Config.ClientKeys) with PS256, ES256 or EdDSA: no
//     client_secret_jwt, no RS256;
//   - client assertions whose aud is the issuer (AssertionAudience AudienceIssuer);
//   - sender-constrained tokens: DPoP, which the profile turns on;
//   - ID tokens signed with PS256, ES256 or EdDSA (IDTokenSigningAlgs, and what the provider
//     publishes);
//   - the provider's promise of the iss authorization response parameter (RFC 9207), which every
//     response must then carry;
//   - https for the Issuer and the RedirectURL (plain http only on a loopback host, for trying an
//     app on one machine).
//
// The provider must answer an authorization code's exchange within its 60-second life: parlogin
// redeems codes at once.
const FAPI2 Profile = 1

// fapi2Algs are the signing algorithms FAPI 2.0 allows (§5.4.1).
var fapi2Algs = []string{"PS256", "ES256", "EdDSA"}

// fapi2Problems returns what in c breaks the FAPI 2.0 Security Profile, each naming the setting.
func fapi2Problems(c Config) []string {
	var problems []string
	if c.ClientSecret != "" || len(c.ClientKeys) == 0 {
		problems = append(problems, "Profile FAPI2: ClientSecret (client_secret_jwt) is not allowed; set ClientKeys (private_key_jwt)")
	}
	if c.AssertionAudience != AudienceIssuer {
		problems = append(problems, "Profile FAPI2: AssertionAudience must be AudienceIssuer: the issuer is an assertion's only audience")
	}
	for _, alg := range c.IDTokenSigningAlgs {
		if !slices.Contains(fapi2Algs, alg) {
			problems = append(problems, "Profile FAPI2: IDTokenSigningAlgs may hold only "+strings.Join(fapi2Algs, ", ")+", not "+alg)
		}
	}
	// TLS to and from every endpoint (§5.2.1), and no http redirect URI (§5.3.2.2): the loopback
	// exception, which the profile grants native apps, lets an app be tried on one machine.
	for _, setting := range []struct{ name, url string }{{"Issuer", c.Issuer}, {"RedirectURL", c.RedirectURL}} {
		if u, err := url.Parse(setting.url); err == nil && u.Scheme != "https" && !isLoopback(u.Hostname()) {
			problems = append(problems, "Profile FAPI2: "+setting.name+" must be an https URL (plain http only on a loopback host)")
		}
	}
	return problems
}

// idTokenAlgs returns the ID token algorithms to accept, from those the provider publishes: the
// configured ones, or the asymmetric ones (with FAPI 2.0, its own).
func (c Config) idTokenAlgs(published []string) []string {
	if len(c.IDTokenSigningAlgs) > 0 {
		return c.IDTokenSigningAlgs
	}
	allowed := func(alg string) bool { return slices.Contains(asymmetricAlgs, jose.SignatureAlgorithm(alg)) }
	if c.Profile == FAPI2 {
		allowed = func(alg string) bool { return slices.Contains(fapi2Algs, alg) }
	}
	return slices.DeleteFunc(slices.Clone(published), func(alg string) bool { return !allowed(alg) })
}
