// Package console is Cairn's admin console: a few static pages, vanilla
// JavaScript modules and CSS, embedded in the binary and served by cairn
// serve under /console/. The console talks to Cairn only through its public
// GraphQL API: POST /graphql for queries and mutations, graphql-transport-ws
// on /graphql for live instance status. It loads nothing from elsewhere.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// contentSecurityPolicy lets the console load only its own files and talk
// only to its own origin (fetch and websockets).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Handler serves the console's files; mount it at Prefix. Each answer
// carries a strict content security policy and must be revalidated, so a new
// binary's console reaches browsers at once.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	fileServer := http.StripPrefix(Prefix, http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}

// Redirect sends /console to /console/.
func Redirect() http.Handler {
	return http.RedirectHandler(Prefix, http.StatusFound)
}
