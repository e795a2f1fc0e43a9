package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"portier/ent/useraccount"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Documents of the rights-group API.
const (
	myPermsDoc = `query($a: ID!) { myPermissions(customerAccountID: $a) }`
	canDoc     = `query($a: ID!, $p: Permission!) { can(customerAccountID: $a, permission: $p) }`
	groupsDoc  = `query($n: String!) { customerAccount(number: $n) { rightsGroups { id name description builtIn permissions
		memberships { id validFrom validUntil endedAt contact { id name } } } } }`
	createGroupDoc = `mutation($a: ID!, $name: String!, $p: [Permission!]) {
		createRightsGroup(input: {customerAccountID: $a, name: $name, permissions: $p}) { id name builtIn permissions customerAccountID } }`
	updateGroupDoc = `mutation($g: ID!, $name: String, $d: String) {
		updateRightsGroup(input: {groupID: $g, name: $name, description: $d}) { id name description } }`
	deleteGroupDoc = `mutation($g: ID!) { deleteRightsGroup(input: {groupID: $g}) }`
	setPermsDoc    = `mutation($g: ID!, $p: [Permission!]!) {
		setRightsGroupPermissions(input: {groupID: $g, permissions: $p}) { id permissions } }`
	addMemberDoc = `mutation($g: ID!, $c: ID!, $from: Date, $until: Date) {
		addRightsGroupMember(input: {groupID: $g, contactID: $c, validFrom: $from, validUntil: $until}) {
			id groupID contactID validFrom validUntil endedAt group { name } } }`
	removeMemberDoc = `mutation($g: ID!, $c: ID!, $d: Date) {
		removeRightsGroupMember(input: {groupID: $g, contactID: $c, lastDay: $d}) {
			id memberships { contactID validUntil endedAt } } }`
)

// strs turns a decoded JSON list into strings.
func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (e *env) myPerms(tok, account string) []string {
	e.t.Helper()
	return strs(dig(e.ok(tok, myPermsDoc, map[string]any{"a": account}), "myPermissions"))
}

// builtInGroup returns the ID of the account's built-in group, as seen by tok.
func (e *env) builtInGroup(tok, number string) string {
	e.t.Helper()
	d := e.ok(tok, groupsDoc, map[string]any{"n": number})
	for _, g := range dig(d, "customerAccount", "rightsGroups").([]any) {
		if dig(g, "builtIn") == true {
			return dig(g, "id").(string)
		}
	}
	e.t.Fatalf("no built-in group on %s: %v", number, d)
	return ""
}

func (e *env) createGroup(tok, account, name string, perms ...string) string {
	e.t.Helper()
	d := e.ok(tok, createGroupDoc, map[string]any{"a": account, "name": name, "p": perms})
	return dig(d, "createRightsGroup", "id").(string)
}

// berlinDays returns a function giving the date n days from the pinned
// clock's day in Europe/Berlin, and the instant that day ends.
func berlinDays(e *env) (func(n int) string, func(n int) time.Time) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		e.t.Fatal(err)
	}
	today := e.clock.Now().In(berlin)
	day := func(n int) string { return today.AddDate(0, 0, n).Format("2006-01-02") }
	end := func(n int) time.Time {
		d := today.AddDate(0, 0, n)
		return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, berlin)
	}
	return day, end
}

