package graph_test

import (
	"slices"
	"testing"
	"time"
)

const contactGrantsDoc = `query($id: ID!) { node(id: $id) { ... on Contact {
  roleAssignments { role grantedViaDelegationID } } } }`

// agencySetup: a client delegating contact management to an agency whose
// CUSTOMER_ADMIN acts for it; returns client, client admin, agent, delegation.
func agencySetup(e *env, n string, until any) (string, string, string, string) {
	client := e.createAccount("97" + n + "1")
	agency := e.createAccount("97" + n + "2")
	clientAdmin, _ := e.customerUser(client, "admin"+n+"@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent"+n+"@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "97" + n + "2", "u": until,
		"p": []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "RESOURCES_READ"}})
	return client, clientAdmin, agent, dig(d, "delegateToAgency", "id").(string)
}

// A grant made through the delegation names it; one made by the client's own
// admin names none and survives the delegation's end.
func TestAgencyGrantsOwnAdminGrantSurvives(t *testing.T) {
	e := newEnv(t)
	client, clientAdmin, agent, delegation := agencySetup(e, "11", nil)
	// The agent creates a contact for a colleague (through the delegation).
	viaAgent := dig(e.ok(agent, createContactDoc, map[string]any{"a": client, "name": "Colleague",
		"email": "colleague11@a.example", "roles": []string{"PORTAL_ACCESS"}}), "createContact", "id").(string)
	// The client's own admin creates one for a staff member of its own.
	own := dig(e.ok(clientAdmin, createContactDoc, map[string]any{"a": client, "name": "Own",
		"email": "own11@a.example", "roles": []string{"PORTAL_ACCESS"}}), "createContact", "id").(string)
	got := dig(e.ok(clientAdmin, contactGrantsDoc, map[string]any{"id": viaAgent}), "node", "roleAssignments", 0, "grantedViaDelegationID")
	if got != delegation {
		t.Fatalf("grant through the agency names %v, want the delegation %s", got, delegation)
	}
	if got := dig(e.ok(clientAdmin, contactGrantsDoc, map[string]any{"id": own}), "node", "roleAssignments", 0, "grantedViaDelegationID"); got != nil {
		t.Fatalf("the client admin's grant names delegation %v", got)
	}
	colleague := e.createUser("colleague11@a.example", "")
	e.ok(colleague, `mutation { linkContacts }`, nil)
	ownUser := e.createUser("own11@a.example", "")
	e.ok(ownUser, `mutation { linkContacts }`, nil)
	if len(e.myPerms(colleague, client)) == 0 || len(e.myPerms(ownUser, client)) == 0 {
		t.Fatal("grants not active while the delegation lasts")
	}
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	if ps := e.myPerms(colleague, client); len(ps) != 0 {
		t.Fatalf("grant through the agency survives the delegation: %v", ps)
	}
	if ps := e.myPerms(ownUser, client); len(ps) == 0 {
		t.Fatal("the client admin's own grant ended with the delegation")
	}
	if ps := e.myPerms(agent, client); len(ps) != 0 {
		t.Fatalf("agent keeps %v", ps)
	}
	// The client's user list agrees with the evaluator.
	d := e.ok(clientAdmin, `query($n: String!) { customerAccount(number: $n) { users(first: 10) { edges { node { email roles } } } } }`,
		map[string]any{"n": "97111"})
	roles := map[string]int{}
	for _, edge := range dig(d, "customerAccount", "users", "edges").([]any) {
		roles[dig(edge, "node", "email").(string)] = len(dig(edge, "node", "roles").([]any))
	}
	if roles["colleague11@a.example"] != 0 || roles["own11@a.example"] != 1 {
		t.Fatalf("user list roles after the delegation ended: %v", roles)
	}
}

