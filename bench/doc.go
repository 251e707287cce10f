// Package bench holds Cairn's benchmarks: Go benchmarks of the request path
// through the real handler (run by `make bench`, not `make test`; profile
// them with `go test ./bench -run '^$' -bench DeepRead -cpuprofile cpu.out`),
// and in harness/ the program behind `make bench`, which drives a `cairn
// serve` process with cmd/cairnbench and writes RESULTS.md.
package bench