func (e *env) assignSales(account, email string) {
	e.t.Helper()
	ctx := viewer.SystemContext(context.Background())
	u, err := e.client.UserAccount.Query().Where(useraccount.Email(email)).Only(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.client.AccountManager.Create().SetCustomerAccountID(pulid.ID(account)).SetUserID(u.ID).Exec(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// myPermissions and can answer from the one evaluator, per principal; an
// account the caller cannot see answers exactly like one that does not
// exist (empty list, false). The catalogue has a description per
// permission.
func TestGroupsMyPermissionsAndCan(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G1001")
	b := e.createAccount("G1002")
	portal, _ := e.customerUser(a, "portal@a.example", "PORTAL_ACCESS")
	tech, _ := e.customerUser(a, "tech@a.example", "TECHNICAL_CONTACT")
	adminOnly, _ := e.customerUser(a, "adminonly@a.example", "CUSTOMER_ADMIN")
	admin, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	userB, _ := e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	sales := e.createUser("sales@provider.example", domain.StaffSales)
	salesAssigned := e.createUser("sales2@provider.example", domain.StaffSales)
	e.assignSales(a, "sales2@provider.example")

	all := make([]string, len(domain.Permissions))
	for i, p := range domain.Permissions {
		all[i] = p.EnumName()
	}
	supportPerms := []string{"ACCOUNT_READ", "CONTACTS_READ", "AUTHORIZATIONS_READ", "AUDIT_READ"}
	// SUPPORT also provisions resources (issue 9); SALES does not.
	supportOwn := []string{"ACCOUNT_READ", "CONTACTS_READ", "AUTHORIZATIONS_READ", "RESOURCES_MANAGE", "AUDIT_READ"}
	cases := []struct {
		name string
		tok  string
		want []string
	}{
		{"PORTAL_ACCESS alone", portal, []string{"ACCOUNT_READ", "RESOURCES_READ"}},
		{"TECHNICAL_CONTACT alone (no portal access)", tech, []string{}},
		{"CUSTOMER_ADMIN alone (no portal access)", adminOnly, []string{}},
		{"PORTAL_ACCESS + CUSTOMER_ADMIN", admin, all},
		{"user of account B", userB, []string{}},
		{"staff SUPPORT", support, supportOwn},
		{"staff SALES, unassigned", sales, []string{}},
		{"staff SALES, assigned", salesAssigned, supportPerms},
		{"staff ADMIN", e.admin, all},
	}
	missing := "acct_" + strings.Repeat("0", 26)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.myPerms(c.tok, a)
			if got == nil {
				got = []string{}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("myPermissions = %v, want %v", got, c.want)
			}
			for _, p := range []string{"ACCOUNT_READ", "GROUPS_MANAGE", "AUDIT_READ"} {
				d := e.ok(c.tok, canDoc, map[string]any{"a": a, "p": p})
				if dig(d, "can") != slices.Contains(c.want, p) {
					t.Fatalf("can(%s) = %v, want %v", p, dig(d, "can"), slices.Contains(c.want, p))
				}
			}
			// A made-up account ID and an ID of something else: empty, false.
			for _, id := range []string{missing, "not-an-id"} {
				if got := e.myPerms(c.tok, id); len(got) != 0 {
					t.Fatalf("myPermissions(%s) = %v", id, got)
				}
				if d := e.ok(c.tok, canDoc, map[string]any{"a": id, "p": "ACCOUNT_READ"}); dig(d, "can") != false {
					t.Fatalf("can on %s: %v", id, d)
				}
			}
		})
	}
	// B's admin learns nothing about A: the same answer as for a made-up ID.
	ra := e.do(userB, myPermsDoc, map[string]any{"a": a})
	rm := e.do(userB, myPermsDoc, map[string]any{"a": missing})
	if ra.Raw != rm.Raw {
		t.Fatalf("existence oracle: %s vs %s", ra.Raw, rm.Raw)
	}
	e.wantCode("", myPermsDoc, map[string]any{"a": a}, "UNAUTHENTICATED")
	e.wantCode("", canDoc, map[string]any{"a": a, "p": "ACCOUNT_READ"}, "UNAUTHENTICATED")
	e.wantCode(admin, canDoc, map[string]any{"a": a, "p": "ROOT"}, "BAD_USER_INPUT")

	// The catalogue: every permission once, in order, each described, the
	// same text as the enum value's description.
	e.wantCode("", `{ permissionCatalogue { name } }`, nil, "UNAUTHENTICATED")
	d := e.ok(portal, `{ permissionCatalogue { name description }
		__type(name: "Permission") { enumValues { name description } } }`, nil)
	cat := dig(d, "permissionCatalogue").([]any)
	enum := map[string]string{}
	for _, v := range dig(d, "__type", "enumValues").([]any) {
		enum[dig(v, "name").(string)] = dig(v, "description").(string)
	}
	if len(cat) != len(domain.Permissions) {
		t.Fatalf("catalogue has %d entries, want %d", len(cat), len(domain.Permissions))
	}
	for i, p := range domain.Permissions {
		name, desc := dig(cat, i, "name"), dig(cat, i, "description").(string)
		if name != p.EnumName() || strings.TrimSpace(desc) == "" || desc != enum[p.EnumName()] {
			t.Fatalf("catalogue entry %d = %v %q (enum: %q)", i, name, desc, enum[p.EnumName()])
		}
	}
}

