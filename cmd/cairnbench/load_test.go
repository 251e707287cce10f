package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad drives a server that answers in each way a response can come:
// sized, chunked, and closing the connection after it; and one that fails.
func TestLoad(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(body) != `{"query":"{ x }"}` || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch n.Add(1) % 3 {
		case 0:
			const b = `{"data":{"x":1},"extensions":{"sqlStatements":2}}`
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write([]byte(b))
		case 1:
			_, _ = w.Write([]byte(`{"data":{"x":1},`)) // chunked: flushed before the end
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(`"extensions":{"sqlStatements":2}}`))
		default:
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte(`{"data":{"x":1},"extensions":{"sqlStatements":2}}`))
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		token  string
		errors bool
	}{
		{"Answered", "tok", false},
		{"Refused", "other", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := load(context.Background(), config{URL: srv.URL + "/graphql", Token: tt.token, Body: []byte(`{"query":"{ x }"}`), Connections: 2, Duration: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if tt.errors {
				if res.Errors == 0 || res.Requests != 0 || !strings.Contains(res.FirstError, "400") {
					t.Errorf("%d requests, %d errors (%s); want only errors", res.Requests, res.Errors, res.FirstError)
				}
				return
			}
			if res.Requests < 3 || res.Errors != 0 || res.SQLStatements != 2 {
				t.Errorf("%d requests, %d errors (%s), %d statements; want at least 3, none, 2", res.Requests, res.Errors, res.FirstError, res.SQLStatements)
			}
		})
	}
}
