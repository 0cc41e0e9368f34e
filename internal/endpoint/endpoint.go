// Package endpoint names the endpoints of an OpenID Provider: parlogin reports failures at them,
// and oidctest serves them. Both expose the type as an alias, parlogin.Endpoint, so that one
// spelling, parlogin.EndpointPAR and the like, serves both.
package endpoint

// Endpoint names an endpoint of an OpenID Provider.
type Endpoint string

// The endpoints.
const (
	Discovery     Endpoint = "discovery"     // {issuer}/.well-known/openid-configuration
	JWKS          Endpoint = "jwks"          // jwks_uri: the keys of ID and logout tokens
	PAR           Endpoint = "par"           // pushed_authorization_request_endpoint (RFC 9126)
	Authorization Endpoint = "authorization" // authorization_endpoint, and its responses
	Token         Endpoint = "token"         // token_endpoint
	UserInfo      Endpoint = "userinfo"      // userinfo_endpoint
	Revocation    Endpoint = "revocation"    // revocation_endpoint (RFC 7009)
	EndSession    Endpoint = "end_session"   // end_session_endpoint (RP-Initiated Logout)
)
