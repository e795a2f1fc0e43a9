package graph

import (
	"context"
	"log/slog"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"portier/ent"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/pulid"
	"portier/internal/staff"
	"portier/internal/viewer"
)

// staff returns the staff operations bound to the request's transaction.
func (r *Resolver) staff(ctx context.Context) *staff.Service {
	return &staff.Service{Client: r.Client, Tx: func() (*ent.Client, error) { return Tx(ctx) }, Now: r.Now, Identity: r.identity(ctx)}
}

// staffReadAudit writes a staff.read audit event, with the staff user as
// actor, for every customer account whose contents a staff viewer read in a
// request: the accounts the evaluator handed staff rights on, and the
// accounts of every object a field returned. At most one event per account
// and request; written when the operation is over, through the plain client
// (after a mutation's transaction has ended, so it never waits on that
// transaction's lock); with no secrets, only the root fields asked for.
type staffReadAudit struct {
	client *ent.Client
	log    *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = staffReadAudit{}

func (staffReadAudit) ExtensionName() string                   { return "StaffReadAudit" }
func (staffReadAudit) Validate(graphql.ExecutableSchema) error { return nil }

// staffEvaluator is the request's evaluator when the viewer acts as staff.
func staffEvaluator(ctx context.Context) *authz.Evaluator {
	v := viewer.FromContext(ctx)
	if !v.IsStaff() {
		return nil
	}
	ev, _ := v.Access.(*authz.Evaluator)
	return ev
}

// noteStaffReads notes the accounts of what a field returned, when the
// viewer acts as staff (called by fieldPipeline for every field).
func noteStaffReads(ctx context.Context, res any) {
	if res == nil || !mayCarryAccount(reflect.TypeOf(res)) {
		return
	}
	if ev := staffEvaluator(ctx); ev != nil {
		noteAccounts(ev, reflect.ValueOf(res), 0)
	}
}

// carriesAccount caches, per result type, whether noteAccounts could find
// an account in a value of it: most fields return scalars, and looking the
// viewer up for each of them would cost more than the field itself.
var carriesAccount sync.Map // reflect.Type → bool

func mayCarryAccount(t reflect.Type) bool {
	if v, ok := carriesAccount.Load(t); ok {
		return v.(bool)
	}
	may := typeMayCarryAccount(t, 0)
	carriesAccount.Store(t, may)
	return may
}

// typeMayCarryAccount mirrors noteAccounts on types: a pointer to
// ent.CustomerAccount or to a struct with a CustomerAccountID field, a
// slice of those (one level), or an interface (decided per value).
func typeMayCarryAccount(t reflect.Type, depth int) bool {
	switch t.Kind() {
	case reflect.Slice:
		return depth == 0 && typeMayCarryAccount(t.Elem(), depth+1)
	case reflect.Interface:
		return true
	case reflect.Pointer:
		if t == customerAccountType {
			return true
		}
		e := t.Elem()
		if e.Kind() != reflect.Struct {
			return false
		}
		_, ok := e.FieldByName("CustomerAccountID")
		return ok
	}
	return false
}

var customerAccountType = reflect.TypeOf((*ent.CustomerAccount)(nil))

var pulidType = reflect.TypeOf(pulid.ID(""))

// noteAccounts finds the customer account of an ent object (the account
// itself, or its CustomerAccountID), also inside slices.
func noteAccounts(ev *authz.Evaluator, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Slice:
		if depth > 0 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			noteAccounts(ev, v.Index(i), depth+1)
		}
	case reflect.Interface:
		if !v.IsNil() {
			noteAccounts(ev, v.Elem(), depth)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if a, ok := v.Interface().(*ent.CustomerAccount); ok {
			ev.NoteStaffRead(string(a.ID))
			return
		}
		e := v.Elem()
		if e.Kind() != reflect.Struct {
			return
		}
		idx := accountIDField(e.Type())
		if idx == nil {
			return
		}
		f, err := e.FieldByIndexErr(idx)
		switch {
		case err != nil: // through a nil embedded pointer
		case f.Type() == pulidType:
			ev.NoteStaffRead(f.String())
		case f.Kind() == reflect.Pointer && f.Type().Elem() == pulidType && !f.IsNil():
			ev.NoteStaffRead(f.Elem().String())
		}
	}
}

// accountIDFields caches, per struct type, the index of its
// CustomerAccountID field (nil: none): reflect's FieldByName searches the
// fields by name, for every object of a response.
var accountIDFields sync.Map // reflect.Type → []int

func accountIDField(t reflect.Type) []int {
	if idx, ok := accountIDFields.Load(t); ok {
		return idx.([]int)
	}
	var idx []int
	if f, ok := t.FieldByName("CustomerAccountID"); ok {
		idx = f.Index
	}
	accountIDFields.Store(t, idx)
	return idx
}

// InterceptResponse writes the noted reads once the operation is over.
func (s staffReadAudit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	ev := staffEvaluator(ctx)
	if ev == nil {
		return resp
	}
	reads := ev.TakeStaffReads()
	if len(reads) == 0 {
		return resp
	}
	changes := map[string]any{}
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil {
			var fields []string
			for _, sel := range op.SelectionSet {
				if f, ok := sel.(*ast.Field); ok {
					fields = append(fields, f.Name)
				}
			}
			changes["operation"] = string(op.Operation)
			changes["fields"] = fields
		}
	}
	entries := make([]audit.Entry, len(reads))
	for i, acct := range reads {
		entries[i] = audit.Entry{Action: "staff.read", AccountID: pulid.ID(acct),
			TargetType: "CustomerAccount", TargetID: acct, Changes: changes}
	}
	// One statement for all accounts of the request (a page of 50 accounts
	// is one insert, not 50).
	if err := audit.RecordAll(context.WithoutCancel(ctx), s.client, entries); err != nil && s.log != nil {
		s.log.WarnContext(ctx, "could not write staff.read audit events", "accounts", len(reads), "error", err.Error())
	}
	return resp
}
