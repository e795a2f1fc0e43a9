package graph_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"portier/ent/customeraccount"
	"portier/ent/useraccount"
	"portier/internal/apikeys"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

const createKeyDoc = `mutation($a: ID!, $name: String!, $p: [Permission!]!, $exp: Time!) {
  createApiKey(input: {customerAccountID: $a, name: $name, permissions: $p, expiresAt: $exp}) {
    secret apiKey { id name prefix permissions expiresAt lastUsedAt revokedAt customerAccountID userID }
  }
}`

// createKey creates a key as tok and returns its secret and ID.
func (e *env) createKey(tok, account string, perms []string, expires time.Time) (string, string) {
	e.t.Helper()
	d := e.ok(tok, createKeyDoc, map[string]any{"a": account, "name": "CI deploy", "p": perms, "exp": expires.Format(time.RFC3339Nano)})
	secret := secrets.add(dig(d, "createApiKey", "secret").(string))
	return secret, dig(d, "createApiKey", "apiKey", "id").(string)
}

func keyVars(account string, perms []string, expires time.Time) map[string]any {
	return map[string]any{"a": account, "name": "k", "p": perms, "exp": expires.Format(time.RFC3339Nano)}
}

const keyMeDoc = `{ me { kind user { id } memberships { customerAccount { id } permissions } } }`

func keyPermissions(t *testing.T, e *env, key string) []string {
	t.Helper()
	d := e.ok(key, keyMeDoc, nil)
	var out []string
	for _, m := range dig(d, "me", "memberships").([]any) {
		for _, p := range dig(m, "permissions").([]any) {
			out = append(out, p.(string))
		}
	}
	sort.Strings(out)
	return out
}

func TestAPIKeyHappyPath(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20001")
	alice, _ := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	exp := e.clock.Now().Add(30 * 24 * time.Hour)
	d := e.ok(alice, createKeyDoc, keyVars(a, []string{"CONTACTS_MANAGE", "ACCOUNT_READ", "CONTACTS_READ", "ACCOUNT_READ"}, exp))
	secret := secrets.add(dig(d, "createApiKey", "secret").(string))
	keyID := dig(d, "createApiKey", "apiKey", "id").(string)
	if !strings.HasPrefix(secret, "ptk_") || len(secret) != 47 {
		t.Fatalf("secret %q…: want ptk_ + 43 characters", secret[:6])
	}
	if p := dig(d, "createApiKey", "apiKey", "prefix").(string); !strings.HasPrefix(secret, p) || len(p) != 10 {
		t.Fatalf("prefix %q is not the key's beginning", p)
	}
	if got := dig(d, "createApiKey", "apiKey", "permissions").([]any); len(got) != 3 {
		t.Fatalf("permissions not deduplicated: %v", got)
	}

	// The key acts as alice, narrowed.
	d = e.ok(secret, keyMeDoc, nil)
	if dig(d, "me", "kind") != "API_KEY" {
		t.Fatalf("kind: %v", dig(d, "me", "kind"))
	}
	if got := keyPermissions(t, e, secret); strings.Join(got, ",") != "ACCOUNT_READ,CONTACTS_MANAGE,CONTACTS_READ" {
		t.Fatalf("key permissions: %v", got)
	}
	// roles: [] — the key cannot grant the default TECHNICAL_CONTACT.
	d = e.ok(secret, `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "Bob", roles: []}) { id } }`, map[string]any{"a": a})
	bob := dig(d, "createContact", "id").(string)

	// Audit: actor alice, acting via the key, in the same transaction.
	d = e.ok(alice, `{ auditEvents(first: 5, where: {action: "contact.create", targetID: "`+bob+`"}) { edges { node { actorKind actorID actingVia } } } }`, nil)
	ev := dig(d, "auditEvents", "edges", 0, "node")
	meID := dig(e.ok(alice, keyMeDoc, nil), "me", "user", "id")
	if dig(ev, "actorKind") != "API_KEY" || dig(ev, "actorID") != meID || dig(ev, "actingVia") != "apikey:"+keyID {
		t.Fatalf("audit event: %v", ev)
	}
	d = e.ok(alice, `{ auditEvents(first: 5, where: {action: "api_key.create"}) { edges { node { targetID actorID } } } }`, nil)
	if dig(d, "auditEvents", "edges", 0, "node", "targetID") != keyID {
		t.Fatalf("key creation not audited: %v", d)
	}

	// Listing: never the secret; lastUsedAt written at most once a minute.
	list := `{ apiKeys { id name prefix permissions expiresAt lastUsedAt revokedAt } }`
	r := e.do(alice, list, nil)
	if strings.Contains(r.Raw, secret) || strings.Contains(r.Raw, secret[10:]) {
		t.Fatal("the listing shows the secret")
	}
	first := dig(r.Data, "apiKeys", 0, "lastUsedAt")
	if first == nil || dig(r.Data, "apiKeys", 0, "id") != keyID {
		t.Fatalf("listing: %s", r.Raw)
	}
	e.clock.Advance(30 * time.Second)
	e.ok(secret, keyMeDoc, nil)
	if got := dig(e.ok(alice, list, nil), "apiKeys", 0, "lastUsedAt"); got != first {
		t.Fatalf("lastUsedAt written again within a minute: %v -> %v", first, got)
	}
	e.clock.Advance(31 * time.Second)
	e.ok(secret, keyMeDoc, nil)
	if got := dig(e.ok(alice, list, nil), "apiKeys", 0, "lastUsedAt"); got == first {
		t.Fatal("lastUsedAt not updated after a minute")
	}
	// Per account, for APIKEYS_MANAGE holders.
	carol, _ := e.customerUser(a, "carol@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	if n := len(dig(e.ok(carol, `query($a: ID) { apiKeys(customerAccountID: $a) { id } }`, map[string]any{"a": a}), "apiKeys").([]any)); n != 1 {
		t.Fatalf("carol sees %d keys of the account", n)
	}
}

