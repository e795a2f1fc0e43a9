package playground

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var (
	srcHrefRE  = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	scriptRE   = regexp.MustCompile(`(?i)<script\b[^>]*\bsrc="([^"]+)"`)
	styleRE    = regexp.MustCompile(`(?i)<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"`)
	nonceCSPRE = regexp.MustCompile(`'nonce-([^']+)'`)
)

func TestPage(t *testing.T) {
	h := Handler("Portier <Test>", "/graphql")
	rec := get(t, h, http.MethodGet, "/", nil)

	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	body := rec.Body.String()

	if !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Errorf("page does not contain the endpoint /graphql")
	}
	if !strings.Contains(body, "<title>Portier &lt;Test&gt;</title>") {
		t.Errorf("page title not rendered (escaped)")
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("page contains an absolute http(s) URL")
	}
	for _, m := range srcHrefRE.FindAllStringSubmatch(body, -1) {
		u := m[1]
		if strings.HasPrefix(u, "data:") {
			continue // the empty favicon
		}
		if !strings.HasPrefix(u, AssetPrefix) {
			t.Errorf("page references %q, want only %s...", u, AssetPrefix)
		}
	}
	// Login example and headers template for the access token.
	for _, want := range []string{
		"mutation Login",
		"login(input:",
		"admin@example.com",
		"accessToken",
		"Authorization",
		"Bearer &lt;paste accessToken from the login mutation&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page does not contain %q", want)
		}
	}

	scripts := scriptRE.FindAllStringSubmatch(body, -1)
	styles := styleRE.FindAllStringSubmatch(body, -1)
	if len(scripts) != 4 || len(styles) != 2 {
		t.Fatalf("found %d scripts and %d stylesheets, want 4 and 2", len(scripts), len(styles))
	}
	for _, want := range []string{"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "playground.js"} {
		if !strings.Contains(body, AssetPrefix+want+"?v=") {
			t.Errorf("page does not load %s", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<style") {
		t.Errorf("page has inline script or style")
	}
}

func TestPageSecurityHeaders(t *testing.T) {
	h := Handler("Portier", "/graphql")
	rec := get(t, h, http.MethodGet, "/", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'none'",
		"script-src 'self'",
		"font-src 'self' data:",
		"connect-src 'self'",
		"frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-eval", "unsafe-inline", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q contains %q", csp, bad)
		}
	}
	m := nonceCSPRE.FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("CSP %q has no style nonce", csp)
	}
	if !strings.Contains(rec.Body.String(), `nonce="`+m[1]+`"`) {
		t.Errorf("page does not carry the CSP nonce %q", m[1])
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("page Cache-Control = %q, want no-store", rec.Header().Get("Cache-Control"))
	}

	rec2 := get(t, h, http.MethodGet, "/", nil)
	if m2 := nonceCSPRE.FindStringSubmatch(rec2.Header().Get("Content-Security-Policy")); m2 == nil || m2[1] == m[1] {
		t.Errorf("nonce is not fresh per request")
	}
}

func TestAbsoluteEndpointAllowedByCSP(t *testing.T) {
	h := Handler("Portier", "https://api.example.com/graphql")
	rec := get(t, h, http.MethodGet, "/", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example.com wss://api.example.com") {
		t.Errorf("CSP %q does not allow the absolute endpoint", csp)
	}
	if !strings.Contains(rec.Body.String(), `data-endpoint="https://api.example.com/graphql"`) {
		t.Errorf("page does not contain the absolute endpoint")
	}
}

