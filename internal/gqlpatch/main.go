// Command gqlpatch rewrites one pattern of gqlgen's generated executor
// (graph/generated.go) after `gqlgen generate`; `make generate` and `make
// check-generated` run it, so the committed code is what they produce.
//
// gqlgen's code for each object of a response starts a deferred group,
// graphql.NewDeferredGroup(ctx), which computes the object's path at once
// (GetPath: a context lookup that misses down the whole chain, then every
// path element boxed) although the path is read only when a field of the
// object is deferred (@defer). In the 27,000-instance deep read of `make
// bench` that was a quarter of the allocations of a request. The rewrite
// builds the same group without its path, and sets the path, from the same
// context, just before the group is handed to ProcessDeferredGroup: the
// only reader of DeferredGroup.Path. gqlgen's templates for the executor
// cannot be overridden (only those of models and resolvers), and the change
// belongs upstream; until then this is the smallest patch that does it.
//
// It fails, changing nothing, when the generated code no longer has the
// pattern it expects (a new gqlgen): then review it rather than trust it.
package main

import (
	"bytes"
	"fmt"
	"os"
)

var (
	newGroup     = []byte("\tdeferred := graphql.NewDeferredGroup(ctx)\n")
	lazyGroup    = []byte("\tdeferred := graphql.DeferredGroup{FieldSet: graphql.NewFieldSet(nil), Defers: map[string]*graphql.FieldSetView{}, Context: ctx}\n")
	processGroup = []byte("\t\tec.ProcessDeferredGroup(deferred)\n")
	pathThenProc = []byte("\t\tdeferred.Path = graphql.GetPath(ctx)\n\t\tec.ProcessDeferredGroup(deferred)\n")
)

// patch returns src with every deferred group built lazily.
func patch(src []byte) ([]byte, error) {
	groups, procs := bytes.Count(src, newGroup), bytes.Count(src, processGroup)
	if groups == 0 || groups != procs {
		return nil, fmt.Errorf("gqlpatch: %d deferred groups made, %d processed: the generated code is not what this patch knows (a new gqlgen?); review internal/gqlpatch", groups, procs)
	}
	out := bytes.ReplaceAll(src, newGroup, lazyGroup)
	return bytes.ReplaceAll(out, processGroup, pathThenProc), nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gqlpatch graph/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := patch(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