// The whole life of a group: create with permissions, add a member who gets
// exactly those (and nothing outside them), rename, change permissions,
// list with members, remove the member, delete — each audited.
func TestGroupsLifecycle(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G2001")
	admin, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	worker, workerC := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")

	d := e.ok(admin, createGroupDoc, map[string]any{"a": a, "name": "  Billing ", "p": []string{"ORDERS_CREATE", "INVOICES_READ", "INVOICES_READ"}})
	g := dig(d, "createRightsGroup").(map[string]any)
	if g["name"] != "Billing" || g["builtIn"] != false || g["customerAccountID"] != a ||
		!slices.Equal(strs(g["permissions"]), []string{"INVOICES_READ", "ORDERS_CREATE"}) {
		t.Fatalf("created %v", g)
	}
	group := g["id"].(string)
	if has(e.myPerms(worker, a), "INVOICES_READ") {
		t.Fatal("permission before membership")
	}
	d = e.ok(admin, addMemberDoc, map[string]any{"g": group, "c": workerC})
	if dig(d, "addRightsGroupMember", "contactID") != workerC || dig(d, "addRightsGroupMember", "group", "name") != "Billing" ||
		dig(d, "addRightsGroupMember", "validUntil") != nil {
		t.Fatalf("membership %v", d)
	}
	// Union of roles and the group — and only what the group lists: a
	// permission of the catalogue outside the granted set stays absent
	// (new modules are invisible until granted).
	got := e.myPerms(worker, a)
	if !slices.Equal(got, []string{"ACCOUNT_READ", "RESOURCES_READ", "INVOICES_READ", "ORDERS_CREATE"}) {
		t.Fatalf("member permissions %v", got)
	}
	for _, p := range []string{"AUDIT_READ", "TICKETS_CREATE", "GROUPS_MANAGE"} {
		if d := e.ok(worker, canDoc, map[string]any{"a": a, "p": p}); dig(d, "can") != false {
			t.Fatalf("%s granted outside the group's set", p)
		}
	}
	// Rename and describe; a second group with the same name conflicts.
	d = e.ok(admin, updateGroupDoc, map[string]any{"g": group, "name": "Finance", "d": "Invoices and orders"})
	if dig(d, "updateRightsGroup", "name") != "Finance" || dig(d, "updateRightsGroup", "description") != "Invoices and orders" {
		t.Fatalf("update %v", d)
	}
	r := e.wantCode(admin, createGroupDoc, map[string]any{"a": a, "name": "Finance"}, "CONFLICT")
	if r.Errors[0].Extensions["field"] != "input.name" {
		t.Fatalf("conflict field: %s", r.Raw)
	}
	e.createGroup(admin, a, "Other")
	e.wantCode(admin, updateGroupDoc, map[string]any{"g": group, "name": "Other"}, "CONFLICT")
	// New permission set takes effect at once.
	e.ok(admin, setPermsDoc, map[string]any{"g": group, "p": []string{"AUDIT_READ"}})
	got = e.myPerms(worker, a)
	if !has(got, "AUDIT_READ") || has(got, "INVOICES_READ") {
		t.Fatalf("after setRightsGroupPermissions: %v", got)
	}
	// The account lists its groups with members (admin holds CONTACTS_READ);
	// the worker, without CONTACTS_READ, sees none.
	d = e.ok(admin, groupsDoc, map[string]any{"n": "G2001"})
	gs := dig(d, "customerAccount", "rightsGroups").([]any)
	if len(gs) != 3 {
		t.Fatalf("groups: %v", gs)
	}
	found := false
	for _, x := range gs {
		if dig(x, "id") == group {
			found = dig(x, "memberships", 0, "contact", "id") == workerC
		}
	}
	if !found {
		t.Fatalf("member not listed: %v", gs)
	}
	d = e.ok(worker, groupsDoc, map[string]any{"n": "G2001"})
	if n := len(dig(d, "customerAccount", "rightsGroups").([]any)); n != 0 {
		t.Fatalf("worker without CONTACTS_READ sees %d groups", n)
	}
	// Removing the member now ends the rights at once; history stays.
	d = e.ok(admin, removeMemberDoc, map[string]any{"g": group, "c": workerC})
	if dig(d, "removeRightsGroupMember", "memberships", 0, "endedAt") == nil {
		t.Fatalf("not ended: %v", d)
	}
	if has(e.myPerms(worker, a), "AUDIT_READ") {
		t.Fatal("rights kept after removal")
	}
	r = e.wantCode(admin, removeMemberDoc, map[string]any{"g": group, "c": workerC}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.contactID" {
		t.Fatalf("field: %s", r.Raw)
	}
	// Rejoin, then delete the group: the rights go with it.
	e.ok(admin, addMemberDoc, map[string]any{"g": group, "c": workerC})
	if !has(e.myPerms(worker, a), "AUDIT_READ") {
		t.Fatal("rejoin not effective")
	}
	d = e.ok(admin, deleteGroupDoc, map[string]any{"g": group})
	if dig(d, "deleteRightsGroup") != group {
		t.Fatalf("delete: %v", d)
	}
	if has(e.myPerms(worker, a), "AUDIT_READ") {
		t.Fatal("rights kept after the group was deleted")
	}
	e.wantCode(admin, deleteGroupDoc, map[string]any{"g": group}, "NOT_FOUND")
	// Every change is audited on the account.
	d = e.ok(admin, `{ auditEvents(first: 50, where: {actionHasPrefix: "rights_group."}) { edges { node { action customerAccountID } } } }`, nil)
	actions := map[string]int{}
	for _, edge := range dig(d, "auditEvents", "edges").([]any) {
		if dig(edge, "node", "customerAccountID") != a {
			t.Fatalf("audit event on another account: %v", edge)
		}
		actions[dig(edge, "node", "action").(string)]++
	}
	want := map[string]int{"rights_group.create": 3, "rights_group.update": 1, "rights_group.set_permissions": 1,
		"rights_group.add_member": 2, "rights_group.remove_member": 1, "rights_group.delete": 1}
	for k, n := range want {
		if actions[k] != n {
			t.Fatalf("audit %s: %d, want %d (all: %v)", k, actions[k], n, actions)
		}
	}
}

