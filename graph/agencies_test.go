package graph_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"portier/ent/useraccount"
	"portier/internal/domain"
	"portier/internal/viewer"
)

const delegateDoc = `mutation($c: ID!, $n: String, $id: ID, $p: [Permission!]!, $from: Date, $u: Date) {
  delegateToAgency(input: {clientAccountID: $c, agencyCustomerNumber: $n, agencyAccountID: $id, permissions: $p, validFrom: $from, validUntil: $u}) {
    id agencyID agencyNumber agencyName permissions active validUntil
  }
}`

const revokeDelegationDoc = `mutation($id: ID!, $d: Date) { revokeAgencyDelegation(input: {delegationID: $id, lastDay: $d}) { id active endedAt validUntil } }`

const setAgencyDoc = `mutation($a: ID!, $on: Boolean!) { setAccountIsAgency(input: {customerAccountID: $a, isAgency: $on}) { id isAgency } }`

const agencyClientsDoc = `query($a: ID!) { agencyClients(agencyAccountID: $a) { number name permissions active delegationID } }`

const contactsOfDoc = `query($n: String!) { customerAccount(number: $n) { number contacts(first: 50) { totalCount } } }`

// permsVia asks the evaluator directly what a user holds on an account now.
func permsVia(t *testing.T, e *env, email, account string) []string {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	u, err := e.client.UserAccount.Query().Where(useraccount.Email(email)).Only(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer.Viewer{Kind: viewer.User, UserID: string(u.ID), EmailVerified: true}
	ps, err := newEvaluator(e, v).Permissions(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.EnumName()
	}
	return out
}

func TestAgencyDelegation(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("71001")
	agency := e.createAccount("71002")
	other := e.createAccount("71003")
	second := e.createAccount("71004")
	clientAdmin, _ := e.customerUser(client, "admin@client.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	clientTech, _ := e.customerUser(client, "tech@client.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	agencyAdmin, _ := e.customerUser(agency, "admin@agency.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agencyTech, _ := e.customerUser(agency, "tech@agency.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	delegated := []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "DELEGATIONS_MANAGE", "TICKETS_CREATE"} // catalogue order
	vars := map[string]any{"c": client, "n": "71002", "p": delegated, "u": berlinDay(e, 5)}

	// Only accounts marked as agency receive delegations; staff ADMIN marks them.
	wantField(t, e.wantCode(clientAdmin, delegateDoc, vars, "BAD_USER_INPUT"), "input.agencyCustomerNumber")
	e.wantCode("", setAgencyDoc, map[string]any{"a": agency, "on": true}, "UNAUTHENTICATED")
	e.wantCode(agencyAdmin, setAgencyDoc, map[string]any{"a": agency, "on": true}, "FORBIDDEN")
	e.wantCode(support, setAgencyDoc, map[string]any{"a": agency, "on": true}, "FORBIDDEN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": second, "on": true})

	// Denials on delegating.
	e.wantCode("", delegateDoc, vars, "UNAUTHENTICATED")
	e.wantCode(clientTech, delegateDoc, vars, "FORBIDDEN")
	e.wantCode(agencyAdmin, delegateDoc, vars, "NOT_FOUND")
	e.wantCode(support, delegateDoc, vars, "FORBIDDEN")
	wantField(t, e.wantCode(clientAdmin, delegateDoc, map[string]any{"c": client, "p": delegated}, "BAD_USER_INPUT"), "input.agencyCustomerNumber")
	wantField(t, e.wantCode(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "71002", "p": []string{}}, "BAD_USER_INPUT"), "input.permissions")
	wantField(t, e.wantCode(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "71001", "p": delegated}, "BAD_USER_INPUT"), "input.agencyCustomerNumber")
	wantField(t, e.wantCode(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "71002", "p": delegated, "u": berlinDay(e, -1)}, "BAD_USER_INPUT"), "input.validUntil")
	// A non-agency account and an unknown number get the same answer.
	r1 := e.wantCode(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "71003", "p": delegated}, "BAD_USER_INPUT")
	r2 := e.wantCode(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "79999", "p": delegated}, "BAD_USER_INPUT")
	if r1.Errors[0].Message != r2.Errors[0].Message {
		t.Fatalf("oracle: %q vs %q", r1.Errors[0].Message, r2.Errors[0].Message)
	}

	if ps := permsVia(t, e, "admin@agency.example", client); len(ps) != 0 {
		t.Fatalf("agency admin holds %v on the client before any delegation", ps)
	}
	d := e.ok(clientAdmin, delegateDoc, vars)
	dl := dig(d, "delegateToAgency").(map[string]any)
	if dl["agencyNumber"] != "71002" || dl["active"] != true || len(dl["permissions"].([]any)) != len(delegated) {
		t.Fatalf("delegation: %v", dl)
	}
	e.wantCode(clientAdmin, delegateDoc, vars, "CONFLICT")

	// own ∩ delegated, exactly: the agency admin gets the delegated set (it
	// holds everything on the agency); the agency's technical contact only
	// ACCOUNT_READ and TICKETS_CREATE; nothing at all on another account.
	if got := permsVia(t, e, "admin@agency.example", client); !slices.Equal(got, delegated) {
		t.Fatalf("agency admin on client: %v, want %v", got, delegated)
	}
	if got := permsVia(t, e, "tech@agency.example", client); !slices.Equal(got, []string{"ACCOUNT_READ", "TICKETS_CREATE"}) {
		t.Fatalf("agency tech on client: %v", got)
	}
	if got := permsVia(t, e, "admin@agency.example", other); len(got) != 0 {
		t.Fatalf("agency admin on another account: %v", got)
	}
	// Through the API: the agency admin reads and manages contacts of the
	// client, but not its support authorizations (not delegated).
	e.ok(agencyAdmin, contactsOfDoc, map[string]any{"n": "71001"})
	// No roles: the delegation does not hold what TECHNICAL_CONTACT gives.
	newContact := e.createContact(agencyAdmin, client, "Neu über Agentur", "neu@client.example", []string{}...)
	e.wantCode(agencyAdmin, grantAuthDoc, map[string]any{"c": newContact, "k": "FINANCE_INVOICES"}, "FORBIDDEN")
	e.wantCode(agencyTech, createContactDoc, map[string]any{"a": client, "name": "X", "email": "x@client.example"}, "FORBIDDEN")
	e.wantCode(agencyAdmin, createContactDoc, map[string]any{"a": other, "name": "X", "email": "x@other.example"}, "NOT_FOUND")
	// Audit: "agency X for client Y".
	d = e.ok(clientAdmin, `{ auditEvents(first: 10, where: {action: "contact.create", actingVia: "agency:`+agency+`"}) { totalCount edges { node { customerAccountID } } } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 1 || dig(d, "auditEvents", "edges", 0, "node", "customerAccountID") != client {
		t.Fatalf("audit of the agency's action: %v", d)
	}
	// Nobody delegates what he does not hold: the agency admin (holding
	// DELEGATIONS_MANAGE on the client by delegation) may pass on CONTACTS_READ
	// but not AUTHORIZATIONS_MANAGE.
	r := e.wantCode(agencyAdmin, delegateDoc, map[string]any{"c": client, "n": "71004", "p": []string{"CONTACTS_READ", "AUTHORIZATIONS_MANAGE"}}, "FORBIDDEN")
	wantField(t, r, "input.permissions")
	d = e.ok(agencyAdmin, delegateDoc, map[string]any{"c": client, "n": "71004", "p": []string{"CONTACTS_READ"}})
	secondID := dig(d, "delegateToAgency", "id")

	// agencyClients: for the agency's DELEGATIONS_MANAGE holders.
	d = e.ok(agencyAdmin, agencyClientsDoc, map[string]any{"a": agency})
	if cs := dig(d, "agencyClients").([]any); len(cs) != 1 || dig(cs[0], "number") != "71001" || dig(cs[0], "active") != true {
		t.Fatalf("agency clients: %v", d)
	}
	e.wantCode(agencyTech, agencyClientsDoc, map[string]any{"a": agency}, "FORBIDDEN")
	e.wantCode(clientAdmin, agencyClientsDoc, map[string]any{"a": agency}, "NOT_FOUND")
	e.wantCode("", agencyClientsDoc, map[string]any{"a": agency}, "UNAUTHENTICATED")
	// The client sees its delegations; others do not.
	listDoc := `{ customerAccount(number: "71001") { agencyDelegations { agencyNumber agencyName permissions active } } }`
	d = e.ok(clientAdmin, listDoc, nil)
	if n := len(dig(d, "customerAccount", "agencyDelegations").([]any)); n != 2 {
		t.Fatalf("client sees %d delegations: %v", n, d)
	}

	// The end of the last day in the client's zone ends the delegation.
	end := endOfBerlinDay(e, 5)
	e.clock.Set(end.Add(-time.Minute))
	if got := permsVia(t, e, "admin@agency.example", client); !slices.Equal(got, delegated) {
		t.Fatalf("at 23:59 of the last day: %v", got)
	}
	e.clock.Set(end)
	if got := permsVia(t, e, "admin@agency.example", client); len(got) != 0 {
		t.Fatalf("at 00:00 after the last day: %v", got)
	}
	agencyAdmin = e.login("admin@agency.example", adminPassword)
	e.wantCode(agencyAdmin, createContactDoc, map[string]any{"a": client, "name": "Y", "email": "y@client.example"}, "NOT_FOUND")
	clientAdmin = e.login("admin@client.example", adminPassword)
	// The client revokes the other delegation at any time, now.
	d = e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": secondID})
	if dig(d, "revokeAgencyDelegation", "active") != false {
		t.Fatalf("revoked: %v", d)
	}
	wantField(t, e.wantCode(clientAdmin, revokeDelegationDoc, map[string]any{"id": secondID}, "BAD_USER_INPUT"), "input.delegationID")

	// A new delegation works again, and revoking it ends access at once.
	d = e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "71002", "p": []string{"ACCOUNT_READ"}})
	id := dig(d, "delegateToAgency", "id")
	if got := permsVia(t, e, "admin@agency.example", client); !slices.Equal(got, []string{"ACCOUNT_READ"}) {
		t.Fatalf("after re-delegation: %v", got)
	}
	// The agency sees the client (ACCOUNT_READ) but cannot end the delegation.
	e.wantCode(agencyAdmin, revokeDelegationDoc, map[string]any{"id": id}, "FORBIDDEN")
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": id})
	if got := permsVia(t, e, "admin@agency.example", client); len(got) != 0 {
		t.Fatalf("after revoke: %v", got)
	}
	// An account that stops being an agency stops acting for its clients.
	e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "71002", "p": []string{"ACCOUNT_READ"}})
	admin := e.login("admin@example.com", adminPassword)
	e.ok(admin, setAgencyDoc, map[string]any{"a": agency, "on": false})
	if got := permsVia(t, e, "admin@agency.example", client); len(got) != 0 {
		t.Fatalf("after isAgency=false: %v", got)
	}
	d = e.ok(clientAdmin, `{ auditEvents(first: 50, where: {actionHasPrefix: "agency_delegation."}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) < 5 {
		t.Fatalf("delegation audit: %v", d)
	}
}

// An agency may be the default agency of many clients.
func TestAgencyDefaultForManyClients(t *testing.T) {
	e := newEnv(t)
	agency := e.createAccount("72001")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	doc := `mutation($a: ID!, $n: String) { setDefaultAgency(input: {customerAccountID: $a, agencyCustomerNumber: $n}) { id defaultAgencyID } }`
	for _, n := range []string{"72002", "72003", "72004"} {
		c := e.createAccount(n)
		admin, _ := e.customerUser(c, "admin@"+n+".example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
		tech, _ := e.customerUser(c, "tech@"+n+".example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
		e.wantCode(tech, doc, map[string]any{"a": c, "n": "72001"}, "FORBIDDEN")
		d := e.ok(admin, doc, map[string]any{"a": c, "n": "72001"})
		if dig(d, "setDefaultAgency", "defaultAgencyID") != agency {
			t.Fatalf("default agency: %v", d)
		}
		wantField(t, e.wantCode(admin, doc, map[string]any{"a": c, "n": n}, "BAD_USER_INPUT"), "input.agencyCustomerNumber")
	}
	c := e.createAccount("72005")
	d := e.ok(e.admin, doc, map[string]any{"a": c, "n": "72001"})
	d = e.ok(e.admin, doc, map[string]any{"a": c})
	if dig(d, "setDefaultAgency", "defaultAgencyID") != nil {
		t.Fatalf("cleared: %v", d)
	}
}
