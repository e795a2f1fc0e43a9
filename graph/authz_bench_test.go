package graph_test

import (
	"context"
	"fmt"
	"testing"

	"portier/ent/useraccount"
	"portier/internal/authz"
	"portier/internal/viewer"
)

// BenchmarkEvaluatorPermissions measures the one place that computes
// effective permissions, as each request does it: a fresh evaluator (a
// request's cache) loads a person's grants on 5 accounts — roles, a rights
// group, an agency delegation — and answers for one account. Allocations
// are reported; .ci/run runs it once so it cannot rot.
func BenchmarkEvaluatorPermissions(b *testing.B) {
	e := newEnv(b)
	var accounts []string
	for i := 0; i < 5; i++ {
		acct := e.createAccount(fmt.Sprintf("BE%03d", i))
		accounts = append(accounts, acct)
		e.createContact(e.admin, acct, "Bench", "bench@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	}
	tok := e.createUser("bench@a.example", "")
	e.ok(tok, `mutation { linkContacts }`, nil)
	group := e.createGroup(tok, accounts[0], "Billing", "INVOICES_READ", "ORDERS_CREATE")
	e.ok(tok, addMemberDoc, map[string]any{"g": group, "c": e.contactOf(tok, accounts[0])})
	ctx := viewer.SystemContext(context.Background())
	u, err := e.client.UserAccount.Query().Where(useraccount.Email("bench@a.example")).Only(ctx)
	if err != nil {
		b.Fatal(err)
	}
	v := &viewer.Viewer{Kind: viewer.User, UserID: string(u.ID), EmailVerified: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := authz.New(e.client, v, e.clock.Now())
		ps, err := ev.Permissions(context.Background(), accounts[i%len(accounts)])
		if err != nil || len(ps) == 0 {
			b.Fatalf("permissions: %v %v", ps, err)
		}
	}
}

// BenchmarkDirectivePath measures a small request through the handler that
// exercises authentication and the @hasPermission directive: a customer
// admin asking for its permissions on one account.
func BenchmarkDirectivePath(b *testing.B) {
	e := newEnv(b)
	acct := e.createAccount("BD001")
	tok, _ := e.customerUser(acct, "directive@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	vars := map[string]any{"a": acct}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.ok(tok, myPermsDoc, vars)
	}
}