// Each account has one built-in group ("X" + number + "-" + name)
// that every contact with PORTAL_ACCESS belongs to; the customer admin sets
// its permissions; it cannot be renamed, deleted or given explicit members.
func TestGroupsBuiltIn(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G3001")
	admin, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	worker, workerC := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")
	tech, _ := e.customerUser(a, "tech@a.example", "TECHNICAL_CONTACT")

	d := e.ok(admin, groupsDoc, map[string]any{"n": "G3001"})
	gs := dig(d, "customerAccount", "rightsGroups").([]any)
	if len(gs) != 1 || dig(gs, 0, "builtIn") != true || dig(gs, 0, "name") != "XG3001-Customer G3001" ||
		len(dig(gs, 0, "permissions").([]any)) != 0 || len(dig(gs, 0, "memberships").([]any)) != 0 {
		t.Fatalf("built-in group: %v", gs)
	}
	builtIn := dig(gs, 0, "id").(string)
	e.ok(admin, setPermsDoc, map[string]any{"g": builtIn, "p": []string{"INVOICES_READ", "TICKETS_CREATE"}})
	if got := e.myPerms(worker, a); !has(got, "INVOICES_READ") || !has(got, "TICKETS_CREATE") {
		t.Fatalf("member of the built-in group lacks its permissions: %v", got)
	}
	// A contact created later is a member too; one without PORTAL_ACCESS gets nothing.
	late, _ := e.customerUser(a, "late@a.example", "PORTAL_ACCESS")
	if !has(e.myPerms(late, a), "INVOICES_READ") {
		t.Fatal("later contact not in the built-in group")
	}
	if got := e.myPerms(tech, a); len(got) != 0 {
		t.Fatalf("built-in group gave rights without PORTAL_ACCESS: %v", got)
	}
	for _, c := range []struct {
		doc   string
		vars  map[string]any
		field string
	}{
		{updateGroupDoc, map[string]any{"g": builtIn, "name": "Renamed"}, "input.name"},
		{deleteGroupDoc, map[string]any{"g": builtIn}, "input.groupID"},
		{addMemberDoc, map[string]any{"g": builtIn, "c": workerC}, "input.groupID"},
	} {
		r := e.wantCode(admin, c.doc, c.vars, "BAD_USER_INPUT")
		if r.Errors[0].Extensions["field"] != c.field || r.Errors[0].Extensions["reason"] != "BUILT_IN_GROUP" {
			t.Fatalf("built-in refusal: %s", r.Raw)
		}
	}
	// Its description may change; its name stays.
	d = e.ok(admin, updateGroupDoc, map[string]any{"g": builtIn, "name": "XG3001-Customer G3001", "d": "Everyone"})
	if dig(d, "updateRightsGroup", "description") != "Everyone" {
		t.Fatalf("description: %v", d)
	}
	// A group of the same name cannot be created beside it.
	e.wantCode(admin, createGroupDoc, map[string]any{"a": a, "name": "XG3001-Customer G3001"}, "CONFLICT")
	// The database holds at most one built-in group per account.
	sys := viewer.SystemContext(context.Background())
	if err := e.client.RightsGroup.Create().SetCustomerAccountID(pulid.ID(a)).SetName("Second").SetBuiltIn(true).Exec(sys); err == nil {
		t.Fatal("a second built-in group was stored")
	}
	if err := e.client.RightsGroup.Create().SetCustomerAccountID(pulid.ID(a)).SetName("Plain").Exec(sys); err != nil {
		t.Fatalf("a plain group beside the built-in one: %v", err)
	}
	// Removing PORTAL_ACCESS takes the built-in group's rights away.
	e.ok(admin, `mutation($c: ID!) { removeRole(input: {contactID: $c, role: PORTAL_ACCESS}) { id } }`, map[string]any{"c": workerC})
	if got := e.myPerms(worker, a); len(got) != 0 {
		t.Fatalf("rights after losing PORTAL_ACCESS: %v", got)
	}
}

// Who may manage groups: GROUPS_MANAGE holders and staff ADMIN. A visible
// account without the permission is FORBIDDEN; another customer's group or
// account is NOT_FOUND, exactly like a made-up ID.
func TestGroupsDenials(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G4001")
	b := e.createAccount("G4002")
	admin, contactA := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	portal, _ := e.customerUser(a, "portal@a.example", "PORTAL_ACCESS")
	tech, _ := e.customerUser(a, "tech@a.example", "TECHNICAL_CONTACT")
	adminOnly, _ := e.customerUser(a, "adminonly@a.example", "CUSTOMER_ADMIN")
	adminB, _ := e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	support := e.createUser("support@provider.example", domain.StaffSupport)
	sales := e.createUser("sales@provider.example", domain.StaffSales)
	salesAssigned := e.createUser("sales2@provider.example", domain.StaffSales)
	e.assignSales(a, "sales2@provider.example")
	group := e.createGroup(admin, a, "Team", "INVOICES_READ")
	e.ok(admin, addMemberDoc, map[string]any{"g": group, "c": contactA})
	madeUp := "grp_" + strings.Repeat("0", 26)

	docs := func(g, acct string) []struct {
		doc  string
		vars map[string]any
	} {
		return []struct {
			doc  string
			vars map[string]any
		}{
			{createGroupDoc, map[string]any{"a": acct, "name": "New"}},
			{updateGroupDoc, map[string]any{"g": g, "name": "Renamed"}},
			{setPermsDoc, map[string]any{"g": g, "p": []string{}}},
			{addMemberDoc, map[string]any{"g": g, "c": contactA}},
			{removeMemberDoc, map[string]any{"g": g, "c": contactA}},
			{deleteGroupDoc, map[string]any{"g": g}},
		}
	}
	for _, c := range []struct {
		name, tok, code string
	}{
		{"anonymous", "", "UNAUTHENTICATED"},
		{"PORTAL_ACCESS alone", portal, "FORBIDDEN"},
		{"TECHNICAL_CONTACT alone", tech, "NOT_FOUND"},
		{"CUSTOMER_ADMIN without PORTAL_ACCESS", adminOnly, "NOT_FOUND"},
		{"admin of account B", adminB, "NOT_FOUND"},
		{"staff SUPPORT", support, "FORBIDDEN"},
		{"staff SALES unassigned", sales, "NOT_FOUND"},
		{"staff SALES assigned", salesAssigned, "FORBIDDEN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, x := range docs(group, a) {
				e.wantCode(c.tok, x.doc, x.vars, c.code)
			}
		})
	}
	// A made-up group ID is NOT_FOUND for everyone, with the same answer
	// B's admin gets for A's group.
	for _, x := range docs(madeUp, "acct_"+strings.Repeat("0", 26)) {
		e.wantCode(adminB, x.doc, x.vars, "NOT_FOUND")
		e.wantCode(admin, x.doc, x.vars, "NOT_FOUND")
		e.wantCode(e.admin, x.doc, x.vars, "NOT_FOUND")
	}
	rA := e.do(adminB, updateGroupDoc, map[string]any{"g": group, "name": "X"})
	rM := e.do(adminB, updateGroupDoc, map[string]any{"g": madeUp, "name": "X"})
	if rA.Raw != rM.Raw {
		t.Fatalf("existence oracle: %s vs %s", rA.Raw, rM.Raw)
	}
	// The group is untouched.
	d := e.ok(admin, groupsDoc, map[string]any{"n": "G4001"})
	for _, g := range dig(d, "customerAccount", "rightsGroups").([]any) {
		if dig(g, "id") == group && (dig(g, "name") != "Team" || len(dig(g, "memberships").([]any)) != 1) {
			t.Fatalf("group changed by a denied caller: %v", g)
		}
	}
	// Staff ADMIN manages every account's groups.
	e.ok(e.admin, updateGroupDoc, map[string]any{"g": group, "name": "Team 2"})
	// Nobody outside A reads A's groups through node() either.
	r := e.do(adminB, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": group})
	if dig(r.Data, "node") != nil || r.code() != "NOT_FOUND" {
		t.Fatalf("node leaked: %s", r.Raw)
	}
}

