package main

import (
	"strings"
	"testing"
)

func TestPatch(t *testing.T) {
	const object = `func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		ec.ProcessDeferredGroup(deferred)
	}
	return out
}
`
	const patched = `func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet, obj *T) graphql.Marshaler {
	out := graphql.NewFieldSet(fields)
	deferred := graphql.DeferredGroup{FieldSet: graphql.NewFieldSet(nil), Defers: map[string]*graphql.FieldSetView{}, Context: ctx}
	out.Dispatch(ctx)
	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		deferred.Path = graphql.GetPath(ctx)
		ec.ProcessDeferredGroup(deferred)
	}
	return out
}
`
	tests := []struct {
		name, src, want, err string
	}{
		{"TwoObjects", object + object, patched + patched, ""},
		{"AlreadyPatched", patched, "", "0 deferred groups made"},
		{"UnknownShape", strings.Replace(object, "\t\tec.ProcessDeferredGroup(deferred)\n", "\t\tec.processDeferredGroup(deferred)\n", 1), "", "1 deferred groups made, 0 processed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patch([]byte(tt.src))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("patch: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("patch = %v\n%s\nwant\n%s", err, got, tt.want)
			}
		})
	}
}
