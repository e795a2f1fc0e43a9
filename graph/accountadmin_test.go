package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Issue 8 item 9: what a customer admin sees and does on the account.

const (
	updateAccountDoc = `mutation($in: UpdateCustomerAccountInput!) {
  updateCustomerAccount(input: $in) {
    id name shortName timeZone locale secondFactorRequired
    address { street postalCode city country }
  }
}`
	accountUpdatesDoc = `query($n: String!) { customerAccount(number: $n) {
  auditEvents(filter: {action: "customer_account.update"}) { totalCount
    edges { node { action actor { userID } changes { field value } } } } } }`
	accountUsersDoc = `query($n: String!, $first: Int, $after: Cursor) { customerAccount(number: $n) {
  users(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { contact { id name } name email username roles groups { id name }
      lastLoginAt secondFactorEnabled hasAPIKeys } } } } }`
	membershipsDoc = `{ me { memberships { customerAccount { id } permissions secondFactorRequired } } }`
	loginEnrolDoc  = `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) {
  accessToken refreshToken secondFactorEnrolmentRequired challenge { id methods } } }`
	enableFactorDoc = `mutation($m: SecondFactorMethod!, $c: String!, $p: String) {
  enableTwoFactor(input: {method: $m, code: $c, password: $p}) { methods recoveryCodes } }`
)

// enrolTOTP enables an authenticator app for the user of tok (whose
// password is adminPassword).
func (e *env) enrolTOTP(tok string) {
	e.t.Helper()
	d := e.ok(tok, `mutation { startTotpEnrollment { secret } }`, nil)
	secret := secrets.add(dig(d, "startTotpEnrollment", "secret").(string))
	code, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	d = e.ok(tok, enableFactorDoc, map[string]any{"m": "TOTP", "c": code, "p": adminPassword})
	for _, c := range dig(d, "enableTwoFactor", "recoveryCodes").([]any) {
		secrets.add(c.(string))
	}
}

// enrolEmailCode enables e-mail codes for the user of tok at addr.
func (e *env) enrolEmailCode(tok, addr string) {
	e.t.Helper()
	e.ok(tok, `mutation { requestSecondFactorCode(method: EMAIL_CODE) }`, nil)
	code := e.codeIn(e.mailAbout(addr, "Anmeldecode").Body)
	d := e.ok(tok, enableFactorDoc, map[string]any{"m": "EMAIL_CODE", "c": code, "p": adminPassword})
	for _, c := range dig(d, "enableTwoFactor", "recoveryCodes").([]any) {
		secrets.add(c.(string))
	}
}

// changesOf turns an audit event's changes into a map field -> JSON value.
func changesOf(ev any) map[string]string {
	out := map[string]string{}
	for _, c := range dig(ev, "changes").([]any) {
		out[dig(c, "field").(string)] = dig(c, "value").(string)
	}
	return out
}

