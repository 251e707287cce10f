package store

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// preparedArgs is the store's database/sql connector: pgx's (its
// connections run simple queries by default, see Open), except that a
// statement given arguments runs prepared, once per connection and text
// (pgx.QueryExecModeCacheStatement).
//
// The two kinds of statement want opposite modes. bun writes every value
// into the text and passes no arguments: nearly every text is new, and
// preparing it costs a second round trip and a slot of the cache. A
// statement with $n arguments keeps its text whatever the values (River's,
// which riverdatabasesql runs on the store's pool, in the store's
// transactions): prepared, PostgreSQL parses it once per connection and may
// keep its plan, whereas as a simple query pgx writes the values in and
// PostgreSQL parses and plans it every time.
//
// A call whose leading options already name a pgx.QueryExecMode keeps it.
// Everything else is pgx's: the connections are *stdlib.Conn embedded, so
// transactions, Prepare, Ping, ResetSession, CheckNamedValue (which lets
// pgx's options through database/sql) and Conn() (for database/sql's Raw:
// assert interface{ Conn() *pgx.Conn }, not *stdlib.Conn) are pgx's own.
type preparedArgs struct{ driver.Connector }

// Connect returns a connection of pgx's connector, wrapped.
func (c preparedArgs) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	conn, ok := dc.(*stdlib.Conn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("store: pgx's connector returned a %T, not a *stdlib.Conn", dc)
	}
	return &preparedArgsConn{conn}, nil
}

// preparedArgsConn is a connection of preparedArgs. It embeds pgx's under
// another name than Conn, so that pgx's Conn() *pgx.Conn is promoted (a
// field named Conn would hide it from database/sql's Raw users).
type preparedArgsConn struct{ *stdlibConn }

type stdlibConn = stdlib.Conn

// The interfaces database/sql looks for; ExecContext and QueryContext must
// not fall back to Prepare, and NamedValueChecker must pass pgx's options.
var (
	_ driver.ExecerContext      = (*preparedArgsConn)(nil)
	_ driver.QueryerContext     = (*preparedArgsConn)(nil)
	_ driver.ConnPrepareContext = (*preparedArgsConn)(nil)
	_ driver.ConnBeginTx        = (*preparedArgsConn)(nil)
	_ driver.NamedValueChecker  = (*preparedArgsConn)(nil)
	_ driver.SessionResetter    = (*preparedArgsConn)(nil)
	_ driver.Pinger             = (*preparedArgsConn)(nil)
)

// ExecContext runs query, prepared if it has arguments.
func (c *preparedArgsConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.stdlibConn.ExecContext(ctx, query, cacheArgs(args))
}

// QueryContext runs query, prepared if it has arguments.
func (c *preparedArgsConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.stdlibConn.QueryContext(ctx, query, cacheArgs(args))
}

// cacheArgs returns args led by pgx.QueryExecModeCacheStatement when they
// hold an argument of the statement (or a pgx.QueryRewriter such as
// pgx.NamedArgs, which makes them) and name no mode among pgx's leading
// options; else args. (pgx takes the last mode of the options, so one named
// after a rewriter still wins over the one put first.)
func cacheArgs(args []driver.NamedValue) []driver.NamedValue {
	for _, a := range args {
		switch a.Value.(type) {
		case pgx.QueryExecMode:
			return args
		case pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
			continue
		}
		out := make([]driver.NamedValue, 0, len(args)+1)
		out = append(out, driver.NamedValue{Ordinal: 1, Value: pgx.QueryExecModeCacheStatement})
		for _, a := range args {
			a.Ordinal++
			out = append(out, a)
		}
		return out
	}
	return args
}
