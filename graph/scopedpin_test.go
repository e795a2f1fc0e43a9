package graph_test

import "testing"

// A scoped login (a mailbox login here) reads its own support PIN in the
// portal, and the desk learns from it exactly which login calls; rotating
// it ends the old PIN at once (issue 9 item 4: "every login (user and
// scoped) has a current PIN").
func TestScopedLoginReadsItsSupportPin(t *testing.T) {
	e := newEnv(t)
	secrets.add(scopedPw)
	a := e.createAccount("89201")
	admin, _ := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.resource(e.admin, a, "MAIL_VHOST", "a.example")
	box := e.resource(admin, a, "MAILBOX", "info@a.example")
	id := e.scopedLogin(admin, box, "info@a.example")
	tok := e.loginScoped("info@a.example", scopedPw)
	support := e.createUser("support@provider.example", "SUPPORT")

	pin, _ := e.pin(tok)
	got := e.verifyPin(support, "89201", pin)
	if got["match"] != true || dig(got, "caller", "loginKind") != "SCOPED_LOGIN" ||
		dig(got, "caller", "scopedLogin", "id") != id || dig(got, "caller", "scopedLogin", "loginName") != "info@a.example" {
		t.Fatalf("desk answer for the mailbox login's PIN: %v", got)
	}
	// The customer admin's own PIN is another one, and names the admin.
	if adminPin, _ := e.pin(admin); adminPin == pin {
		t.Fatal("the admin and the mailbox login share a PIN")
	}
	e.ok(tok, `mutation { rotateSupportPin { pin } }`, nil)
	if got := e.verifyPin(support, "89201", pin); got["match"] != false {
		t.Fatalf("the rotated-away PIN still matches: %v", got)
	}
	fresh, _ := e.pin(tok)
	if got := e.verifyPin(support, "89201", fresh); got["match"] != true {
		t.Fatalf("the new PIN does not match: %v", got)
	}
}