func TestAPIKeyStaysWithinItsPermissionsAndAccount(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20011")
	b := e.createAccount("K-20012")
	alice, _ := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.createContact(e.admin, b, "alice on B", "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	e.ok(alice, `mutation { linkContacts }`, nil)
	contactB := e.createContact(e.admin, b, "Someone on B", "")
	// alice holds everything on both accounts; the key only reads on A.
	key, _ := e.createKey(alice, a, []string{"ACCOUNT_READ", "CONTACTS_READ"}, e.clock.Now().Add(time.Hour))
	if got := keyPermissions(t, e, key); strings.Join(got, ",") != "ACCOUNT_READ,CONTACTS_READ" {
		t.Fatalf("key permissions: %v (memberships of other accounts must not show)", got)
	}
	doc := `query($n: String!) { customerAccount(number: $n) { id contacts { totalCount } } }`
	if dig(e.ok(key, doc, map[string]any{"n": "K-20011"}), "customerAccount", "id") != a {
		t.Fatal("the key cannot read its account")
	}
	if got := dig(e.ok(key, doc, map[string]any{"n": "K-20012"}), "customerAccount"); got != nil {
		t.Fatalf("the key sees account B: %v", got)
	}
	if n := dig(e.ok(key, `{ customerAccounts { totalCount } }`, nil), "customerAccounts", "totalCount"); n != float64(1) {
		t.Fatalf("the key sees %v accounts", n)
	}
	// Not granted on A: FORBIDDEN; anything on B: NOT_FOUND.
	e.wantCode(key, `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "X"}) { id } }`, map[string]any{"a": a}, "FORBIDDEN")
	e.wantCode(key, `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "X"}) { id } }`, map[string]any{"a": b}, "NOT_FOUND")
	e.wantCode(key, `mutation($c: ID!) { assignRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { id } }`, map[string]any{"c": contactB}, "NOT_FOUND")
	e.wantCode(key, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": contactB}, "NOT_FOUND")
	// Audit events of alice's own actions on B are not the key's to read.
	d := e.ok(key, `{ auditEvents(first: 50) { edges { node { customerAccountID } } } }`, nil)
	for _, ed := range dig(d, "auditEvents", "edges").([]any) {
		if dig(ed, "node", "customerAccountID") == b {
			t.Fatal("the key reads audit events of account B")
		}
	}
}

func TestAPIKeyFollowsItsUserLive(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20021")
	alice, aliceContact := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	// A second admin, so that alice's admin roles can be removed (the
	// account always keeps one).
	e.createContact(e.admin, a, "Second admin", "second@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	key, _ := e.createKey(alice, a, []string{"ACCOUNT_READ", "CONTACTS_MANAGE"}, e.clock.Now().Add(time.Hour))
	create := `mutation($a: ID!) { createContact(input: {customerAccountID: $a, name: "X", roles: []}) { id } }`
	e.ok(key, create, map[string]any{"a": a})

	remove := `mutation($c: ID!, $r: Role!) { removeRole(input: {contactID: $c, role: $r}) { id } }`
	e.ok(e.admin, remove, map[string]any{"c": aliceContact, "r": "CUSTOMER_ADMIN"})
	e.wantCode(key, create, map[string]any{"a": a}, "FORBIDDEN") // the very next request
	if got := keyPermissions(t, e, key); strings.Join(got, ",") != "ACCOUNT_READ" {
		t.Fatalf("after the role's removal: %v", got)
	}
	e.ok(e.admin, remove, map[string]any{"c": aliceContact, "r": "PORTAL_ACCESS"})
	e.wantCode(key, create, map[string]any{"a": a}, "NOT_FOUND")
	if got := keyPermissions(t, e, key); len(got) != 0 {
		t.Fatalf("without PORTAL_ACCESS: %v", got)
	}

	// Account deactivated: refused; reactivated: works again.
	ctx := viewer.SystemContext(context.Background())
	e.ok(e.admin, `mutation($c: ID!) { assignRole(input: {contactID: $c, role: PORTAL_ACCESS}) { id } }`, map[string]any{"c": aliceContact})
	e.ok(key, keyMeDoc, nil)
	e.client.CustomerAccount.UpdateOneID(pulid.ID(a)).SetStatus(customeraccount.StatusDEACTIVATED).ExecX(ctx)
	e.wantCode(key, keyMeDoc, nil, "UNAUTHENTICATED")
	e.client.CustomerAccount.UpdateOneID(pulid.ID(a)).SetStatus(customeraccount.StatusACTIVE).ExecX(ctx)
	e.ok(key, keyMeDoc, nil)
	// User deleted: refused.
	e.client.UserAccount.Update().Where(useraccount.Email("alice@a.example")).SetStatus(useraccount.StatusDELETED).ExecX(ctx)
	e.wantCode(key, keyMeDoc, nil, "UNAUTHENTICATED")
}

func TestAPIKeyExpiryAndRevocation(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20031")
	b := e.createAccount("K-20032")
	alice, _ := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	carol, _ := e.customerUser(a, "carol@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	dave, _ := e.customerUser(a, "dave@a.example", "PORTAL_ACCESS")
	mallory, _ := e.customerUser(b, "mallory@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")

	exp := e.clock.Now().Add(time.Hour)
	key, _ := e.createKey(alice, a, []string{"ACCOUNT_READ"}, exp)
	e.clock.Set(exp.Add(-time.Second))
	e.ok(key, keyMeDoc, nil)
	e.clock.Set(exp)
	e.wantCode(key, keyMeDoc, nil, "UNAUTHENTICATED")
	// The people's access tokens (15 minutes) have expired meanwhile.
	alice = e.login("alice@a.example", adminPassword)
	carol = e.login("carol@a.example", adminPassword)
	dave = e.login("dave@a.example", adminPassword)
	mallory = e.login("mallory@b.example", adminPassword)

	key2, id2 := e.createKey(alice, a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(time.Hour))
	revoke := `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`
	e.wantCode(mallory, revoke, map[string]any{"id": id2}, "NOT_FOUND") // another account's admin
	e.wantCode(dave, revoke, map[string]any{"id": id2}, "NOT_FOUND")    // same account, no APIKEYS_MANAGE
	e.wantCode(mallory, revoke, map[string]any{"id": "key_01JZZZZZZZZZZZZZZZZZZZZZZZ"}, "NOT_FOUND")
	if n := len(dig(e.ok(mallory, `{ apiKeys { id } }`, nil), "apiKeys").([]any)); n != 0 {
		t.Fatalf("mallory lists %d keys", n)
	}
	e.wantCode(mallory, `query($a: ID) { apiKeys(customerAccountID: $a) { id } }`, map[string]any{"a": a}, "NOT_FOUND")
	e.ok(key2, keyMeDoc, nil)
	d := e.ok(carol, revoke, map[string]any{"id": id2}) // APIKEYS_MANAGE on the key's account
	if dig(d, "revokeApiKey", "revokedAt") == nil {
		t.Fatal("not revoked")
	}
	e.wantCode(key2, keyMeDoc, nil, "UNAUTHENTICATED")

	key3, id3 := e.createKey(alice, a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(time.Hour))
	e.ok(key3, keyMeDoc, nil)
	e.ok(alice, revoke, map[string]any{"id": id3}) // the key's own user
	e.wantCode(key3, keyMeDoc, nil, "UNAUTHENTICATED")
	d = e.ok(alice, `{ auditEvents(first: 10, where: {action: "api_key.revoke"}) { totalCount } }`, nil)
	if dig(d, "auditEvents", "totalCount") != float64(2) {
		t.Fatalf("revocations audited: %v", d)
	}
}

func TestAPIKeyCannotTouchCredentialsKeysOrOwnRights(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20041")
	alice, aliceContact := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	other := e.createContact(alice, a, "Other", "", []string{}...) // no roles: TECHNICAL_CONTACT is assigned below
	all := []string{"ACCOUNT_READ", "CONTACTS_READ", "CONTACTS_MANAGE", "GROUPS_MANAGE", "INVITATIONS_MANAGE", "RESOURCES_READ", "TICKETS_CREATE"}
	key, keyID := e.createKey(alice, a, all, e.clock.Now().Add(time.Hour))

	for name, doc := range map[string]string{
		"createApiKey":        createKeyDoc,
		"revokeApiKey":        `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`,
		"apiKeys":             `{ apiKeys { id } }`,
		"changePassword":      `mutation { changePassword(input: {currentPassword: "` + adminPassword + `", newPassword: "another horse battery staple"}) }`,
		"requestEmailChange":  `mutation { requestEmailChange(input: {newEmail: "x@a.example", password: "` + adminPassword + `"}) }`,
		"startTotpEnrollment": `mutation { startTotpEnrollment { secret } }`,
		"disableTwoFactor":    `mutation { disableTwoFactor(method: TOTP) { methods } }`,
		"regenerateRecovery":  `mutation { regenerateRecoveryCodes { methods } }`,
		"logout":              `mutation { logout }`,
		"revokeOtherSessions": `mutation { revokeOtherSessions }`,
		"mySessions":          `{ mySessions { id } }`,
		"linkContacts":        `mutation { linkContacts }`,
		"assignRole own":      `mutation($c: ID!) { assignRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { id } }`,
		"removeRole own":      `mutation($c: ID!) { removeRole(input: {contactID: $c, role: CUSTOMER_ADMIN}) { id } }`,
	} {
		vars := keyVars(a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(time.Hour))
		vars["id"] = keyID
		vars["c"] = aliceContact
		r := e.do(key, doc, vars)
		if r.code() != "FORBIDDEN" {
			t.Errorf("%s by an API key: want FORBIDDEN, got %s", name, r.Raw)
		}
	}
	// The key does hold CONTACTS_MANAGE for others' contacts.
	e.ok(key, `mutation($c: ID!) { assignRole(input: {contactID: $c, role: TECHNICAL_CONTACT}) { id } }`, map[string]any{"c": other})
	// And alice is unchanged: password, sessions, roles.
	e.login("alice@a.example", adminPassword)
	e.ok(alice, keyMeDoc, nil)
	if got := keyPermissions(t, e, alice); len(got) != len(domain.RolePermissions[domain.RoleCustomerAdmin]) {
		t.Fatalf("alice's permissions changed: %v", got)
	}
	e.wantCode(key, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": keyID}, "NOT_FOUND")
}

func TestAPIKeyBadInput(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20051")
	b := e.createAccount("K-20052")
	alice, _ := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	dave, daveContact := e.customerUser(a, "dave@a.example", "PORTAL_ACCESS")
	now := e.clock.Now()
	exp := now.Add(time.Hour)

	// dave may manage keys through a rights group, but holds no RESOURCES_MANAGE.
	ctx := viewer.SystemContext(context.Background())
	g := e.client.RightsGroup.Create().SetCustomerAccountID(pulid.ID(a)).SetName("Integrations").
		SetPermissions([]string{string(domain.PermAPIKeysManage)}).SaveX(ctx)
	e.client.GroupMembership.Create().SetCustomerAccountID(pulid.ID(a)).SetGroupID(g.ID).SetContactID(pulid.ID(daveContact)).
		SetValidFrom(now.Add(-time.Second)).ExecX(ctx)
	r := e.wantCode(dave, createKeyDoc, keyVars(a, []string{"RESOURCES_MANAGE"}, exp), "FORBIDDEN")
	if r.Errors[0].Extensions["field"] != "input.permissions" {
		t.Fatalf("field: %s", r.Raw)
	}
	key, _ := e.createKey(dave, a, []string{"RESOURCES_READ"}, exp) // held through PORTAL_ACCESS
	e.ok(key, keyMeDoc, nil)

	for name, c := range map[string]struct {
		vars  map[string]any
		field string
	}{
		"past expiry":    {keyVars(a, []string{"ACCOUNT_READ"}, now.Add(-time.Second)), "input.expiresAt"},
		"expiry now":     {keyVars(a, []string{"ACCOUNT_READ"}, now), "input.expiresAt"},
		"expiry too far": {keyVars(a, []string{"ACCOUNT_READ"}, now.Add(apikeys.MaxLifetime+time.Second)), "input.expiresAt"},
		"no permissions": {keyVars(a, []string{}, exp), "input.permissions"},
		"APIKEYS_MANAGE": {keyVars(a, []string{"APIKEYS_MANAGE"}, exp), "input.permissions"},
		"empty name":     {map[string]any{"a": a, "name": "  ", "p": []string{"ACCOUNT_READ"}, "exp": exp.Format(time.RFC3339)}, "input.name"},
		"unknown perm":   {keyVars(a, []string{"EVERYTHING"}, exp), ""},
	} {
		r := e.wantCode(alice, createKeyDoc, c.vars, "BAD_USER_INPUT")
		if c.field != "" && r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%s: field %v", name, r.Errors[0].Extensions["field"])
		}
	}
	e.createKey(alice, a, []string{"ACCOUNT_READ"}, now.Add(apikeys.MaxLifetime))
	// Without APIKEYS_MANAGE on A: FORBIDDEN; on an account of others: NOT_FOUND.
	plain, _ := e.customerUser(a, "erin@a.example", "PORTAL_ACCESS", "TECHNICAL_CONTACT")
	e.wantCode(plain, createKeyDoc, keyVars(a, []string{"ACCOUNT_READ"}, exp), "FORBIDDEN")
	e.wantCode(alice, createKeyDoc, keyVars(b, []string{"ACCOUNT_READ"}, exp), "NOT_FOUND")
	e.wantCode("", createKeyDoc, keyVars(a, []string{"ACCOUNT_READ"}, exp), "UNAUTHENTICATED")
	// Staff own no keys (they act through their staff role).
	e.wantCode(e.admin, createKeyDoc, keyVars(a, []string{"ACCOUNT_READ"}, exp), "FORBIDDEN")
}

func TestAPIKeyMalformedOrUnknown(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20061")
	alice, _ := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	key, _ := e.createKey(alice, a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(time.Hour))
	last := key[len(key)-1]
	near := key[:len(key)-1] + map[bool]string{true: "B", false: "A"}[last == 'A']
	unknown := "ptk_" + strings.Repeat("Q", 43)
	for _, bad := range []string{"ptk_", "ptk_short", key + "x", near, unknown, "ptk_" + strings.Repeat("!", 43)} {
		r := e.wantCode(bad, keyMeDoc, nil, "UNAUTHENTICATED")
		if !strings.Contains(r.Errors[0].Message, "invalid") {
			t.Errorf("%q…: %s", bad[:5], r.Raw)
		}
	}
	// The login still works for @public fields with a bad key, as for a bad token.
	e.ok(unknown, `mutation($l: String!, $p: String!) { login(input: {login: $l, password: $p}) { expiresAt } }`,
		map[string]any{"l": "alice@a.example", "p": adminPassword})

	// Timing: a key that differs from a real one in its last character takes
	// the same path as a made-up one (one lookup by the hash of the whole
	// key, nothing compared character by character), so the two cannot be
	// told apart. Interleaved samples, medians within a generous factor.
	var tNear, tUnknown []time.Duration
	for i := 0; i < 15; i++ {
		for _, c := range []struct {
			k   string
			out *[]time.Duration
		}{{near, &tNear}, {unknown, &tUnknown}} {
			start := time.Now()
			e.do(c.k, `{ __typename }`, nil)
			*c.out = append(*c.out, time.Since(start))
		}
	}
	mn, mu := median(tNear), median(tUnknown)
	if mn > 3*mu || mu > 3*mn {
		t.Fatalf("near-miss %v vs unknown %v", mn, mu)
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestAPIKeyRateLimit(t *testing.T) {
	e := newEnv(t)
	a := e.createAccount("K-20071")
	alice, _ := e.customerUser(a, "alice@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	key, keyID := e.createKey(alice, a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(time.Hour))
	other, _ := e.createKey(alice, a, []string{"ACCOUNT_READ"}, e.clock.Now().Add(time.Hour))
	e.ok(key, keyMeDoc, nil) // opens the window: 1 request
	// Use up the rest of the window's budget in the store, as 599 requests would.
	ctx := viewer.SystemContext(context.Background())
	e.client.RateLimitBucket.UpdateOneID(apikeys.RateRule.Name + ":" + keyID).SetCount(apikeys.RateRule.Limit).ExecX(ctx)
	r := e.wantCode(key, keyMeDoc, nil, "RATE_LIMITED")
	if r.Status != http.StatusTooManyRequests || r.Errors[0].Extensions["retryAfterSeconds"] != float64(60) {
		t.Fatalf("rate limited: %d %s", r.Status, r.Raw)
	}
	// Apart from the person's own use and other keys.
	e.ok(alice, keyMeDoc, nil)
	e.ok(other, keyMeDoc, nil)
	e.clock.Advance(time.Minute)
	e.ok(key, keyMeDoc, nil)
}