// Objects of two accounts are never mixed: B's contact cannot join A's
// group (NOT_FOUND on the contact, like a made-up ID), and A's admin cannot
// touch B's group with A's contact.
func TestGroupsCrossTenant(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G5001")
	b := e.createAccount("G5002")
	adminA, contactA := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	adminB, contactB := e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	groupA := e.createGroup(adminA, a, "A team", "INVOICES_READ")
	groupB := e.createGroup(adminB, b, "B team", "INVOICES_READ")

	rB := e.wantCode(adminA, addMemberDoc, map[string]any{"g": groupA, "c": contactB}, "NOT_FOUND")
	rM := e.wantCode(adminA, addMemberDoc, map[string]any{"g": groupA, "c": "ctc_" + strings.Repeat("0", 26)}, "NOT_FOUND")
	if rB.Errors[0].Extensions["field"] != "input.contactID" || rB.Errors[0].Message != rM.Errors[0].Message {
		t.Fatalf("cross-tenant contact: %s vs %s", rB.Raw, rM.Raw)
	}
	// Even staff ADMIN cannot mix accounts.
	e.wantCode(e.admin, addMemberDoc, map[string]any{"g": groupA, "c": contactB}, "NOT_FOUND")
	e.wantCode(adminA, removeMemberDoc, map[string]any{"g": groupA, "c": contactB}, "NOT_FOUND")
	e.wantCode(adminA, addMemberDoc, map[string]any{"g": groupB, "c": contactA}, "NOT_FOUND")
	e.wantCode(adminA, setPermsDoc, map[string]any{"g": groupB, "p": []string{}}, "NOT_FOUND")
	// A contact ID as the account of a new group: it belongs to B.
	e.wantCode(adminA, createGroupDoc, map[string]any{"a": contactB, "name": "X"}, "NOT_FOUND")
	// B's contact got nothing on A, A's group has no members.
	if got := e.myPerms(adminB, a); len(got) != 0 {
		t.Fatalf("B's admin holds %v on A", got)
	}
	d := e.ok(adminA, groupsDoc, map[string]any{"n": "G5001"})
	for _, g := range dig(d, "customerAccount", "rightsGroups").([]any) {
		if len(dig(g, "memberships").([]any)) != 0 {
			t.Fatalf("membership created across accounts: %v", g)
		}
	}
}

// Nobody grants what he does not hold himself: a group manager with only
// some permissions can neither create nor widen a group beyond them, nor
// add members to (or extend memberships of) a group that grants more; he
// may take away. Staff ADMIN may grant anything.
func TestGroupsGrantEscalation(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G6001")
	admin, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	mgr, mgrC := e.customerUser(a, "manager@a.example", "PORTAL_ACCESS")
	_, workerC := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")
	day, _ := berlinDays(e)

	managers := e.createGroup(admin, a, "Group managers", "GROUPS_MANAGE", "CONTACTS_READ")
	e.ok(admin, addMemberDoc, map[string]any{"g": managers, "c": mgrC})
	finance := e.createGroup(admin, a, "Finance", "INVOICES_READ")
	e.ok(admin, addMemberDoc, map[string]any{"g": finance, "c": workerC, "until": day(3)})
	if got := e.myPerms(mgr, a); !has(got, "GROUPS_MANAGE") || has(got, "INVOICES_READ") {
		t.Fatalf("manager permissions %v", got)
	}
	escalation := func(doc string, vars map[string]any) {
		t.Helper()
		r := e.wantCode(mgr, doc, vars, "FORBIDDEN")
		if r.Errors[0].Extensions["reason"] != "GRANT_EXCEEDS_OWN_PERMISSIONS" {
			t.Fatalf("reason: %s", r.Raw)
		}
	}
	escalation(createGroupDoc, map[string]any{"a": a, "name": "Mine", "p": []string{"CONTACTS_READ", "INVOICES_READ"}})
	own := e.createGroup(mgr, a, "Mine", "CONTACTS_READ")
	escalation(setPermsDoc, map[string]any{"g": own, "p": []string{"CONTACTS_READ", "AUDIT_READ"}})
	escalation(setPermsDoc, map[string]any{"g": managers, "p": []string{"GROUPS_MANAGE", "CONTACTS_READ", "CONTACTS_MANAGE"}})
	escalation(addMemberDoc, map[string]any{"g": finance, "c": mgrC}) // not even himself
	escalation(removeMemberDoc, map[string]any{"g": finance, "c": workerC, "d": day(10)})
	if has(e.myPerms(mgr, a), "INVOICES_READ") {
		t.Fatal("manager obtained INVOICES_READ")
	}
	// What he holds he may grant; taking away is always allowed.
	e.ok(mgr, addMemberDoc, map[string]any{"g": own, "c": workerC})
	e.ok(mgr, removeMemberDoc, map[string]any{"g": finance, "c": workerC, "d": day(1)})
	e.ok(mgr, removeMemberDoc, map[string]any{"g": finance, "c": workerC})
	e.ok(mgr, setPermsDoc, map[string]any{"g": finance, "p": []string{}})
	e.ok(mgr, deleteGroupDoc, map[string]any{"g": finance})
	// The customer admin holds everything; staff ADMIN too.
	e.ok(admin, setPermsDoc, map[string]any{"g": own, "p": []string{"CONTACTS_READ", "AUDIT_READ"}})
	e.ok(e.admin, setPermsDoc, map[string]any{"g": managers, "p": []string{"GROUPS_MANAGE", "CONTACTS_READ", "INVOICES_READ"}})
	if !has(e.myPerms(mgr, a), "INVOICES_READ") {
		t.Fatal("grant by staff ADMIN not effective")
	}
}

