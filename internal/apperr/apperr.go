// Package apperr defines the coded errors Portier returns to clients
// (DESIGN §4). Every error a client sees carries extensions.code; anything
// that is not an *Error becomes INTERNAL in the error presenter.
package apperr

import (
	"fmt"
	"strconv"
)

// Codes.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL"
)

// Error is a client-facing error.
type Error struct {
	Code    string
	Message string
	// Field is the offending input field, as a path ("input.email").
	Field string
	// RetryAfter is set for RATE_LIMITED, in seconds.
	RetryAfter int
	// Reason is a machine-readable detail, e.g. PASSWORD_CHANGE_REQUIRED.
	Reason string
}

func (e *Error) Error() string { return e.Message }

// Extensions returns the GraphQL error extensions.
func (e *Error) Extensions() map[string]any {
	ext := map[string]any{"code": e.Code}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	if e.Reason != "" {
		ext["reason"] = e.Reason
	}
	if e.Code == CodeRateLimited {
		ext["retryAfterSeconds"] = e.RetryAfter
	}
	return ext
}

// Unauthenticated is for missing or invalid credentials.
func Unauthenticated(msg string) *Error { return &Error{Code: CodeUnauthenticated, Message: msg} }

// Forbidden is for a visible object the caller may not act on.
func Forbidden(msg string) *Error { return &Error{Code: CodeForbidden, Message: msg} }

// NotFound is for objects that do not exist or the caller may not see.
func NotFound() *Error { return &Error{Code: CodeNotFound, Message: "not found"} }

// BadInput names the offending field.
func BadInput(field, format string, a ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Conflict is for uniqueness and state conflicts.
func Conflict(field, format string, a ...any) *Error {
	return &Error{Code: CodeConflict, Field: field, Message: fmt.Sprintf(format, a...)}
}

// RateLimited tells the client when to try again.
func RateLimited(retryAfterSeconds int) *Error {
	return &Error{Code: CodeRateLimited, RetryAfter: retryAfterSeconds,
		Message: "too many attempts; try again in " + strconv.Itoa(retryAfterSeconds) + " seconds"}
}

// ForbiddenReason is FORBIDDEN with a machine-readable reason.
func ForbiddenReason(reason, msg string) *Error {
	return &Error{Code: CodeForbidden, Reason: reason, Message: msg}
}
