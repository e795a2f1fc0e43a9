package graph_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"portier/ent"
	"portier/internal/domain"
	"portier/internal/password"
	"portier/internal/viewer"
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

// seedNested writes accounts × contacts, each contact linked to its own
// verified user and holding the three roles, straight through ent (one
// shared password hash: hashing per user would dominate the setup).
func seedNested(b *testing.B, e *env, accounts, contacts int) {
	b.Helper()
	ctx := viewer.SystemContext(context.Background())
	h, err := password.Hash(ctx, adminPassword)
	if err != nil {
		b.Fatal(err)
	}
	roles := []domain.Role{domain.RolePortalAccess, domain.RoleTechnicalContact, domain.RoleCustomerAdmin}
	for i := 0; i < accounts; i++ {
		acct, err := e.client.CustomerAccount.Create().SetNumber(fmt.Sprintf("N%05d", i)).SetName(fmt.Sprintf("Customer %d", i)).Save(ctx)
		if err != nil {
			b.Fatal(err)
		}
		users := make([]*ent.UserAccountCreate, contacts)
		for j := range users {
			email := fmt.Sprintf("u%d-%d@n.example", i, j)
			users[j] = e.client.UserAccount.Create().SetEmail(email).SetUsername(fmt.Sprintf("u%d_%d", i, j)).
				SetName(email).SetPasswordHash(h).SetEmailVerifiedAt(e.clock.Now())
		}
		us, err := e.client.UserAccount.CreateBulk(users...).Save(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cs := make([]*ent.ContactCreate, contacts)
		for j := range cs {
			cs[j] = e.client.Contact.Create().SetCustomerAccountID(acct.ID).SetName(fmt.Sprintf("Person %d", j)).
				SetEmail(us[j].Email).SetUserID(us[j].ID)
		}
		cons, err := e.client.Contact.CreateBulk(cs...).Save(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var ras []*ent.RoleAssignmentCreate
		for _, c := range cons {
			for _, r := range roles {
				ras = append(ras, e.client.RoleAssignment.Create().SetCustomerAccountID(acct.ID).SetContactID(c.ID).SetRole(r).SetValidFrom(e.clock.Now()))
			}
		}
		if err := e.client.RoleAssignment.CreateBulk(ras...).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// nestedPageDoc is a staff page of accounts → contacts → roles and users,
// the read path issue 10 measures.
const nestedPageDoc = `query($n: Int!) { customerAccounts(first: $n) { edges { node { id number name status timeZone
	contacts(first: 10) { edges { node { id name email
		user { id username }
		roleAssignments { id role validFrom validUntil } } } } } } } }`

// BenchmarkNestedStaffPage is one staff page of 5, 20 or 50 accounts with
// 10 contacts each (linked users, 3 roles) through the HTTP handler.
func BenchmarkNestedStaffPage(b *testing.B) {
	e := newEnv(b)
	seedNested(b, e, 50, 10)
	for _, n := range []int{5, 20, 50} {
		b.Run(fmt.Sprintf("page=%d", n), func(b *testing.B) {
			vars := map[string]any{"n": n}
			d := e.ok(e.admin, nestedPageDoc, vars)
			if got := len(dig(d, "customerAccounts", "edges").([]any)); got != n {
				b.Fatalf("page has %d accounts, want %d", got, n)
			}
			objects := n + n*10*(1+1+3) // accounts, contacts, users, role assignments
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				e.discard(e.request(e.admin, nestedPageDoc, vars))
			}
			perOp := (processCPU() - cpu) / time.Duration(b.N)
			b.ReportMetric(float64(perOp.Microseconds())/1000, "cpu-ms/op")
			b.ReportMetric(float64(perOp.Nanoseconds())/1000/float64(objects), "cpu-µs/object")
		})
	}
}

// discard sends req and reads the response without decoding it, so that a
// benchmark measures the server and not the test's JSON decoder; it fails
// on any status but 200.
func (e *env) discard(req *http.Request) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != http.StatusOK {
		e.t.Fatalf("status %d, read error %v", res.StatusCode, err)
	}
}

// processCPU is the CPU time (user and system) this process has used: the
// server's, with the test's client, which only sends bytes and discards the
// answer. PostgreSQL's CPU is not in it; SQLite's is.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
