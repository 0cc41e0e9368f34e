// Command parlogin checks a parlogin configuration against its OpenID Provider, before a browser
// is involved:
//
//	go run github.com/parlogin/parlogin/cmd/parlogin check [-json]
//
// It reads the settings from the PARLOGIN_* environment variables that the examples read:
// PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID and PARLOGIN_CLIENT_SECRET (required), or instead of the
// secret PARLOGIN_CLIENT_KEY (a PEM file of the client's private key, for private_key_jwt) and
// PARLOGIN_CLIENT_KEY_ID, PARLOGIN_REDIRECT_URL (default http://{PARLOGIN_ADDR}/auth/callback,
// PARLOGIN_ADDR defaulting to 127.0.0.1:8080), PARLOGIN_AUTH_ALG, PARLOGIN_RESPONSE_MODE,
// PARLOGIN_SCOPES (default "profile email"), PARLOGIN_SAVE_TOKENS, PARLOGIN_DPOP,
// PARLOGIN_PROFILE (fapi2) and PARLOGIN_SESSION_KEY (32 bytes or more, hex or base64, from which
// the cookie store's keys are derived as the examples derive them). It runs [parlogin.Check] and
// prints one line per check, with the fix below each check that is not OK; with -json, an array
// of {"check", "status", "message", "hint"} objects, status being "ok", "warn", "fail" or "skip".
//
// The exit status is 0 when no check failed (warnings included), 1 when one did, and 2 when the
// command could not run (a bad flag, a missing variable). Nothing it prints is the client secret,
// a client assertion or a request_uri.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/internal/settings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: parlogin check [-json]