// A membership valid until D is active until the end of D in the account's
// time zone (Europe/Berlin) and not a second longer; it can be shortened
// (down to today) and extended, never into the past; a first day in the
// future starts at that day's midnight. Bad input names its field.
func TestGroupsMembershipValidity(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G7001")
	admin, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, workerC := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")
	_, laterC := e.customerUser(a, "later@a.example", "PORTAL_ACCESS")
	group := e.createGroup(admin, a, "Audit", "AUDIT_READ")
	day, end := berlinDays(e)
	bad := func(doc string, vars map[string]any, field string) {
		t.Helper()
		r := e.wantCode(admin, doc, vars, "BAD_USER_INPUT")
		if r.Errors[0].Extensions["field"] != field {
			t.Fatalf("want field %s: %s", field, r.Raw)
		}
	}
	bad(addMemberDoc, map[string]any{"g": group, "c": workerC, "until": day(-1)}, "input.validUntil")
	bad(addMemberDoc, map[string]any{"g": group, "c": workerC, "from": day(-1)}, "input.validFrom")
	bad(addMemberDoc, map[string]any{"g": group, "c": workerC, "from": day(5), "until": day(4)}, "input.validUntil")
	bad(addMemberDoc, map[string]any{"g": group, "c": workerC, "until": "2026-02-30"}, "input.validUntil")
	bad(createGroupDoc, map[string]any{"a": a, "name": "   "}, "input.name")
	bad(createGroupDoc, map[string]any{"a": a, "name": strings.Repeat("x", 101)}, "input.name")
	bad(updateGroupDoc, map[string]any{"g": group, "d": strings.Repeat("x", 1001)}, "input.description")
	bad(setPermsDoc, map[string]any{"g": group, "p": []string{"ROOT"}}, "p") // the variable

	d := e.ok(admin, addMemberDoc, map[string]any{"g": group, "c": workerC, "until": day(2)})
	if dig(d, "addRightsGroupMember", "validUntil") != day(2) {
		t.Fatalf("membership: %v", d)
	}
	r := e.wantCode(admin, addMemberDoc, map[string]any{"g": group, "c": workerC}, "CONFLICT")
	if r.Errors[0].Extensions["field"] != "input.contactID" {
		t.Fatalf("field: %s", r.Raw)
	}
	// Extend to D+6, shorten to D+4, refuse the past.
	e.ok(admin, removeMemberDoc, map[string]any{"g": group, "c": workerC, "d": day(6)})
	d = e.ok(admin, removeMemberDoc, map[string]any{"g": group, "c": workerC, "d": day(4)})
	if dig(d, "removeRightsGroupMember", "memberships", 0, "validUntil") != day(4) {
		t.Fatalf("shortened: %v", d)
	}
	bad(removeMemberDoc, map[string]any{"g": group, "c": workerC, "d": day(-1)}, "input.lastDay")
	// A membership from a later day starts at that day's midnight in Berlin.
	e.ok(admin, addMemberDoc, map[string]any{"g": group, "c": laterC, "from": day(3), "until": day(3)})
	bad(removeMemberDoc, map[string]any{"g": group, "c": laterC, "d": day(2)}, "input.lastDay")

	worker := func() string { return e.login("worker@a.example", adminPassword) }
	later := func() string { return e.login("later@a.example", adminPassword) }
	e.clock.Set(end(2).Add(-time.Minute)) // 23:59 of D+2
	if has(e.myPerms(later(), a), "AUDIT_READ") {
		t.Fatal("membership active before its first day")
	}
	e.clock.Set(end(2)) // 00:00 of D+3
	if !has(e.myPerms(later(), a), "AUDIT_READ") {
		t.Fatal("membership not active on its first day")
	}
	e.clock.Set(end(3).Add(-time.Minute))
	if !has(e.myPerms(later(), a), "AUDIT_READ") || !has(e.myPerms(worker(), a), "AUDIT_READ") {
		t.Fatal("memberships over too early")
	}
	e.clock.Set(end(3))
	if has(e.myPerms(later(), a), "AUDIT_READ") {
		t.Fatal("membership active after its last day")
	}
	e.clock.Set(end(4).Add(-time.Minute)) // 23:59 of the last day
	if !has(e.myPerms(worker(), a), "AUDIT_READ") {
		t.Fatal("membership ended before the end of its last day")
	}
	e.clock.Set(end(4)) // midnight
	tok := worker()
	if has(e.myPerms(tok, a), "AUDIT_READ") {
		t.Fatal("membership active after its last day")
	}
	// Over: it cannot be extended any more, but the person can join again.
	admin = e.login("admin@a.example", adminPassword)
	bad(removeMemberDoc, map[string]any{"g": group, "c": workerC, "d": day(9)}, "input.contactID")
	e.ok(admin, addMemberDoc, map[string]any{"g": group, "c": workerC})
	if !has(e.myPerms(tok, a), "AUDIT_READ") {
		t.Fatal("rejoin not effective")
	}
	// Shortening to today keeps the rights to the end of today.
	e.ok(admin, removeMemberDoc, map[string]any{"g": group, "c": workerC, "d": day(5)})
	e.clock.Set(end(5).Add(-time.Second))
	if !has(e.myPerms(worker(), a), "AUDIT_READ") {
		t.Fatal("membership shortened to today ended early")
	}
	e.clock.Set(end(5))
	if has(e.myPerms(worker(), a), "AUDIT_READ") {
		t.Fatal("membership shortened to today still active tomorrow")
	}
}

