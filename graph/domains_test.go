package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"portier/ent/contact"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

const (
	proposeDomainDoc = `mutation($a: ID!, $d: String!) { proposeOrganisationDomain(input: {customerAccountID: $a, domain: $d}) {
  id domain status proposedByID confirmedByID confirmedAt customerAccountID } }`
	confirmDomainDoc   = `mutation($i: ID!) { confirmOrganisationDomain(id: $i) { id domain status confirmedByID confirmedAt } }`
	removeDomainDoc    = `mutation($i: ID!) { removeOrganisationDomain(id: $i) { id domain } }`
	convertDoc         = `mutation($a: ID!) { convertToBusinessAccount(customerAccountID: $a) { id kind } }`
	accountDomainsDoc  = `query($n: String!) { customerAccount(number: $n) { kind organisationDomains { id domain status } } }`
	overrideContactDoc = `mutation($a: ID!, $name: String!, $email: String, $o: Boolean) {
  createContact(input: {customerAccountID: $a, name: $name, email: $email, allowOutsideOrganisationDomains: $o}) {
    id email outsideOrganisationDomains } }`
	overrideInviteDoc = `mutation($a: ID!, $e: String!, $o: Boolean) {
  inviteContact(input: {customerAccountID: $a, email: $e, roles: [PORTAL_ACCESS], allowOutsideOrganisationDomains: $o}) {
    id email outsideOrganisationDomains } }`
	createAccountWithAdminDoc = `mutation($n: String!, $k: CustomerAccountKind, $e: String, $d: [String!]) {
  createCustomerAccount(input: {number: $n, name: "Kunde", kind: $k, initialAdminEmail: $e, organisationDomains: $d}) { id kind } }`
)

// wantReasonField runs a document and asserts the first error's code, reason
// and (when not "") field.
func (e *env) wantReasonField(tok, doc string, vars map[string]any, code, reason, field string) {
	e.t.Helper()
	r := e.wantCode(tok, doc, vars, code)
	if r.Errors[0].Extensions["reason"] != reason || (field != "" && r.Errors[0].Extensions["field"] != field) {
		e.t.Fatalf("want %s reason %s field %q: %s", code, reason, field, r.Raw)
	}
}

// acceptedAdmin creates the user invited as first admin of a new account
// and accepts the invitation; it returns the user's token.
func (e *env) acceptedAdmin(email string) string {
	e.t.Helper()
	tok := e.linkTokenIn(e.mailTo(email))
	u := e.createUser(email, "")
	e.ok(u, acceptDoc, map[string]any{"t": tok})
	return u
}

func accountChanges(e *env, tok, number, action string) []any {
	e.t.Helper()
	d := e.ok(tok, accountLogDoc, map[string]any{"n": number, "first": 50, "f": map[string]any{"action": action}})
	return dig(d, "customerAccount", "auditEvents", "edges").([]any)
}

// changeOf is the decoded value of one changed field of an audit event.
func changeOf(ev any, field string) any {
	for _, c := range dig(ev, "node", "changes").([]any) {
		if dig(c, "field") == field {
			var v any
			if s, ok := dig(c, "value").(string); ok && json.Unmarshal([]byte(s), &v) == nil {
				return v
			}
			return dig(c, "value")
		}
	}
	return nil
}

