package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/telemetry"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// presenter gives every error a client sees an extensions.code from DESIGN.md.
// Cairn's own errors keep their code, message and field; errors of the
// GraphQL layer (parse, validation, argument coercion) become BAD_USER_INPUT;
// anything else is INTERNAL, logged with its path, and reaches the client as
// a generic message with no SQL or stack text.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var cerr *cairn.Error
		var gerr *gqlerror.Error
		out := &gqlerror.Error{Path: graphql.GetPath(ctx), Extensions: map[string]any{}}
		if !errors.As(err, &cerr) && (errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
			// The edge's request timeout cut a resolver short.
			err = timeoutError(ctx)
		}
		switch {
		case errors.As(err, &cerr):
			out.Message = cerr.Message
			out.Extensions["code"] = cerr.Code
			if cerr.Field != "" {
				out.Extensions["field"] = cerr.Field
			}
			if errors.As(err, &gerr) {
				out.Path, out.Locations = gerr.Path, gerr.Locations
			}
		case errors.As(err, &gerr) && gerr.Err == nil:
			// Parse and validation errors of the GraphQL layer: the client's.
			out = gerr
			if out.Extensions == nil {
				out.Extensions = map[string]any{}
			}
			if code, _ := out.Extensions["code"].(string); code != "" && code != cairn.EBADINPUT {
				out.Extensions["reason"] = code
			}
			out.Extensions["code"] = cairn.EBADINPUT
		default:
			log.ErrorContext(ctx, "internal error", "path", graphql.GetPath(ctx).String(), "err", err)
			out.Message = cairn.ErrorMessage(err)
			out.Extensions["code"] = cairn.EINTERNAL
		}
		return out
	}
}

// recoverer turns a panic in a resolver into an INTERNAL error, logging the
// stack for the operator and nothing for the client.
func recoverer(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in resolver", "path", graphql.GetPath(ctx).String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return cairn.Errorf(cairn.EINTERNAL, "Internal error.")
	}
}

// reportStatements adds the number of SQL statements the request ran to the
// response's extensions, so a client can see what its query costs. A POST's
// response gets it from postTransport as it is written (no map per response).
func reportStatements(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	if st := stateOf(ctx); st != nil && st.statementsByTransport {
		return resp
	}
	if c := store.StatementCounterFrom(ctx); c != nil {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["sqlStatements"] = c.Count()
	}
	return resp
}

func principalOf(ctx context.Context) *cairn.Principal { return cairn.PrincipalFromContext(ctx) }

// requestInfo tells telemetry who made a request and what it cost in SQL.
var requestInfo = telemetry.RequestInfo{
	Principal: func(ctx context.Context) string {
		if p := cairn.PrincipalFromContext(ctx); p != nil {
			if p.APIKeyID != "" {
				return p.APIKeyID
			}
			return p.UserID
		}
		return ""
	},
	Statements: func(ctx context.Context) int {
		if c := store.StatementCounterFrom(ctx); c != nil {
			return c.Count()
		}
		return 0
	},
}