Checks the parlogin configuration in the PARLOGIN_* environment variables against the provider:
discovery, issuer, PAR endpoint, client authentication, PKCE, iss parameter, clock, a real pushed
authorization request with the client's credentials, and the session store.

  PARLOGIN_ISSUER          the provider's issuer (PingOne: https://auth.pingone.com/{envID}/as)
  PARLOGIN_CLIENT_ID       the application's client ID
  PARLOGIN_CLIENT_SECRET   the application's client secret, for client_secret_jwt
  PARLOGIN_CLIENT_KEY      instead of the secret, for private_key_jwt: the path of a PEM file
                           with the client's private key (PKCS#8; EC P-256, RSA or Ed25519)
  PARLOGIN_CLIENT_KEY_ID   the key's ID (kid), default its JWK thumbprint (RFC 7638)
  PARLOGIN_REDIRECT_URL    the callback URL registered at the provider
                           (default http://{PARLOGIN_ADDR}/auth/callback; PARLOGIN_ADDR 127.0.0.1:8080)
  PARLOGIN_AUTH_ALG        HS256 (default), HS384 or HS512, with the secret
  PARLOGIN_RESPONSE_MODE   query (default) or form_post
  PARLOGIN_SCOPES          space-separated scopes besides openid (default "profile email")
  PARLOGIN_SAVE_TOKENS     1 to keep tokens in the session
  PARLOGIN_DPOP            1 for DPoP-bound tokens (RFC 9449)
  PARLOGIN_PROFILE         fapi2 for the FAPI 2.0 Security Profile (DPoP, PARLOGIN_CLIENT_KEY)
  PARLOGIN_SESSION_KEY     32+ bytes, hex or base64, from which the cookie keys are derived

Exit status: 0 when no check failed, 1 when one did, 2 when the check could not run.
`

// run runs the command with args (without the program name), reading the environment through
// getenv, and returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	flags := flag.NewFlagSet("check", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print the results as JSON")
	if err := flags.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "parlogin check: %v\n\n%s", err, usage)
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "parlogin check: unexpected argument %q\n\n%s", flags.Arg(0), usage)
		return 2
	}
	c, adjust, err := config(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "parlogin check: %v\n", err)
		return 2
	}

	report := parlogin.Check(ctx, c)
	for i := range report.Results {
		adjust(&report.Results[i])
		r := &report.Results[i]
		r.Message, r.Hint = envNames.Replace(r.Message), envNames.Replace(r.Hint)
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report.Results); err != nil {
			fmt.Fprintf(stderr, "parlogin check: %v\n", err)
			return 2
		}
	} else {
		printReport(stdout, c, report)
	}
	if report.Err() != nil {
		return 1
	}
	return 0
}

// envNames names the settings after the variables they come from.
var envNames = strings.NewReplacer(
	"Config.Issuer", "PARLOGIN_ISSUER",
	"Config.ClientID", "PARLOGIN_CLIENT_ID",
	"Config.ClientSecret", "PARLOGIN_CLIENT_SECRET",
	"Config.ClientKeys", "PARLOGIN_CLIENT_KEY",
	"Config.RedirectURL", "PARLOGIN_REDIRECT_URL",
	"Config.SigningAlg", "PARLOGIN_AUTH_ALG",
	"Config.Scopes", "PARLOGIN_SCOPES",
	"Config.SaveTokens", "PARLOGIN_SAVE_TOKENS",
	"Config.DPoP", "PARLOGIN_DPOP",
	"Config.Profile", "PARLOGIN_PROFILE",
)

// printReport prints one line per check and, below a check that is not OK, its fix.
func printReport(w io.Writer, c parlogin.Config, report *parlogin.CheckReport) {
	width := 0
	for _, r := range report.Results {
		width = max(width, len(r.Check))
	}
	fmt.Fprintf(w, "parlogin check: client %s at %s\n\n", c.ClientID, c.Issuer)
	failed, warned := 0, 0
	for _, r := range report.Results {
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", strings.ToUpper(string(r.Status)), width, r.Check, r.Message)
		if r.Hint != "" && r.Status != parlogin.CheckOK {
			fmt.Fprintf(w, "%-4s  %-*s  fix: %s\n", "", width, "", r.Hint)
		}
		switch r.Status {
		case parlogin.CheckFail:
			failed++
		case parlogin.CheckWarn:
			warned++
		}
	}
	fmt.Fprintln(w)
	switch {
	case failed > 0:
		fmt.Fprintf(w, "%s failed, %s: logins will not work until the failures are fixed.\n", plural(failed, "check"), plural(warned, "warning"))
	case warned > 0:
		fmt.Fprintf(w, "No check failed; %s.\n", plural(warned, "warning"))
	default:
		fmt.Fprintln(w, "All checks passed.")
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// config returns the configuration of the examples from the PARLOGIN_* variables, and adjust,
// which adds to the results what the command knows of the session key and that Check cannot.
func config(getenv func(string) string) (c parlogin.Config, adjust func(*parlogin.CheckResult), err error) {
	s, err := settings.Read(getenv)
	if err != nil {
		return c, nil, err
	}
	if missing := s.Missing(); len(missing) > 0 {
		return c, nil, fmt.Errorf("%s not set: set PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID and PARLOGIN_CLIENT_SECRET (or PARLOGIN_CLIENT_KEY) to the provider's and the application's values (run parlogin -h for all variables)", strings.Join(missing, ", "))
	}
	c = parlogin.Config{
		Issuer:       s.Issuer,
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		ClientKeys:   s.ClientKeys,
		RedirectURL:  s.RedirectURL,
		Scopes:       s.Scopes,
		SigningAlg:   s.SigningAlg,
		ResponseMode: s.ResponseMode,
		SaveTokens:   s.SaveTokens,
		DPoP:         s.DPoP,
		Profile:      s.Profile,
	}
	// The examples' cookie store, its keys derived from PARLOGIN_SESSION_KEY as theirs are.
	hashKey, blockKey, randomKey, keyErr := s.CookieKeys()
	if keyErr == nil {
		c.Store = sessions.NewCookieStore(hashKey, blockKey)
	}
	redis := s.RedisAddr != ""
	adjust = func(r *parlogin.CheckResult) {
		if r.Check != "session_store" {
			return
		}
		switch {
		case keyErr != nil:
			r.Status, r.Message = parlogin.CheckFail, keyErr.Error()
			r.Hint = "generate a key: openssl rand -hex 32"
		case r.Status == parlogin.CheckFail:
		case redis:
			r.Status = parlogin.CheckWarn
			r.Message = "PARLOGIN_REDIS_ADDR is set, but this command checks only the cookie keys derived from PARLOGIN_SESSION_KEY: " + r.Message
			r.Hint = "call parlogin.Check at the app's start-up, with its parloginredis store, to check the store itself"
		case randomKey:
			r.Status = parlogin.CheckWarn
			r.Message += "; but PARLOGIN_SESSION_KEY is not set: the examples then use a random key, and sessions end when the app restarts"
			r.Hint = "set PARLOGIN_SESSION_KEY to 32 random bytes: openssl rand -hex 32"
		}
	}
	return c, adjust, nil
}