func TestOrganisationDomainFlow(t *testing.T) {
	e := newEnv(t)
	support := e.createUser("support@provider.example", domain.StaffSupport)
	// A BUSINESS account without domains: the staff's first-admin
	// invitation is admitted as an override and recorded.
	d := e.ok(e.admin, createAccountWithAdminDoc, map[string]any{"n": "81001", "e": "chef@x.de"})
	acct := dig(d, "createCustomerAccount", "id").(string)
	if dig(d, "createCustomerAccount", "kind") != "BUSINESS" {
		t.Fatalf("kind: %v", d)
	}
	chef := e.acceptedAdmin("chef@x.de")
	if evs := accountChanges(e, chef, "81001", "organisation_domain.override"); len(evs) != 1 ||
		dig(evs[0], "node", "targetType") != "Invitation" || changeOf(evs[0], "emailDomain") != "x.de" {
		t.Fatalf("override of the first admin's invitation: %v", evs)
	}
	me := e.ok(chef, `{ me { memberships { contact { outsideOrganisationDomains } } } }`, nil)
	if dig(me, "me", "memberships", 0, "contact", "outsideOrganisationDomains") != true {
		t.Fatalf("first admin's contact: %v", me)
	}

	// Before any domain, nobody is added, also not by invitation.
	contact := map[string]any{"a": acct, "name": "Bob", "email": "bob@x.de"}
	e.wantReasonField(chef, overrideContactDoc, contact, "FORBIDDEN", "NO_ORGANISATION_DOMAIN", "")
	e.wantReasonField(chef, overrideInviteDoc, map[string]any{"a": acct, "e": "bob@x.de"}, "FORBIDDEN", "NO_ORGANISATION_DOMAIN", "")

	// The customer admin proposes; a proposal admits nobody yet.
	p := e.ok(chef, proposeDomainDoc, map[string]any{"a": acct, "d": "  X.De "})
	od := dig(p, "proposeOrganisationDomain").(map[string]any)
	if od["domain"] != "x.de" || od["status"] != "PROPOSED" || od["proposedByID"] != e.userID(chef) || od["confirmedAt"] != nil {
		t.Fatalf("proposal: %v", od)
	}
	id := od["id"].(string)
	e.wantCode(chef, proposeDomainDoc, map[string]any{"a": acct, "d": "x.de"}, "CONFLICT")
	e.wantReasonField(chef, overrideContactDoc, contact, "FORBIDDEN", "NO_ORGANISATION_DOMAIN", "")

	// Only the provider confirms.
	e.wantCode(chef, confirmDomainDoc, map[string]any{"i": id}, "FORBIDDEN")
	e.wantCode("", confirmDomainDoc, map[string]any{"i": id}, "UNAUTHENTICATED")
	c := e.ok(support, confirmDomainDoc, map[string]any{"i": id})
	if dig(c, "confirmOrganisationDomain", "status") != "CONFIRMED" || dig(c, "confirmOrganisationDomain", "confirmedByID") != e.userID(support) ||
		dig(c, "confirmOrganisationDomain", "confirmedAt") == nil {
		t.Fatalf("confirm: %v", c)
	}
	e.wantCode(support, confirmDomainDoc, map[string]any{"i": id}, "BAD_USER_INPUT")
	e.mailAbout("chef@x.de", "Organisations-Domain")

	// Inside the domain: exact match after normalisation.
	e.ok(chef, overrideContactDoc, contact)
	e.ok(chef, overrideContactDoc, map[string]any{"a": acct, "name": "Carl", "email": " Carl@X.DE "})
	e.ok(chef, overrideContactDoc, map[string]any{"a": acct, "name": "No mail"})
	e.ok(chef, overrideInviteDoc, map[string]any{"a": acct, "e": "dora@x.de"})
	// Outside: look-alikes, subdomains, the domain inside another one.
	for _, addr := range []string{"eve@evilx.de", "eve@mail.x.de", "eve@x.de.evil.example", "x.de@evil.example", "eve@X.DE.evil.example"} {
		e.wantReasonField(chef, overrideContactDoc, map[string]any{"a": acct, "name": "Eve", "email": addr},
			"BAD_USER_INPUT", "EMAIL_OUTSIDE_ORGANISATION_DOMAINS", "input.email")
		e.wantReasonField(chef, overrideInviteDoc, map[string]any{"a": acct, "e": addr},
			"BAD_USER_INPUT", "EMAIL_OUTSIDE_ORGANISATION_DOMAINS", "input.email")
	}
	// The override is the provider's.
	outside := map[string]any{"a": acct, "name": "Partner", "email": "partner@extern.example", "o": true}
	e.wantReasonField(chef, overrideContactDoc, outside, "FORBIDDEN", "OVERRIDE_STAFF_ONLY", "input.allowOutsideOrganisationDomains")
	e.wantReasonField(chef, overrideInviteDoc, map[string]any{"a": acct, "e": "partner@extern.example", "o": true},
		"FORBIDDEN", "OVERRIDE_STAFF_ONLY", "input.allowOutsideOrganisationDomains")
	// Not even with an address inside.
	e.wantReasonField(chef, overrideContactDoc, map[string]any{"a": acct, "name": "Fritz", "email": "fritz@x.de", "o": true},
		"FORBIDDEN", "OVERRIDE_STAFF_ONLY", "")
	o := e.ok(e.admin, overrideContactDoc, outside)
	partner := dig(o, "createContact", "id").(string)
	if dig(o, "createContact", "outsideOrganisationDomains") != true {
		t.Fatalf("override contact: %v", o)
	}
	// The customer sees the mark on the contact.
	n := e.ok(chef, `query($c: ID!) { node(id: $c) { ... on Contact { email outsideOrganisationDomains } } }`, map[string]any{"c": partner})
	if dig(n, "node", "outsideOrganisationDomains") != true {
		t.Fatalf("contact as the customer sees it: %v", n)
	}
	// An override not needed marks nothing.
	in := e.ok(e.admin, overrideContactDoc, map[string]any{"a": acct, "name": "Gerd", "email": "gerd@x.de", "o": true})
	if dig(in, "createContact", "outsideOrganisationDomains") != false {
		t.Fatalf("override inside the domain: %v", in)
	}
	// An invitation with the override carries it to the contact.
	inv := e.ok(e.admin, overrideInviteDoc, map[string]any{"a": acct, "e": "freelancer@extern.example", "o": true})
	if dig(inv, "inviteContact", "outsideOrganisationDomains") != true {
		t.Fatalf("override invitation: %v", inv)
	}
	freelancer := e.acceptedAdmin("freelancer@extern.example")
	me = e.ok(freelancer, `{ me { memberships { contact { email outsideOrganisationDomains } } } }`, nil)
	if dig(me, "me", "memberships", 0, "contact", "outsideOrganisationDomains") != true {
		t.Fatalf("freelancer's contact: %v", me)
	}
	evs := accountChanges(e, chef, "81001", "organisation_domain.override")
	if len(evs) != 3 { // first admin, partner, freelancer
		t.Fatalf("override events: %v", evs)
	}
	if dig(evs[1], "node", "targetID") != partner && dig(evs[0], "node", "targetID") != partner {
		t.Fatalf("no override event for the partner contact: %v", evs)
	}
	for _, a := range []string{"organisation_domain.propose", "organisation_domain.confirm"} {
		if evs := accountChanges(e, chef, "81001", a); len(evs) != 1 || changeOf(evs[0], "domain") != "x.de" {
			t.Fatalf("%s events: %v", a, evs)
		}
	}

	// Removing the last domain keeps the contacts but stops new ones, and
	// pending invitations can no longer be accepted.
	l := e.ok(chef, accountDomainsDoc, map[string]any{"n": "81001"})
	if ds := dig(l, "customerAccount", "organisationDomains").([]any); len(ds) != 1 || dig(ds[0], "status") != "CONFIRMED" {
		t.Fatalf("domains: %v", l)
	}
	before := e.contactCount(acct)
	r := e.ok(chef, removeDomainDoc, map[string]any{"i": id})
	if dig(r, "removeOrganisationDomain", "domain") != "x.de" {
		t.Fatalf("remove: %v", r)
	}
	if after := e.contactCount(acct); after != before {
		t.Fatalf("contacts %d before removing the domain, %d after", before, after)
	}
	e.wantReasonField(chef, overrideContactDoc, map[string]any{"a": acct, "name": "Hans", "email": "hans@x.de"}, "FORBIDDEN", "NO_ORGANISATION_DOMAIN", "")
	dora := e.createUser("dora@x.de", "")
	e.wantReasonField(dora, acceptDoc, map[string]any{"t": e.linkTokenIn(e.mailTo("dora@x.de"))}, "FORBIDDEN", "NO_ORGANISATION_DOMAIN", "")
	if evs := accountChanges(e, chef, "81001", "organisation_domain.remove"); len(evs) != 1 || changeOf(evs[0], "domain") != "x.de" {
		t.Fatalf("remove events: %v", evs)
	}
	e.wantCode(chef, removeDomainDoc, map[string]any{"i": id}, "NOT_FOUND")
}

