// Command serve serves the example SPA (examples/spa) as static files, on
// an origin of its own so that the browser treats the API as another origin
// and CORS applies, as it would in production.
//
//	go run ./examples/spa/serve -addr 127.0.0.1:5173 -api http://127.0.0.1:8080/graphql
//
// then open the printed address. Portier must list the SPA's origin in
// PORTIER_CORS_ORIGINS (here http://127.0.0.1:5173).
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// files are the only paths served: nothing else of the folder leaks.
var files = map[string]string{
	"/":                   "index.html",
	"/index.html":         "index.html",
	"/app.js":             "app.js",
	"/style.css":          "style.css",
	"/operations.graphql": "operations.graphql",
}

var types = map[string]string{
	".html":    "text/html; charset=utf-8",
	".js":      "text/javascript; charset=utf-8",
	".css":     "text/css; charset=utf-8",
	".graphql": "text/plain; charset=utf-8",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5173", "address to listen on")
	dir := flag.String("dir", "examples/spa", "the folder of the SPA's files")
	api := flag.String("api", "http://127.0.0.1:8080/graphql", "the Portier GraphQL endpoint, for the printed link")
	flag.Parse()
	if _, err := os.Stat(filepath.Join(*dir, "index.html")); err != nil {
		log.Fatalf("no index.html in %s (run from the repository root, or pass -dir): %v", *dir, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("example SPA at http://%s/?api=%s\n", ln.Addr(), url.QueryEscape(*api))
	srv := &http.Server{Handler: handler(*dir), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func handler(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := files[r.URL.Path]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.Error(w, "cannot read "+name, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", types[filepath.Ext(name)])
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write(b)
	})
}