// A dated role can be extended and shortened (down to today) with
// removeRole(lastDay:), never into the past; it holds until the end of the
// last day in the account's time zone.
func TestGroupsRoleEndDateChanges(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G8001")
	admin, _ := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, workerC := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")
	day, end := berlinDays(e)
	remove := `mutation($c: ID!, $r: Role!, $d: Date) { removeRole(input: {contactID: $c, role: $r, lastDay: $d}) {
		roleAssignments { role validUntil endedAt } } }`
	until := func(d map[string]any) any {
		for _, ra := range dig(d, "removeRole", "roleAssignments").([]any) {
			if dig(ra, "role") == "PORTAL_ACCESS" {
				return dig(ra, "validUntil")
			}
		}
		return nil
	}
	if u := until(e.ok(admin, remove, map[string]any{"c": workerC, "r": "PORTAL_ACCESS", "d": day(16)})); u != day(16) {
		t.Fatalf("first end: %v", u)
	}
	// Extend (the case of the issue: a later day after an earlier one).
	if u := until(e.ok(admin, remove, map[string]any{"c": workerC, "r": "PORTAL_ACCESS", "d": day(68)})); u != day(68) {
		t.Fatalf("extended: %v", u)
	}
	// Shorten, then shorten to today.
	if u := until(e.ok(admin, remove, map[string]any{"c": workerC, "r": "PORTAL_ACCESS", "d": day(10)})); u != day(10) {
		t.Fatalf("shortened: %v", u)
	}
	r := e.wantCode(admin, remove, map[string]any{"c": workerC, "r": "PORTAL_ACCESS", "d": day(-1)}, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["field"] != "input.lastDay" {
		t.Fatalf("field: %s", r.Raw)
	}
	if u := until(e.ok(admin, remove, map[string]any{"c": workerC, "r": "PORTAL_ACCESS", "d": day(0)})); u != day(0) {
		t.Fatalf("shortened to today: %v", u)
	}
	e.clock.Set(end(0).Add(-time.Minute))
	if got := e.myPerms(e.login("worker@a.example", adminPassword), a); !has(got, "ACCOUNT_READ") {
		t.Fatal("role ended before the end of today")
	}
	e.clock.Set(end(0))
	if got := e.myPerms(e.login("worker@a.example", adminPassword), a); len(got) != 0 {
		t.Fatalf("role still active after today: %v", got)
	}
	// Over: it can no longer be extended.
	admin = e.login("admin@a.example", adminPassword)
	e.wantCode(admin, remove, map[string]any{"c": workerC, "r": "PORTAL_ACCESS", "d": day(5)}, "BAD_USER_INPUT")
	d := e.ok(admin, `{ auditEvents(first: 20, where: {action: "role.remove"}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount").(float64) != 4 {
		t.Fatalf("role audit events: %v", d)
	}
}

// Listing groups with their members costs a constant number of statements,
// whatever the number of accounts, groups and members.
func TestGroupsListingHasNoNPlusOne(t *testing.T) {
	opt, counter := newCounter()
	e := newEnv(t, opt)
	for i := 0; i < 12; i++ {
		acct := e.createAccount(fmt.Sprintf("G9%03d", i))
		var contacts []string
		for j := 0; j < 3; j++ {
			contacts = append(contacts, e.createContact(e.admin, acct, fmt.Sprintf("P%d", j), fmt.Sprintf("p%d-%d@a.example", j, i), "PORTAL_ACCESS"))
		}
		for k := 0; k < 3; k++ {
			g := e.createGroup(e.admin, acct, fmt.Sprintf("Group %d", k), "INVOICES_READ")
			for _, c := range contacts {
				e.ok(e.admin, addMemberDoc, map[string]any{"g": g, "c": c})
			}
		}
	}
	doc := `query($n: Int!) { customerAccounts(first: $n) { edges { node { number
		rightsGroups { name builtIn permissions memberships { validUntil contact { name } group { name } } } } } } }`
	count := func(n int) int64 {
		counter.Store(0)
		d := e.ok(e.admin, doc, map[string]any{"n": n})
		edges := dig(d, "customerAccounts", "edges").([]any)
		members := 0
		for _, g := range dig(edges, n-1, "node", "rightsGroups").([]any) {
			members += len(dig(g, "memberships").([]any))
		}
		if len(edges) != n || len(dig(edges, n-1, "node", "rightsGroups").([]any)) != 4 || members != 9 {
			t.Fatalf("page of %d: %v", n, edges[n-1])
		}
		return counter.Load()
	}
	two, twelve := count(2), count(12)
	if two != twelve {
		t.Fatalf("statements: %d for 2 accounts, %d for 12 (N+1)", two, twelve)
	}
	if twelve > 12 {
		t.Fatalf("%d statements for one page of groups with members", twelve)
	}
	t.Logf("%d statements for 2 and for 12 accounts", twelve)
}

// The data layer alone keeps groups and memberships to the viewer's
// accounts: a direct ent query under A's admin sees only A's rows, and a
// write into B's group is refused by the policy.
func TestGroupsDataLayer(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G9901")
	b := e.createAccount("G9902")
	adminA, contactA := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	adminB, contactB := e.customerUser(b, "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	gA := e.createGroup(adminA, a, "A", "INVOICES_READ")
	gB := e.createGroup(adminB, b, "B", "INVOICES_READ")
	e.ok(adminA, addMemberDoc, map[string]any{"g": gA, "c": contactA})
	e.ok(adminB, addMemberDoc, map[string]any{"g": gB, "c": contactB})

	ctx := context.Background()
	u, err := e.client.UserAccount.Query().Where(useraccount.Email("admin@a.example")).Only(viewer.SystemContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer.Viewer{Kind: viewer.User, UserID: string(u.ID), EmailVerified: true}
	v.Access = newEvaluator(e, v)
	vctx := viewer.NewContext(ctx, v)
	if n, err := e.client.RightsGroup.Query().Count(vctx); err != nil || n != 2 { // A's built-in group and "A"
		t.Fatalf("groups visible to A: %d, %v", n, err)
	}
	if n, err := e.client.GroupMembership.Query().Count(vctx); err != nil || n != 1 {
		t.Fatalf("memberships visible to A: %d, %v", n, err)
	}
	if err := e.client.RightsGroup.UpdateOneID(pulid.ID(gB)).SetName("Hijacked").Exec(vctx); err == nil {
		t.Fatal("renamed B's group as A")
	}
	if err := e.client.GroupMembership.Create().SetCustomerAccountID(pulid.ID(b)).SetGroupID(pulid.ID(gB)).
		SetContactID(pulid.ID(contactA)).Exec(vctx); err == nil {
		t.Fatal("created a membership in B as A")
	}
	if _, err := e.client.RightsGroup.Query().Count(ctx); err == nil {
		t.Fatal("anonymous query of groups allowed")
	}
}

// An API key with GROUPS_MANAGE manages others' memberships but never its
// own user's rights: not its user's memberships, not the permissions of a
// group its user belongs to (the built-in group always).
func TestGroupsAPIKeyCannotChangeItsUsersRights(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("G9801")
	admin, adminC := e.customerUser(a, "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	_, workerC := e.customerUser(a, "worker@a.example", "PORTAL_ACCESS")
	mine := e.createGroup(admin, a, "Mine", "INVOICES_READ")
	e.ok(admin, addMemberDoc, map[string]any{"g": mine, "c": adminC})
	other := e.createGroup(admin, a, "Other", "INVOICES_READ")
	key, _ := e.createKey(admin, a, []string{"GROUPS_MANAGE", "CONTACTS_READ", "INVOICES_READ"}, e.clock.Now().Add(24*time.Hour))
	refused := func(doc string, vars map[string]any) {
		t.Helper()
		r := e.wantCode(key, doc, vars, "FORBIDDEN")
		if r.Errors[0].Extensions["reason"] != "API_KEY_NOT_ALLOWED" {
			t.Fatalf("reason: %s", r.Raw)
		}
	}
	refused(addMemberDoc, map[string]any{"g": other, "c": adminC})
	refused(removeMemberDoc, map[string]any{"g": mine, "c": adminC})
	refused(setPermsDoc, map[string]any{"g": mine, "p": []string{"INVOICES_READ"}})
	refused(setPermsDoc, map[string]any{"g": e.builtInGroup(admin, "G9801"), "p": []string{"INVOICES_READ"}})
	e.ok(key, addMemberDoc, map[string]any{"g": other, "c": workerC})
	e.ok(key, setPermsDoc, map[string]any{"g": other, "p": []string{"CONTACTS_READ"}})
	e.ok(key, removeMemberDoc, map[string]any{"g": other, "c": workerC})
	// The key grants no more than it holds itself.
	r := e.wantCode(key, setPermsDoc, map[string]any{"g": other, "p": []string{"AUDIT_READ"}}, "FORBIDDEN")
	if r.Errors[0].Extensions["reason"] != "GRANT_EXCEEDS_OWN_PERMISSIONS" {
		t.Fatalf("reason: %s", r.Raw)
	}
}