// A delegation that ends by its last day ends the grants made through it.
func TestAgencyGrantsEndWithDelegationValidUntil(t *testing.T) {
	e := newEnv(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	lastDay := e.clock.Now().In(berlin).AddDate(0, 0, 1).Format("2006-01-02")
	client, _, agent, _ := agencySetup(e, "12", lastDay)
	e.ok(agent, createContactDoc, map[string]any{"a": client, "name": "Agent",
		"email": "agent12@a.example", "roles": []string{"PORTAL_ACCESS"}})
	e.ok(agent, `mutation { linkContacts }`, nil)
	if len(e.myPerms(agent, client)) == 0 {
		t.Fatal("nothing while the delegation lasts")
	}
	e.clock.Advance(24 * time.Hour)
	agent = e.login("agent12@a.example", adminPassword) // the access token expired
	if len(e.myPerms(agent, client)) == 0 {
		t.Fatal("nothing on the delegation's last day")
	}
	e.clock.Advance(48 * time.Hour)
	agent = e.login("agent12@a.example", adminPassword)
	if ps := e.myPerms(agent, client); len(ps) != 0 {
		t.Fatalf("agent keeps %v on the client after the delegation's last day", ps)
	}
	d := e.ok(agent, `query { me { memberships { customerAccount { number } permissions } } }`, nil)
	for _, m := range dig(d, "me", "memberships").([]any) {
		if dig(m, "customerAccount", "number") == "97121" && len(dig(m, "permissions").([]any)) != 0 {
			t.Fatalf("me.memberships shows %v on the client", m)
		}
	}
}

// The support desk decides by a caller's support authorizations: one an
// agency's person granted through the delegation stops deciding when the
// delegation ends, and the desk no longer lists it.
func TestAgencyGrantedAuthorizationEndsForTheSupportDesk(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("97131")
	agency := e.createAccount("97132")
	clientAdmin, _ := e.customerUser(client, "admin13@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent13@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "97132",
		"p": []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "RESOURCES_READ", "AUTHORIZATIONS_READ", "AUTHORIZATIONS_MANAGE"}})
	delegation := dig(d, "delegateToAgency", "id").(string)
	caller := e.createContact(clientAdmin, client, "Caller", "caller13@a.example", "PORTAL_ACCESS")
	e.ok(agent, grantAuthDoc, map[string]any{"c": caller, "k": "VPN_REMOTE_MAINTENANCE"})
	support := e.createUser("support13@provider.example", "SUPPORT")
	ask := map[string]any{"customerNumber": "97131", "contactID": caller, "request": "VPN_ACCESS_NEW"}
	if got := e.authorize(support, ask); got["decision"] != "ALLOWED" {
		t.Fatalf("while the delegation lasts: %v", got)
	}
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	got := e.authorize(support, ask)
	if got["decision"] != "DENIED" || got["decidedBy"] != nil {
		t.Fatalf("after the delegation ended: %v", got)
	}
}

// The client's own admin can grant for good a role that an agency granted
// through its delegation: the agency's grant does not count as "already
// held", and the admin's grant survives the delegation.
func TestAgencyGrantedRoleCanBeAdoptedByTheClient(t *testing.T) {
	e := newEnv(t)
	client, clientAdmin, agent, delegation := agencySetup(e, "14", nil)
	ct := dig(e.ok(agent, createContactDoc, map[string]any{"a": client, "name": "Colleague",
		"email": "colleague14@a.example", "roles": []string{"PORTAL_ACCESS"}}), "createContact", "id").(string)
	colleague := e.createUser("colleague14@a.example", "")
	e.ok(colleague, `mutation { linkContacts }`, nil)
	e.wantCode(agent, assignRoleAsDoc, map[string]any{"c": ct, "r": "PORTAL_ACCESS"}, "CONFLICT")
	e.ok(clientAdmin, assignRoleAsDoc, map[string]any{"c": ct, "r": "PORTAL_ACCESS"})
	e.wantCode(clientAdmin, assignRoleAsDoc, map[string]any{"c": ct, "r": "PORTAL_ACCESS"}, "CONFLICT")
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	if len(e.myPerms(colleague, client)) == 0 {
		t.Fatal("the client's own grant ended with the agency's delegation")
	}
}

