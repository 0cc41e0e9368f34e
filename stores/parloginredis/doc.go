// Package parloginredis keeps parlogin's sessions and shared state in Redis, through the app's
// go-redis v9 client, so that several replicas of an app behind a load balancer behave as one:
// any replica may serve any request of a login or a session.
//
//   - [New] returns a [Shared], for [parlogin.Config.Shared]: the states of finished logins
//     (a replayed callback is refused on every replica), the refreshes in flight (a refresh token
//     is redeemed once, whichever replicas need it), and a log of the sessions ended early (a
//     logout on one replica ends the session on all, within the second for which each replica
//     trusts its view of the log).
//   - [NewStore] returns a [Store], a gorilla [sessions.Store] for [parlogin.Config.Store] that
//     keeps sessions server-side: the cookie holds only a signed, encrypted session ID, so tokens
//     fit ([parlogin.Config.SaveTokens]) and a logout deletes the session's record. (parlogin
//     keeps a session it has read in memory for up to a second: a replica that served it within
//     the last second may serve it for the rest of that second.)
//
// Either may be used without the other: a [sessions.CookieStore] with a Redis Shared is a good
// fit for apps that keep no tokens.
//
// # Example
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"redis:6379"}})
//	auth, err := parlogin.New(ctx, parlogin.Config{
//		Issuer:       "https://auth.pingone.com/<envID>/as",
//		ClientID:     "…",
//		ClientSecret: "…",
//		RedirectURL:  "https://app.example.com/auth/callback",
//		Store:        parloginredis.NewStore(rdb, hashKey, blockKey),
//		Shared:       parloginredis.New(rdb),
//	})
//
// # Keys
//
// Every key starts with a prefix, "parlogin:" by default ([WithKeyPrefix], [Store.KeyPrefix]):
//
//	parlogin:session:<ID>   a session's values (gob), until its MaxAge          (Store)
//	parlogin:shared:<key>   a claim or value of parlogin, until its expiry      (Shared)
//	parlogin:{log}:meta     the log of ended sessions: its epoch and last number (Shared)
//	parlogin:{log}:msgs     its messages by number: a sorted set                (Shared)
//	parlogin:{log}:exp      their numbers by expiry: a sorted set               (Shared)
//
// Every key expires; nothing needs cleaning up. The log's keys share the Cluster hash tag
// "{log}". Redis 6.2 or later is needed (SET PXAT, ZRANGE BYSCORE).
//
// # Failures
//
// Every call to Redis is bounded by the request's context and by a timeout ([DefaultTimeout]),
// whether or not the client was created with ContextTimeoutEnabled, and its error says what
// failed and wraps go-redis's error. parlogin answers such errors with 503 Service Unavailable:
// while Redis cannot be reached, signed-in users are neither let in nor sent to log in again
// (once the second for which parlogin trusts what it has read from Redis has passed). With a
// [sessions.CookieStore], logins still start, and fail at the callback, where the state must be
// claimed in Redis; with a [Store], they fail at once, since the pending login is kept there.
package parloginredis
