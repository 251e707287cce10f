// Command cairnctl is the command-line client of Cairn: it signs in and
// manages instances, the catalog, tenants, users, API keys and persisted
// operations through Cairn's GraphQL API. See cairnctl --help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
