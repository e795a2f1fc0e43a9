package notify

import (
	"context"
	"time"

	"portier/ent"
	"portier/internal/mail"
)

// OrganisationDomainConfirmed tells the customer admins of acct that the
// organisation domain d is confirmed.
func OrganisationDomainConfirmed(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, d string, now time.Time) error {
	admins, err := AdminsOfAccount(ctx, c, acct.ID, now)
	if err != nil {
		return err
	}
	return sendAll(ctx, c, admins, mail.OrganisationDomainConfirmed,
		map[string]string{"account": accountName(acct), "domain": d, "actor": actor(ctx, c)})
}
