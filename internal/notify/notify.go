// Package notify e-mails the people of a customer account about changes to
// who may act for it (issue 8, item 8): the account's customer admins
// when a customer admin is added or removed, an API key is created or the
// account is deactivated; a person when it gains or loses portal access.
//
// Every function enqueues through the outbox on the client it is given,
// which must be the mutation's transaction: a change that rolls back sends
// nothing. Recipients are read as Portier itself, so an actor learns nothing
// about who is told. The mails name the account and the change only: never a
// secret, never a link.
package notify

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/roleassignment"
	"portier/ent/useraccount"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/mail"
	"portier/internal/outbox"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Recipient is one person to e-mail.
type Recipient struct {
	ContactID pulid.ID
	Name      string
	Email     string
	Locale    string
}

// AdminsOfAccount returns the contacts of the account that hold both
// CUSTOMER_ADMIN and PORTAL_ACCESS at now, are linked to an active user and
// have an e-mail address (the contact's, else the user's), one per
// address, ordered by address.
func AdminsOfAccount(ctx context.Context, c *ent.Client, accountID pulid.ID, now time.Time) ([]Recipient, error) {
	sys := viewer.SystemContext(ctx)
	acct, err := c.CustomerAccount.Get(sys, accountID)
	if err != nil {
		return nil, err
	}
	loc := location(acct)
	ras, err := c.RoleAssignment.Query().Where(
		roleassignment.CustomerAccountID(accountID),
		roleassignment.RoleIn(domain.RoleCustomerAdmin, domain.RolePortalAccess),
		roleassignment.EndedAtIsNil(),
	).All(sys)
	if err != nil {
		return nil, err
	}
	var via []*pulid.ID
	for _, ra := range ras {
		via = append(via, ra.GrantedViaDelegationID)
	}
	// A grant through an agency delegation that is over makes nobody an
	// admin (authz): such a person hears nothing more of the account.
	over, err := authz.OverDelegations(ctx, c, now, loc, via...)
	if err != nil {
		return nil, err
	}
	held := map[pulid.ID]map[domain.Role]bool{}
	for _, ra := range ras {
		v := authz.Validity{From: ra.ValidFrom, UntilDate: ra.ValidUntil, EndedAt: ra.EndedAt}
		if !v.ActiveAt(now, loc) || (ra.GrantedViaDelegationID != nil && over[*ra.GrantedViaDelegationID]) {
			continue
		}
		if held[ra.ContactID] == nil {
			held[ra.ContactID] = map[domain.Role]bool{}
		}
		held[ra.ContactID][ra.Role] = true
	}
	var ids []pulid.ID
	for id, roles := range held {
		if roles[domain.RoleCustomerAdmin] && roles[domain.RolePortalAccess] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cts, err := c.Contact.Query().Where(contact.IDIn(ids...)).WithUser().All(sys)
	if err != nil {
		return nil, err
	}
	var out []Recipient
	for _, ct := range cts {
		if r, ok := recipientOf(ct); ok {
			out = merge(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Recipient) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

// RolesGranted tells about roles just granted to ct (open-ended, or until a
// last day): CUSTOMER_ADMIN to the account's customer admins and to ct,
// PORTAL_ACCESS to ct. Other roles send nothing.
func RolesGranted[R ~string](ctx context.Context, c *ent.Client, ct *ent.Contact, until *caldate.Date, now time.Time, roles []R) error {
	for _, r := range roles {
		switch domain.Role(r) {
		case domain.RoleCustomerAdmin:
			if err := adminChange(ctx, c, ct, mail.CustomerAdminAdded, until, now); err != nil {
				return err
			}
		case domain.RolePortalAccess:
			if err := toPerson(ctx, c, ct, mail.AccountAccessGranted, until); err != nil {
				return err
			}
		}
	}
	return nil
}

// RoleRemoved tells about role ending for ct now (lastDay nil) or after
// lastDay: CUSTOMER_ADMIN to the account's customer admins and to ct,
// PORTAL_ACCESS to ct.
func RoleRemoved(ctx context.Context, c *ent.Client, ct *ent.Contact, role domain.Role, lastDay *caldate.Date, now time.Time) error {
	switch role {
	case domain.RoleCustomerAdmin:
		return adminChange(ctx, c, ct, mail.CustomerAdminRemoved, lastDay, now)
	case domain.RolePortalAccess:
		return toPerson(ctx, c, ct, mail.AccountAccessRemoved, lastDay)
	}
	return nil
}

// APIKeyCreated tells the customer admins of the key's account that the key
// was created: its name, its creator and its expiry, never its secret.
func APIKeyCreated(ctx context.Context, c *ent.Client, k *ent.APIKey, now time.Time) error {
	if k.CustomerAccountID == nil {
		return nil // not narrowed to an account: no account's admins to tell
	}
	acct, err := c.CustomerAccount.Get(viewer.SystemContext(ctx), *k.CustomerAccountID)
	if err != nil {
		return err
	}
	admins, err := AdminsOfAccount(ctx, c, acct.ID, now)
	if err != nil {
		return err
	}
	data := map[string]string{"account": accountName(acct), "key": k.Name, "actor": actor(ctx, c),
		"until": k.ExpiresAt.In(location(acct)).Format("2006-01-02 15:04 MST")}
	return sendAll(ctx, c, admins, mail.APIKeyCreated, data)
}

// AccountDeactivated tells the customer admins of acct that it was
// deactivated.
func AccountDeactivated(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, now time.Time) error {
	admins, err := AdminsOfAccount(ctx, c, acct.ID, now)
	if err != nil {
		return err
	}
	return sendAll(ctx, c, admins, mail.CustomerAccountDeactivated, map[string]string{"account": accountName(acct)})
}

// SecondFactorPolicyChanged mails the account's customer admins that the
// policy "second factor required" was turned on or off.
func SecondFactorPolicyChanged(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, required bool, now time.Time) error {
	admins, err := AdminsOfAccount(ctx, c, acct.ID, now)
	if err != nil {
		return err
	}
	return sendAll(ctx, c, admins, mail.SecondFactorPolicyChanged, map[string]string{
		"account": accountName(acct), "actor": actor(ctx, c), "required": strconv.FormatBool(required)})
}

// SupportPinLimited tells the customer admins of acct that the support desk
// stopped checking support PINs for it after repeated wrong ones, until
// until. The mail names neither the PIN nor who called.
func SupportPinLimited(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, until, now time.Time) error {
	admins, err := AdminsOfAccount(ctx, c, acct.ID, now)
	if err != nil {
		return err
	}
	return sendAll(ctx, c, admins, mail.SupportPinLimited, map[string]string{"account": accountName(acct),
		"until": until.In(location(acct)).Format("2006-01-02 15:04 MST")})
}

// adminChange mails kind about ct to the account's customer admins and to ct
// itself (once per address).
func adminChange(ctx context.Context, c *ent.Client, ct *ent.Contact, kind string, until *caldate.Date, now time.Time) error {
	sys := viewer.SystemContext(ctx)
	acct, err := c.CustomerAccount.Get(sys, ct.CustomerAccountID)
	if err != nil {
		return err
	}
	to, err := AdminsOfAccount(ctx, c, acct.ID, now)
	if err != nil {
		return err
	}
	full, err := c.Contact.Query().Where(contact.ID(ct.ID)).WithUser().Only(sys)
	if err != nil {
		return err
	}
	if r, ok := recipientOf(full); ok {
		to = merge(to, r)
	}
	data := map[string]string{"account": accountName(acct), "person": full.Name, "actor": actor(ctx, c)}
	if until != nil {
		data["until"] = string(*until)
	}
	return sendAll(ctx, c, to, kind, data)
}

// toPerson mails kind to ct itself.
func toPerson(ctx context.Context, c *ent.Client, ct *ent.Contact, kind string, until *caldate.Date) error {
	sys := viewer.SystemContext(ctx)
	full, err := c.Contact.Query().Where(contact.ID(ct.ID)).WithUser().WithCustomerAccount().Only(sys)
	if err != nil {
		return err
	}
	r, ok := recipientOf(full)
	if !ok {
		return nil
	}
	data := map[string]string{"account": accountName(full.Edges.CustomerAccount), "actor": actor(ctx, c)}
	if until != nil {
		data["until"] = string(*until)
	}
	return sendAll(ctx, c, []Recipient{r}, kind, data)
}

func sendAll(ctx context.Context, c *ent.Client, to []Recipient, kind string, data map[string]string) error {
	for _, r := range to {
		d := make(map[string]string, len(data)+1)
		for k, v := range data {
			d[k] = v
		}
		d["name"] = r.Name
		e, err := mail.RenderEmail(kind, r.Locale, d)
		if err != nil {
			return err
		}
		if err := outbox.Enqueue(ctx, c, outbox.Email(r.Email, e)); err != nil {
			return err
		}
	}
	return nil
}

// recipientOf is the person behind a contact linked to an active user: the
// contact's address, else the user's verified one, in the user's language.
// A contact without a working login acts for nobody and is not told (an
// address nobody has verified may belong to someone else; flows that
// invite or link such a person mail it themselves).
func recipientOf(ct *ent.Contact) (Recipient, bool) {
	u := ct.Edges.User
	if u == nil || u.Status != useraccount.StatusACTIVE {
		return Recipient{}, false
	}
	r := Recipient{ContactID: ct.ID, Name: ct.Name, Locale: u.Locale}
	if ct.Email != nil {
		r.Email = *ct.Email
	}
	if r.Email == "" && u.EmailVerifiedAt != nil {
		r.Email = u.Email
	}
	r.Email = strings.ToLower(strings.TrimSpace(r.Email))
	return r, r.Email != ""
}

func merge(rs []Recipient, r Recipient) []Recipient {
	for _, x := range rs {
		if x.Email == r.Email {
			return rs
		}
	}
	return append(rs, r)
}

// actor names who made the change: the acting user's name; "" for Portier
// itself (the template then leaves it out).
func actor(ctx context.Context, c *ent.Client) string {
	v := viewer.FromContext(ctx)
	if v.UserID == "" {
		return ""
	}
	if v.IsStaff() {
		return "Portier-Support"
	}
	u, err := c.UserAccount.Get(viewer.SystemContext(ctx), pulid.ID(v.UserID))
	if err != nil {
		return ""
	}
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

func accountName(a *ent.CustomerAccount) string { return a.Name + " (" + a.Number + ")" }

func location(a *ent.CustomerAccount) *time.Location {
	loc, err := caldate.Zone(a.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}
