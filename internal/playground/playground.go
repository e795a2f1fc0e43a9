// Package playground serves an offline GraphiQL page for the GraphQL API.
//
// Everything the page needs (React, ReactDOM, GraphiQL and its stylesheet
// with inlined fonts) is embedded into the binary and served by the handler
// itself under /playground/assets/, so the playground works without Internet
// access and the page can run under a strict Content-Security-Policy that
// only allows same-origin scripts, styles, fonts and connections.
// See assets/README.md for where the bundled files come from.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssetPrefix is the URL path under which Handler serves the embedded
// JavaScript and CSS files.
const AssetPrefix = "/playground/assets/"

// tokenPlaceholder is the value of the Authorization header prefilled in
// GraphiQL's headers editor. playground.js does not send a header that still
// contains it.
const tokenPlaceholder = "<paste accessToken from the login mutation>"

const defaultHeaders = `{
  "Authorization": "Bearer ` + tokenPlaceholder + `"
}`

const defaultQuery = `# Welcome to the GraphQL playground.
#
# To call operations that need a login:
#  1. Run the Login mutation below with
#     your credentials (Ctrl-Enter).
#  2. Copy "accessToken" from the result.
#  3. Paste it into the Headers tab below,
#     replacing the placeholder:
#     {"Authorization": "Bearer eyJ..."}
#
# Prettify: Shift-Ctrl-P
# Autocomplete: Ctrl-Space

mutation Login {
  login(input: {
    login: "admin@example.com"
    password: "<your password>"
  }) {
    accessToken
  }
}
`

//go:embed assets/*.js assets/*.css
var embedded embed.FS

