package parlogin

import "net/url"

// maxReturnTo bounds a remembered return target, so that a pending login stays small in its cookie.
const maxReturnTo = 512

// safeReturnTo returns target when it is a same-origin relative reference that a browser resolves
// against the app's own origin, and "/" otherwise. It is the open-redirect defence: a return target
// comes from the request URL or from the login route's return_to parameter, both attacker-chosen.
//
// Browsers treat "\" like "/" and drop tabs and newlines before resolving a URL, so "/\evil",
// "/\t/evil" and "//evil" all leave the origin. Only printable ASCII is accepted (request URIs are
// percent-encoded), the second byte may not be "/" or "\", and the result must parse as a path
// without scheme or host.
func safeReturnTo(target string) string {
	if len(target) == 0 || len(target) > maxReturnTo || target[0] != '/' {
		return "/"
	}
	if len(target) > 1 && (target[1] == '/' || target[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x21 || c > 0x7e || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return target
}

// returnTarget is the target remembered for a login started on r by a protected route: the full
// path and query of the request, when safe.
func returnTarget(u *url.URL) string {
	t := safeReturnTo(u.RequestURI())
	if t == "/" && u.RawQuery != "" {
		// Too long with its query, or odd: the path alone still brings the user back.
		t = safeReturnTo(u.EscapedPath())
	}
	return t
}
