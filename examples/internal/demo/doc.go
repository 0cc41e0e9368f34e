// Package demo is what the example programs share that a real app would not: their settings,
// read from PARLOGIN_* environment variables as the parlogin command reads them; the embedded
// provider, started when no other is configured; and their pages. Everything an app writes
// itself (parlogin's Config, its routes, the server) is in each example's main.go.
//
// # Environment
//
//	PARLOGIN_ISSUER          the provider's issuer; unset: an embedded oidctest provider on 127.0.0.1,
//	                         whose login page takes any user name
//	PARLOGIN_CLIENT_ID       the client registered at the provider (with PARLOGIN_ISSUER)
//	PARLOGIN_CLIENT_SECRET   its secret, 32 bytes or more (with PARLOGIN_ISSUER), for
//	                         client_secret_jwt
//	PARLOGIN_CLIENT_KEY      instead of the secret, for private_key_jwt: the path of a PEM file
//	                         with the client's private key, PKCS#8, EC P-256 (ES256), RSA
//	                         (PS256) or Ed25519 (EdDSA), such as openssl genpkey -algorithm EC
//	                         -pkeyopt ec_paramgen_curve:P-256 writes. Register its public part,
//	                         or the app's /auth/jwks, at the provider; the embedded provider
//	                         registers it itself
//	PARLOGIN_CLIENT_KEY_ID   the key's ID (kid); default its JWK thumbprint (RFC 7638)
//	PARLOGIN_REDIRECT_URL    the callback's URL as browsers see it, ending in /auth/callback;
//	                         default http://{PARLOGIN_ADDR}/auth/callback. Behind a proxy, set it
//	                         to the public URL: every URL the app sends anyone to derives from it
//	PARLOGIN_ADDR            where the app listens; default 127.0.0.1:8080
//	PARLOGIN_AUTH_ALG        HS256 (default), HS384 or HS512: the client assertions' algorithm
//	PARLOGIN_RESPONSE_MODE   query (default) or form_post
//	PARLOGIN_SCOPES          scopes asked for besides openid, which parlogin always asks for;
//	                         default "profile email", for the name and email the pages show
//	PARLOGIN_SAVE_TOKENS=1   keep the tokens in the session, for GET /api/token and the
//	                         id_token_hint of logout
//	PARLOGIN_DPOP=1          tokens bound to a key of the session (DPoP, RFC 9449)
//	PARLOGIN_PROFILE=fapi2   the FAPI 2.0 Security Profile, whose rules parlogin.New checks:
//	                         DPoP, and PARLOGIN_CLIENT_KEY instead of a secret
//	PARLOGIN_REDIS_ADDR      host:port, or a unix socket's path: sessions, and what replicas
//	                         share, in Redis (github.com/parlogin/parlogin/stores/parloginredis)
//	PARLOGIN_SESSION_KEY     the key of the session cookies, see below
//
// # Session keys
//
// PARLOGIN_SESSION_KEY is 32 or more random bytes, hex or base64 encoded; generate one with
//
//	openssl rand -hex 32
//	head -c 32 /dev/urandom | base64
//
// The session cookies' MAC key and encryption key ([Env.HashKey], [Env.BlockKey]) are derived from
// it with HKDF-SHA256, so that one secret makes both. Keep it secret and the same across restarts;
// every replica of the app must have it. Without it, a random key is generated, with a warning, and
// sessions end when the app restarts.
package demo
