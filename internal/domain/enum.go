// Package domain holds Portier's fixed vocabularies: roles, staff roles,
// support authorizations, resource kinds and the permission catalogue. It has
// no dependencies so that ent schemas, GraphQL bindings and the authorization
// evaluator can all share one definition.
package domain

import (
	"fmt"
	"io"
	"slices"

	"portier/internal/jsonstr"
)

// enumUnmarshal parses a GraphQL enum value into one of the allowed values.
func enumUnmarshal[T ~string](v any, allowed []T, what string) (T, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", what)
	}
	if !slices.Contains(allowed, T(s)) {
		return "", fmt.Errorf("%q is not a valid %s", s, what)
	}
	return T(s), nil
}

func enumMarshal[T ~string](w io.Writer, v T) { jsonstr.Write(w, string(v)) }

func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
