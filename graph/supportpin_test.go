package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portier/ent/auditevent"
	"portier/ent/supportpinstate"
	"portier/ent/useraccount"
	"portier/graph"
	"portier/graph/model"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/supportpin"
	"portier/internal/viewer"
)

// Support PINs and the support desk (issue 9 items 4–6; docs/authorization.md, 'Support PIN'): a caller reads its PIN in the portal, the desk verifies it by
// customer number and learns who calls and what it may ask for.

const (
	myPinDoc     = `{ mySupportPin { pin validUntil } }`
	rotatePinDoc = `mutation { rotateSupportPin { pin validUntil } }`
	verifyPinDoc = `mutation($n: String!, $p: String!) { verifySupportPin(input: {customerNumber: $n, pin: $p}) {
  match customerAccount { number }
  caller { loginKind contact { id name } user { id name } scopedLogin { id loginName resourceKind resourceName }
           roles authorizations { id kind active validFrom validUntil } } } }`
	authorizeDoc = `mutation($in: AuthorizeSupportRequestInput!) { authorizeSupportRequest(input: $in) {
  decision reason decidedBy { id kind } caller { loginKind contact { id } scopedLogin { loginName } } } }`
	accountAuditDoc = `query($n: String!, $a: String) { customerAccount(number: $n) {
  auditEvents(first: 100, filter: {action: $a}) { edges { node { action actorID changes { field value } } } } } }`
)

// pin reads the caller's current PIN (recorded as a secret: it must never
// reach a log).
func (e *env) pin(tok string) (string, time.Time) {
	e.t.Helper()
	d := e.ok(tok, myPinDoc, nil)
	p := dig(d, "mySupportPin", "pin").(string)
	until, err := time.Parse(time.RFC3339Nano, dig(d, "mySupportPin", "validUntil").(string))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(p) != 8 || strings.Trim(p, "0123456789") != "" {
		e.t.Fatalf("PIN %q is not 8 digits", p)
	}
	return secrets.add(p), until
}

func (e *env) verifyPin(tok, number, pin string) map[string]any {
	e.t.Helper()
	return e.ok(tok, verifyPinDoc, map[string]any{"n": number, "p": pin})["verifySupportPin"].(map[string]any)
}

func (e *env) authorize(tok string, in map[string]any) map[string]any {
	e.t.Helper()
	return e.ok(tok, authorizeDoc, map[string]any{"in": in})["authorizeSupportRequest"].(map[string]any)
}

