package graph

import (
	"context"
	"sort"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"portier/internal/apperr"
)

// multiLineArguments are the input fields whose text may span lines
// (descriptions, notes); everywhere else a line break is refused too, so
// that no name, address or login can smuggle a line into a mail header, a
// log line or a CSV export.
var multiLineArguments = map[string]bool{
	"description": true, "note": true, "notes": true, "comment": true, "message": true, "reason": true,
}

// refuseControlCharacters is the one place that keeps control characters
// out of every string argument of every field, literal or variable: NUL
// (which PostgreSQL refuses and SQLite stores), the other C0 and C1
// controls, DEL, and the bidirectional overrides that make text display as
// something else. It runs before the field's directives and resolver, and
// names the offending argument path in BAD_USER_INPUT.
func refuseControlCharacters(ctx context.Context, fc *graphql.FieldContext) error {
	if fc.Field.Field == nil || len(fc.Field.Arguments) == 0 {
		return nil
	}
	args := fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
	if path, ok := findControlCharacter(args, "", false); ok {
		return apperr.BadInput(path, "%s contains a control character", path)
	}
	return nil
}

// findControlCharacter walks decoded argument values and returns the path
// of the first string holding a refused character.
func findControlCharacter(v any, path string, multiLine bool) (string, bool) {
	switch x := v.(type) {
	case string:
		if hasControlCharacter(x, multiLine) {
			return path, true
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the same input always names the same field
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if hasControlCharacter(k, false) {
				return p, true
			}
			if f, ok := findControlCharacter(x[k], p, multiLineArguments[k]); ok {
				return f, true
			}
		}
	case []any:
		for i, e := range x {
			if f, ok := findControlCharacter(e, path+"."+strconv.Itoa(i), multiLine); ok {
				return f, true
			}
		}
	}
	return "", false
}

// hasControlCharacter reports a character no input text may hold. Tab,
// line feed and carriage return are allowed only in multi-line fields.
func hasControlCharacter(s string, multiLine bool) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			if !multiLine {
				return true
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return true
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
			return true
		case r == 0xfeff || r == 0xfffe || r == 0xffff:
			return true
		}
	}
	return false
}