func (e *env) contactCount(acct string) int {
	e.t.Helper()
	n, err := e.client.Contact.Query().Where(contact.CustomerAccountID(pulid.ID(acct))).Count(viewer.SystemContext(context.Background()))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestOrganisationDomainDenials(t *testing.T) {
	e := newEnv(t)
	support := e.createUser("support@provider.example", domain.StaffSupport)
	a := e.createAccount("82001")
	b := e.createAccount("82002")
	adminA, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	techA, _ := e.customerUser(a, "tech@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	adminB, _ := e.customerUser(b, "admin@example.org", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	p := e.ok(adminA, proposeDomainDoc, map[string]any{"a": a, "d": "neu-a.example"})
	id := dig(p, "proposeOrganisationDomain", "id").(string)

	// Another tenant learns nothing: NOT_FOUND for the account and the domain.
	r := e.wantCode(adminB, proposeDomainDoc, map[string]any{"a": a, "d": "evil.example"}, "NOT_FOUND")
	wantField(t, r, "input.customerAccountID")
	e.wantCode(adminB, removeDomainDoc, map[string]any{"i": id}, "NOT_FOUND")
	e.wantCode(adminB, `query($i: ID!) { node(id: $i) { id } }`, map[string]any{"i": id}, "NOT_FOUND")
	if l := e.ok(adminB, accountDomainsDoc, map[string]any{"n": "82001"}); dig(l, "customerAccount") != nil {
		t.Fatalf("another tenant lists the domains: %v", l)
	}
	// A made-up ID answers the same.
	e.wantCode(adminB, removeDomainDoc, map[string]any{"i": "odm_01J00000000000000000000000"}, "NOT_FOUND")
	e.wantCode(support, confirmDomainDoc, map[string]any{"i": "odm_01J00000000000000000000000"}, "NOT_FOUND")
	e.wantCode(support, convertDoc, map[string]any{"a": "acct_01J00000000000000000000000"}, "NOT_FOUND")

	// Reading is ACCOUNT_READ; changing is ACCOUNT_UPDATE.
	l := e.ok(techA, accountDomainsDoc, map[string]any{"n": "82001"})
	found := false
	for _, d := range dig(l, "customerAccount", "organisationDomains").([]any) {
		found = found || dig(d, "id") == id
	}
	if !found {
		t.Fatalf("the technical contact does not see the proposal: %v", l)
	}
	e.wantCode(techA, proposeDomainDoc, map[string]any{"a": a, "d": "tech.example"}, "FORBIDDEN")
	e.wantCode(techA, removeDomainDoc, map[string]any{"i": id}, "FORBIDDEN")
	e.wantCode("", proposeDomainDoc, map[string]any{"a": a, "d": "anon.example"}, "UNAUTHENTICATED")
	e.wantCode("", removeDomainDoc, map[string]any{"i": id}, "UNAUTHENTICATED")
	// Customers neither confirm nor convert.
	e.wantCode(adminA, confirmDomainDoc, map[string]any{"i": id}, "FORBIDDEN")
	e.wantCode(adminA, convertDoc, map[string]any{"a": a}, "FORBIDDEN")
	// SUPPORT holds no ACCOUNT_UPDATE: it confirms and removes, but does
	// not propose.
	e.wantCode(support, proposeDomainDoc, map[string]any{"a": a, "d": "support.example"}, "FORBIDDEN")

	// Staff ADMIN adding a domain confirms it at once.
	s := e.ok(e.admin, proposeDomainDoc, map[string]any{"a": a, "d": "staff-a.example"})
	if dig(s, "proposeOrganisationDomain", "status") != "CONFIRMED" || dig(s, "proposeOrganisationDomain", "confirmedByID") == nil {
		t.Fatalf("staff proposal: %v", s)
	}
	e.ok(support, removeDomainDoc, map[string]any{"i": dig(s, "proposeOrganisationDomain", "id")})

	// Bad domains, also at account creation.
	for _, bad := range []string{"*.a.example", "example", "a..example", "-a.example", "a_b.example", "münchen.de", "1.2.3.4",
		"x.de.", "a.example/path", strings.Repeat("a", 64) + ".de", strings.Repeat("abcdefghi.", 26) + "de"} {
		r := e.wantCode(adminA, proposeDomainDoc, map[string]any{"a": a, "d": bad}, "BAD_USER_INPUT")
		wantField(t, r, "input.domain")
	}
	r = e.wantCode(e.admin, createAccountWithAdminDoc, map[string]any{"n": "82003", "d": []string{"ok.example", "*.bad.example"}}, "BAD_USER_INPUT")
	wantField(t, r, "input.organisationDomains")
	// With domains given at creation, the first admin must be inside them.
	e.wantReasonField(e.admin, createAccountWithAdminDoc, map[string]any{"n": "82003", "d": []string{"ok.example"}, "e": "chef@elsewhere.example"},
		"BAD_USER_INPUT", "EMAIL_OUTSIDE_ORGANISATION_DOMAINS", "input.initialAdminEmail")
	d := e.ok(e.admin, createAccountWithAdminDoc, map[string]any{"n": "82003", "d": []string{"OK.example", "ok.example"}, "e": "chef@ok.example"})
	l = e.ok(e.admin, accountDomainsDoc, map[string]any{"n": "82003"})
	if ds := dig(l, "customerAccount", "organisationDomains").([]any); len(ds) != 1 || dig(ds[0], "domain") != "ok.example" || dig(ds[0], "status") != "CONFIRMED" {
		t.Fatalf("domains given at creation: %v (%v)", l, d)
	}
}

func TestPersonalAccount(t *testing.T) {
	e := newEnv(t)
	support := e.createUser("support@provider.example", domain.StaffSupport)
	// A private person: any address, no domain needed.
	d := e.ok(e.admin, createAccountWithAdminDoc, map[string]any{"n": "83001", "k": "PERSONAL", "e": "max@mailbox.example"})
	acct := dig(d, "createCustomerAccount", "id").(string)
	if dig(d, "createCustomerAccount", "kind") != "PERSONAL" {
		t.Fatalf("kind: %v", d)
	}
	// While the owner's invitation is pending, nobody else — not even
	// staff with the override.
	e.wantReasonField(e.admin, overrideContactDoc, map[string]any{"a": acct, "name": "Second", "email": "second@a.example", "o": true},
		"FORBIDDEN", "PERSONAL_ACCOUNT", "")
	e.wantReasonField(e.admin, overrideInviteDoc, map[string]any{"a": acct, "e": "second@a.example"}, "FORBIDDEN", "PERSONAL_ACCOUNT", "")
	owner := e.acceptedAdmin("max@mailbox.example")
	// The owner is the one contact.
	for _, v := range []map[string]any{{"a": acct, "name": "Frau", "email": "frau@mailbox.example"}, {"a": acct, "name": "Ohne Mail"}} {
		r := e.wantCode(owner, overrideContactDoc, v, "FORBIDDEN")
		if r.Errors[0].Extensions["reason"] != "PERSONAL_ACCOUNT" || !strings.Contains(r.Errors[0].Message, "business") {
			t.Fatalf("refusal: %s", r.Raw)
		}
	}
	e.wantReasonField(owner, overrideInviteDoc, map[string]any{"a": acct, "e": "frau@mailbox.example"}, "FORBIDDEN", "PERSONAL_ACCOUNT", "")
	e.wantReasonField(e.admin, overrideContactDoc, map[string]any{"a": acct, "name": "Frau", "email": "frau@mailbox.example"}, "FORBIDDEN", "PERSONAL_ACCOUNT", "")

	// The provider switches it to BUSINESS, once.
	e.wantCode(owner, convertDoc, map[string]any{"a": acct}, "FORBIDDEN")
	e.wantCode("", convertDoc, map[string]any{"a": acct}, "UNAUTHENTICATED")
	c := e.ok(support, convertDoc, map[string]any{"a": acct})
	if dig(c, "convertToBusinessAccount", "kind") != "BUSINESS" {
		t.Fatalf("convert: %v", c)
	}
	e.wantReasonField(support, convertDoc, map[string]any{"a": acct}, "BAD_USER_INPUT", "ALREADY_BUSINESS", "customerAccountID")
	if evs := accountChanges(e, owner, "83001", "customer_account.convert_to_business"); len(evs) != 1 ||
		changeOf(evs[0], "previousKind") != "PERSONAL" || dig(evs[0], "node", "actor", "staffRole") != "SUPPORT" {
		t.Fatalf("convert events: %v", evs)
	}
	// Now a business account: it needs a confirmed domain.
	e.wantReasonField(owner, overrideContactDoc, map[string]any{"a": acct, "name": "Frau", "email": "frau@mailbox.example"}, "FORBIDDEN", "NO_ORGANISATION_DOMAIN", "")
	p := e.ok(owner, proposeDomainDoc, map[string]any{"a": acct, "d": "mailbox.example"})
	e.ok(support, confirmDomainDoc, map[string]any{"i": dig(p, "proposeOrganisationDomain", "id")})
	e.ok(owner, overrideContactDoc, map[string]any{"a": acct, "name": "Frau", "email": "frau@mailbox.example"})
}

// Two concurrent additions to an empty PERSONAL account: exactly one wins.
func TestPersonalAccountConcurrentContacts(t *testing.T) {
	e := newEnv(t)
	for round := 0; round < 3; round++ {
		number := fmt.Sprintf("8400%d", round)
		d := e.ok(e.admin, createAccountWithAdminDoc, map[string]any{"n": number, "k": "PERSONAL"})
		acct := dig(d, "createCustomerAccount", "id").(string)
		const n = 4
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if i%2 == 0 {
					codes[i] = e.do(e.admin, overrideContactDoc, map[string]any{"a": acct, "name": fmt.Sprintf("P%d", i),
						"email": fmt.Sprintf("p%d@a.example", i)}).code()
				} else {
					codes[i] = e.do(e.admin, overrideInviteDoc, map[string]any{"a": acct, "e": fmt.Sprintf("p%d@a.example", i)}).code()
				}
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case "":
				ok++
			case "FORBIDDEN":
			default:
				t.Fatalf("round %d: unexpected code %q (%v)", round, c, codes)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d concurrent additions succeeded, want 1 (%v)", round, ok, n, codes)
		}
	}
}
