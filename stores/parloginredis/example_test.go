package parloginredis_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
	"github.com/parlogin/parlogin/stores/parloginredis"
	"github.com/redis/go-redis/v9"
)

// An app whose replicas share their sessions and state in Redis. Here one replica, signing in
// at a test provider.
func Example() {
	// Your Redis: redis.NewClient(&redis.Options{Addr: "localhost:6379"}), a Sentinel or a
	// Cluster client. The examples use a redis-server started for them.
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: exampleRedis})
	defer rdb.Close()
	// Keys from your secrets, the same on every replica.
	hashKey, blockKey := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)

	op := oidctest.NewServer()
	defer op.Close()
	app := httptest.NewUnstartedServer(nil)
	redirectURL := "http://" + app.Listener.Addr().String() + "/auth/callback"
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{redirectURL}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  redirectURL,
		Store:        parloginredis.NewStore(rdb, hashKey, blockKey),
		Shared:       parloginredis.New(rdb),
		SaveTokens:   true, // tokens fit: the cookie holds only the session ID
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.HandleFunc("POST /auth/logout", auth.Logout)
	mux.Handle("/", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", u.Subject)
	})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	// A browser: it follows the redirects to the provider and back.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := browser.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Println(string(page))
	// Output: hello alice
}

func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: exampleRedis})
	defer rdb.Close()
	shared := parloginredis.New(rdb, parloginredis.WithKeyPrefix("example-new:"))

	// What parlogin does at a callback: the first claim of a state wins, whichever replica
	// makes it, and a replay loses.
	ctx := context.Background()
	exp := time.Now().Add(10 * time.Minute)
	first, _ := shared.Claim(ctx, "state/ABC", exp)
	replay, _ := shared.Claim(ctx, "state/ABC", exp)
	fmt.Println(first, replay)
	// Output: true false
}

func ExampleShared_Read() {
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: exampleRedis})
	defer rdb.Close()
	shared := parloginredis.New(rdb, parloginredis.WithKeyPrefix("example-read:"))
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	_ = shared.Publish(ctx, []byte("session A ended"), exp)
	_ = shared.Publish(ctx, []byte("session B ended"), exp)
	// A replica reads every message kept, then reads on from its cursor.
	msgs, cursor, _ := shared.Read(ctx, "")
	for _, m := range msgs {
		fmt.Println(string(m))
	}
	_ = shared.Publish(ctx, []byte("session C ended"), exp)
	msgs, _, _ = shared.Read(ctx, cursor)
	fmt.Printf("then %d more: %s\n", len(msgs), msgs[0])
	// Output:
	// session A ended
	// session B ended
	// then 1 more: session C ended
}

func ExampleNewStore() {
	rdb := redis.NewClient(&redis.Options{Network: "unix", Addr: exampleRedis})
	defer rdb.Close()
	store := parloginredis.NewStore(rdb, securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32))
	store.KeyPrefix = "example-store:"

	// Like any gorilla store: a handler saves a session, the next request reads it back.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	w := httptest.NewRecorder()
	session, _ := store.Get(r, "app")
	session.Values["user"] = "alice"
	if err := session.Save(r, w); err != nil {
		log.Fatal(err)
	}

	next := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range w.Result().Cookies() {
		next.AddCookie(c)
	}
	session, err := store.Get(next, "app")
	fmt.Println(session.Values["user"], session.IsNew, err)
	// Output: alice false <nil>
}
