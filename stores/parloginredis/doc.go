// Package parloginredis keeps parlogin's sessions in Redis, through the app's go-redis v9
// client, so that several replicas of an app behind a load balancer behave as one: any replica
// may serve any request of a session.
//
// [NewStore] returns a [Store], a gorilla [sessions.Store] for parlogin.Config.Store that keeps
// sessions server-side: the cookie holds only a signed, encrypted session ID, so tokens fit
// (parlogin.Config.SaveTokens) and a logout deletes the session at once.
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
//	})
//
// # Keys
//
// A session's values (gob) are kept under [Store.KeyPrefix] ("parlogin:" by default) +
// "session:" + its ID, until its MaxAge. Redis 6.2 or later is needed.
//
// # Failures
//
// Every call to Redis is bounded by the request's context and by [Store.Timeout], whether or not
// the client was created with ContextTimeoutEnabled, and its error says what failed and wraps
// go-redis's error. parlogin answers such errors with 503 Service Unavailable: while Redis cannot
// be reached, signed-in users are neither let in nor sent to log in again.
package parloginredis
