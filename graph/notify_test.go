package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"portier/ent/outboxmessage"
	"portier/ent/useraccount"
	"portier/internal/outbox/smtpsink"
	"portier/internal/viewer"
)

// Notifications (issue 8, item 8): customer admins hear about admins added
// or removed, API keys created and the account deactivated; a person hears
// about gaining or losing access. Mail leaves through the outbox in the
// mutation's transaction, so a rolled-back mutation sends nothing.

// queued counts the outbox messages to addr (sent or not) whose subject
// contains subject ("" for all): what the transaction committed.
func (e *env) queued(addr, subject string) int {
	e.t.Helper()
	n, err := e.client.OutboxMessage.Query().
		Where(outboxmessage.Recipient(addr), outboxmessage.SubjectContains(subject)).
		Count(viewer.SystemContext(context.Background()))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// mailWith waits for the next mail to addr and checks that its subject
// contains subject and its body every one of body.
func (e *env) mailWith(addr, subject string, body ...string) smtpsink.Mail {
	e.t.Helper()
	m := e.mailTo(addr)
	if !strings.Contains(m.Subject, subject) {
		e.t.Fatalf("mail to %s: subject %q, want it to contain %q\n%s", addr, m.Subject, subject, m.Body)
	}
	for _, s := range body {
		if !strings.Contains(m.Body, s) {
			e.t.Fatalf("mail to %s (%s) lacks %q:\n%s", addr, m.Subject, s, m.Body)
		}
	}
	if strings.Contains(m.Body, "http") {
		e.t.Fatalf("notification to %s carries a link:\n%s", addr, m.Body)
	}
	return m
}

// mailAbout skips mails to addr until one whose subject contains subject,
// for tests of other flows whose person was notified before.
func (e *env) mailAbout(addr, subject string) smtpsink.Mail {
	e.t.Helper()
	for {
		if m := e.mailTo(addr); strings.Contains(m.Subject, subject) {
			return m
		}
	}
}

// mailsWith reads the next n mails to addr, in whatever order the worker
// delivered them, and checks each expected subject appears once.
func (e *env) mailsWith(addr string, subjects ...string) map[string]smtpsink.Mail {
	e.t.Helper()
	got := map[string]smtpsink.Mail{}
	for range subjects {
		m := e.mailTo(addr)
		for _, s := range subjects {
			if strings.Contains(m.Subject, s) {
				if _, dup := got[s]; dup {
					e.t.Fatalf("two mails to %s with %q", addr, s)
				}
				got[s] = m
			}
		}
	}
	for _, s := range subjects {
		if _, ok := got[s]; !ok {
			e.t.Fatalf("no mail to %s with subject %q (got %v)", addr, s, got)
		}
	}
	return got
}

// notifAdmin makes a user with a contact named name on acct, created by
// staff with CUSTOMER_ADMIN and PORTAL_ACCESS, reads the two mails that
// tells it, and returns its token.
func (e *env) notifAdmin(acct, name, email, acctName string) (string, string) {
	e.t.Helper()
	tok := e.createUser(email, "")
	contact := e.createContact(e.admin, acct, name, email, "CUSTOMER_ADMIN", "PORTAL_ACCESS")
	ms := e.mailsWith(email, "Neuer Kundenadministrator", "Sie haben jetzt Zugang")
	for _, m := range ms {
		if !strings.Contains(m.Subject+m.Body, acctName) || !strings.Contains(m.Body, "Portier-Support") {
			e.t.Fatalf("mail %q: %s", m.Subject, m.Body)
		}
	}
	if !strings.Contains(ms["Neuer Kundenadministrator"].Body, name+" ist jetzt Kundenadministrator") {
		e.t.Fatalf("admin mail: %s", ms["Neuer Kundenadministrator"].Body)
	}
	return tok, contact
}

func TestNotifCustomerAdminAddedAndRemovedAndAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("80001")
	const acctName = "Customer 80001 (80001)"
	anna, annaC := e.notifAdmin(acct, "Anna Admin", "anna@notify.test", acctName)

	// Bert gets portal access only: he is told, the admins are not.
	e.createUser("bert@notify.test", "")
	bertC := e.createContact(e.admin, acct, "Bert Berger", "bert@notify.test", "PORTAL_ACCESS")
	e.mailWith("bert@notify.test", "Sie haben jetzt Zugang zum Kundenkonto "+acctName, "Guten Tag Bert Berger", acctName)
	if n := e.queued("anna@notify.test", ""); n != 2 {
		t.Fatalf("anna has %d mails queued after bert got access, want 2", n)
	}
	// A technical contact without an address is told nothing, and nothing fails.
	e.createContact(anna, acct, "Ohne Adresse", "", "TECHNICAL_CONTACT")

	// Rolled back: the grant succeeds, the next field of the same mutation
	// fails, nothing is sent.
	r := e.do(anna, `mutation($c: ID!) {
  a: assignRole(input: {contactID: $c, role: CUSTOMER_ADMIN}) { role }
  b: removeRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { id }
}`, map[string]any{"c": bertC})
	if len(r.Errors) == 0 {
		t.Fatalf("mutation should fail: %s", r.Raw)
	}
	if a, b := e.queued("anna@notify.test", ""), e.queued("bert@notify.test", ""); a != 2 || b != 1 {
		t.Fatalf("rolled-back grant queued mail: anna %d (want 2), bert %d (want 1)", a, b)
	}

	// Anna makes Bert a customer admin: each admin (Anna once, though she
	// acted) and Bert are told who and by whom.
	e.ok(anna, setRoleDoc, map[string]any{"c": bertC, "r": "CUSTOMER_ADMIN"})
	for _, to := range []string{"anna@notify.test", "bert@notify.test"} {
		e.mailWith(to, "Neuer Kundenadministrator für "+acctName,
			"Bert Berger ist jetzt Kundenadministrator des Kundenkontos "+acctName, "Die Änderung hat anna@notify.test vorgenommen")
	}
	if n := e.queued("anna@notify.test", "Neuer Kundenadministrator"); n != 2 {
		t.Fatalf("anna has %d admin-added mails, want 2 (her own, bert's)", n)
	}

	// Bert's CUSTOMER_ADMIN ends as of a date, then now.
	e.ok(anna, endRoleDoc, map[string]any{"c": bertC, "r": "CUSTOMER_ADMIN", "d": "2099-12-31"})
	for _, to := range []string{"anna@notify.test", "bert@notify.test"} {
		e.mailWith(to, "Kundenadministrator für "+acctName+" entfernt", "Bert Berger ist nach dem 2099-12-31 nicht mehr")
	}
	e.ok(anna, endRoleDoc, map[string]any{"c": bertC, "r": "CUSTOMER_ADMIN"})
	for _, to := range []string{"anna@notify.test", "bert@notify.test"} {
		e.mailWith(to, "Kundenadministrator für "+acctName+" entfernt", "Bert Berger ist ab sofort nicht mehr", acctName)
	}

	// Bert loses portal access: he is told, the admins are not.
	before := e.queued("anna@notify.test", "")
	e.ok(anna, endRoleDoc, map[string]any{"c": bertC, "r": "PORTAL_ACCESS"})
	e.mailWith("bert@notify.test", "Ihr Zugang zum Kundenkonto "+acctName+" endet", "endet ab sofort", "anna@notify.test")
	if n := e.queued("anna@notify.test", ""); n != before {
		t.Fatalf("anna got %d mails about bert's access", n-before)
	}

	// A refused removal (Anna is the last admin) sends nothing.
	before = e.queued("anna@notify.test", "")
	e.wantCode(anna, endRoleDoc, map[string]any{"c": annaC, "r": "CUSTOMER_ADMIN"}, "CONFLICT")
	if n := e.queued("anna@notify.test", ""); n != before {
		t.Fatal("a refused removal queued mail")
	}
}

func TestNotifInvitationAcceptanceInEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("80002")
	const acctName = "Customer 80002 (80002)"
	anna, _ := e.notifAdmin(acct, "Anna Admin", "anna@notify2.test", acctName)

	_, tok := e.invite(anna, acct, "clara@notify2.test", "CUSTOMER_ADMIN", "PORTAL_ACCESS")
	clara := e.createUser("clara@notify2.test", "")
	if err := e.client.UserAccount.Update().SetLocale("en").
		Where(useraccount.Email("clara@notify2.test")).Exec(viewer.SystemContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	e.ok(clara, acceptDoc, map[string]any{"t": tok})
	// Clara (English) is told both; Anna (German) learns of the new admin,
	// not of Clara's access.
	ms := e.mailsWith("clara@notify2.test", "New customer admin for "+acctName, "You now have access to the customer account "+acctName)
	if b := ms["New customer admin for "+acctName].Body; !strings.Contains(b, "is now a customer admin of the customer account "+acctName) ||
		!strings.Contains(b, "The change was made by clara@notify2.test") {
		t.Fatalf("clara's admin mail: %s", b)
	}
	e.mailWith("anna@notify2.test", "Neuer Kundenadministrator für "+acctName, "ist jetzt Kundenadministrator", "Guten Tag Anna Admin")
	if n := e.queued("anna@notify2.test", ""); n != 3 {
		t.Fatalf("anna has %d mails, want 3", n)
	}
}

