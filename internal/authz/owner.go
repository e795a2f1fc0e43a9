package authz

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"portier/ent"
	"portier/ent/agencydelegation"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/groupmembership"
	"portier/ent/invitation"
	"portier/ent/organisationdomain"
	"portier/ent/resource"
	"portier/ent/rightsgroup"
	"portier/ent/roleassignment"
	"portier/ent/scopedlogin"
	"portier/ent/supportauthorization"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// OwnerAccount returns the customer account an object belongs to: the ID
// itself for a customer account, else the object's customer_account_id,
// read with one single-column query. It reads as Portier itself; callers
// decide what the viewer may learn, and must answer NOT_FOUND for accounts
// the viewer cannot see.
func OwnerAccount(ctx context.Context, client *ent.Client, id pulid.ID) (pulid.ID, error) {
	table, err := ent.IDToType(ctx, id)
	if err != nil {
		return "", err
	}
	sys := viewer.SystemContext(ctx)
	if table == customeraccount.Table {
		exists, err := client.CustomerAccount.Query().Where(customeraccount.ID(id)).Exist(sys)
		if err != nil {
			return "", err
		}
		if !exists {
			return "", &ent.NotFoundError{}
		}
		return id, nil
	}
	owned := map[string]bool{
		contact.Table: true, roleassignment.Table: true, supportauthorization.Table: true,
		rightsgroup.Table: true, groupmembership.Table: true, resource.Table: true,
		scopedlogin.Table: true, invitation.Table: true, agencydelegation.Table: true,
		organisationdomain.Table: true,
	}
	if !owned[table] {
		return "", &ent.NotFoundError{}
	}
	// Every account-owned table has the same column (the AccountOwned mixin).
	var rows []struct {
		Owner pulid.ID `json:"customer_account_id"`
	}
	err = client.Contact.Query().
		Where(func(s *sql.Selector) {
			t := sql.Table(table)
			s.From(t).Select(t.C("customer_account_id")).Where(sql.EQ(t.C("id"), string(id)))
		}).
		Select(contact.FieldCustomerAccountID).
		Scan(sys, &rows)
	if err != nil {
		return "", err
	}
	if len(rows) != 1 {
		return "", &ent.NotFoundError{}
	}
	return rows[0].Owner, nil
}
