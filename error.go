// Package cairn holds Cairn's domain: the types of the control-plane graph, the
// error codes every client sees, and the principal a request acts as. It imports
// nothing else of Cairn's; every other package implements against it.
package cairn

import (
	"errors"
	"fmt"
)

// Error codes. Every error a client sees carries one of them as
// extensions.code (see docs/DESIGN.md).
const (
	EUNAUTHENTICATED          = "UNAUTHENTICATED"
	EFORBIDDEN                = "FORBIDDEN"
	ENOTFOUND                 = "NOT_FOUND"
	EBADINPUT                 = "BAD_USER_INPUT"
	ECONFLICT                 = "CONFLICT"
	EFAILEDPRECONDITION       = "FAILED_PRECONDITION"
	ERESOURCEEXHAUSTED        = "RESOURCE_EXHAUSTED"
	EPERSISTEDQUERYNOTFOUND   = "PERSISTED_QUERY_NOT_FOUND"
	EPERSISTEDQUERYNOTALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
	EINTERNAL                 = "INTERNAL"
)

// Error is an error meant for the client: a code from the list above, a message
// that says what was wrong and what to do, and, for input errors, the input
// field at fault (as a dotted path, e.g. "input.name").
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns a BAD_USER_INPUT error that names the input field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EBADINPUT, Message: fmt.Sprintf(format, args...), Field: field}
}

// NotFound returns the NOT_FOUND error for an object of the kind with the id.
// Objects outside the caller's scope answer exactly the same.
func NotFound(kind, id string) *Error {
	return Errorf(ENOTFOUND, "%s %q not found", kind, id)
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil and
// INTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and a
// generic message for any other error, so that internal details never reach a
// client.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the input field named by the first *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
