package graph_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"portier/ent"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// The authorization matrix (issue 7 §8): every Query and Mutation field of
// the schema, called by every kind of principal on an object of its own
// account ("own") and of a foreign one ("foreign"), with the outcome each
// must get. The expected outcomes are data, in matrix_table_test.go; this
// file builds the principals and runs the table. A field of the schema
// without a row fails the test.

// Outcomes a cell can expect besides an error code.
const (
	outOK     = "OK"     // no error
	outNull   = "NULL"   // no error, the field's value is null
	outSees   = "SEES"   // no error, the side's object is in the answer
	outHidden = "HIDDEN" // no error, the side's object is not in the answer
)

// matrixPrincipal is one kind of caller. home is the account its "own"
// objects live in.
type matrixPrincipal struct {
	name  string
	home  string // account key: A, AC (consenting), D (deactivated)
	staff domain.StaffRole
	// roles held on home (with validity), and whether the contact is in
	// the rights group of home.
	roles   []domain.Role
	expired bool // the roles ended yesterday
	group   bool
	sales   []string // accounts a SALES user is assigned to
	// keyOf makes the principal an API key of that principal's user on
	// home, narrowed to key.
	keyOf string
	key   []domain.Permission
	// contactIn is the account the principal's contact lives in when it
	// is not home (an agency's person acting on its client home).
	contactIn string
	// scoped makes the principal a scoped login of a MAILBOX on home
	// (issue 9): it sees that mailbox and its own login, nothing else.
	scoped bool
}

// matrixPrincipals are the callers of the matrix, in table column order.
var matrixPrincipals = []matrixPrincipal{
	{name: "anon", home: "A"},
	{name: "portal", home: "A", roles: []domain.Role{domain.RolePortalAccess}},
	{name: "tech", home: "A", roles: []domain.Role{domain.RolePortalAccess, domain.RoleTechnicalContact}},
	{name: "admin", home: "A", roles: []domain.Role{domain.RolePortalAccess, domain.RoleCustomerAdmin}},
	{name: "noportal", home: "A", roles: []domain.Role{domain.RoleCustomerAdmin}},
	{name: "expired", home: "A", roles: []domain.Role{domain.RolePortalAccess, domain.RoleCustomerAdmin}, expired: true},
	{name: "group", home: "A", roles: []domain.Role{domain.RolePortalAccess}, group: true},
	{name: "deact", home: "D", roles: []domain.Role{domain.RolePortalAccess, domain.RoleCustomerAdmin}},
	{name: "support", home: "A", staff: domain.StaffSupport},
	{name: "supportC", home: "AC", staff: domain.StaffSupport},
	{name: "sales", home: "A", staff: domain.StaffSales, sales: []string{"A", "AC"}},
	{name: "salesC", home: "AC", staff: domain.StaffSales, sales: []string{"A", "AC"}},
	{name: "salesX", home: "A", staff: domain.StaffSales},
	{name: "staffAdmin", home: "A", staff: domain.StaffAdmin},
	{name: "agency", home: "A", contactIn: "G", roles: []domain.Role{domain.RolePortalAccess, domain.RoleCustomerAdmin}},
	{name: "keyRead", home: "A", keyOf: "admin", key: []domain.Permission{domain.PermAccountRead, domain.PermContactsRead}},
	{name: "keyFull", home: "A", keyOf: "admin", key: matrixFullKey()},
	{name: "scoped", home: "A", scoped: true},
}

// matrixAgencyPermissions are what client A delegates to agency G.
var matrixAgencyPermissions = []domain.Permission{domain.PermAccountRead, domain.PermContactsRead, domain.PermContactsManage}

// matrixFullKey is every permission of a customer admin a key may hold.
func matrixFullKey() []domain.Permission {
	var out []domain.Permission
	for _, p := range domain.RolePermissions[domain.RoleCustomerAdmin] {
		if p != domain.PermAPIKeysManage {
			out = append(out, p)
		}
	}
	return out
}

// matrixGroupPermissions are what the rights group of the "group"
// principal grants.
var matrixGroupPermissions = []domain.Permission{domain.PermContactsRead, domain.PermContactsManage}