// An admin an agency appointed through its delegation does not keep the
// client account administered (the client may end the delegation at any
// time): the client's only own admin still cannot step down.
func TestAgencyAppointedAdminIsNoSuccessor(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("97151")
	agency := e.createAccount("97152")
	clientAdmin, bossContact := e.customerUser(client, "admin15@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent15@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	all := []string{}
	for _, p := range e.permsOn(clientAdmin, client) {
		all = append(all, p)
	}
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "97152", "p": all})
	delegation := dig(d, "delegateToAgency", "id").(string)
	e.ok(agent, createContactDoc, map[string]any{"a": client, "name": "Appointed",
		"email": "appointed15@a.example", "roles": []string{"PORTAL_ACCESS", "CUSTOMER_ADMIN"}})
	r := e.wantCode(clientAdmin, endRoleDoc, map[string]any{"c": bossContact, "r": "CUSTOMER_ADMIN"}, "CONFLICT")
	if r.Errors[0].Extensions["reason"] != "LAST_CUSTOMER_ADMIN" {
		t.Fatalf("reason: %s", r.Raw)
	}
	// Once the delegation is over, the appointed admin hears nothing more
	// of the account: admin mails go to the client's own admin only.
	appointed := e.createUser("appointed15@a.example", "")
	e.ok(appointed, `mutation { linkContacts }`, nil)
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	e.ok(e.admin, deactivateDoc, map[string]any{"a": client})
	if e.queued("admin15@a.example", "deaktiviert") != 1 || e.queued("appointed15@a.example", "deaktiviert") != 0 {
		t.Fatalf("deactivation mails: own admin %d, appointed %d",
			e.queued("admin15@a.example", "deaktiviert"), e.queued("appointed15@a.example", "deaktiviert"))
	}
}

// The client's list of support authorizations shows one granted through an
// agency delegation as inactive once the delegation is over.
func TestAgencyGrantedAuthorizationShownInactive(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("97161")
	agency := e.createAccount("97162")
	clientAdmin, _ := e.customerUser(client, "admin16@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent16@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "97162",
		"p": []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "RESOURCES_READ", "AUTHORIZATIONS_READ", "AUTHORIZATIONS_MANAGE"}})
	delegation := dig(d, "delegateToAgency", "id").(string)
	ct := e.createContact(clientAdmin, client, "Caller", "caller16@a.example", "PORTAL_ACCESS")
	e.ok(agent, grantAuthDoc, map[string]any{"c": ct, "k": "VPN_REMOTE_MAINTENANCE"})
	e.ok(clientAdmin, grantAuthDoc, map[string]any{"c": ct, "k": "FINANCE_INVOICES"})
	doc := `query($id: ID!) { node(id: $id) { ... on Contact { authorizations { kind active } } } }`
	active := func() map[string]bool {
		out := map[string]bool{}
		for _, a := range dig(e.ok(clientAdmin, doc, map[string]any{"id": ct}), "node", "authorizations").([]any) {
			out[dig(a, "kind").(string)] = dig(a, "active").(bool)
		}
		return out
	}
	if got := active(); !got["VPN_REMOTE_MAINTENANCE"] || !got["FINANCE_INVOICES"] {
		t.Fatalf("before: %v", got)
	}
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	if got := active(); got["VPN_REMOTE_MAINTENANCE"] || !got["FINANCE_INVOICES"] {
		t.Fatalf("after the delegation ended: %v", got)
	}
}

// The same for a rights group membership: an agency's membership through
// its delegation does not stop the client's admin from adding the contact
// for good, and only the client's membership outlives the delegation.
func TestAgencyGroupMembershipCanBeAdoptedByTheClient(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("97171")
	agency := e.createAccount("97172")
	clientAdmin, _ := e.customerUser(client, "admin17@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agent, _ := e.customerUser(agency, "agent17@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	d := e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "97172",
		"p": []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "GROUPS_MANAGE", "INVOICES_READ"}})
	delegation := dig(d, "delegateToAgency", "id").(string)
	group := e.createGroup(clientAdmin, client, "Billing", "INVOICES_READ")
	tok, ct := e.customerUser(client, "member17@a.example", "PORTAL_ACCESS")
	e.ok(agent, addMemberDoc, map[string]any{"g": group, "c": ct})
	e.wantCode(agent, addMemberDoc, map[string]any{"g": group, "c": ct}, "CONFLICT")
	e.ok(clientAdmin, addMemberDoc, map[string]any{"g": group, "c": ct})
	e.wantCode(clientAdmin, addMemberDoc, map[string]any{"g": group, "c": ct}, "CONFLICT")
	e.ok(clientAdmin, revokeDelegationDoc, map[string]any{"id": delegation})
	if ps := e.myPerms(tok, client); !slices.Contains(ps, "INVOICES_READ") {
		t.Fatalf("the client's own membership ended with the delegation: %v", ps)
	}
}