// otherPin is a well-formed PIN that is not pin.
func otherPin(pin string, i int) string {
	return fmt.Sprintf("%08d", (atoi(pin)+1+i*7919)%100_000_000)
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// auditChanges reads the account's audit events with action prefix a, as
// tok sees them, as "action field=value ..." lines.
func (e *env) auditLines(tok, number, action string) []string {
	e.t.Helper()
	d := e.ok(tok, accountAuditDoc, map[string]any{"n": number, "a": action})
	var out []string
	edges, _ := dig(d, "customerAccount", "auditEvents", "edges").([]any)
	for _, ed := range edges {
		n := dig(ed, "node")
		line := dig(n, "action").(string)
		for _, c := range dig(n, "changes").([]any) {
			line += " " + dig(c, "field").(string) + "=" + dig(c, "value").(string)
		}
		out = append(out, line)
	}
	return out
}

// noPinAnywhere checks that no audit event, no log line and no outbox
// message holds any of the PINs.
func (e *env) noPinAnywhere(pins ...string) {
	e.t.Helper()
	ctx := viewer.SystemContext(context.Background())
	events, err := e.client.AuditEvent.Query().All(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.client.OutboxMessage.Query().All(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var all bytes.Buffer
	for _, ev := range events {
		b, _ := json.Marshal(ev.Changes)
		all.Write(b)
		all.WriteString(ev.TargetID + "\n")
	}
	for _, m := range msgs {
		all.WriteString(m.Subject + "\n" + m.Body + "\n")
	}
	all.WriteString(e.logs.String())
	for _, p := range pins {
		if strings.Contains(all.String(), p) {
			e.t.Fatalf("PIN %s found in the audit log, the outbox or the logs", p)
		}
	}
}

// TestSupportPinCallerFlow is the judged flow: a caller reads its PIN in
// the portal; the desk gives customer number and PIN, learns who calls, and
// whether it may order a VPN access.
func TestSupportPinCallerFlow(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30001")
	boss, _ := e.customerUser(acct, "boss@muster.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	vpnTok, vpnContact := e.customerUser(acct, "vpn@muster.test", "PORTAL_ACCESS")
	plainTok, plainContact := e.customerUser(acct, "plain@muster.test", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	formerTok, formerContact := e.customerUser(acct, "former@muster.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)

	grant := func(contact, kind string, scope map[string]any) string {
		vars := map[string]any{"c": contact, "k": kind}
		tok := boss
		if scope != nil {
			vars["s"], tok = scope, e.admin // ORDERING_LIMITED: staff only
		}
		return dig(e.ok(tok, grantAuthDoc, vars), "grantSupportAuthorization", "id").(string)
	}
	vpnAuth := grant(vpnContact, "VPN_REMOTE_MAINTENANCE", nil)
	// former held VPN until yesterday; the next one only starts tomorrow.
	ctx := viewer.SystemContext(context.Background())
	berlin, _ := time.LoadLocation("Europe/Berlin")
	yesterday := caldate.Of(e.clock.Now().AddDate(0, 0, -1), berlin)
	ct, err := e.client.Contact.Get(ctx, pulid.ID(formerContact))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		from  time.Time
		until *caldate.Date
	}{{e.clock.Now().AddDate(0, -1, 0), &yesterday}, {e.clock.Now().Add(24 * time.Hour), nil}} {
		q := e.client.SupportAuthorization.Create().SetCustomerAccountID(ct.CustomerAccountID).SetContactID(ct.ID).
			SetKind(domain.AuthVPNRemoteMaintenance).SetValidFrom(v.from)
		if v.until != nil {
			q.SetValidUntil(*v.until)
		}
		if err := q.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// The caller reads its PIN in the portal: 8 digits, valid 7 days.
	pin, until := e.pin(vpnTok)
	if !until.Equal(e.clock.Now().Add(7 * 24 * time.Hour)) {
		t.Fatalf("validUntil %s, want 7 days from now", until)
	}
	if again, _ := e.pin(vpnTok); again != pin {
		t.Fatal("the PIN changed between two reads")
	}

	// The desk: who is it? (read out with a space, as people do)
	v := e.verifyPin(desk, " 30001 ", pin[:4]+" "+pin[4:])
	if v["match"] != true || dig(v, "customerAccount", "number") != "30001" ||
		dig(v, "caller", "loginKind") != "USER" || dig(v, "caller", "contact", "id") != vpnContact ||
		dig(v, "caller", "user", "name") != "vpn@muster.test" || dig(v, "caller", "scopedLogin") != nil {
		t.Fatalf("verify: %v", v)
	}
	if roles := fmt.Sprint(dig(v, "caller", "roles")); roles != "[PORTAL_ACCESS]" {
		t.Fatalf("roles %s", roles)
	}
	if dig(v, "caller", "authorizations", 0, "id") != vpnAuth || dig(v, "caller", "authorizations", 0, "kind") != "VPN_REMOTE_MAINTENANCE" ||
		dig(v, "caller", "authorizations", 0, "active") != true {
		t.Fatalf("authorizations: %v", dig(v, "caller", "authorizations"))
	}

	// May it order a VPN access? Yes, by VPN_REMOTE_MAINTENANCE.
	d := e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": pin, "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "ALLOWED" || d["reason"] != "AUTHORIZED" || dig(d, "decidedBy", "id") != vpnAuth ||
		dig(d, "caller", "contact", "id") != vpnContact {
		t.Fatalf("VPN for the VPN contact: %v", d)
	}
	// But not an invoice copy.
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": pin, "request": "INVOICE_COPY"})
	if d["decision"] != "DENIED" || d["reason"] != "NO_AUTHORIZATION" || d["decidedBy"] != nil {
		t.Fatalf("invoice for the VPN contact: %v", d)
	}

	// A technical contact without authorizations: DENIED with the reason.
	plainPin, _ := e.pin(plainTok)
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": plainPin, "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "DENIED" || d["reason"] != "NO_AUTHORIZATION" || dig(d, "caller", "contact", "id") != plainContact {
		t.Fatalf("VPN for the plain contact: %v", d)
	}
	// With GENERAL_AUTHORITY ("darf alles") it may.
	ga := grant(plainContact, "GENERAL_AUTHORITY", nil)
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": plainPin, "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "ALLOWED" || dig(d, "decidedBy", "id") != ga || dig(d, "decidedBy", "kind") != "GENERAL_AUTHORITY" {
		t.Fatalf("VPN by general authority: %v", d)
	}
	// An ended and a future VPN authorization never decide.
	formerPin, _ := e.pin(formerTok)
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": formerPin, "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "DENIED" || d["reason"] != "AUTHORIZATION_NOT_IN_FORCE" || d["decidedBy"] != nil {
		t.Fatalf("ended VPN: %v", d)
	}
	// ... until tomorrow's starts.
	e.clock.Advance(25 * time.Hour)
	desk, boss = e.login("desk@provider.test", adminPassword), e.login("boss@muster.test", adminPassword)
	e.admin = e.login("admin@example.com", adminPassword)
	formerPin, _ = e.pin(e.login("former@muster.test", adminPassword)) // (the PIN itself holds 7 days)
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": formerPin, "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "ALLOWED" {
		t.Fatalf("VPN from tomorrow on: %v", d)
	}

	// A caller the desk knows from its records: by contact ID, no PIN.
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "contactID": vpnContact, "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "ALLOWED" || dig(d, "decidedBy", "id") != vpnAuth {
		t.Fatalf("by contact: %v", d)
	}
	// A wrong PIN identifies nobody.
	d = e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": otherPin(pin, 0), "request": "VPN_ACCESS_NEW"})
	if d["decision"] != "DENIED" || d["reason"] != "NOT_IDENTIFIED" || d["caller"] != nil {
		t.Fatalf("wrong PIN: %v", d)
	}

	// Orders: ORDERING_LIMITED within its business area and budget.
	ol := grant(vpnContact, "ORDERING_LIMITED", map[string]any{"businessArea": "Hosting", "budgetCents": 50000, "currency": "EUR"})
	order := func(amount int, area string) map[string]any {
		return e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": pin, "request": "ORDER_WITHIN_BUDGET",
			"order": map[string]any{"businessArea": area, "amountCents": amount, "currency": "eur"}})
	}
	if d := order(50000, "hosting"); d["decision"] != "ALLOWED" || dig(d, "decidedBy", "id") != ol {
		t.Fatalf("order within budget: %v", d)
	}
	if d := order(50001, "Hosting"); d["decision"] != "DENIED" || d["reason"] != "OUTSIDE_ORDERING_SCOPE" {
		t.Fatalf("order over budget: %v", d)
	}
	if d := e.authorize(desk, map[string]any{"customerNumber": "30001", "pin": pin, "request": "ORDER_NEW"}); d["decision"] != "DENIED" {
		t.Fatalf("unlimited order with a limited authorization: %v", d)
	}

	// SLA emergency instructions need an SLA valid that day.
	grantSLA := func() {
		e.ok(e.admin, setSlaDoc, map[string]any{"a": acct, "u": string(caldate.Of(e.clock.Now(), berlin))})
	}
	grantSLA()
	grant(vpnContact, "EMERGENCY_SLA", nil)
	sla := func() map[string]any {
		return e.authorize(desk, map[string]any{"customerNumber": "30001", "contactID": vpnContact, "request": "SLA_EMERGENCY_INSTRUCTION"})
	}
	if d := sla(); d["decision"] != "ALLOWED" || dig(d, "decidedBy", "kind") != "EMERGENCY_SLA" {
		t.Fatalf("SLA emergency on its last day: %v", d)
	}
	e.clock.Advance(24 * time.Hour) // the SLA's last day is over
	desk, boss = e.login("desk@provider.test", adminPassword), e.login("boss@muster.test", adminPassword)
	e.admin = e.login("admin@example.com", adminPassword)
	if d := sla(); d["decision"] != "DENIED" || d["reason"] != "NO_VALID_SLA" {
		t.Fatalf("SLA emergency after the SLA: %v", d)
	}

	// Every check is in the account's activity log, with the outcome and
	// the caller, never the PIN; the customer admin reads it.
	lines := e.auditLines(boss, "30001", "supportpin.verified")
	if len(lines) != 1 || !strings.Contains(lines[0], `outcome="MATCH"`) || !strings.Contains(lines[0], `login="USER:`) {
		t.Fatalf("verify audit: %v", lines)
	}
	lines = e.auditLines(boss, "30001", "supportrequest.checked")
	if len(lines) != 13 {
		t.Fatalf("want 13 request checks audited, got %d: %v", len(lines), lines)
	}
	joined := strings.Join(lines, "\n")
	for _, want := range []string{`decision="ALLOWED"`, `decision="DENIED"`, `reason="NOT_IDENTIFIED"`, `request="VPN_ACCESS_NEW"`,
		`identifiedBy="CONTACT"`, `decidedBy="` + vpnAuth + `"`, `reason="NO_VALID_SLA"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %s:\n%s", want, joined)
		}
	}
	e.noPinAnywhere(pin, plainPin, formerPin)
}

// TestSupportPinRateLimit: a wrong PIN six times. Five wrong checks per
// customer number in 15 minutes; the sixth — right or wrong — is
// RATE_LIMITED, the customer admins are mailed once, every check audited.
func TestSupportPinRateLimit(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30002")
	boss, _ := e.customerUser(acct, "boss@limit.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	callerTok, _ := e.customerUser(acct, "caller@limit.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	pin, _ := e.pin(callerTok)

	// A right PIN does not count: many checks in a row all match.
	for i := 0; i < 7; i++ {
		if v := e.verifyPin(desk, "30002", pin); v["match"] != true {
			t.Fatalf("check %d: %v", i, v)
		}
	}
	// Five wrong ones: a plain no-match each, nothing else.
	var wrong []string
	for i := 0; i < 5; i++ {
		w := otherPin(pin, i)
		wrong = append(wrong, w)
		if v := e.verifyPin(desk, "30002", w); v["match"] != false || v["caller"] != nil || v["customerAccount"] != nil {
			t.Fatalf("wrong %d: %v", i, v)
		}
	}
	// The sixth is refused, with Retry-After; so is the right PIN now, and
	// a request check by PIN.
	r := e.wantCode(desk, verifyPinDoc, map[string]any{"n": "30002", "p": otherPin(pin, 5)}, "RATE_LIMITED")
	if s, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); s < 1 || s > 900 {
		t.Fatalf("retryAfterSeconds: %s", r.Raw)
	}
	e.wantCode(desk, verifyPinDoc, map[string]any{"n": "30002", "p": pin}, "RATE_LIMITED")
	e.wantCode(desk, authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30002", "pin": pin, "request": "INVOICE_COPY"}}, "RATE_LIMITED")

	// The customer admins are told once, without the PIN.
	m := e.mailAbout("boss@limit.test", "Wiederholt falsche Support-PIN")
	if !strings.Contains(m.Body, "30002") {
		t.Fatalf("alert mail: %s", m.Body)
	}
	if n := e.queued("boss@limit.test", "Support-PIN"); n != 1 {
		t.Fatalf("%d alert mails, want 1", n)
	}
	if n := e.queued("caller@limit.test", "Support-PIN"); n != 0 {
		t.Fatalf("the caller (no admin) got %d alert mails", n)
	}

	// Audited: 7 matches, 5 no-matches, 3 refusals (two by verify, one by
	// the request check, refused before any decision).
	lines := strings.Join(e.auditLines(boss, "30002", "supportpin.verified"), "\n")
	for outcome, want := range map[string]int{"MATCH": 7, "NO_MATCH": 5, "RATE_LIMITED": 3} {
		if got := strings.Count(lines, `outcome="`+outcome+`"`); got != want {
			t.Errorf("%s audited %d times, want %d:\n%s", outcome, got, want, lines)
		}
	}
	e.noPinAnywhere(append(wrong, pin)...)

	// The limit ends with its window: the right PIN matches again.
	e.clock.Advance(15*time.Minute + time.Second)
	desk = e.login("desk@provider.test", adminPassword)
	if v := e.verifyPin(desk, "30002", pin); v["match"] != true {
		t.Fatalf("after the window: %v", v)
	}

	// An unknown customer number answers exactly alike: no match five
	// times, then RATE_LIMITED; no mail, no audit (there is no account).
	for i := 0; i < 5; i++ {
		if v := e.verifyPin(desk, "39999", pin); v["match"] != false || v["customerAccount"] != nil {
			t.Fatalf("unknown number: %v", v)
		}
	}
	e.wantCode(desk, verifyPinDoc, map[string]any{"n": "39999", "p": pin}, "RATE_LIMITED")
}

// TestSupportPinParallelWrongChecks: wrong checks in parallel cannot get
// more than 5 comparisons through in a window.
func TestSupportPinParallelWrongChecks(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30003")
	callerTok, _ := e.customerUser(acct, "caller@par.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	pin, _ := e.pin(callerTok)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.send(e.request(desk, verifyPinDoc, map[string]any{"n": "30003", "p": otherPin(pin, i)}))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case len(r.Errors) > 0:
				codes[r.code()]++
			case dig(r.Data, "verifySupportPin", "match") == false:
				codes["NO_MATCH"]++
			default:
				codes["?"+r.Raw]++
			}
		}(i)
	}
	wg.Wait()
	if codes["NO_MATCH"] != 5 || codes["RATE_LIMITED"] != 7 || len(codes) != 2 {
		t.Fatalf("parallel wrong checks: %v", codes)
	}
}

// TestSupportPinAfterSevenDays: with the clock pinned, the PIN holds until
// (not including) validUntil; from that instant the portal shows the next
// one and the old one no longer matches.
func TestSupportPinAfterSevenDays(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30004")
	callerTok, _ := e.customerUser(acct, "caller@week.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	old, until := e.pin(callerTok)

	e.clock.Set(until.Add(-time.Microsecond)) // the last instant of the old PIN
	callerTok, desk = e.login("caller@week.test", adminPassword), e.login("desk@provider.test", adminPassword)
	if p, u := e.pin(callerTok); p != old || !u.Equal(until) {
		t.Fatalf("just before the boundary: %s until %s", p, u)
	}
	if v := e.verifyPin(desk, "30004", old); v["match"] != true {
		t.Fatal("the old PIN no longer matches before its end")
	}

	e.clock.Set(until) // exactly 7 days (tokens live 15 minutes: still valid)
	fresh, freshUntil := e.pin(callerTok)
	if fresh == old || !freshUntil.Equal(until.Add(7*24*time.Hour)) {
		t.Fatalf("at the boundary: %s until %s (old %s until %s)", fresh, freshUntil, old, until)
	}
	if v := e.verifyPin(desk, "30004", old); v["match"] != false {
		t.Fatal("the old PIN still matches after its 7 days")
	}
	if v := e.verifyPin(desk, "30004", fresh); v["match"] != true {
		t.Fatal("the new PIN does not match")
	}
	// Weeks later, without any read in between, shown and checked agree.
	e.clock.Advance(30 * 24 * time.Hour)
	callerTok, desk = e.login("caller@week.test", adminPassword), e.login("desk@provider.test", adminPassword)
	later, _ := e.pin(callerTok)
	if later == fresh {
		t.Fatal("the PIN did not change in 30 days")
	}
	if v := e.verifyPin(desk, "30004", later); v["match"] != true {
		t.Fatal("the PIN shown 30 days later does not match")
	}
}

// TestSupportPinRotateOnDemand: rotateSupportPin ends the old PIN at once.
func TestSupportPinRotateOnDemand(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30005")
	callerTok, _ := e.customerUser(acct, "caller@rotate.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	old, _ := e.pin(callerTok)
	e.clock.Advance(3 * 24 * time.Hour)
	callerTok, desk = e.login("caller@rotate.test", adminPassword), e.login("desk@provider.test", adminPassword)

	d := e.ok(callerTok, rotatePinDoc, nil)
	fresh := secrets.add(dig(d, "rotateSupportPin", "pin").(string))
	if fresh == old || dig(d, "rotateSupportPin", "validUntil") != e.clock.Now().Add(7*24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("rotate: %v (old %s)", d, old)
	}
	if shown, _ := e.pin(callerTok); shown != fresh {
		t.Fatal("mySupportPin does not show the rotated PIN")
	}
	if v := e.verifyPin(desk, "30005", old); v["match"] != false {
		t.Fatal("the old PIN still matches after rotation")
	}
	if v := e.verifyPin(desk, "30005", fresh); v["match"] != true {
		t.Fatal("the rotated PIN does not match")
	}
	// An Idempotency-Key would store the answer, the PIN, in the database:
	// refused.
	req := e.request(callerTok, rotatePinDoc, nil)
	req.Header.Set("Idempotency-Key", "rotate-pin-0001")
	if r := e.send(req); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != "IDEMPOTENCY_KEY_REFUSED" {
		t.Fatalf("rotate with an Idempotency-Key: %s", r.Raw)
	}
	if n := e.auditCount("supportpin.rotated"); n != 1 {
		t.Fatalf("%d rotations audited", n)
	}
	e.noPinAnywhere(old, fresh)
}

// TestSupportPinSelfDeletion: deleting oneself discards the PIN; a restored
// user gets a new one, never the old one back.
func TestSupportPinSelfDeletion(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30006")
	callerTok, _ := e.customerUser(acct, "caller@gone.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	old, _ := e.pin(callerTok)
	me := e.ok(callerTok, `{ me { user { id } } }`, nil)
	uid := dig(me, "me", "user", "id").(string)

	e.ok(callerTok, `mutation($p: String!) { deleteMyAccount(input: {password: $p}) }`, map[string]any{"p": adminPassword})
	n, err := e.client.SupportPinState.Query().Where(supportpinstate.UserID(pulid.ID(uid))).Count(viewer.SystemContext(context.Background()))
	if err != nil || n != 0 {
		t.Fatalf("PIN state after deletion: %d %v", n, err)
	}
	if v := e.verifyPin(desk, "30006", old); v["match"] != false {
		t.Fatal("a deleted user's PIN matches")
	}
	e.ok(desk, `mutation($id: ID!) { restoreUserAccount(id: $id) { id } }`, map[string]any{"id": uid})
	tok := e.login("caller@gone.test", adminPassword)
	fresh, _ := e.pin(tok)
	if fresh == old {
		t.Fatal("the restored user got its old PIN back")
	}
}

// TestSupportPinNotInTheDatabase: the stored state alone does not give the
// PIN; only the server's key does.
func TestSupportPinNotInTheDatabase(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	e := newEnv(t, envOption(func(d *graph.Deps) { d.PinKey = key }))
	acct := e.createAccount("30007")
	callerTok, _ := e.customerUser(acct, "caller@db.test", "PORTAL_ACCESS")
	pin, _ := e.pin(callerTok)
	st, err := e.client.SupportPinState.Query().Only(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	row, _ := json.Marshal(st)
	if strings.Contains(string(row), pin) || strings.Contains(st.Nonce, pin) {
		t.Fatalf("the stored state holds the PIN: %s", row)
	}
	ref := supportpin.LoginRef{Kind: supportpin.KindUser, ID: string(*st.UserID)}
	state := supportpin.State{Nonce: st.Nonce, Counter: st.Counter, RotatedAt: st.RotatedAt}
	if got, _ := supportpin.Current(key, ref, state, e.clock.Now()); got != pin {
		t.Fatalf("the server key derives %s, the portal showed %s", got, pin)
	}
	if got, _ := supportpin.Current(bytes.Repeat([]byte{0x5b}, 32), ref, state, e.clock.Now()); got == pin {
		t.Fatal("another key derives the same PIN")
	}
}

// TestSupportDeskScopedLogin: a scoped login's PIN identifies it (its
// login name and resource); it holds no support authorizations.
func TestSupportDeskScopedLogin(t *testing.T) {
	key := bytes.Repeat([]byte{0x11}, 32)
	e := newEnv(t, envOption(func(d *graph.Deps) { d.PinKey = key }))
	acct := e.createAccount("30008")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	ctx := viewer.SystemContext(context.Background())
	res, err := e.client.Resource.Create().SetCustomerAccountID(pulid.ID(acct)).SetKind("MAILBOX").SetName("info@scoped.test").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := e.client.ScopedLogin.Create().SetCustomerAccountID(pulid.ID(acct)).SetResourceID(res.ID).SetLoginName("info@scoped.test").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// What mySupportPin will show a scoped-login principal (wired with the
	// scoped-login branch): the same service, the same key.
	svc := &supportpin.Service{Client: e.client, Key: key, Now: e.clock.Now}
	shown, err := svc.Show(ctx, supportpin.LoginRef{Kind: supportpin.KindScopedLogin, ID: string(sl.ID)})
	if err != nil {
		t.Fatal(err)
	}
	pin := secrets.add(shown.PIN)
	v := e.verifyPin(desk, "30008", pin)
	if v["match"] != true || dig(v, "caller", "loginKind") != "SCOPED_LOGIN" || dig(v, "caller", "contact") != nil ||
		dig(v, "caller", "scopedLogin", "loginName") != "info@scoped.test" || dig(v, "caller", "scopedLogin", "resourceKind") != "MAILBOX" ||
		dig(v, "caller", "scopedLogin", "resourceName") != "info@scoped.test" || len(dig(v, "caller", "authorizations").([]any)) != 0 {
		t.Fatalf("scoped login: %v", v)
	}
	d := e.authorize(desk, map[string]any{"customerNumber": "30008", "pin": pin, "request": "MAILBOX_PASSWORD_RESET"})
	if d["decision"] != "DENIED" || d["reason"] != "SCOPED_LOGIN" || dig(d, "caller", "scopedLogin", "loginName") != "info@scoped.test" {
		t.Fatalf("scoped login request: %v", d)
	}
	// A disabled scoped login no longer matches.
	if err := e.client.ScopedLogin.UpdateOneID(sl.ID).SetStatus("DISABLED").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if v := e.verifyPin(desk, "30008", pin); v["match"] != false {
		t.Fatal("a disabled scoped login matches")
	}
}

// TestSupportDeskWithoutConsent: with supportAccessConsent off, the desk
// still verifies PINs and checks requests, and sees the account's type,
// SLA, state and account managers, but not its contents (resources).
func TestSupportDeskWithoutConsent(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30009")
	boss, _ := e.customerUser(acct, "boss@consent.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	callerTok, callerContact := e.customerUser(acct, "caller@consent.test", "PORTAL_ACCESS")
	e.ok(boss, grantAuthDoc, map[string]any{"c": callerContact, "k": "VPN_REMOTE_MAINTENANCE"})
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	e.createUser("sales@provider.test", domain.StaffSales)
	sales, err := e.client.UserAccount.Query().Where(useraccount.Email("sales@provider.test")).Only(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	e.ok(e.admin, `mutation($a: ID!, $u: ID!) { assignAccountManager(input: {customerAccountID: $a, userID: $u}) { id } }`,
		map[string]any{"a": acct, "u": string(sales.ID)})
	ctx := viewer.SystemContext(context.Background())
	if _, err := e.client.Resource.Create().SetCustomerAccountID(pulid.ID(acct)).SetKind("WEB_VHOST").SetName("web001").Save(ctx); err != nil {
		t.Fatal(err)
	}
	e.ok(e.admin, setSlaDoc, map[string]any{"a": acct})
	pin, _ := e.pin(callerTok)

	const accountDoc = `query($n: String!) { customerAccount(number: $n) {
	  number kind status hasSLA slaUntil supportAccessConsent accountManagers { name } resources { id } } }`
	a := e.ok(desk, accountDoc, map[string]any{"n": "30009"})
	if dig(a, "customerAccount", "kind") != "BUSINESS" || dig(a, "customerAccount", "status") != "ACTIVE" ||
		dig(a, "customerAccount", "hasSLA") != true || dig(a, "customerAccount", "supportAccessConsent") != false ||
		dig(a, "customerAccount", "accountManagers", 0, "name") != "sales@provider.test" {
		t.Fatalf("account without consent: %v", a)
	}
	if res, _ := dig(a, "customerAccount", "resources").([]any); len(res) != 0 {
		t.Fatalf("the desk reads resources without consent: %v", res)
	}
	if v := e.verifyPin(desk, "30009", pin); v["match"] != true || dig(v, "caller", "contact", "id") != callerContact {
		t.Fatalf("verify without consent: %v", v)
	}
	if d := e.authorize(desk, map[string]any{"customerNumber": "30009", "pin": pin, "request": "VPN_ACCESS_NEW"}); d["decision"] != "ALLOWED" {
		t.Fatalf("request without consent: %v", d)
	}
	// With consent, the contents become readable (the control).
	e.ok(boss, `mutation($a: ID!) { setSupportAccessConsent(input: {customerAccountID: $a, consent: true}) { id } }`, map[string]any{"a": acct})
	a = e.ok(desk, accountDoc, map[string]any{"n": "30009"})
	if res, _ := dig(a, "customerAccount", "resources").([]any); len(res) != 1 {
		t.Fatalf("the desk does not read resources with consent: %v", a)
	}
}

// TestSupportDeskDenialsAndBadInput: who may not ask, and malformed
// questions (which do not count against the limit).
func TestSupportDeskDenialsAndBadInput(t *testing.T) {
	e := newEnv(t)
	acct := e.createAccount("30010")
	other := e.createAccount("30011")
	boss, _ := e.customerUser(acct, "boss@deny.test", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	callerTok, callerContact := e.customerUser(acct, "caller@deny.test", "PORTAL_ACCESS")
	_, strangerContact := e.customerUser(other, "stranger@deny.test", "PORTAL_ACCESS")
	desk := e.createUser("desk@provider.test", domain.StaffSupport)
	salesX := e.createUser("salesx@provider.test", domain.StaffSales)
	pin, _ := e.pin(callerTok)
	verify := map[string]any{"n": "30010", "p": pin}

	// Customers — even the account's own admin — and the anonymous never
	// reach the desk's fields.
	e.wantCode("", verifyPinDoc, verify, "UNAUTHENTICATED")
	e.wantCode(boss, verifyPinDoc, verify, "FORBIDDEN")
	e.wantCode(callerTok, verifyPinDoc, verify, "FORBIDDEN")
	e.wantCode(boss, authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "contactID": callerContact, "request": "INVOICE_COPY"}}, "FORBIDDEN")
	e.wantCode("", myPinDoc, nil, "UNAUTHENTICATED")
	// SALES not assigned: FORBIDDEN for a known and an unknown number alike.
	r1 := e.wantCode(salesX, verifyPinDoc, verify, "FORBIDDEN")
	r2 := e.wantCode(salesX, verifyPinDoc, map[string]any{"n": "38888", "p": pin}, "FORBIDDEN")
	if r1.Errors[0].Message != r2.Errors[0].Message {
		t.Fatalf("known and unknown numbers differ for SALES: %s / %s", r1.Raw, r2.Raw)
	}

	// Bad input names the field.
	for _, c := range []struct {
		doc   string
		vars  map[string]any
		field string
	}{
		{verifyPinDoc, map[string]any{"n": "30010", "p": "12ab5678"}, "input.pin"},
		{verifyPinDoc, map[string]any{"n": "30010", "p": "1234567"}, "input.pin"},
		{verifyPinDoc, map[string]any{"n": "  ", "p": pin}, "input.customerNumber"},
		{authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "pin": pin, "contactID": callerContact, "request": "INVOICE_COPY"}}, "input.pin"},
		{authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "request": "INVOICE_COPY"}}, "input.pin"},
		{authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "pin": pin, "request": "ORDER_WITHIN_BUDGET"}}, "input.order"},
		{authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "pin": pin, "request": "VPN_ACCESS_NEW",
			"order": map[string]any{"businessArea": "x", "amountCents": 1, "currency": "EUR"}}}, "input.order"},
		{authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "pin": pin, "request": "ORDER_WITHIN_BUDGET",
			"order": map[string]any{"businessArea": "x", "amountCents": 1, "currency": "EURO"}}}, "input.order.currency"},
		{authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "pin": pin, "request": "ORDER_WITHIN_BUDGET",
			"order": map[string]any{"businessArea": "x", "amountCents": 0, "currency": "EUR"}}}, "input.order.amountCents"},
	} {
		r := e.wantCode(desk, c.doc, c.vars, "BAD_USER_INPUT")
		if f, _ := r.Errors[0].Extensions["field"].(string); f != c.field {
			t.Errorf("%v: field %q, want %q (%s)", c.vars, f, c.field, r.Raw)
		}
		if strings.Contains(r.Raw, pin) {
			t.Fatalf("an error echoes the PIN: %s", r.Raw)
		}
	}
	// Another account's contact is not found on this account.
	r := e.wantCode(desk, authorizeDoc, map[string]any{"in": map[string]any{"customerNumber": "30010", "contactID": strangerContact, "request": "INVOICE_COPY"}}, "NOT_FOUND")
	if f, _ := r.Errors[0].Extensions["field"].(string); f != "input.contactID" {
		t.Fatalf("field: %s", r.Raw)
	}
	// None of that counted: the right PIN still matches, and five more
	// wrong ones are still allowed.
	for i := 0; i < 5; i++ {
		e.verifyPin(desk, "30010", otherPin(pin, i))
	}
	if n, err := e.client.AuditEvent.Query().Where(auditevent.Action("supportpin.verified")).Count(viewer.SystemContext(context.Background())); err != nil || n != 5 {
		t.Fatalf("%d checks audited, want 5 (%v)", n, err)
	}
	e.noPinAnywhere(pin)
}

// TestSupportRequestTableIsDocumented: the request kinds of the API, the
// table in the schema's documentation and the rule in authz are one table;
// every reason the rule gives is in the API's reason enum.
func TestSupportRequestTableIsDocumented(t *testing.T) {
	sdl, err := os.ReadFile("../schema/supportdesk.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(sdl), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) == 4 && !strings.Contains(cells[1], "---") && strings.TrimSpace(cells[1]) != "request" {
			documented[strings.TrimSpace(cells[1])] = cells[2]
		}
	}
	if len(model.AllSupportRequestKind) != len(authz.SupportRequestTable) || len(documented) != len(authz.SupportRequestTable) {
		t.Fatalf("API %d kinds, documented %d, authz %d", len(model.AllSupportRequestKind), len(documented), len(authz.SupportRequestTable))
	}
	for _, k := range model.AllSupportRequestKind {
		kinds, ok := authz.SupportRequestTable[authz.SupportRequestKind(k)]
		if !ok {
			t.Errorf("%s is not in authz.SupportRequestTable", k)
			continue
		}
		var names []string
		for _, kind := range kinds {
			names = append(names, kind.APIName())
		}
		doc := documented[string(k)]
		// The documented kinds, in order, ignoring remarks in parentheses
		// and after a dash.
		doc = regexp.MustCompile(`\([^)]*\)| — .*`).ReplaceAllString(doc, "")
		var got []string
		for _, n := range strings.Split(doc, ",") {
			got = append(got, strings.TrimSpace(n))
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			t.Errorf("%s: documented %v, decided by %v", k, got, names)
		}
	}
	reasons := map[string]bool{}
	for _, r := range model.AllSupportDecisionReason {
		reasons[string(r)] = true
	}
	for _, r := range []authz.SupportDenial{authz.DenyAccountNotActive, authz.DenyNoValidSLA, authz.DenyNotInForce,
		authz.DenyOutsideScope, authz.DenyNoAuthorization} {
		if !reasons[string(r)] {
			t.Errorf("reason %s is not in SupportDecisionReason", r)
		}
	}
}
