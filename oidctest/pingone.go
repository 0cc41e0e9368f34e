package oidctest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// PingOne mode (Server.EnvID) follows PingOne's published contract. The facts it relies on are
// kept here, each with the page that states it. Where PingOne's documentation is silent, the
// choice is marked "not documented" with its reason.

const (
	// pingOneCodeLifetime: "An authorization code expires after 10 minutes."
	// https://docs.pingidentity.com/pingone/applications/p1_grant_types.html
	pingOneCodeLifetime = 10 * time.Minute

	// pingOneSessionLifetime: a refresh token "is tied to the client and the user session. As
	// long as the session exists and it is not expired (30 days since the last sign on), the
	// /{{envID}}/as/token endpoint can be used to exchange the refresh token".
	// https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/token-refresh_token-client-secret-basic.html
	pingOneSessionLifetime = 30 * 24 * time.Hour
)

// codeLifetime is how long an authorization code can be redeemed.
func (s *Server) codeLifetime() time.Duration {
	if s.cfg.pingOne {
		return pingOneCodeLifetime
	}
	return codeLifetime
}

// sessionLifetime is how long a provider session lasts after its last sign-in.
func (s *Server) sessionLifetime() time.Duration {
	if s.cfg.pingOne {
		return pingOneSessionLifetime
	}
	return sessionLifetime
}

// issuesRefreshTokens reports whether the tokens of grant g include a refresh token. PingOne: "To
// obtain a refresh token along with an access token, the application must be either: Configured
// with the refresh_token grant type and the authorization_code grant type. Configured with the
// authorization_code grant type, and include offline_access in the scope parameter."
// https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/token-refresh_token-client-secret-basic.html
// Without EnvID, only offline_access does, as with oidc-provider.
func (s *Server) issuesRefreshTokens(g *grant) bool {
	if slices.Contains(strings.Fields(g.scope), "offline_access") {
		return true
	}
	if !s.cfg.pingOne {
		return false
	}
	c, ok := s.client(g.clientID)
	return ok && slices.Contains(c.GrantTypes, "refresh_token")
}

// refreshAliveLocked reports whether rt is still good at now. In PingOne mode a refresh token
// lasts as long as its session (see pingOneSessionLifetime): "To revoke a refresh token, the
// corresponding session must be deleted. Session termination is supported only by the resource
// owner using the /{{envID}}/as/signoff endpoint or by disabling the user." Without EnvID, refresh
// tokens outlive provider sessions, for refreshTokenLifetime. s.mu must be held.
func (s *Server) refreshAliveLocked(rt *refreshToken, now time.Time) bool {
	if !s.cfg.pingOne {
		return !now.After(rt.expires)
	}
	sess, ok := s.sessions[rt.grant.sid]
	return ok && !now.After(sess.expires)
}

// pingOneMetadata returns PingOne's discovery document with the URLs of this server.
//
// The fields and their values up to grant_types_supported are those of the example of
// "Discovery OpenID Configuration" (GET {authPath}/{envID}/as/.well-known/openid-configuration):
// https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/discovery-openid-configuration.html
// The copies of that example that could be read stop there. The fields from
// subject_types_supported on are those of Ping Identity's own mock of a PingOne environment,
// whose first fields match the documented example exactly: ForgeRock/ping-javascript-sdk,
// e2e/mock-api-v2/src/handlers/open-id-configuration.handler.ts and
// e2e/am-mock-api/src/app/responses.js (commit f7d4c9b, 2026-08). The older example of
// "Discover OpenID Provider Metadata" (POST {apiPath}/environments/{envID}/identityProviders)
// has the same claims_supported, subject_types_supported and
// id_token_signing_alg_values_supported, with fewer authentication methods and request object
// algorithms than today's.
//
// What the document advertises and this provider does not implement (implicit and hybrid
// response types, the client_credentials and device_code grants, introspection, device
// authorization, unsigned or RS* request objects, client authentication other than
// client_secret_jwt) is listed in the package documentation.
//
// PingOne publishes no revocation_endpoint_auth_methods_supported, no
// authorization_response_iss_parameter_supported and no backchannel_logout_supported; neither
// does this document.
func pingOneMetadata(issuer string, u map[Endpoint]string) map[string]any {
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                u[endpoint.Authorization],
		"pushed_authorization_request_endpoint": u[endpoint.PAR],
		"token_endpoint":                        u[endpoint.Token],
		"userinfo_endpoint":                     u[endpoint.UserInfo],
		"jwks_uri":                              u[endpoint.JWKS],
		"end_session_endpoint":                  u[endpoint.EndSession],
		"introspection_endpoint":                issuer + "/introspect", // not served here
		"revocation_endpoint":                   u[endpoint.Revocation],
		"device_authorization_endpoint":         issuer + "/device_authorization", // not served here
		"claims_parameter_supported":            false,
		"request_parameter_supported":           true,
		"request_uri_parameter_supported":       false,
		// Environment-wide; each application may require PAR ("Require Pushed Authorization
		// Request"), see Client.RequirePushedAuthorizationRequests.
		"require_pushed_authorization_requests": false,
		// No offline_access, though PingOne honours it (see issuesRefreshTokens).
		"scopes_supported":                                 []string{"openid", "profile", "email", "address", "phone"},
		"response_types_supported":                         []string{"code", "id_token", "token id_token", "code id_token", "code token", "code token id_token"},
		"response_modes_supported":                         []string{"pi.flow", "query", "fragment", "form_post"},
		"grant_types_supported":                            []string{"authorization_code", "implicit", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"userinfo_signing_alg_values_supported":            []string{"none"},
		"request_object_signing_alg_values_supported":      []string{"none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512"},
		"claim_types_supported":                            []string{"normal"},
		"claims_supported": []string{
			"sub", "iss", "auth_time", "acr", "name", "given_name", "family_name", "middle_name",
			"preferred_username", "profile", "picture", "zoneinfo", "phone_number", "updated_at",
			"address", "email", "locale",
		},
		"code_challenge_methods_supported": []string{"plain", "S256"},
	}
}

