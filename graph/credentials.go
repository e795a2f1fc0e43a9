package graph

import (
	"context"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/internal/apperr"
)

// credentialFields are the root mutation fields that check a password, a
// code or a token, hash a password, or send a code or link. Each costs an
// argon2 hash, a guess against a limit or a message, so a request may carry at most one of them:
// otherwise one HTTP request with hundreds of aliased logins would run
// hundreds of hashes and use up a victim's login budget in one go.
var credentialFields = map[string]bool{
	"login":                   true,
	"verifySecondFactor":      true,
	"sendLoginCode":           true,
	"refreshSession":          true,
	"signUp":                  true,
	"verifyEmail":             true,
	"resendVerificationEmail": true,
	"requestEmailChange":      true,
	"changePassword":          true,
	"requestPasswordReset":    true,
	"resetPassword":           true,
	"requestSecondFactorCode": true,
	"enableTwoFactor":         true,
	"confirmSecondFactor":     true,
	"deleteMyAccount":         true,
	"setPhoneNumber":          true,
	"verifyPhoneNumber":       true,
	"removePhoneNumber":       true,
	// reference e-mail addresses (issue 9): a password try and a link
	"requestReferenceEmailChange": true,
	"confirmReferenceEmail":       true,
	"removeReferenceEmail":        true,
}

// oneCredentialField refuses an operation with more than one root field
// that checks a credential. Root fields are collected through inline
// fragments and fragment spreads; each fragment is looked at once, however
// often it is spread (spreading it again adds no new response key), so the
// work is linear in the document. Fields that merge (the same response key)
// run once and count once.
type oneCredentialField struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = oneCredentialField{}

func (oneCredentialField) ExtensionName() string                   { return "OneCredentialField" }
func (oneCredentialField) Validate(graphql.ExecutableSchema) error { return nil }

func (oneCredentialField) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	keys := map[string]bool{}
	seen := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if credentialFields[s.Name] {
					key := s.Alias
					if key == "" {
						key = s.Name
					}
					keys[key] = true
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				if f := oc.Doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(oc.Operation.SelectionSet)
	if len(keys) <= 1 {
		return nil
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	e := gqlerror.Errorf("a request may contain at most one field that checks a password, code or token "+
		"(login, signUp, verifyEmail, refreshSession, …); this one has %d (%s): send them one by one",
		len(keys), strings.Join(names, ", "))
	e.Extensions = map[string]any{"code": apperr.CodeBadUserInput, "field": names[0]}
	return e
}
