package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/cairn-dev/cairn"
	"github.com/jackc/pgx/v5/pgconn"
)

// interpretError translates a database error at the store's edge: no rows
// become NOT_FOUND of kind/id, unique violations CONFLICT, foreign-key and
// check violations BAD_USER_INPUT; anything else is wrapped with what as
// context and reaches the client as INTERNAL.
func interpretError(err error, what string) error {
	var pgErr *pgconn.PgError
	var cerr *cairn.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cerr):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return cairn.Errorf(cairn.ENOTFOUND, "%s not found", what)
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "23505":
			return cairn.Errorf(cairn.ECONFLICT, "%s: an object with the same %s already exists", what, constraintSubject(pgErr.ConstraintName))
		case "23503":
			return cairn.Errorf(cairn.EBADINPUT, "%s: a referenced object does not exist or is still in use (%s)", what, pgErr.ConstraintName)
		case "23514":
			return cairn.Errorf(cairn.EBADINPUT, "%s: a value is out of range (%s)", what, pgErr.ConstraintName)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// constraintSubject names what a unique constraint guards, for messages.
func constraintSubject(name string) string {
	switch name {
	case "users_email_key":
		return "email"
	case "service_subscriptions_live_key":
		return "tenant and tier (the tenant is already subscribed)"
	case "role_bindings_user_id_tenant_id_role_key":
		return "user, tenant and role"
	}
	return "key"
}