// matrixSide is the objects a cell's document refers to.
type matrixSide struct {
	account, number, contact string
	group                    string // a rights group granting matrixTargetGroupPermissions
	invitation               string // a pending invitation granting TECHNICAL_CONTACT
	lifecycle                string // an account of this principal and side alone, to deactivate and delete
	proposedDomain           string // a PROPOSED organisation domain, to confirm
	orgDomain                string // a CONFIRMED organisation domain (not matrix.test), to remove
	personal                 string // a PERSONAL account of this principal and side alone, to convert
	disposable               string // a contact with an e-mail and no roles, to enable the login of and delete
	resource, mailbox        string // a MAILBOX resource without login, and its address
	scopedLogin              string // a scoped login of a WEB_VHOST resource
}

// matrixTargetGroupPermissions are what each target rights group grants.
var matrixTargetGroupPermissions = []domain.Permission{domain.PermContactsRead}

type matrixFixture struct {
	e        *env
	accounts map[string]*ent.CustomerAccount
	users    map[string]pulid.ID
	// targets[principal][side] are objects made for that principal alone,
	// so that one principal's successful mutation cannot change another's.
	targets map[string]map[string]matrixSide
	hash    string
	unique  int
	keys    map[string]string   // API key principals: their keys
	scoped  map[string]pulid.ID // scoped login principals: their logins
}