func TestUpdateCustomerAccount(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("71001")
	b := e.createAccount("71002")
	boss, _ := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	tech, _ := e.customerUser(a, "technik@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	_, foreignContact := e.customerUser(b, "fremd@example.org", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	ownContact := e.createContact(boss, a, "Ohne Login", "")

	// Defaults of a new account.
	d := e.ok(boss, `query { customerAccount(number: "71001") { locale secondFactorRequired address { city } timeZone } }`, nil)
	if dig(d, "customerAccount", "locale") != "de" || dig(d, "customerAccount", "secondFactorRequired") != false ||
		dig(d, "customerAccount", "address") != nil || dig(d, "customerAccount", "timeZone") != "Europe/Berlin" {
		t.Fatalf("defaults: %v", d)
	}

	// The customer admin changes everything at once.
	in := map[string]any{"customerAccountID": a, "name": "  Muster GmbH ", "shortName": "Muster",
		"address":  map[string]any{"street": "Hauptstr. 1", "postalCode": "10115", "city": "Berlin", "country": "de"},
		"timeZone": "Europe/Vienna", "locale": "en"}
	d = e.ok(boss, updateAccountDoc, map[string]any{"in": in})
	got := dig(d, "updateCustomerAccount").(map[string]any)
	if got["name"] != "Muster GmbH" || got["shortName"] != "Muster" || got["timeZone"] != "Europe/Vienna" || got["locale"] != "en" ||
		dig(got, "address", "country") != "DE" || dig(got, "address", "postalCode") != "10115" || dig(got, "address", "city") != "Berlin" {
		t.Fatalf("update: %v", got)
	}
	// Audited with old and new values, read back through the account's log.
	d = e.ok(boss, accountUpdatesDoc, map[string]any{"n": "71001"})
	if n := dig(d, "customerAccount", "auditEvents", "totalCount"); n != float64(1) {
		t.Fatalf("want one update event: %v", d)
	}
	ch := changesOf(dig(d, "customerAccount", "auditEvents", "edges", 0, "node"))
	for field, want := range map[string]string{
		"name": `"Muster GmbH"`, "previousName": `"Customer 71001"`, "timeZone": `"Europe/Vienna"`,
		"previousTimeZone": `"Europe/Berlin"`, "locale": `"en"`, "previousLocale": `"de"`, "shortName": `"Muster"`,
	} {
		if ch[field] != want {
			t.Errorf("change %s = %s, want %s (%v)", field, ch[field], want, ch)
		}
	}
	if !strings.Contains(ch["address"], `"postalCode":"10115"`) || !strings.Contains(ch["previousAddress"], `"city":""`) {
		t.Errorf("address change: %v", ch)
	}
	if _, ok := ch["secondFactorRequired"]; ok {
		t.Errorf("unchanged field recorded: %v", ch)
	}

	// The same values again: nothing written, nothing audited.
	e.ok(boss, updateAccountDoc, map[string]any{"in": in})
	e.ok(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a}})
	d = e.ok(boss, accountUpdatesDoc, map[string]any{"n": "71001"})
	if n := dig(d, "customerAccount", "auditEvents", "totalCount"); n != float64(1) {
		t.Fatalf("a no-op was audited: %v", d)
	}

	// Only the given parts change: one address part, the short name cleared.
	d = e.ok(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a,
		"address": map[string]any{"city": "Potsdam"}, "shortName": ""}})
	got = dig(d, "updateCustomerAccount").(map[string]any)
	if dig(got, "address", "street") != "Hauptstr. 1" || dig(got, "address", "city") != "Potsdam" || got["shortName"] != "" ||
		got["name"] != "Muster GmbH" || got["locale"] != "en" {
		t.Fatalf("partial update: %v", got)
	}

	// Bad input names the field; nothing changes.
	long := strings.Repeat("x", 201)
	for _, c := range []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"name": ""}, "input.name"},
		{map[string]any{"name": "   "}, "input.name"},
		{map[string]any{"name": long}, "input.name"},
		{map[string]any{"shortName": strings.Repeat("k", 51)}, "input.shortName"},
		{map[string]any{"address": map[string]any{"country": "XX"}}, "input.address.country"},
		{map[string]any{"address": map[string]any{"country": "DEU"}}, "input.address.country"},
		{map[string]any{"address": map[string]any{"postalCode": strings.Repeat("1", 21)}}, "input.address.postalCode"},
		{map[string]any{"address": map[string]any{"street": long}}, "input.address.street"},
		{map[string]any{"address": map[string]any{"city": long}}, "input.address.city"},
		{map[string]any{"timeZone": "Mars/Olympus_Mons"}, "input.timeZone"},
		{map[string]any{"timeZone": "Local"}, "input.timeZone"},
		{map[string]any{"timeZone": ""}, "input.timeZone"},
		{map[string]any{"locale": "fr"}, "input.locale"},
		// Turning the policy on without an own second factor would lock
		// the admin out.
		{map[string]any{"secondFactorRequired": true}, "input.secondFactorRequired"},
	} {
		c.in["customerAccountID"] = a
		r := e.wantCode(boss, updateAccountDoc, map[string]any{"in": c.in}, "BAD_USER_INPUT")
		wantField(t, r, c.field)
	}
	d = e.ok(boss, accountUpdatesDoc, map[string]any{"n": "71001"})
	if n := dig(d, "customerAccount", "auditEvents", "totalCount"); n != float64(2) {
		t.Fatalf("bad input changed something: %v", d)
	}

	// Denials: no ACCOUNT_UPDATE, another tenant's account or object, an
	// object of the own account that is no account, anonymous.
	e.wantCode(tech, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a, "name": "Hijack"}}, "FORBIDDEN")
	r := e.wantCode(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": b, "name": "Hijack"}}, "NOT_FOUND")
	wantField(t, r, "input.customerAccountID")
	e.wantCode(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": foreignContact, "name": "Hijack"}}, "NOT_FOUND")
	e.wantCode(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": "acct_01J00000000000000000000000", "name": "Hijack"}}, "NOT_FOUND")
	e.wantCode(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": ownContact, "name": "Hijack"}}, "NOT_FOUND")
	e.wantCode("", updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a, "name": "Hijack"}}, "UNAUTHENTICATED")
	d = e.ok(e.admin, `query { customerAccount(number: "71002") { name } }`, nil)
	if dig(d, "customerAccount", "name") != "Customer 71002" {
		t.Fatalf("foreign account changed: %v", d)
	}

	// Staff ADMIN may; a DELETED account cannot be changed by anyone.
	e.ok(e.admin, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": b, "name": "Fremd AG"}})
	e.ok(e.admin, `mutation($a: ID!) { deleteCustomerAccount(customerAccountID: $a) { id } }`, map[string]any{"a": b})
	r = e.wantCode(e.admin, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": b, "name": "Zombie"}}, "BAD_USER_INPUT")
	wantField(t, r, "input.customerAccountID")
}

// Changing the time zone shifts when a "valid until" date ends (documented
// on UpdateCustomerAccountInput.timeZone).
func TestUpdateCustomerAccountTimeZoneShiftsValidity(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("71011")
	boss, _ := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	tok, contact := e.customerUser(a, "temp@a.example", "PORTAL_ACCESS")
	// The role ends at the end of today in Berlin.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := e.clock.Now().In(berlin).Format("2006-01-02")
	e.ok(boss, `mutation($c: ID!, $d: Date) { removeRole(input: {contactID: $c, role: PORTAL_ACCESS, lastDay: $d}) { id } }`,
		map[string]any{"c": contact, "d": today})
	endBerlin, _ := time.ParseInLocation("2006-01-02", today, berlin)
	endBerlin = endBerlin.AddDate(0, 0, 1)
	e.clock.Set(endBerlin.Add(30 * time.Minute)) // over in Berlin, not yet in New York
	tok = e.login("temp@a.example", adminPassword)
	boss = e.login("chef@a.example", adminPassword)
	if len(e.myPerms(tok, a)) != 0 {
		t.Fatal("role still active after its last day in Berlin")
	}
	e.ok(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a, "timeZone": "America/New_York"}})
	if !slices.Contains(e.myPerms(tok, a), "ACCOUNT_READ") {
		t.Fatal("the last day did not move with the time zone")
	}
}

func TestAccountUsers(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("72001")
	b := e.createAccount("72002")
	boss, bossContact := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	tech, techContact := e.customerUser(a, "technik@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	// The same person is customer admin of B, member of a group there and
	// holds a key there: nothing of that shows on A.
	e.createContact(e.admin, b, "Technik bei B", "technik@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	secretGroupB := e.createGroup(e.admin, b, "Geheim B", "CONTACTS_READ")
	var techOnB string
	for _, c := range dig(e.ok(e.admin, `query { customerAccount(number: "72002") { contacts(first: 10) { edges { node { id email } } } } }`, nil),
		"customerAccount", "contacts", "edges").([]any) {
		if dig(c, "node", "email") == "technik@a.example" {
			techOnB = dig(c, "node", "id").(string)
		}
	}
	e.ok(e.admin, addMemberDoc, map[string]any{"g": secretGroupB, "c": techOnB})
	e.createKey(tech, b, []string{"ACCOUNT_READ"}, e.clock.Now().Add(24*time.Hour))
	// On A: a group membership, and the boss's key.
	opsA := e.createGroup(boss, a, "Ops", "INVOICES_READ")
	e.ok(boss, addMemberDoc, map[string]any{"g": opsA, "c": techContact})
	e.createKey(boss, a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(24*time.Hour))
	// A person with 2FA, one who never logged in, one contact without login.
	tfa, _ := e.customerUser(a, "zweifaktor@a.example", "PORTAL_ACCESS")
	e.enrolTOTP(tfa)
	ctx := viewer.SystemContext(context.Background())
	if err := e.client.UserAccount.Create().SetEmail("nie@a.example").SetUsername("nie").SetName("Nie Angemeldet").
		SetPasswordHash("x").SetEmailVerifiedAt(e.clock.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	e.createContact(e.admin, a, "nie@a.example", "nie@a.example", "PORTAL_ACCESS")
	e.createContact(boss, a, "Ohne Login", "ohne@a.example", "TECHNICAL_CONTACT")
	// A later login moves lastLoginAt.
	e.clock.Advance(time.Hour)
	tech = e.login("technik@a.example", adminPassword)
	boss = e.login("chef@a.example", adminPassword)
	loginAt := e.clock.Now().UTC()

	d := e.ok(boss, accountUsersDoc, map[string]any{"n": "72001"})
	conn := dig(d, "customerAccount", "users")
	if dig(conn, "totalCount") != float64(4) {
		t.Fatalf("want 4 users (not the contact without login): %v", d)
	}
	users := map[string]map[string]any{}
	for _, edge := range dig(conn, "edges").([]any) {
		n := dig(edge, "node").(map[string]any)
		users[fmt.Sprint(n["email"])] = n
	}
	if _, ok := users["ohne@a.example"]; ok {
		t.Fatal("a contact without login is listed")
	}
	techRow := users["technik@a.example"]
	if fmt.Sprint(techRow["roles"]) != "[PORTAL_ACCESS TECHNICAL_CONTACT]" || len(techRow["groups"].([]any)) != 1 ||
		dig(techRow, "groups", 0, "id") != opsA || techRow["hasAPIKeys"] != false || techRow["secondFactorEnabled"] != false ||
		dig(techRow, "contact", "id") != techContact || techRow["username"] != "technik_a_example" {
		t.Fatalf("tech row: %v", techRow)
	}
	if ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(techRow["lastLoginAt"])); !ts.Equal(loginAt) {
		t.Fatalf("lastLoginAt %v, want %v", techRow["lastLoginAt"], loginAt)
	}
	bossRow := users["chef@a.example"]
	if fmt.Sprint(bossRow["roles"]) != "[PORTAL_ACCESS CUSTOMER_ADMIN]" || bossRow["hasAPIKeys"] != true ||
		dig(bossRow, "contact", "id") != bossContact || len(bossRow["groups"].([]any)) != 0 {
		t.Fatalf("boss row: %v", bossRow)
	}
	if users["zweifaktor@a.example"]["secondFactorEnabled"] != true {
		t.Fatalf("2FA not shown: %v", users["zweifaktor@a.example"])
	}
	if never := users["nie@a.example"]; never == nil || never["lastLoginAt"] != nil {
		t.Fatalf("never logged in: %v", never)
	}
	raw, _ := json.Marshal(d)
	for _, leak := range []string{b, secretGroupB, techOnB, "Geheim B", "Technik bei B"} {
		if strings.Contains(string(raw), leak) {
			t.Fatalf("the list shows %q of another account: %s", leak, raw)
		}
	}

	// Paging by name: Chef, Nie, Technik, Zweifaktor (user names are the e-mails).
	d = e.ok(boss, accountUsersDoc, map[string]any{"n": "72001", "first": 2})
	if dig(d, "customerAccount", "users", "pageInfo", "hasNextPage") != true || len(dig(d, "customerAccount", "users", "edges").([]any)) != 2 {
		t.Fatalf("first page: %v", d)
	}
	d = e.ok(boss, accountUsersDoc, map[string]any{"n": "72001", "first": 2, "after": dig(d, "customerAccount", "users", "pageInfo", "endCursor")})
	if dig(d, "customerAccount", "users", "edges", 0, "node", "email") != "technik@a.example" ||
		dig(d, "customerAccount", "users", "pageInfo", "hasNextPage") != false {
		t.Fatalf("second page: %v", d)
	}

	// Without CONTACTS_READ the list is empty, like the contacts edge; a
	// foreign account is not visible at all; staff SUPPORT may read it.
	d = e.ok(tech, accountUsersDoc, map[string]any{"n": "72001"})
	if dig(d, "customerAccount", "users", "totalCount") != float64(0) || len(dig(d, "customerAccount", "users", "edges").([]any)) != 0 {
		t.Fatalf("tech sees the user list: %v", d)
	}
	d = e.ok(boss, accountUsersDoc, map[string]any{"n": "72002"})
	if dig(d, "customerAccount") != nil {
		t.Fatalf("foreign account: %v", d)
	}
	d = e.ok(tech, accountUsersDoc, map[string]any{"n": "72002"}) // tech is admin of B
	if dig(d, "customerAccount", "users", "totalCount") != float64(1) {
		t.Fatalf("B's list as its admin: %v", d)
	}
	e.createUser("support@example.org", domain.StaffSupport)
	support := e.login("support@example.org", adminPassword)
	d = e.ok(support, accountUsersDoc, map[string]any{"n": "72001"})
	if dig(d, "customerAccount", "users", "totalCount") != float64(4) {
		t.Fatalf("support: %v", d)
	}
	// A revoked key no longer counts.
	var keyID string
	for _, k := range dig(e.ok(boss, `query($a: ID!) { apiKeys(customerAccountID: $a) { id } }`, map[string]any{"a": a}), "apiKeys").([]any) {
		keyID = dig(k, "id").(string)
	}
	e.ok(boss, `mutation($k: ID!) { revokeApiKey(id: $k) { id } }`, map[string]any{"k": keyID})
	d = e.ok(boss, accountUsersDoc, map[string]any{"n": "72001", "first": 1})
	if dig(d, "customerAccount", "users", "edges", 0, "node", "hasAPIKeys") != false {
		t.Fatalf("revoked key still counts: %v", d)
	}
}

// The user list costs the same statements for 2 users as for 20.
func TestAccountUsersBoundedStatements(t *testing.T) {
	opt, counter := newCounter()
	e := newEnv(t, opt)
	a := e.createAccount("73001")
	boss, _ := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	group := e.createGroup(boss, a, "Ops", "CONTACTS_READ")
	ctx := viewer.SystemContext(context.Background())
	now := e.clock.Now()
	add := func(from, to int) {
		for i := from; i < to; i++ {
			u, err := e.client.UserAccount.Create().SetEmail(fmt.Sprintf("p%02d@a.example", i)).SetUsername(fmt.Sprintf("p%02d", i)).
				SetName(fmt.Sprintf("P%02d", i)).SetPasswordHash("x").SetEmailVerifiedAt(now).SetLastLoginAt(now).
				SetSecondFactorMethods([]string{"TOTP"}).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.client.Contact.Create().SetCustomerAccountID(pulid.ID(a)).SetName(u.Name).SetEmail(u.Email).SetUserID(u.ID).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []domain.Role{domain.RolePortalAccess, domain.RoleTechnicalContact} {
				if err := e.client.RoleAssignment.Create().SetCustomerAccountID(pulid.ID(a)).SetContactID(c.ID).SetRole(r).SetValidFrom(now).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.client.GroupMembership.Create().SetCustomerAccountID(pulid.ID(a)).SetGroupID(pulid.ID(group)).SetContactID(c.ID).SetValidFrom(now).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.client.APIKey.Create().SetUserID(u.ID).SetCustomerAccountID(pulid.ID(a)).SetName("k").SetPrefix("ptk_x").
				SetSecretHash(fmt.Sprintf("hash-%d", i)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(n int) int64 {
		counter.Store(0)
		d := e.ok(boss, accountUsersDoc, map[string]any{"n": "73001", "first": 50})
		edges := dig(d, "customerAccount", "users", "edges").([]any)
		if len(edges) != n+1 {
			t.Fatalf("%d users, want %d", len(edges), n+1)
		}
		last := dig(edges[n-1], "node")
		if dig(last, "groups", 0, "name") != "Ops" || dig(last, "hasAPIKeys") != true || len(dig(last, "roles").([]any)) != 2 ||
			dig(last, "secondFactorEnabled") != true || dig(last, "contact", "name") == nil {
			t.Fatalf("row not complete: %v", last)
		}
		return counter.Load()
	}
	add(0, 2)
	few := count(2)
	add(2, 20)
	many := count(20)
	if few != many {
		t.Fatalf("statements: %d for 2 users, %d for 20 (N+1)", few, many)
	}
	if many > 20 {
		t.Fatalf("%d statements for one page; expected a small constant", many)
	}
	t.Logf("%d statements for 2 and for 20 users", many)
}

func TestSecondFactorRequiredPolicy(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("74001")
	other := e.createAccount("74002")
	boss, _ := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	plain, _ := e.customerUser(a, "ohne@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	mailer, _ := e.customerUser(a, "mail@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	secured, _ := e.customerUser(a, "mit@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	e.enrolEmailCode(secured, "mit@a.example")
	// plain also acts for another account that requires nothing.
	e.createContact(e.admin, other, "Ohne", "ohne@a.example", "PORTAL_ACCESS")
	key, _ := e.createKey(plain, a, []string{"ACCOUNT_READ", "CONTACTS_READ"}, e.clock.Now().Add(48*time.Hour))
	if len(e.myPerms(key, a)) == 0 || len(e.myPerms(plain, a)) == 0 {
		t.Fatal("no permissions before the policy")
	}
	if dig(e.ok("", loginEnrolDoc, map[string]any{"l": "ohne@a.example", "p": adminPassword}), "login", "secondFactorEnrolmentRequired") != false {
		t.Fatal("enrolment required before any policy")
	}

	// The admin needs an own second factor before turning the policy on.
	on := map[string]any{"in": map[string]any{"customerAccountID": a, "secondFactorRequired": true}}
	r := e.wantCode(boss, updateAccountDoc, on, "BAD_USER_INPUT")
	if r.Errors[0].Extensions["reason"] != "OWN_SECOND_FACTOR_REQUIRED" {
		t.Fatalf("reason: %s", r.Raw)
	}
	e.enrolTOTP(boss)
	if dig(e.ok(boss, updateAccountDoc, on), "updateCustomerAccount", "secondFactorRequired") != true {
		t.Fatal("policy not set")
	}
	d := e.ok(boss, accountUpdatesDoc, map[string]any{"n": "74001"})
	ch := changesOf(dig(d, "customerAccount", "auditEvents", "edges", 0, "node"))
	if ch["secondFactorRequired"] != "true" || ch["previousSecondFactorRequired"] != "false" {
		t.Fatalf("policy change not audited: %v", ch)
	}
	// The account's customer admins are told (in German, the users' locale).
	for _, addr := range []string{"chef@a.example", "ohne@a.example"} {
		if m := e.mailAbout(addr, "Zweiter Faktor"); !strings.Contains(m.Subject, "74001") || strings.Contains(m.Subject, "nicht mehr") ||
			!strings.Contains(m.Body, "chef@a.example hat") {
			t.Fatalf("policy mail to %s: %s\n%s", addr, m.Subject, m.Body)
		}
	}
	if e.queued("mail@a.example", "Zweiter Faktor") != 0 {
		t.Fatal("a technical contact was told about the policy")
	}

	// A user without a second factor holds nothing on A (through every
	// gate), keeps the other account, and is told why.
	if p := e.myPerms(plain, a); len(p) != 0 {
		t.Fatalf("permissions without second factor: %v", p)
	}
	if len(e.myPerms(plain, other)) == 0 {
		t.Fatal("the policy of A reached another account")
	}
	if dig(e.ok(plain, `query { customerAccount(number: "74001") { id } }`, nil), "customerAccount") != nil {
		t.Fatal("account still visible")
	}
	e.wantCode(plain, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a, "name": "X"}}, "NOT_FOUND")
	e.wantCode(plain, createContactDoc, map[string]any{"a": a, "name": "X"}, "NOT_FOUND")
	ms := dig(e.ok(plain, membershipsDoc, nil), "me", "memberships").([]any)
	withheld := 0
	for _, m := range ms {
		if dig(m, "customerAccount", "id") == a {
			withheld++
			if dig(m, "secondFactorRequired") != true || len(dig(m, "permissions").([]any)) != 0 {
				t.Fatalf("membership on A: %v", m)
			}
		} else if dig(m, "secondFactorRequired") != false {
			t.Fatalf("membership on the other account: %v", m)
		}
	}
	if withheld != 1 {
		t.Fatalf("memberships: %v", ms)
	}
	// Its API key is denied as well.
	if p := e.myPerms(key, a); len(p) != 0 {
		t.Fatalf("key of a user without second factor: %v", p)
	}
	if dig(e.ok(key, `query { customerAccount(number: "74001") { id } }`, nil), "customerAccount") != nil {
		t.Fatal("key still reads the account")
	}
	// Login says enrolment is required; a refresh says it again.
	d = e.ok("", loginEnrolDoc, map[string]any{"l": "ohne@a.example", "p": adminPassword})
	if dig(d, "login", "secondFactorEnrolmentRequired") != true || dig(d, "login", "accessToken") == nil {
		t.Fatalf("login: %v", d)
	}
	secrets.add(dig(d, "login", "accessToken").(string))
	refresh := secrets.add(dig(d, "login", "refreshToken").(string))
	d = e.ok("", `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken secondFactorEnrolmentRequired } }`, map[string]any{"r": refresh})
	secrets.add(dig(d, "refreshSession", "accessToken").(string))
	secrets.add(dig(d, "refreshSession", "refreshToken").(string))
	if dig(d, "refreshSession", "secondFactorEnrolmentRequired") != true {
		t.Fatalf("refresh: %v", d)
	}

	// A contact with no role there loses nothing, so it is not told to enrol.
	roleless, _ := e.customerUser(a, "leer@a.example")
	if dig(e.ok(roleless, membershipsDoc, nil), "me", "memberships", 0, "secondFactorRequired") != false {
		t.Fatal("a contact without roles is told its permissions are withheld")
	}
	d = e.ok("", loginEnrolDoc, map[string]any{"l": "leer@a.example", "p": adminPassword})
	secrets.add(dig(d, "login", "accessToken").(string))
	secrets.add(dig(d, "login", "refreshToken").(string))
	if dig(d, "login", "secondFactorEnrolmentRequired") != false {
		t.Fatalf("a contact without roles is told to enrol: %v", d)
	}

	// Users with a second factor, and staff, are unaffected.
	if len(e.myPerms(secured, a)) == 0 || len(e.myPerms(boss, a)) == 0 {
		t.Fatal("a user with a second factor lost access")
	}
	d = e.ok("", loginEnrolDoc, map[string]any{"l": "mit@a.example", "p": adminPassword})
	if dig(d, "login", "challenge") == nil || dig(d, "login", "secondFactorEnrolmentRequired") != false {
		t.Fatalf("login with second factor: %v", d)
	}
	if !slices.Contains(e.myPerms(e.admin, a), "ACCOUNT_UPDATE") {
		t.Fatal("staff ADMIN affected")
	}
	e.createUser("support@example.org", domain.StaffSupport)
	if dig(e.ok(e.login("support@example.org", adminPassword), `query { customerAccount(number: "74001") { id } }`, nil), "customerAccount", "id") != a {
		t.Fatal("staff SUPPORT affected")
	}
	// The admin's list shows who still has to enrol.
	d = e.ok(boss, accountUsersDoc, map[string]any{"n": "74001"})
	for _, edge := range dig(d, "customerAccount", "users", "edges").([]any) {
		n := dig(edge, "node")
		want := dig(n, "email") == "chef@a.example" || dig(n, "email") == "mit@a.example"
		if dig(n, "secondFactorEnabled") != want {
			t.Fatalf("secondFactorEnabled of %v", n)
		}
	}

	// Enrolment works for the locked-out users, and gives access back at
	// once: with an authenticator app, and with e-mail codes.
	e.enrolTOTP(plain)
	if !slices.Contains(e.myPerms(plain, a), "ACCOUNT_UPDATE") {
		t.Fatal("no access after enrolling TOTP")
	}
	if len(e.myPerms(key, a)) == 0 {
		t.Fatal("key still denied after its user enrolled")
	}
	if len(e.myPerms(mailer, a)) != 0 {
		t.Fatal("mailer has access before enrolling")
	}
	e.enrolEmailCode(mailer, "mail@a.example")
	if !slices.Contains(e.myPerms(mailer, a), "TICKETS_CREATE") {
		t.Fatal("no access after enrolling e-mail codes")
	}

	// Turning the policy off gives a user without second factor its access
	// back (audited again).
	late, _ := e.customerUser(a, "spaet@a.example", "PORTAL_ACCESS")
	if len(e.myPerms(late, a)) != 0 {
		t.Fatal("new user without second factor has access")
	}
	e.ok(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a, "secondFactorRequired": false}})
	if m := e.mailAbout("chef@a.example", "Zweiter Faktor"); !strings.Contains(m.Subject, "nicht mehr vorgeschrieben") {
		t.Fatalf("policy-off mail: %s", m.Subject)
	}
	if len(e.myPerms(late, a)) == 0 {
		t.Fatal("no access after the policy was turned off")
	}
	d = e.ok(boss, accountUpdatesDoc, map[string]any{"n": "74001"})
	if dig(d, "customerAccount", "auditEvents", "totalCount") != float64(2) {
		t.Fatalf("policy changes: %v", d)
	}
}

// Concurrent changes never get lost silently: each either wins (and is
// audited) or is told CONFLICT; the audit log has one event per winner.
func TestUpdateCustomerAccountConcurrent(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("75001")
	boss, _ := e.customerUser(a, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	const n = 6
	codes := make(chan string, n)
	names := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("Parallel %d", i)
			r := e.do(boss, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": a, "name": name}})
			codes <- r.code()
			if r.code() == "" {
				names <- name
			}
		}(i)
	}
	wg.Wait()
	close(codes)
	close(names)
	won := 0
	for c := range codes {
		switch c {
		case "":
			won++
		case "CONFLICT":
		default:
			t.Fatalf("concurrent update answered %s", c)
		}
	}
	var winners []string
	for name := range names {
		winners = append(winners, name)
	}
	d := e.ok(boss, accountUpdatesDoc, map[string]any{"n": "75001"})
	if dig(d, "customerAccount", "auditEvents", "totalCount") != float64(won) || won == 0 {
		t.Fatalf("%d winners, audit: %v", won, d)
	}
	final := dig(e.ok(boss, `query { customerAccount(number: "75001") { name } }`, nil), "customerAccount", "name").(string)
	if !slices.Contains(winners, final) {
		t.Fatalf("final name %q is no winner's %v", final, winners)
	}
}

// A client that requires a second factor requires it of the agency's people
// acting for it too; the agency's own account is not affected.
func TestSecondFactorRequiredReachesAgencyPeople(t *testing.T) {
	e := newEnv(t)
	client := e.createAccount("76001")
	agency := e.createAccount("76002")
	clientAdmin, _ := e.customerUser(client, "chef@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	agencyAdmin, _ := e.customerUser(agency, "agentur@example.org", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(e.admin, setAgencyDoc, map[string]any{"a": agency, "on": true})
	e.ok(clientAdmin, delegateDoc, map[string]any{"c": client, "n": "76002", "p": []string{"ACCOUNT_READ", "CONTACTS_READ"}})
	if !slices.Contains(e.myPerms(agencyAdmin, client), "CONTACTS_READ") {
		t.Fatal("delegation does not work")
	}
	e.enrolTOTP(clientAdmin)
	e.ok(clientAdmin, updateAccountDoc, map[string]any{"in": map[string]any{"customerAccountID": client, "secondFactorRequired": true}})
	if p := e.myPerms(agencyAdmin, client); len(p) != 0 {
		t.Fatalf("agency person without second factor acts for the client: %v", p)
	}
	if dig(e.ok(agencyAdmin, `query { customerAccount(number: "76001") { id } }`, nil), "customerAccount") != nil {
		t.Fatal("client still visible to the agency person")
	}
	if !slices.Contains(e.myPerms(agencyAdmin, agency), "ACCOUNT_UPDATE") {
		t.Fatal("the client's policy reached the agency's own account")
	}
	d := e.ok("", loginEnrolDoc, map[string]any{"l": "agentur@example.org", "p": adminPassword})
	secrets.add(dig(d, "login", "accessToken").(string))
	secrets.add(dig(d, "login", "refreshToken").(string))
	if dig(d, "login", "secondFactorEnrolmentRequired") != true {
		t.Fatalf("agency person not told to enrol: %v", d)
	}
	e.enrolTOTP(agencyAdmin)
	if !slices.Contains(e.myPerms(agencyAdmin, client), "CONTACTS_READ") {
		t.Fatal("agency person without access after enrolling")
	}
}
