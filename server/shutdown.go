package server

import (
	"context"
	"net/http"
	"strings"
)

// endStreams ends a streaming request (a websocket or a server-sent event
// stream) when shutdown closes. http.Server.Shutdown does not wait for
// hijacked websockets and would wait out its whole timeout for an event
// stream; this closes both the protocol's way instead: a websocket close
// frame (1000), or the end of the event stream.
func endStreams(shutdown <-chan struct{}, next http.Handler) http.Handler {
	if shutdown == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-shutdown:
				cancel()
			case <-ctx.Done():
			}
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