// piFlowResponse answers an authorization request with response_mode pi.flow in PingOne's form.
// pi.flow returns "authorization response parameters ... encoded as a JSON object wrapped in a
// flow response and returned directly to the client with a 200 status"
// (https://apidocs.pingidentity.com/pingone/main/v1/api/src/reference/browserless-authentication-flow-options/).
// The members are those of a completed flow in Ping Identity's own tests
// (ForgeRock/ping-javascript-sdk, packages/davinci-client/src/lib/mock-data/davinci.success.mock.ts,
// success1): environment, session, status COMPLETED and authorizeResponse, which holds the
// response parameters.
//
// An error answers PingOne's platform error (https://developer.pingidentity.com/pingone-api/platform/reference/error-codes.html):
// id, code, message and details. Not documented: the codes of an OAuth error at pi.flow. It is
// the top-level INVALID_DATA, with the OAuth error and description as the code and message of
// the first detail, which is where Ping Identity's SDK reads them
// (packages/oidc-client/src/lib/oidc.api.ts, authorizeFetch).
func (s *Server) piFlowResponse(w http.ResponseWriter, params url.Values, sid string) {
	if params.Has("error") {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"id":      uuidV4(),
			"code":    "INVALID_DATA",
			"message": "The request could not be completed. One or more validation errors were in the request.",
			"details": []map[string]string{{"code": params.Get("error"), "message": params.Get("error_description")}},
		})
		return
	}
	authz := make(map[string]string, len(params))
	for k := range params {
		authz[k] = params.Get(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"environment":       map[string]string{"id": s.cfg.envID},
		"session":           map[string]string{"id": sid},
		"status":            "COMPLETED",
		"authorizeResponse": authz,
	})
}

// pingOneScopes are the scopes of PingOne's own resources that this provider grants: the OpenID
// Connect scopes and offline_access. Any other scope stands for a custom resource.
var pingOneScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// revocable reports whether the revocation endpoint revokes a token of scope. Always without
// EnvID. PingOne: "The revocation endpoint applies to access_token and refresh_token tokens, and
// the tokens to be revoked must be for a custom resource. Tokens issued for the PingOne API
// resource may not be revoked" (https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/token-revocation.html),
// so in PingOne mode only a token with a scope of a custom resource is revoked. (The refresh
// token pages say instead that "to revoke a refresh token, the corresponding session must be
// deleted"; the revocation page, which describes the endpoint, is followed.)
//
// Not documented: PingOne's answer for a token it does not revoke. It is 200, the answer to
// every token the endpoint does not refuse, so that a test that expects the token to stop
// working fails here as it would at PingOne.
func (s *Server) revocable(scope string) bool {
	if !s.cfg.pingOne {
		return true
	}
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(pingOneScopes, sc) {
			return true
		}
	}
	return false
}