func TestNotifAPIKeyCreatedAndAccountDeactivated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.createAccount("80003")
	const acctName = "Customer 80003 (80003)"
	anna, _ := e.notifAdmin(acct, "Anna Admin", "anna@notify3.test", acctName)
	e.createUser("bert@notify3.test", "")
	e.createContact(e.admin, acct, "Bert Berger", "bert@notify3.test", "CUSTOMER_ADMIN", "PORTAL_ACCESS")
	e.mailsWith("bert@notify3.test", "Neuer Kundenadministrator", "Sie haben jetzt Zugang")
	e.mailWith("anna@notify3.test", "Neuer Kundenadministrator", "Bert Berger ist jetzt Kundenadministrator")
	// Tina only has portal access: she is no admin and hears nothing below.
	e.createUser("tina@notify3.test", "")
	e.createContact(e.admin, acct, "Tina Technik", "tina@notify3.test", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	e.mailWith("tina@notify3.test", "Sie haben jetzt Zugang")

	// Rolled back: the key is created, the next field fails.
	exp := e.clock.Now().Add(48 * time.Hour)
	r := e.do(anna, `mutation($a: ID!, $exp: Time!) {
  a: createApiKey(input: {customerAccountID: $a, name: "Rollback", permissions: [ACCOUNT_READ], expiresAt: $exp}) { secret }
  b: removeRole(input: {contactID: "ctc_01J00000000000000000000000", role: TECHNICAL_CONTACT}) { id }
}`, map[string]any{"a": acct, "exp": exp.Format(time.RFC3339Nano)})
	if len(r.Errors) == 0 {
		t.Fatalf("mutation should fail: %s", r.Raw)
	}
	if n := e.queued("anna@notify3.test", "API"); n != 0 {
		t.Fatalf("rolled-back key creation queued %d mails", n)
	}

	secret, _ := e.createKey(anna, acct, []string{"ACCOUNT_READ"}, exp)
	for _, to := range []string{"anna@notify3.test", "bert@notify3.test"} {
		m := e.mailWith(to, "Neuer API-Schlüssel für "+acctName, "„CI deploy“", "von anna@notify3.test",
			"gültig bis "+exp.Format("2006-01-02"))
		if strings.Contains(m.Raw, secret) || strings.Contains(m.Body, secret) {
			t.Fatalf("the key's secret is in the mail to %s", to)
		}
	}
	if e.queued("tina@notify3.test", "") != 1 {
		t.Fatal("tina, no admin, was told of the key")
	}

	// Deactivation (staff ADMIN): each customer admin is told; a failed
	// deactivation (already deactivated) sends nothing.
	e.ok(e.admin, deactivateDoc, map[string]any{"a": acct})
	for _, to := range []string{"anna@notify3.test", "bert@notify3.test"} {
		e.mailWith(to, "Das Kundenkonto "+acctName+" wurde deaktiviert", "Alle Daten bleiben erhalten")
	}
	e.wantCode(e.admin, deactivateDoc, map[string]any{"a": acct}, "BAD_USER_INPUT")
	if n := e.queued("anna@notify3.test", "deaktiviert"); n != 1 {
		t.Fatalf("anna has %d deactivation mails, want 1", n)
	}
	if e.queued("tina@notify3.test", "") != 1 {
		t.Fatal("tina, no admin, was told of the deactivation")
	}
}
