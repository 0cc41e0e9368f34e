package parloginotel

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/parlogin/parlogin"
)

func TestEndpointsLookup(t *testing.T) {
	es := newEndpoints(nil)
	es.learn([]byte(`{
		"token_endpoint": "https://OP.example.com/as/token?tenant=1",
		"jwks_uri": "https://op.example.com/as/jwks",
		"userinfo_endpoint": "https://op.example.com/as/jwks",
		"revocation_endpoint": ["not", "a", "string"]
	}`))
	tests := []struct {
		url  string
		want parlogin.Endpoint // "" for none
	}{
		{"https://op.example.com/as/token", parlogin.EndpointToken}, // host case and query ignored
		{"HTTPS://op.example.com/as/token?x=y#f", parlogin.EndpointToken},
		{"https://op.example.com/as/jwks", parlogin.EndpointUserInfo}, // the later field in metadataEndpoints wins
		{"https://op.example.com/as/.well-known/openid-configuration", parlogin.EndpointDiscovery},
		{"https://op.example.com/as/token/", ""},
		{"http://op.example.com/as/token", ""},
		{"https://op.example.com:8443/as/token", ""},
		{"https://op.example.com/as/revoke", ""},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := es.lookup(u); got != tc.want {
			t.Errorf("lookup(%s) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// A provider whose document names new URLs on every read cannot grow the map without end.
func TestEndpointsBounded(t *testing.T) {
	es := newEndpoints(nil)
	for i := range 2 * maxEndpoints {
		es.learn(fmt.Appendf(nil, `{"token_endpoint": "https://op.example.com/token/%d"}`, i))
	}
	if n := len(es.learned); n != maxEndpoints {
		t.Errorf("%d endpoints remembered, want %d", n, maxEndpoints)
	}
	es.learn([]byte(`{"jwks_uri": "https://op.example.com/token/0"}`)) // a known URL is still renamed
	u, _ := url.Parse("https://op.example.com/token/0")
	if got, _ := es.lookup(u); got != parlogin.EndpointJWKS {
		t.Errorf("lookup = %q, want jwks", got)
	}
}
