# Cairn. `make run` serves the API on a private PostgreSQL; `make test` runs
# every check CI runs. See README.md.

GO ?= go
PKGS = ./...

.PHONY: run build test unit lint generate check-generated bench clean deps test-deps

run: deps
	$(GO) build -o bin/cairn ./cmd/cairn
	exec bin/cairn serve

build:
	$(GO) build -o bin/ ./cmd/...

# test: formatting, vet, staticcheck, generated code up to date, then every
# test against a real PostgreSQL.
test: test-deps lint check-generated unit

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

# generate: gqlgen, then internal/gqlpatch (the executor's deferred groups
# without an eager path; see its doc).
generate:
	$(GO) tool gqlgen generate
	$(GO) run ./internal/gqlpatch graph/generated.go

# check-generated fails when `make generate` would change the committed code.
check-generated:
	@before=$$(cat gqlgen.yml schema/*.graphqls graph/generated.go graph/model/*.go resolvers/*.go | sha256sum); \
	  $(GO) tool gqlgen generate && $(GO) run ./internal/gqlpatch graph/generated.go; \
	  after=$$(cat gqlgen.yml schema/*.graphqls graph/generated.go graph/model/*.go resolvers/*.go | sha256sum); \
	  if [ "$$before" != "$$after" ]; then echo "make generate changed the generated code: commit the result"; git status --short graph resolvers; exit 1; fi

# deps installs what the tests need from Debian when it is missing: the
# PostgreSQL server binaries, and Chromium for the console's browser test
# (console/browser_test.go).
deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { echo "installing PostgreSQL (apt-get)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# test-deps adds Chromium for the console's browser tests; they skip, saying
# why, when it cannot be installed.
test-deps: deps
	@test -x /usr/bin/chromium || \
	  { echo "installing Chromium (apt-get)"; { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	    echo "could not install Chromium: the browser tests will skip"; }

# bench: not part of test. The Go benchmarks of the handler, a CPU profile of
# the deep read, then bench/harness: the data in its own PostgreSQL, `cairn
# serve` driven by cairnbench, pgbench on the same SQL, bench/RESULTS.md.
# BENCH_FLAGS go to the harness (e.g. BENCH_FLAGS='-d 30s -keep').
bench: deps
	$(GO) build -o bin/ ./cmd/cairn ./cmd/cairnbench
	$(GO) test -run '^$$' -bench . -benchmem ./bench/...
	$(GO) test -run '^$$' -bench 'DeepRead$$' -benchtime 20x -cpuprofile bin/deepread.cpu -o bin/bench.test ./bench
	$(GO) tool pprof -top -nodecount 30 bin/bench.test bin/deepread.cpu > bin/deepread.top 2>/dev/null
	$(GO) run ./bench/harness -cairn bin/cairn -load bin/cairnbench -out bench/RESULTS.md -profile bin/deepread.top $(BENCH_FLAGS)

clean:
	rm -rf bin .cairn