func newMatrixFixture(t *testing.T) *matrixFixture {
	e := newEnv(t)
	ctx := viewer.SystemContext(context.Background())
	f := &matrixFixture{e: e, accounts: map[string]*ent.CustomerAccount{}, users: map[string]pulid.ID{},
		targets: map[string]map[string]matrixSide{}}
	admin, err := e.client.UserAccount.Query().First(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.hash = admin.PasswordHash
	for i, key := range []string{"A", "AC", "B", "D", "G"} {
		a, err := e.client.CustomerAccount.Create().SetNumber(fmt.Sprintf("9000%d", i)).SetName("Matrix " + key).
			SetSupportAccessConsent(key == "AC").SetIsAgency(key == "G").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.accounts[key] = a
		// Contacts and invitations with @matrix.test addresses are inside.
		if err := e.client.OrganisationDomain.Create().SetCustomerAccountID(a.ID).SetDomain("matrix.test").
			SetStatus("CONFIRMED").SetConfirmedAt(e.clock.Now()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	yesterday := caldate.Date(e.clock.Now().In(berlin).AddDate(0, 0, -1).Format("2006-01-02"))
	longAgo := e.clock.Now().AddDate(0, -1, 0)
	groups := map[string]pulid.ID{}
	for key, a := range f.accounts {
		g, err := e.client.RightsGroup.Create().SetCustomerAccountID(a.ID).SetName("Matrix group " + key).
			SetPermissions(permStrings(matrixGroupPermissions)).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		groups[key] = g.ID
	}
	f.keys = map[string]string{}
	for _, p := range matrixPrincipals {
		if p.name == "anon" {
			continue
		}
		if p.keyOf != "" {
			continue // after the users
		}
		if p.scoped {
			if f.scoped == nil {
				f.scoped = map[string]pulid.ID{}
			}
			home := f.accounts[p.home].ID
			r, err := e.client.Resource.Create().SetCustomerAccountID(home).SetKind("MAILBOX").
				SetName("own-" + strings.ToLower(p.name) + "@matrix.test").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			l, err := e.client.ScopedLogin.Create().SetCustomerAccountID(home).SetResourceID(r.ID).
				SetLoginName(r.Name).SetPasswordHash(f.hash).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f.scoped[p.name] = l.ID
			continue
		}
		email := "matrix-" + strings.ToLower(p.name) + "@matrix.test"
		q := e.client.UserAccount.Create().SetEmail(email).SetUsername("matrix-" + strings.ToLower(p.name)).
			SetName("Matrix " + p.name).SetPasswordHash(f.hash).SetEmailVerifiedAt(longAgo)
		if p.staff != "" {
			q.SetStaffRole(p.staff)
		}
		u, err := q.Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.users[p.name] = u.ID
		for _, acct := range p.sales {
			if err := e.client.AccountManager.Create().SetCustomerAccountID(f.accounts[acct].ID).SetUserID(u.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if p.staff == "" {
			home := f.accounts[p.home]
			if p.contactIn != "" {
				home = f.accounts[p.contactIn]
			}
			c, err := e.client.Contact.Create().SetCustomerAccountID(home.ID).SetName("Matrix " + p.name).
				SetEmail(email).SetUserID(u.ID).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.roles {
				ra := e.client.RoleAssignment.Create().SetCustomerAccountID(home.ID).SetContactID(c.ID).SetRole(r).SetValidFrom(longAgo)
				if p.expired {
					ra.SetValidUntil(yesterday)
				}
				if err := ra.Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if p.group {
				if err := e.client.GroupMembership.Create().SetCustomerAccountID(home.ID).SetGroupID(groups[p.home]).
					SetContactID(c.ID).SetValidFrom(longAgo).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// The agency G acts for A with these permissions.
	if err := e.client.AgencyDelegation.Create().SetCustomerAccountID(f.accounts["A"].ID).SetAgencyID(f.accounts["G"].ID).
		SetPermissions(permStrings(matrixAgencyPermissions)).SetValidFrom(longAgo).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range matrixPrincipals {
		if p.keyOf == "" {
			continue
		}
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		raw := "ptk_" + base64.RawURLEncoding.EncodeToString(b)
		sum := sha256.Sum256([]byte(raw))
		if err := e.client.APIKey.Create().SetUserID(f.users[p.keyOf]).SetCustomerAccountID(f.accounts[p.home].ID).
			SetName("Matrix " + p.name).SetPrefix(raw[:10]).SetSecretHash(hex.EncodeToString(sum[:])).
			SetPermissions(permStrings(p.key)).SetExpiresAt(e.clock.Now().AddDate(0, 1, 0)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		f.keys[p.name] = secrets.add(raw)
	}
	// Targets: one contact per principal and side, holding PORTAL_ACCESS
	// and TECHNICAL_CONTACT.
	for _, p := range matrixPrincipals {
		f.targets[p.name] = map[string]matrixSide{}
		for _, side := range []string{"own", "foreign"} {
			a := f.accounts[p.home]
			if side == "foreign" {
				a = f.accounts["B"]
			}
			c, err := e.client.Contact.Create().SetCustomerAccountID(a.ID).SetName("Target of " + p.name).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []domain.Role{domain.RolePortalAccess, domain.RoleTechnicalContact} {
				if err := e.client.RoleAssignment.Create().SetCustomerAccountID(a.ID).SetContactID(c.ID).SetRole(r).SetValidFrom(longAgo).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			g, err := e.client.RightsGroup.Create().SetCustomerAccountID(a.ID).SetName("Target group of " + p.name).
				SetPermissions(permStrings(matrixTargetGroupPermissions)).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := e.client.Invitation.Create().SetCustomerAccountID(a.ID).SetEmail("invited-" + strings.ToLower(p.name) + "-" + side + "@matrix.test").
				SetRoles([]string{string(domain.RoleTechnicalContact)}).SetTokenHash(fmt.Sprintf("matrix-%s-%s", p.name, side)).
				SetExpiresAt(e.clock.Now().AddDate(0, 0, 7)).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			box, err := e.client.Resource.Create().SetCustomerAccountID(a.ID).SetKind("MAILBOX").
				SetName("box-" + strings.ToLower(p.name) + "-" + side + "@matrix.test").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			web, err := e.client.Resource.Create().SetCustomerAccountID(a.ID).SetKind("WEB_VHOST").
				SetName("web-" + strings.ToLower(p.name) + "-" + side + ".matrix.test").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sl, err := e.client.ScopedLogin.Create().SetCustomerAccountID(a.ID).SetResourceID(web.ID).
				SetLoginName("web" + strings.ToLower(p.name) + side).SetPasswordHash(f.hash).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lc, err := e.client.CustomerAccount.Create().SetNumber("LC-" + strings.ToUpper(p.name) + "-" + strings.ToUpper(side)).
				SetName("Lifecycle target of " + p.name).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			dc, err := e.client.Contact.Create().SetCustomerAccountID(a.ID).SetName("Disposable of " + p.name).
				SetEmail("disposable-" + strings.ToLower(p.name) + "-" + side + "@matrix.test").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tag := strings.ToLower(p.name) + "-" + side
			pd, err := e.client.OrganisationDomain.Create().SetCustomerAccountID(a.ID).SetDomain("p-" + tag + ".matrix.test").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			od, err := e.client.OrganisationDomain.Create().SetCustomerAccountID(a.ID).SetDomain("r-" + tag + ".matrix.test").
				SetStatus("CONFIRMED").SetConfirmedAt(e.clock.Now()).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pa, err := e.client.CustomerAccount.Create().SetNumber("PA-" + strings.ToUpper(tag)).
				SetName("Personal target of " + p.name).SetKind("PERSONAL").Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f.targets[p.name][side] = matrixSide{account: string(a.ID), number: a.Number, contact: string(c.ID), group: string(g.ID),
				invitation: string(inv.ID), lifecycle: string(lc.ID),
				proposedDomain: string(pd.ID), orgDomain: string(od.ID), personal: string(pa.ID), disposable: string(dc.ID),
				resource: string(box.ID), mailbox: box.Name, scopedLogin: string(sl.ID)}
		}
	}
	if err := e.client.CustomerAccount.UpdateOneID(f.accounts["D"].ID).SetStatus("DEACTIVATED").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func permStrings(ps []domain.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// token opens a fresh session for the principal (so that a field that ends
// sessions cannot spoil the next one) and returns its access token.
func (f *matrixFixture) token(t *testing.T, principal string) string {
	if k, ok := f.keys[principal]; ok {
		return k
	}
	ctx := viewer.SystemContext(context.Background())
	now := f.e.clock.Now()
	if lid, ok := f.scoped[principal]; ok {
		s, err := f.e.client.Session.Create().SetScopedLoginID(lid).SetExpiresAt(now.Add(time.Hour)).SetLastUsedAt(now).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.e.tokens.Issue(string(lid), string(s.ID), string(viewer.ScopedLogin), now)
		if err != nil {
			t.Fatal(err)
		}
		return secrets.add(tok)
	}
	uid, ok := f.users[principal]
	if !ok {
		return ""
	}
	s, err := f.e.client.Session.Create().SetUserID(uid).SetExpiresAt(now.Add(time.Hour)).SetLastUsedAt(now).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.e.tokens.Issue(string(uid), string(s.ID), string(viewer.User), now)
	if err != nil {
		t.Fatal(err)
	}
	return secrets.add(tok)
}

// vars resolves the placeholders of a row's variables for one cell.
func (f *matrixFixture) vars(row matrixRow, principal string, side matrixSide) map[string]any {
	out := map[string]any{}
	for k, v := range row.vars {
		switch v {
		case "$account":
			out[k] = side.account
		case "$number":
			out[k] = side.number
		case "$contact":
			out[k] = side.contact
		case "$group":
			out[k] = side.group
		case "$invitation":
			out[k] = side.invitation
		case "$email":
			f.unique++
			out[k] = fmt.Sprintf("invitee%05d@matrix.test", f.unique)
		case "$lifecycle":
			out[k] = side.lifecycle
		case "$proposedDomain":
			out[k] = side.proposedDomain
		case "$orgDomain":
			out[k] = side.orgDomain
		case "$personal":
			out[k] = side.personal
		case "$domain":
			f.unique++
			out[k] = fmt.Sprintf("d%05d.matrix.test", f.unique)
		case "$disposable":
			out[k] = side.disposable
		case "$resource":
			out[k] = side.resource
		case "$mailbox":
			out[k] = side.mailbox
		case "$scopedLogin":
			out[k] = side.scopedLogin
		case "$hostname":
			f.unique++
			out[k] = fmt.Sprintf("h%05d.matrix.test", f.unique)
		case "$login":
			out[k] = "nobody-" + strings.ToLower(principal) + "@matrix.test"
		case "$expiry": // a day ahead of the clock
			out[k] = f.e.clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
		case "$unique":
			f.unique++
			out[k] = fmt.Sprintf("8%05d", f.unique)
		default:
			out[k] = v
		}
	}
	return out
}

// outcome classifies an answer the way the table states expectations.
func outcome(r response, field string, side matrixSide) string {
	if len(r.Errors) > 0 {
		return r.code()
	}
	v, ok := r.Data[field]
	switch {
	case !ok:
		return "NO_DATA"
	case v == nil:
		return outNull
	}
	b, _ := json.Marshal(v)
	if side.contact != "" && (strings.Contains(string(b), side.contact) || strings.Contains(string(b), side.account)) {
		return outSees
	}
	return outHidden
}

// matches reports whether an outcome satisfies an expectation; OK accepts
// every error-free outcome.
func matches(want, got string) bool {
	if want == outOK {
		return got == outNull || got == outSees || got == outHidden
	}
	return want == got
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	rows := map[string]matrixRow{}
	for _, r := range matrixTable {
		if _, dup := rows[r.field]; dup {
			t.Fatalf("two rows for %s", r.field)
		}
		rows[r.field] = r
	}
	var missing []string
	for _, root := range []string{"Query", "Mutation"} {
		for _, fd := range s.Types[root].Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			if _, ok := rows[root+"."+fd.Name]; !ok {
				missing = append(missing, root+"."+fd.Name)
			}
			delete(rows, root+"."+fd.Name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("fields without a row in the authorization matrix (matrix_table_test.go): %s", strings.Join(missing, ", "))
	}
	for name := range rows {
		t.Errorf("matrix row for %s, which is not in the schema", name)
	}

	f := newMatrixFixture(t)
	for _, row := range matrixTable {
		name := row.field[strings.IndexByte(row.field, '.')+1:]
		for _, side := range row.sides() {
			want := row.expect(side)
			for _, p := range matrixPrincipals {
				exp, ok := want[p.name]
				if !ok {
					t.Errorf("%s %s: no expectation for %s", row.field, side, p.name)
					continue
				}
				sd := f.targets[p.name][side]
				if row.advance > 0 {
					f.e.clock.Advance(row.advance)
				}
				r := f.e.do(f.token(t, p.name), row.doc, f.vars(row, p.name, sd))
				if got := outcome(r, name, sd); !matches(exp, got) {
					t.Errorf("%s on %s object as %s: want %s, got %s: %.300s", row.field, side, p.name, exp, got, r.Raw)
				}
			}
		}
	}
}

// matrixRow is one field of the table: a document calling it, its
// variables (placeholders $account, $number, $contact, $group resolve to
// the cell's side; $login to a login of nobody), and the expectations.
type matrixRow struct {
	field string
	doc   string
	vars  map[string]string
	// own and foreign are expectation specs: space-separated
	// "principal[,principal…]=OUTCOME" items, "*=OUTCOME" for the rest;
	// foreign "" means the same as own.
	own, foreign string
	// advance moves the clock before each cell (for fields whose
	// per-address rate limit the table's calls would exhaust).
	advance time.Duration
}

// sides are the sides a row runs on: both when its variables name a side's
// object, else once.
func (r matrixRow) sides() []string {
	for _, v := range r.vars {
		if v == "$account" || v == "$number" || v == "$contact" || v == "$group" || v == "$invitation" || v == "$lifecycle" ||
			v == "$proposedDomain" || v == "$orgDomain" || v == "$personal" || v == "$disposable" ||
			v == "$resource" || v == "$scopedLogin" {
			return []string{"own", "foreign"}
		}
	}
	if r.foreign != "" {
		return []string{"own", "foreign"}
	}
	return []string{"own"}
}

func (r matrixRow) expect(side string) map[string]string {
	spec := r.own
	if side == "foreign" && r.foreign != "" {
		spec = r.foreign
	}
	out := map[string]string{}
	def := ""
	for _, item := range strings.Fields(spec) {
		who, what, ok := strings.Cut(item, "=")
		if !ok {
			panic("matrix spec item without '=': " + item)
		}
		for _, w := range strings.Split(who, ",") {
			if w == "*" {
				def = what
			} else {
				out[w] = what
			}
		}
	}
	for _, p := range matrixPrincipals {
		if _, ok := out[p.name]; !ok && def != "" {
			out[p.name] = def
		}
	}
	return out
}
