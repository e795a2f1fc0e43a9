package graph

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"portier/ent"
	"portier/internal/apperr"
	"portier/internal/database"
)

// txExtension runs each mutation operation in one database transaction:
// opened when a resolver first asks for it, committed when the operation
// ends without errors, rolled back otherwise. Opening lazily lets a
// mutation that fails before writing anything (a wrong password) record its
// audit event outside the transaction without waiting on its lock.
type txExtension struct {
	client *ent.Client
	log    *slog.Logger
	now    func() time.Time
}

type txKey struct{}

type lazyTx struct {
	mu     sync.Mutex
	ctx    context.Context
	client *ent.Client
	tx     *ent.Tx
	err    error
	after  []func() // AfterCommit's, run after a successful commit
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = txExtension{}

func (txExtension) ExtensionName() string                   { return "Transaction" }
func (txExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext serialises resolvers of a mutation, since they
// share one transaction.
func (txExtension) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	prev := oc.ResolverMiddleware
	var mu sync.Mutex
	oc.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Object == "Mutation" && plainWriters[fc.Field.Name] {
			if lt, ok := ctx.Value(txKey{}).(*lazyTx); ok && lt.isOpen() {
				return nil, &apperr.Error{Code: apperr.CodeBadUserInput, Reason: "SEPARATE_REQUEST_REQUIRED", Field: fc.Field.Alias,
					Message: fc.Field.Name + " must not follow a change in the same request; send it in a request of its own"}
			}
		}
		return prev(ctx, next)
	}
	return nil
}

// plainWriters are the mutations that record attempts (rate limits, failed
// logins, code tries, refresh-token reuse) outside the transaction, because
// those records must survive the mutation's failure. Such a write cannot
// happen while an earlier field of the same request holds the transaction
// (SQLite allows one writer; PostgreSQL would wait on the row lock), so
// they are refused after a field that opened it.
var plainWriters = map[string]bool{
	"login": true, "verifySecondFactor": true, "sendLoginCode": true, "refreshSession": true,
	"signUp": true, "verifyEmail": true, "resendVerificationEmail": true, "requestEmailChange": true,
	"changePassword": true, "requestPasswordReset": true, "resetPassword": true,
	"requestSecondFactorCode": true, "enableTwoFactor": true, "confirmSecondFactor": true,
	"acceptStaffInvitation": true, "acceptInvitation": true, "deleteMyAccount": true,
	"setPhoneNumber": true, "verifyPhoneNumber": true, "removePhoneNumber": true,
	"activateLogin":    true,
	"verifySupportPin": true, "authorizeSupportRequest": true,
	"requestReferenceEmailChange": true, "confirmReferenceEmail": true, "removeReferenceEmail": true,
}

func (t txExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx) // an error response before any operation existed
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Mutation {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	idem, err := idempotency(ctx, oc)
	if err != nil {
		return &graphql.Response{Errors: gqlerror.List{clientError(ctx, t.log, err)}}
	}
	if idem != nil {
		// A retry of a request that was committed gets its first answer.
		if resp, err := idem.replay(ctx, t.client, t.now()); err != nil || resp != nil {
			if err != nil {
				return &graphql.Response{Errors: gqlerror.List{clientError(ctx, t.log, err)}}
			}
			return resp
		}
	}
	lt := &lazyTx{ctx: ctx, client: t.client}
	ctx = context.WithValue(ctx, txKey{}, lt)
	defer func() {
		if r := recover(); r != nil {
			lt.rollback()
			panic(r)
		}
	}()
	resp := next(ctx)
	if len(resp.Errors) > 0 {
		lt.rollback()
		return &graphql.Response{Errors: resp.Errors, Extensions: resp.Extensions}
	}
	if idem != nil {
		err := func() error {
			c, err := lt.get()
			if err != nil {
				return err
			}
			return idem.remember(ctx, c, resp, t.now())
		}()
		if err != nil {
			lt.rollback()
			if ent.IsConstraintError(err) {
				// The same request ran concurrently and committed first:
				// its answer is the answer (this one is rolled back).
				if first, rerr := idem.replay(ctx, t.client, t.now()); rerr == nil && first != nil {
					return first
				} else if rerr != nil {
					err = rerr
				}
			}
			return &graphql.Response{Errors: gqlerror.List{clientError(ctx, t.log, err)}}
		}
	}
	if err := lt.commit(); err != nil {
		return &graphql.Response{Errors: gqlerror.List{clientError(ctx, t.log, commitError(ctx, t.log, err))}}
	}
	return resp
}

func (l *lazyTx) get() (*ent.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tx == nil && l.err == nil {
		l.tx, l.err = l.client.Tx(l.ctx)
	}
	if l.err != nil {
		return nil, l.err
	}
	return l.tx.Client(), nil
}

func (l *lazyTx) isOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tx != nil
}

func (l *lazyTx) rollback() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.after = nil
	if l.tx != nil {
		_ = l.tx.Rollback()
		l.tx = nil
	}
}

func (l *lazyTx) commit() error {
	l.mu.Lock()
	after := l.after
	l.after = nil
	var err error
	if l.tx != nil {
		err = l.tx.Commit()
		l.tx = nil
	}
	l.mu.Unlock()
	if err == nil {
		for _, f := range after {
			f()
		}
	}
	return err
}

// AfterCommit runs f once the request's transaction has committed, and
// never when it is rolled back (a failed field, a failed commit). Outside
// a mutation, where nothing is written in a transaction, f runs at once.
func AfterCommit(ctx context.Context, f func()) {
	lt, ok := ctx.Value(txKey{}).(*lazyTx)
	if !ok {
		f()
		return
	}
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.after = append(lt.after, f)
}

// commitError is what a failed commit means to the client. A connection
// lost during the commit leaves the outcome unknown — the change may have
// been saved — and the client must be told so, not "internal error": it
// may retry safely with the same Idempotency-Key.
func commitError(ctx context.Context, log *slog.Logger, err error) error {
	if database.IsUnavailable(err) {
		log.ErrorContext(ctx, "commit failed, outcome unknown", "request_id", requestID(ctx), "error", err.Error())
		return &apperr.Error{Code: apperr.CodeUnavailable, Reason: apperr.ReasonOutcomeUnknown, RetryAfter: retryAfterUnavailable,
			Message: "the connection to the database failed while saving: the change may or may not have been saved; " +
				"retry with the same Idempotency-Key header, or check before repeating it"}
	}
	return err
}

// Tx returns the client of the mutation's transaction. Every write of a
// mutation goes through it.
func Tx(ctx context.Context) (*ent.Client, error) {
	lt, ok := ctx.Value(txKey{}).(*lazyTx)
	if !ok {
		return nil, apperr.Forbidden("writes are only allowed in mutations")
	}
	return lt.get()
}
