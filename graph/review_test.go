package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"portier/ent/customeraccount"
	"portier/ent/outboxmessage"
	"portier/ent/useraccount"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

func TestMustChangePasswordGrantsNothingThroughNestedFields(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("91001")
	tok, _ := e.customerUser(a, "forced@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createContact(e.admin, a, "Other", "other@a.example")
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.UserAccount.Update().Where(useraccount.Email("forced@a.example")).SetMustChangePassword(true).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	d := e.ok(tok, `{ me { memberships { permissions customerAccount { contacts { totalCount } } } } }`, nil)
	if n := len(dig(d, "me", "memberships").([]any)); n != 0 {
		t.Fatalf("memberships while a password change is pending: %v", d)
	}
}

func TestDeactivatedAccountBlocksItsPeople(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("91002")
	tok, contact := e.customerUser(a, "boss@d.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	if !has(permsOn(e, tok, "91002"), "CONTACTS_MANAGE") {
		t.Fatal("no rights before deactivation")
	}
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.CustomerAccount.UpdateOneID(pulid.ID(a)).SetStatus(customeraccount.StatusDEACTIVATED).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	d := e.ok(tok, `{ me { memberships { customerAccount { number } } } customerAccounts { totalCount } }`, nil)
	if len(dig(d, "me", "memberships").([]any)) != 0 || dig(d, "customerAccounts", "totalCount").(float64) != 0 {
		t.Fatalf("deactivated account still visible: %v", d)
	}
	e.wantCode(tok, `mutation($c: ID!) { assignRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { role } }`, map[string]any{"c": contact}, "NOT_FOUND")
	// Staff still see it; reactivating restores access (data kept).
	e.ok(e.admin, `{ customerAccount(number: "91002") { status } }`, nil)
	if err := e.client.CustomerAccount.UpdateOneID(pulid.ID(a)).SetStatus(customeraccount.StatusACTIVE).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if !has(permsOn(e, tok, "91002"), "CONTACTS_MANAGE") {
		t.Fatal("rights not back after reactivation")
	}
}

func TestStaffAreNeverLinkedToContacts(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("91003")
	sales := e.createUser("sam@provider.example", domain.StaffSales)
	ctx := viewer.SystemContext(context.Background())
	sam, err := e.client.UserAccount.Query().Where(useraccount.Email("sam@provider.example")).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.CustomerAccount.UpdateOneID(pulid.ID(a)).SetSupportAccessConsent(true).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.client.AccountManager.Create().SetCustomerAccountID(pulid.ID(a)).SetUserID(sam.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	d := e.ok(sales, createContactDoc, map[string]any{"a": a, "name": "Sam", "email": "sam@provider.example", "roles": []string{"PORTAL_ACCESS", "CUSTOMER_ADMIN"}})
	if dig(d, "createContact", "userID") != nil {
		t.Fatalf("staff user linked to a contact: %v", d)
	}
	if _, err := e.client.AccountManager.Delete().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	d = e.ok(sales, `{ customerAccounts { totalCount } }`, nil)
	if dig(d, "customerAccounts", "totalCount").(float64) != 0 {
		t.Fatalf("access outlived the assignment: %v", d)
	}
	// SALES cannot list users either.
	e.wantCode(sales, `{ userAccounts { totalCount } }`, nil, "FORBIDDEN")
}

func TestLoginDetailsOfUsersArePrivate(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("91004")
	adminA, _ := e.customerUser(a, "admin@p.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	workerTok, _ := e.customerUser(a, "worker@p.example", "PORTAL_ACCESS")
	e.ok(workerTok, meDoc, nil) // a login, so lastLoginAt is set
	doc := `query($n: String!) { customerAccount(number: $n) { contacts(orderBy: [{field: EMAIL}]) { edges { node { email user { email phone lastLoginAt staffRole secondFactorMethods } } } } } }`
	d := e.ok(adminA, doc, map[string]any{"n": "91004"})
	for _, edge := range dig(d, "customerAccount", "contacts", "edges").([]any) {
		u := dig(edge, "node", "user").(map[string]any)
		if u["email"] == "worker@p.example" && (u["lastLoginAt"] != nil || u["secondFactorMethods"] != nil) {
			t.Fatalf("customer admin sees another user's login details: %v", u)
		}
		if u["email"] == "admin@p.example" && u["lastLoginAt"] == nil {
			t.Fatalf("a user does not see its own login details: %v", u)
		}
	}
	e.wantCode(adminA, `query($n: String!) { customerAccount(number: $n) { contacts { edges { node { user { mustChangePassword } } } } } }`,
		map[string]any{"n": "91004"}, "FORBIDDEN")
	d = e.ok(e.admin, doc, map[string]any{"n": "91004"})
	if dig(d, "customerAccount", "contacts", "edges", 1, "node", "user", "lastLoginAt") == nil {
		t.Fatalf("staff cannot see login details: %v", d)
	}
}

// Mutations that record attempts outside the transaction must come alone:
// after a change in the same request they are refused at once (no waiting
// on the transaction's lock), and the whole request is undone.
func TestSecurityMutationsAfterAChangeAreRefused(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("91005")
	start := time.Now()
	r := e.do(e.admin, `mutation($a: ID!) {
		c: createContact(input: {customerAccountID: $a, name: "X", email: "x@solo.example"}) { id }
		l: login(input: {login: "admin", password: "wrong password here"}) { accessToken } }`, map[string]any{"a": a})
	if time.Since(start) > 5*time.Second {
		t.Fatalf("the request waited on its own transaction: %s", time.Since(start))
	}
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "SEPARATE_REQUEST_REQUIRED" {
		t.Fatalf("%s", r.Raw)
	}
	d := e.ok(e.admin, `{ customerAccount(number: "91005") { contacts { totalCount } } }`, nil)
	if dig(d, "customerAccount", "contacts", "totalCount").(float64) != 0 {
		t.Fatalf("half-written request: %v", d)
	}
}

func TestPasswordChangeEndsPendingLinksAndNeedsANewPassword(t *testing.T) {
	e := newEnv(t)
	pw := "Holunder-Blüte-Juni-5"
	access := e.signUpVerified("links@example.org", "links", pw)
	e.signUpVerified("taken@example.org", "takenuser", "Kirschbaum-Blüte-Mai-6")
	change := `mutation($n: String!, $p: String!) { requestEmailChange(input: {newEmail: $n, password: $p}) }`
	// An address in use gets the same answer as a free one, and nothing is sent.
	e.ok(access, change, map[string]any{"n": "taken@example.org", "p": pw})
	ctx := viewer.SystemContext(context.Background())
	if n, _ := e.client.OutboxMessage.Query().Where(outboxmessage.Recipient("links@example.org")).Count(ctx); n != 1 {
		t.Fatalf("messages to the old address: %d (want only the sign-up link)", n)
	}
	e.ok(access, change, map[string]any{"n": "mine@example.org", "p": pw})
	tok := e.linkTokenIn(e.mailTo("mine@example.org"))
	e.mailTo("links@example.org") // notice
	pwDoc := `mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) }`
	e.wantCode(access, pwDoc, map[string]any{"c": pw, "n": pw}, "BAD_USER_INPUT")
	e.ok(access, pwDoc, map[string]any{"c": pw, "n": secrets.add("Holunder-Blüte-Juli-7")})
	// The e-mail change link sent before the new password is dead.
	e.wantCode("", verifyEmailDoc, map[string]any{"t": tok}, "BAD_USER_INPUT")
	// Delivered messages do not keep their links.
	e.mailTo("links@example.org") // password changed
	time.Sleep(100 * time.Millisecond)
	msgs, err := e.client.OutboxMessage.Query().Where(outboxmessage.StatusEQ(outboxmessage.StatusSENT)).All(ctx)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("sent messages: %d, %v", len(msgs), err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Body, "token=") || fiveDigit.MatchString(m.Body) {
			t.Fatalf("a delivered message keeps its secret: %q", m.Body)
		}
	}
}
