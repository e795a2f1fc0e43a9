// Package apperr defines the coded errors Portier returns to clients
// (docs/api.md, 'Errors'). Every error a client sees carries extensions.code; anything
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
	// CodeUnavailable: the store (or another dependency) cannot be
	// reached; the request may be retried after RetryAfter seconds. HTTP 503.
	CodeUnavailable = "UNAVAILABLE"
)

// ReasonOutcomeUnknown marks an UNAVAILABLE error after which a change may
// or may not have been saved (the connection failed during the commit).
const ReasonOutcomeUnknown = "OUTCOME_UNKNOWN"

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
	// Status is the HTTP status of an error that ends the request before
	// any GraphQL execution (a malformed body, a wrong method); 0 lets the
	// error presenter decide from the code.
	Status int
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
	if e.Code == CodeRateLimited || (e.Code == CodeUnavailable && e.RetryAfter > 0) {
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

// Unavailable is for a store that cannot be reached: retry later.
func Unavailable(retryAfterSeconds int) *Error {
	return &Error{Code: CodeUnavailable, RetryAfter: retryAfterSeconds,
		Message: "the service is temporarily unavailable; try again in " + strconv.Itoa(retryAfterSeconds) + " seconds"}
}

// Transport is an error that refuses the HTTP request itself, with its
// status (400 malformed body, 405 method, 413 too large, 415 media type).
func Transport(status int, reason, msg string) *Error {
	return &Error{Code: CodeBadUserInput, Status: status, Reason: reason, Message: msg}
}

// ReasonContactDeleted marks a change refused because the contact it names
// was deleted (deleteContact): a deleted contact stays in history only.
const ReasonContactDeleted = "CONTACT_DELETED"

// ContactDeleted is the one answer to any change of a deleted contact:
// BAD_USER_INPUT on field with reason CONTACT_DELETED.
func ContactDeleted(field string) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Reason: ReasonContactDeleted,
		Message: "the contact is deleted; it stays in history but cannot be changed"}
}
