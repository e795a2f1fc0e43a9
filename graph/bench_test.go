package graph_test

import (
	"fmt"
	"testing"
)

// BenchmarkNestedPage measures one request for a page of 50 customer
// accounts with 3 contacts each and their roles, through the HTTP handler
// (authentication, directives, privacy filters, eager loading).
func BenchmarkNestedPage(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < 50; i++ {
		acct := e.createAccount(fmt.Sprintf("B%04d", i))
		for j := 0; j < 3; j++ {
			e.createContact(e.admin, acct, fmt.Sprintf("P%d", j), fmt.Sprintf("p%d-%d@a.example", j, i), "PORTAL_ACCESS")
		}
	}
	doc := `{ customerAccounts(first: 50) { totalCount edges { node { number
		contacts(first: 20) { edges { node { name roleAssignments { role } } } } } } } }`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.ok(e.admin, doc, nil)
	}
}