func TestHead(t *testing.T) {
	h := Handler("Portier", "/graphql")
	rec := get(t, h, http.MethodHead, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("HEAD / = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("HEAD / Content-Type = %q", ct)
	}
	rec = get(t, h, http.MethodHead, AssetPrefix+"graphiql.min.js", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD asset = %d with %d body bytes, want 200 and none", rec.Code, rec.Body.Len())
	}
}

func TestAssets(t *testing.T) {
	h := Handler("Portier", "/graphql")
	page := get(t, h, http.MethodGet, "/", nil).Body.String()

	var urls []string
	for _, m := range scriptRE.FindAllStringSubmatch(page, -1) {
		urls = append(urls, m[1])
	}
	for _, m := range styleRE.FindAllStringSubmatch(page, -1) {
		urls = append(urls, m[1])
	}

	minSize := map[string]int{
		"graphiql.min.js":             500_000,
		"graphiql.min.css":            100_000,
		"react.production.min.js":     5_000,
		"react-dom.production.min.js": 100_000,
		"playground.js":               500,
		"playground.css":              50,
	}
	seen := map[string]bool{}
	for _, u := range urls {
		name := strings.TrimPrefix(u, AssetPrefix)
		name, _, _ = strings.Cut(name, "?")
		seen[name] = true

		rec := get(t, h, http.MethodGet, u, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", u, rec.Code)
			continue
		}
		wantCT := "text/css"
		if strings.HasSuffix(name, ".js") {
			wantCT = "text/javascript"
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, wantCT) {
			t.Errorf("GET %s Content-Type = %q, want %s", u, ct, wantCT)
		}
		if rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("GET %s without Accept-Encoding got Content-Encoding %q", u, rec.Header().Get("Content-Encoding"))
		}
		if min, ok := minSize[name]; !ok {
			t.Errorf("unexpected asset %s", name)
		} else if rec.Body.Len() < min {
			t.Errorf("GET %s: %d bytes, want at least %d", u, rec.Body.Len(), min)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s Cache-Control = %q, want a long max-age", u, cc)
		}
		if body := rec.Body.String(); strings.Contains(body, "cdn.jsdelivr.net/npm") || strings.Contains(body, "unpkg.com/") {
			t.Errorf("%s mentions a CDN URL", name)
		}

		etag := rec.Header().Get("ETag")
		if etag == "" {
			t.Errorf("GET %s has no ETag", u)
		} else if rec := get(t, h, http.MethodGet, u, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s with matching If-None-Match = %d, want 304", u, rec.Code)
		}
	}
	for name := range minSize {
		if !seen[name] {
			t.Errorf("page does not load asset %s", name)
		}
	}

	// The CSS must carry its fonts inline rather than fetching them.
	css := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.css", nil).Body.String()
	if !strings.Contains(css, "@font-face") || !strings.Contains(css, "url(data:font/woff2;base64,") {
		t.Errorf("graphiql.min.css does not inline its fonts")
	}
	if regexp.MustCompile(`url\(\s*["']?(?:https?:)?//`).MatchString(css) || strings.Contains(css, "@import") {
		t.Errorf("graphiql.min.css loads something from the network")
	}
}

func TestAssetGzip(t *testing.T) {
	h := Handler("Portier", "/graphql")
	plain := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", nil)
	rec := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", map[string]string{"Accept-Encoding": "gzip, br"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip request = %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if rec.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Errorf("gzip and identity responses share an ETag")
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary = %q, want Accept-Encoding", rec.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != plain.Body.String() {
		t.Errorf("gunzipped asset differs from the identity response")
	}

	rec = get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
}

func TestNotFound(t *testing.T) {
	h := Handler("Portier", "/graphql")
	for _, p := range []string{
		"/unknown",
		"/index.html",
		"/playground",
		"/playground/",
		AssetPrefix,
		AssetPrefix + "nope.js",
		AssetPrefix + "README.md",
		AssetPrefix + "LICENSE.react",
		AssetPrefix + "sub/graphiql.min.js",
	} {
		if rec := get(t, h, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := Handler("Portier", "/graphql")
	rec := get(t, h, http.MethodPost, "/", nil)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

// TestAssetsStayOutOfTheHeap: the assets are served from the binary's
// embedded data, byte for byte and in ranges, and loading them keeps no
// copy of their 1.6 MB on the heap, where it would bring every garbage
// collection of the server sooner.
func TestAssetsStayOutOfTheHeap(t *testing.T) {
	var before, after runtime.MemStats
	assetsOnce, assets = sync.Once{}, nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	all := loadAssets()
	runtime.GC()
	runtime.ReadMemStats(&after)
	var total int64
	for _, a := range all {
		total += a.size
	}
	if total < 1_000_000 {
		t.Fatalf("the assets hold %d bytes, want the bundled GraphiQL", total)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > total/10 {
		t.Errorf("loading %d bytes of assets grew the live heap by %d bytes", total, grew)
	}

	h := Handler("Portier", "/graphql")
	want, err := embedded.ReadFile("assets/graphiql.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", nil); rec.Body.String() != string(want) {
		t.Errorf("the served asset differs from the embedded file (%d against %d bytes)", rec.Body.Len(), len(want))
	}
	sum := sha256.Sum256(want)
	if rec := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", nil); rec.Header().Get("ETag") != `"`+hex.EncodeToString(sum[:16])+`"` {
		t.Errorf("ETag %s is not the content's hash", rec.Header().Get("ETag"))
	}
	rec := get(t, h, http.MethodGet, AssetPrefix+"graphiql.min.js", map[string]string{"Range": "bytes=100-199"})
	if rec.Code != http.StatusPartialContent || rec.Body.String() != string(want[100:200]) {
		t.Errorf("a range of the asset = %d, %d bytes", rec.Code, rec.Body.Len())
	}
}
