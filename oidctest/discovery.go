package oidctest

import (
	"net/http"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// handleDiscovery serves the OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414),
// edited by EditMetadata when set.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !s.allowMethods(w, r, endpoint.Discovery, http.MethodGet, http.MethodHead) {
		return
	}
	m := s.metadata()
	if s.cfg.editMetadata != nil {
		s.cfg.editMetadata(m)
	}
	writeJSON(w, http.StatusOK, m)
}

// metadata returns a fresh discovery document, which the caller may modify: PingOne's with EnvID,
// the provider's own otherwise.
func (s *Server) metadata() map[string]any {
	u := s.cfg.urls
	if s.cfg.pingOne {
		return pingOneMetadata(s.cfg.issuer, u)
	}
	authMethods := []string{clientSecretJWT, privateKeyJWT}
	authAlgs := append(hmacAlgs(), privateKeyJWTAlgs()...)
	idTokenAlgs := idTokenAlgs()
	if s.cfg.fapi2 {
		// FAPI 2.0 Security Profile sections 5.3.2.1 (private_key_jwt) and 5.4.1 (algorithms).
		authMethods, authAlgs, idTokenAlgs = []string{privateKeyJWT}, fapiAlgs(), []string{"PS256", "ES256"}
	}
	return map[string]any{
		"issuer":                                                s.cfg.issuer,
		"authorization_endpoint":                                u[endpoint.Authorization],
		"token_endpoint":                                        u[endpoint.Token],
		"userinfo_endpoint":                                     u[endpoint.UserInfo],
		"jwks_uri":                                              u[endpoint.JWKS],
		"end_session_endpoint":                                  u[endpoint.EndSession],
		"backchannel_logout_supported":                          true,
		"backchannel_logout_session_supported":                  true,
		"pushed_authorization_request_endpoint":                 u[endpoint.PAR],
		"require_pushed_authorization_requests":                 true,
		"authorization_response_iss_parameter_supported":        true,
		"response_types_supported":                              []string{"code"},
		"response_modes_supported":                              []string{"query", "form_post"},
		"grant_types_supported":                                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                               []string{"public"},
		"id_token_signing_alg_values_supported":                 idTokenAlgs,
		"token_endpoint_auth_methods_supported":                 authMethods,
		"token_endpoint_auth_signing_alg_values_supported":      authAlgs,
		"code_challenge_methods_supported":                      []string{"S256"},
		"scopes_supported":                                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported":                                      claimsSupported(),
		"request_parameter_supported":                           true,
		"request_object_signing_alg_values_supported":           authAlgs,
		"revocation_endpoint":                                   u[endpoint.Revocation],
		"revocation_endpoint_auth_methods_supported":            authMethods,
		"revocation_endpoint_auth_signing_alg_values_supported": authAlgs,
		"dpop_signing_alg_values_supported":                     dpopAlgs(),
	}
}

// claimsSupported lists the claims the provider can put in ID tokens and userinfo answers.
func claimsSupported() []string {
	return []string{
		"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash",
		"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
		"email", "email_verified",
	}
}
