package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestEncodeResponse checks the websocket transport's encoding of a
// response against json.Marshal's, with the connection's statement count
// added to the extensions (or not, when there is no counter).
func TestEncodeResponse(t *testing.T) {
	t.Parallel()
	label := "l"
	tests := []struct {
		name       string
		resp       *graphql.Response
		statements int
		want       map[string]any // the extensions expected
	}{
		{"CountAlone", &graphql.Response{Data: []byte(`{"a":1}`)}, 3, map[string]any{"sqlStatements": 3.0}},
		{"NoCounter", &graphql.Response{Data: []byte(`{"a":1}`)}, -1, nil},
		{"OtherExtensions", &graphql.Response{Data: []byte(`{"a":1}`), Extensions: map[string]any{"cost": 7}}, 2, map[string]any{"cost": 7.0, "sqlStatements": 2.0}},
		{"Incremental", &graphql.Response{Data: []byte(`{"a":1}`), Label: label}, 4, map[string]any{"sqlStatements": 4.0}},
		{"NoData", &graphql.Response{}, 0, map[string]any{"sqlStatements": 0.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := encodeResponse(&buf, tt.resp, tt.statements); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Data       json.RawMessage
				Extensions map[string]any
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %s: %v", buf.Bytes(), err)
			}
			if want := tt.resp.Data; want != nil && !bytes.Equal(got.Data, want) {
				t.Errorf("data %s, want %s", got.Data, want)
			}
			if fmt.Sprint(got.Extensions) != fmt.Sprint(tt.want) {
				t.Errorf("extensions %v, want %v (%s)", got.Extensions, tt.want, buf.Bytes())
			}
		})
	}
}

type memoKey struct{ n int }

// TestMemoCtx checks that a memoCtx answers what its chain answers, set or
// not, for more keys than it remembers, and asks the chain once per key it
// remembers.
func TestMemoCtx(t *testing.T) {
	t.Parallel()
	var ctx context.Context = context.Background()
	for i := range 12 {
		ctx = context.WithValue(ctx, memoKey{i}, i)
	}
	counting := &countingCtx{Context: ctx}
	m := &memoCtx{Context: counting}
	for round := range 3 {
		for i := range 14 { // 12 and 13 are not set
			got := m.Value(memoKey{i})
			if i < 12 && got != i || i >= 12 && got != nil {
				t.Fatalf("round %d: Value(%d) = %v", round, i, got)
			}
		}
	}
	// The first 8 keys are remembered: asked once; the other 6 every round.
	if want := 8 + 3*6; counting.asked != want {
		t.Errorf("the chain was asked %d times, want %d", counting.asked, want)
	}
}

type countingCtx struct {
	context.Context
	asked int
}

func (c *countingCtx) Value(key any) any {
	c.asked++
	return c.Context.Value(key)
}
