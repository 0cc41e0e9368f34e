package parlogin

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"/private", "/private"},
		{"/private?x=1&y=%2F", "/private?x=1&y=%2F"},
		{"/a/b#frag", "/a/b#frag"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // encoded slashes stay a path here
		{"", "/"},
		{"private", "/"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"///evil.example", "/"}, // Go parses no host; browsers go to evil.example
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/a\\b", "/"},
		{"https://evil.example", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/ /evil.example", "/"},
		{" /private", "/"},
		{"/\x00", "/"},
		{"/\x7f", "/"},
		{"/\uff0fevil.example", "/"}, // fullwidth solidus
		{"/\u2215evil.example", "/"}, // division slash
		{"/é", "/"},
		{"/" + strings.Repeat("a", maxReturnTo), "/"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := safeReturnTo(tc.in); got != tc.want {
				t.Errorf("safeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestReturnTarget(t *testing.T) {
	long := "/search?q=" + strings.Repeat("x", maxReturnTo)
	tests := []struct {
		name, url, want string
	}{
		{"path and query", "/private?x=1", "/private?x=1"},
		{"path only", "/private", "/private"},
		{"too long with query keeps path", long, "/search"},
		{"escaped path", "/a%20b?c=d", "/a%20b?c=d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := returnTarget(u); got != tc.want {
				t.Errorf("returnTarget(%q) = %q, want %q", tc.url, got, tc.want)
			}
		})
	}
}

// FuzzSafeReturnTo checks the property that matters: whatever goes in, what comes out resolves to
// the app's own origin in a browser-like resolution, and stays in printable ASCII.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/private?x=1", "//evil", "/\\evil", "https://evil", "/\t/evil",
		"/%2F%2Fevil", "/\uff0fevil", "\\/evil", "/..//evil", "/./evil", "/?//evil", "/#//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example/base/page")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeReturnTo(in)
		if out == "/" {
			return
		}
		if out != in {
			t.Fatalf("safeReturnTo(%q) = %q: a target is kept whole or replaced", in, out)
		}
		// Browsers strip tabs and newlines and read "\" as "/" before resolving.
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(out)
		ref, err := url.Parse(browser)
		if err != nil {
			t.Fatalf("kept %q, which does not parse: %v", out, err)
		}
		if got := base.ResolveReference(ref); got.Host != base.Host || got.Scheme != base.Scheme {
			t.Fatalf("kept %q, which resolves to %v", out, got)
		}
		for i := 0; i < len(out); i++ {
			if out[i] < 0x21 || out[i] > 0x7e {
				t.Fatalf("kept %q with byte %#x", out, out[i])
			}
		}
	})
}
