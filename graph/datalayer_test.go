package graph_test

import (
	"context"
	"testing"
	"time"

	"portier/ent"
	"portier/ent/accountmanager"
	"portier/ent/agencydelegation"
	"portier/ent/apikey"
	"portier/ent/auditevent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/groupmembership"
	"portier/ent/invitation"
	"portier/ent/organisationdomain"
	"portier/ent/resource"
	"portier/ent/rightsgroup"
	"portier/ent/roleassignment"
	"portier/ent/scopedlogin"
	"portier/ent/session"
	"portier/ent/supportauthorization"
	"portier/ent/useraccount"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// probeKind reads, updates and deletes one row of an entity kind by ID
// through ent directly, with no resolver or directive in the way.
type probeKind struct {
	name     string
	mayWrite bool // whether a customer admin may update its own account's row
	count    func(context.Context, pulid.ID) (int, error)
	update   func(context.Context, pulid.ID) (int, error)
	delete   func(context.Context, pulid.ID) (int, error)
}

func probeKinds(c *ent.Client, now time.Time) []probeKind {
	return []probeKind{
		{"CustomerAccount", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.CustomerAccount.Query().Where(customeraccount.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.CustomerAccount.Update().Where(customeraccount.ID(id)).SetName("Renamed").Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.CustomerAccount.Delete().Where(customeraccount.ID(id)).Exec(ctx)
			}},
		{"UserAccount", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.UserAccount.Query().Where(useraccount.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.UserAccount.Update().Where(useraccount.ID(id)).SetName("Renamed").Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.UserAccount.Delete().Where(useraccount.ID(id)).Exec(ctx)
			}},
		{"Contact", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Contact.Query().Where(contact.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Contact.Update().Where(contact.ID(id)).SetName("Renamed").Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Contact.Delete().Where(contact.ID(id)).Exec(ctx)
			}},
		{"RoleAssignment", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.RoleAssignment.Query().Where(roleassignment.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.RoleAssignment.Update().Where(roleassignment.ID(id)).SetEndedAt(now.Add(time.Hour)).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.RoleAssignment.Delete().Where(roleassignment.ID(id)).Exec(ctx)
			}},
		{"SupportAuthorization", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.SupportAuthorization.Query().Where(supportauthorization.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.SupportAuthorization.Update().Where(supportauthorization.ID(id)).SetEndedAt(now.Add(time.Hour)).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.SupportAuthorization.Delete().Where(supportauthorization.ID(id)).Exec(ctx)
			}},
		{"RightsGroup", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.RightsGroup.Query().Where(rightsgroup.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.RightsGroup.Update().Where(rightsgroup.ID(id)).SetName("Renamed").Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.RightsGroup.Delete().Where(rightsgroup.ID(id)).Exec(ctx)
			}},
		{"GroupMembership", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.GroupMembership.Query().Where(groupmembership.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.GroupMembership.Update().Where(groupmembership.ID(id)).SetEndedAt(now.Add(time.Hour)).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.GroupMembership.Delete().Where(groupmembership.ID(id)).Exec(ctx)
			}},
		{"Resource", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Resource.Query().Where(resource.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Resource.Update().Where(resource.ID(id)).SetUpdatedAt(now).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Resource.Delete().Where(resource.ID(id)).Exec(ctx)
			}},
		{"ScopedLogin", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.ScopedLogin.Query().Where(scopedlogin.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.ScopedLogin.Update().Where(scopedlogin.ID(id)).SetStatus(scopedlogin.StatusDISABLED).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.ScopedLogin.Delete().Where(scopedlogin.ID(id)).Exec(ctx)
			}},
		{"Invitation", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Invitation.Query().Where(invitation.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Invitation.Update().Where(invitation.ID(id)).SetState(invitation.StateREVOKED).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Invitation.Delete().Where(invitation.ID(id)).Exec(ctx)
			}},
		{"AgencyDelegation", false,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AgencyDelegation.Query().Where(agencydelegation.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AgencyDelegation.Update().Where(agencydelegation.ID(id)).SetEndedAt(now.Add(time.Hour)).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AgencyDelegation.Delete().Where(agencydelegation.ID(id)).Exec(ctx)
			}},
		{"APIKey", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.APIKey.Query().Where(apikey.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.APIKey.Update().Where(apikey.ID(id)).SetName("Renamed").Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.APIKey.Delete().Where(apikey.ID(id)).Exec(ctx)
			}},
		{"Session", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Session.Query().Where(session.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Session.Update().Where(session.ID(id)).SetRevokeReason("probe").Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.Session.Delete().Where(session.ID(id)).Exec(ctx)
			}},
		{"AuditEvent", false,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AuditEvent.Query().Where(auditevent.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AuditEvent.Update().Where(auditevent.ID(id)).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AuditEvent.Delete().Where(auditevent.ID(id)).Exec(ctx)
			}},
		{"OrganisationDomain", true,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.OrganisationDomain.Query().Where(organisationdomain.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.OrganisationDomain.Update().Where(organisationdomain.ID(id)).SetConfirmedAt(now).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.OrganisationDomain.Delete().Where(organisationdomain.ID(id)).Exec(ctx)
			}},
		{"AccountManager", false,
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AccountManager.Query().Where(accountmanager.ID(id)).Count(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AccountManager.Update().Where(accountmanager.ID(id)).SetUpdatedAt(now).Save(ctx)
			},
			func(ctx context.Context, id pulid.ID) (int, error) {
				return c.AccountManager.Delete().Where(accountmanager.ID(id)).Exec(ctx)
			}},
	}
}

// must fails the test (by panicking) on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// seedProbeRows creates one row of every customer-owned or user-owned kind
// for account acct, its contact ct and user u, and returns their IDs by kind.
func seedProbeRows(t *testing.T, c *ent.Client, acct, ct, u, agency, sales pulid.ID, now time.Time) map[string]pulid.ID {
	t.Helper()
	ctx := viewer.SystemContext(context.Background())
	tag := string(acct)
	ids := map[string]pulid.ID{"CustomerAccount": acct, "UserAccount": u, "Contact": ct}
	ids["RoleAssignment"] = must(c.RoleAssignment.Query().Where(roleassignment.ContactID(ct)).FirstID(ctx))
	ids["SupportAuthorization"] = must(c.SupportAuthorization.Create().SetCustomerAccountID(acct).SetContactID(ct).
		SetKind(domain.AuthFinance).Save(ctx)).ID
	ids["RightsGroup"] = must(c.RightsGroup.Create().SetCustomerAccountID(acct).SetName("Probe").Save(ctx)).ID
	ids["GroupMembership"] = must(c.GroupMembership.Create().SetCustomerAccountID(acct).SetGroupID(ids["RightsGroup"]).
		SetContactID(ct).Save(ctx)).ID
	ids["Resource"] = must(c.Resource.Create().SetCustomerAccountID(acct).SetKind(resource.KindDOMAIN).
		SetName(tag + ".example").Save(ctx)).ID
	ids["ScopedLogin"] = must(c.ScopedLogin.Create().SetCustomerAccountID(acct).SetResourceID(ids["Resource"]).
		SetLoginName("probe-" + tag).Save(ctx)).ID
	ids["Invitation"] = must(c.Invitation.Create().SetCustomerAccountID(acct).SetEmail("invitee@" + tag + ".example").
		SetTokenHash("probe-" + tag).SetExpiresAt(now.Add(24 * time.Hour)).Save(ctx)).ID
	ids["AgencyDelegation"] = must(c.AgencyDelegation.Create().SetCustomerAccountID(acct).SetAgencyID(agency).
		Save(ctx)).ID
	ids["APIKey"] = must(c.APIKey.Create().SetUserID(u).SetCustomerAccountID(acct).SetName("Probe").
		SetPrefix("probe").SetSecretHash("probe-" + tag).Save(ctx)).ID
	ids["Session"] = must(c.Session.Create().SetUserID(u).SetExpiresAt(now.Add(time.Hour)).Save(ctx)).ID
	ids["AuditEvent"] = must(c.AuditEvent.Create().SetCustomerAccountID(acct).SetActorID(string(u)).
		SetActorKind("USER").SetAction("probe").Save(ctx)).ID
	ids["OrganisationDomain"] = must(c.OrganisationDomain.Create().SetCustomerAccountID(acct).SetDomain("probe.example").
		Save(ctx)).ID
	ids["AccountManager"] = must(c.AccountManager.Create().SetCustomerAccountID(acct).SetUserID(sales).
		Save(ctx)).ID
	return ids
}

// The privacy filters of every entity kind, through ent directly: a
// customer admin of A reads and updates its own rows as allowed,
// and never reads, updates or deletes B's, whatever the query asks for.
// A filter that is not applied shows up here as a row of B that is counted
// or changed.
func TestDataLayerFiltersEveryKind(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	a := pulid.ID(e.createAccount("62001"))
	b := pulid.ID(e.createAccount("62002"))
	agency := pulid.ID(e.createAccount("62003"))
	tokA, contactA := e.customerUser(string(a), "admin@a.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	tokB, contactB := e.customerUser(string(b), "admin@b.example", "PORTAL_ACCESS", "CUSTOMER_ADMIN")
	userA, userB := pulid.ID(e.userID(tokA)), pulid.ID(e.userID(tokB))
	sales := pulid.ID(e.userID(e.createUser("sales@provider.example", domain.StaffSales)))
	rowsA := seedProbeRows(t, e.client, a, pulid.ID(contactA), userA, agency, sales, now)
	rowsB := seedProbeRows(t, e.client, b, pulid.ID(contactB), userB, agency, sales, now)

	sys := viewer.SystemContext(context.Background())
	v := &viewer.Viewer{Kind: viewer.User, UserID: string(userA), EmailVerified: true}
	v.Access = newEvaluator(e, v)
	vctx := viewer.NewContext(context.Background(), v)

	for _, k := range probeKinds(e.client, now) {
		t.Run(k.name, func(t *testing.T) {
			own, other := rowsA[k.name], rowsB[k.name]
			if n, err := k.count(vctx, own); err != nil || n != 1 {
				t.Fatalf("own row: count %d, %v", n, err)
			}
			if n, err := k.count(vctx, other); err != nil || n != 0 {
				t.Fatalf("B's row visible: count %d, %v", n, err)
			}
			if n, err := k.update(vctx, other); err == nil && n != 0 {
				t.Fatalf("update of B's row touched %d rows", n)
			}
			if n, err := k.delete(vctx, other); err == nil && n != 0 {
				t.Fatalf("delete of B's row removed %d rows", n)
			}
			if n, err := k.count(sys, other); err != nil || n != 1 {
				t.Fatalf("B's row after the attempts: count %d, %v", n, err)
			}
			if k.mayWrite {
				if n, err := k.update(vctx, own); err != nil || n != 1 {
					t.Fatalf("update of own row: %d, %v", n, err)
				}
			}
		})
	}

	// Edge traversals start from rows A may see and must still stop at B.
	// A's user also holds a contact on B without PORTAL_ACCESS: the contact
	// is its own (visible), what hangs off it is B's (invisible).
	ownOnB, err := e.client.Contact.Create().SetCustomerAccountID(b).SetUserID(userA).SetName("A on B").Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.RoleAssignment.Create().SetCustomerAccountID(b).SetContactID(ownOnB.ID).
		SetRole(domain.RoleTechnicalContact).Exec(sys); err != nil {
		t.Fatal(err)
	}
	if err := e.client.SupportAuthorization.Create().SetCustomerAccountID(b).SetContactID(ownOnB.ID).
		SetKind(domain.AuthFinance).Exec(sys); err != nil {
		t.Fatal(err)
	}
	me := e.client.UserAccount.Query().Where(useraccount.ID(userA))
	edges := map[string]func() (int, error){
		"own contacts": func() (int, error) { return me.Clone().QueryContacts().Count(vctx) },
		"roles on B": func() (int, error) {
			return me.Clone().QueryContacts().QueryRoleAssignments().Where(roleassignment.CustomerAccountID(b)).Count(vctx)
		},
		"B's account": func() (int, error) {
			return e.client.Contact.Query().Where(contact.ID(ownOnB.ID)).QueryCustomerAccount().Count(vctx)
		},
		"authorizations on B": func() (int, error) {
			return e.client.Contact.Query().Where(contact.ID(ownOnB.ID)).QuerySupportAuthorizations().Count(vctx)
		},
		"accounts of own contacts": func() (int, error) { return me.Clone().QueryContacts().QueryCustomerAccount().Count(vctx) },
	}
	want := map[string]int{"own contacts": 2, "accounts of own contacts": 1}
	for name, count := range edges {
		n, err := count()
		if err != nil || n != want[name] {
			t.Errorf("%s: %d (want %d), %v", name, n, want[name], err)
		}
	}
	if n, err := e.client.Contact.Query().Where(contact.ID(ownOnB.ID)).Exist(vctx); err != nil || !n {
		t.Errorf("own contact on B: %v, %v", n, err)
	}
	if ok, err := e.client.CustomerAccount.Query().Where(customeraccount.ID(b)).Exist(vctx); err != nil || ok {
		t.Errorf("B exists for A: %v, %v", ok, err)
	}
}
