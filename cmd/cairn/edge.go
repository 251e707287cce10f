package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/server"
)

// edgeConfig is the configuration of /graphql's limits, rate limits and CORS
// (server.Edge), each with a flag and a CAIRN_* variable.
type edgeConfig struct {
	MaxDepth, MaxCost, MaxAliases, MaxRootFields int
	RequestTimeout                               time.Duration
	APIKeyRate, UserRate                         float64
	APIKeyBurst, UserBurst                       int
	CORSOrigins                                  string
}

func (e *edgeConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&e.MaxDepth, "max-depth", server.DefaultMaxDepth, "deepest nesting of fields in an operation; a connection counts 3 (CAIRN_MAX_DEPTH)")
	fs.IntVar(&e.MaxCost, "max-cost", server.DefaultMaxCost, "highest cost of an operation: 1 a field, times first/last under connections; 0 = no limit (CAIRN_MAX_COST)")
	fs.IntVar(&e.MaxAliases, "max-aliases", server.DefaultMaxAliases, "most aliased fields in an operation (CAIRN_MAX_ALIASES)")
	fs.IntVar(&e.MaxRootFields, "max-root-fields", server.DefaultMaxRootFields, "most top-level fields in an operation (CAIRN_MAX_ROOT_FIELDS)")
	fs.DurationVar(&e.RequestTimeout, "request-timeout", server.DefaultTimeout, "longest a query or mutation may run (CAIRN_REQUEST_TIMEOUT)")
	fs.Float64Var(&e.APIKeyRate, "api-key-rate", 20, "requests per second per API key; 0 = no limit (CAIRN_API_KEY_RATE)")
	fs.IntVar(&e.APIKeyBurst, "api-key-burst", 40, "burst of requests per API key (CAIRN_API_KEY_BURST)")
	fs.Float64Var(&e.UserRate, "user-rate", 20, "requests per second per signed-in user; 0 = no limit (CAIRN_USER_RATE)")
	fs.IntVar(&e.UserBurst, "user-burst", 40, "burst of requests per user (CAIRN_USER_BURST)")
	fs.StringVar(&e.CORSOrigins, "cors-origins", "", "comma-separated origins browsers may call /graphql from, * for any; empty = none (CAIRN_CORS_ORIGINS)")
}

func (e edgeConfig) validate() error {
	switch {
	case e.MaxDepth < 1 || e.MaxAliases < 0 || e.MaxRootFields < 1 || e.MaxCost < 0:
		return usageError{"--max-depth and --max-root-fields must be at least 1, --max-aliases and --max-cost not negative"}
	case e.RequestTimeout <= 0:
		return usageError{"--request-timeout must be positive"}
	case e.APIKeyRate < 0 || e.UserRate < 0 || e.APIKeyBurst < 0 || e.UserBurst < 0:
		return usageError{"rates and bursts must not be negative"}
	case (e.APIKeyRate > 0 && e.APIKeyBurst == 0) || (e.UserRate > 0 && e.UserBurst == 0):
		return usageError{fmt.Sprintf("a rate needs a burst of at least 1 (--api-key-burst %d, --user-burst %d)", e.APIKeyBurst, e.UserBurst)}
	}
	return nil
}

func (e edgeConfig) server() server.Edge {
	var origins []string
	for o := range strings.SplitSeq(e.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	return server.Edge{
		MaxDepth: e.MaxDepth, MaxCost: e.MaxCost, MaxAliases: e.MaxAliases, MaxRootFields: e.MaxRootFields,
		Timeout:     e.RequestTimeout,
		APIKeyRate:  server.Rate{PerSecond: e.APIKeyRate, Burst: e.APIKeyBurst},
		UserRate:    server.Rate{PerSecond: e.UserRate, Burst: e.UserBurst},
		CORSOrigins: origins,
	}
}