var page = template.Must(template.New("playground").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
{{range .Styles}}<link rel="stylesheet" href="{{.}}">
{{end}}</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-query="{{.Query}}" data-headers="{{.Headers}}" data-placeholder="{{.Placeholder}}">
<div class="loading">Loading…</div>
</div>
<noscript>The GraphQL playground needs JavaScript.</noscript>
{{range .Scripts}}<script src="{{.}}" defer></script>
{{end}}<script src="{{.Boot}}" nonce="{{.Nonce}}" defer></script>
</body>
</html>
`))

type pageData struct {
	Title       string
	Endpoint    string
	Query       string
	Headers     string
	Placeholder string
	Styles      []string
	Scripts     []string
	Boot        string
	Nonce       string
}

// An asset's content stays in the binary's read-only data: it is hashed
// and served from the embedded file, never copied onto the heap, where
// its 1.6 MB, held for the life of the process, would make every garbage
// collection come sooner (docs/performance.md).
type asset struct {
	name        string
	contentType string
	size        int64
	etag        string
	version     string // short content hash appended to asset URLs as ?v=

	gzipOnce sync.Once
	gzipData []byte
}

// open returns the embedded content, which the caller closes. An embedded
// file reads and seeks in place.
func (a *asset) open() (io.ReadSeekCloser, error) {
	f, err := embedded.Open("assets/" + a.name)
	if err != nil {
		return nil, err
	}
	rs, ok := f.(io.ReadSeekCloser)
	if !ok {
		_ = f.Close()
		return nil, fmt.Errorf("playground: embedded asset %s cannot seek", a.name)
	}
	return rs, nil
}

// gzipped returns the gzip-compressed content, computed on first use.
func (a *asset) gzipped() []byte {
	a.gzipOnce.Do(func() {
		src, err := a.open()
		if err != nil {
			return
		}
		defer src.Close()
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := io.Copy(zw, src); err != nil {
			return
		}
		if err := zw.Close(); err == nil && int64(buf.Len()) < a.size {
			a.gzipData = buf.Bytes()
		}
	})
	return a.gzipData
}

var (
	assetsOnce sync.Once
	assets     map[string]*asset
)

func loadAssets() map[string]*asset {
	assetsOnce.Do(func() {
		assets = make(map[string]*asset)
		entries, err := fs.ReadDir(embedded, "assets")
		if err != nil {
			panic(fmt.Sprintf("playground: reading embedded assets: %v", err))
		}
		for _, e := range entries {
			name := e.Name()
			var ct string
			switch path.Ext(name) {
			case ".js":
				ct = "text/javascript; charset=utf-8"
			case ".css":
				ct = "text/css; charset=utf-8"
			default:
				continue
			}
			a := &asset{name: name, contentType: ct}
			src, err := a.open()
			if err != nil {
				panic(fmt.Sprintf("playground: reading embedded asset %s: %v", name, err))
			}
			h := sha256.New()
			a.size, err = io.Copy(h, src)
			_ = src.Close()
			if err != nil {
				panic(fmt.Sprintf("playground: reading embedded asset %s: %v", name, err))
			}
			sum := h.Sum(nil)
			a.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
			a.version = hex.EncodeToString(sum[:6])
			assets[name] = a
		}
	})
	return assets
}

func assetURL(all map[string]*asset, name string) string {
	a, ok := all[name]
	if !ok {
		panic("playground: missing embedded asset " + name)
	}
	return AssetPrefix + name + "?v=" + a.version
}

// Handler returns an http.Handler meant to be mounted at "/". It serves
//
//   - GET and HEAD "/": an HTML page running GraphiQL against endpoint
//     (for example "/graphql"; an absolute http(s) URL also works), with
//     title as the page title;
//   - GET and HEAD "/playground/assets/<file>": the embedded JavaScript and
//     CSS the page loads, with long-lived cache headers;
//
// and 404 Not Found for every other path.
//
// The page prefills GraphiQL with a login mutation example and a headers
// editor holding an Authorization header template for the access token.
func Handler(title, endpoint string) http.Handler {
	all := loadAssets()
	base := pageData{
		Title:       title,
		Endpoint:    endpoint,
		Query:       defaultQuery,
		Headers:     defaultHeaders,
		Placeholder: tokenPlaceholder,
		Styles: []string{
			assetURL(all, "graphiql.min.css"),
			assetURL(all, "playground.css"),
		},
		Scripts: []string{
			assetURL(all, "react.production.min.js"),
			assetURL(all, "react-dom.production.min.js"),
			assetURL(all, "graphiql.min.js"),
		},
		Boot: assetURL(all, "playground.js"),
	}

	connectSrc := "'self'"
	if o := foreignOrigins(endpoint); o != "" {
		connectSrc += " " + o
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		servePage(w, base, connectSrc)
	})
	mux.HandleFunc("GET "+AssetPrefix+"{file}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := all[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serveAsset(w, r, a)
	})
	return mux
}

func servePage(w http.ResponseWriter, base pageData, connectSrc string) {
	nonce, err := newNonce()
	if err != nil {
		http.Error(w, "playground: generating nonce failed", http.StatusInternalServerError)
		return
	}
	data := base
	data.Nonce = nonce

	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		http.Error(w, "playground: rendering page failed", http.StatusInternalServerError)
		return
	}

	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page embeds a per-request nonce, so it must not be cached.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		// GraphiQL injects a few <style> elements at run time; they carry
		// the nonce (see playground.js). Inline style attributes set via
		// the CSSOM by React/CodeMirror are not restricted by CSP.
		"style-src 'self' 'nonce-" + nonce + "'",
		// graphiql.min.css inlines its fonts and icons as data: URLs.
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connectSrc,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; "))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(buf.Bytes())
}

func serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	// Asset URLs on the page carry a content hash (?v=...), so a new
	// release changes the URL and the response can be cached for a year.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Add("Vary", "Accept-Encoding")

	etag := a.etag
	var content io.ReadSeeker
	if acceptsGzip(r) {
		if gz := a.gzipped(); gz != nil {
			content = bytes.NewReader(gz)
			etag = strings.TrimSuffix(a.etag, `"`) + `-gzip"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	if content == nil {
		f, err := a.open()
		if err != nil {
			http.Error(w, "playground: reading asset failed", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		content = f
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, a.name, time.Time{}, content)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

func newNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// foreignOrigins returns the CSP sources needed to reach an absolute
// endpoint URL (http(s) and the matching ws(s) origin for subscriptions),
// or "" for a same-origin path like "/graphql".
func foreignOrigins(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return ""
	}
	switch u.Scheme {
	case "https":
		return "https://" + u.Host + " wss://" + u.Host
	case "http":
		return "http://" + u.Host + " ws://" + u.Host
	}
	return ""
}
