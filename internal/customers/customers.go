// Package customers holds the operations on customer accounts, contacts and
// their roles. Every write goes through the client of the mutation's
// transaction and is audited in it; authorization has already been decided
// by the directive and is enforced again by the ent policies.
package customers

import (
	"context"
	"errors"
	"portier/internal/authz"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/customeraccount"
	"portier/ent/roleassignment"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/groups"
	"portier/internal/identity"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Service runs the operations. Tx returns the mutation's transaction.
type Service struct {
	Client *ent.Client
	Tx     func() (*ent.Client, error)
	Now    func() time.Time
}

// NewAccount is the input of CreateAccount.
type NewAccount struct {
	Number, Name string
	ShortName    *string
	Kind         *customeraccount.Kind
	TimeZone     *string
	HasSLA       *bool
	// OrganisationDomains are confirmed at once: staff create accounts.
	OrganisationDomains []string
}

// CreateAccount creates a customer account.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (*ent.CustomerAccount, error) {
	number := schema.NormalizeCustomerNumber(in.Number)
	if !schema.CustomerNumberPattern.MatchString(number) {
		return nil, apperr.BadInput("input.number", "a customer number has 3 to 32 letters, digits or inner dashes")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		return nil, apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
	}
	domains, err := normalizeDomains(in.OrganisationDomains, "input.organisationDomains")
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	// Numbers are never reused: look also at DELETED accounts, as Portier.
	taken, err := c.CustomerAccount.Query().Where(customeraccount.Number(number)).Exist(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, apperr.Conflict("input.number", "customer number %s is already taken (numbers are never reused)", number)
	}
	q := c.CustomerAccount.Create().SetNumber(number).SetName(name)
	if in.ShortName != nil {
		q.SetShortName(strings.TrimSpace(*in.ShortName))
	}
	if in.Kind != nil {
		q.SetKind(*in.Kind)
	}
	if in.TimeZone != nil {
		if _, err := time.LoadLocation(*in.TimeZone); err != nil || *in.TimeZone == "" || *in.TimeZone == "Local" {
			return nil, apperr.BadInput("input.timeZone", "%q is not an IANA time zone", *in.TimeZone)
		}
		q.SetTimeZone(*in.TimeZone)
	}
	if in.HasSLA != nil {
		q.SetHasSLA(*in.HasSLA)
	}
	a, err := q.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.number", "customer number %s is already taken (numbers are never reused)", number)
	}
	if err != nil {
		return nil, err
	}
	if _, err := groups.CreateBuiltIn(ctx, c, a); err != nil {
		return nil, err
	}
	if err := s.addConfirmedDomains(ctx, c, a, domains); err != nil {
		return nil, err
	}
	changes := map[string]any{"number": a.Number, "name": a.Name, "kind": string(a.Kind), "timeZone": a.TimeZone, "hasSLA": a.HasSLA}
	if len(domains) > 0 {
		changes["organisationDomains"] = domains
	}
	return a, audit.Record(ctx, c, audit.Entry{
		Action: "customer_account.create", AccountID: a.ID, TargetType: "CustomerAccount", TargetID: string(a.ID),
		Changes: changes,
	})
}

// NewContact is the input of CreateContact.
type NewContact struct {
	AccountID    pulid.ID
	Name         string
	Email, Phone *string
	// Roles nil means DefaultContactRoles; empty means none.
	Roles []domain.Role
	// AllowOutsideOrganisationDomains is the staff override of the domain
	// rule (see domains.go).
	AllowOutsideOrganisationDomains bool
}

// DefaultContactRoles are the roles of a contact created without roles:
// least privilege (new contacts start with support rights only): it may open tickets and is told technical news, and without
// PORTAL_ACCESS it acts for nobody in the portal. The grant rule applies to
// it as to roles given explicitly.
var DefaultContactRoles = []domain.Role{domain.RoleTechnicalContact}

// CreateContact creates a contact with roles (DefaultContactRoles when none
// are given). A contact whose e-mail is the
// verified e-mail of an existing user is linked to that user only when the
// provider's staff create it (staff may read every user anyway). For anyone
// else (a customer admin, an API key) nothing is linked and the answer does
// not depend on whether a user holds the address, so typing an address
// tells nobody who has an account: the user is told by e-mail and links it
// while logged in (linkContacts); a person without a login yet gets linked
// when verifying the address (flow 5).
func (s *Service) CreateContact(ctx context.Context, in NewContact) (*ent.Contact, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 {
		return nil, apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
	}
	var email string
	if in.Email != nil {
		email = schema.NormalizeEmail(*in.Email)
		if email != "" && !schema.ValidEmail(email) {
			return nil, apperr.BadInput("input.email", "%q is not an e-mail address", *in.Email)
		}
	}
	if in.Phone != nil && len(strings.TrimSpace(*in.Phone)) > 32 {
		return nil, apperr.BadInput("input.phone", "a phone number has at most 32 characters")
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Get(ctx, in.AccountID)
	if err != nil {
		return nil, err
	}
	if acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.customerAccountID", "the customer account is deleted")
	}
	outside, err := CheckNewContactAddress(ctx, c, acct, email, in.AllowOutsideOrganisationDomains, "input.email")
	if err != nil {
		return nil, err
	}
	q := c.Contact.Create().SetCustomerAccountID(acct.ID).SetName(name).SetOutsideOrganisationDomains(outside)
	byStaff := viewer.FromContext(ctx).IsStaff()
	if email != "" {
		if err := checkContactEmail(ctx, c, acct, email, "input.email"); err != nil {
			return nil, err
		}
		q.SetEmail(email)
	}
	if email != "" && byStaff {
		u, err := c.UserAccount.Query().
			// Staff users act through their staff role only, never
			// through contacts (an assignment removed must end access).
			Where(useraccount.Email(email), useraccount.EmailVerifiedAtNotNil(), useraccount.StatusNEQ(useraccount.StatusDELETED),
				useraccount.StaffRoleIsNil()).
			Only(viewer.SystemContext(ctx))
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if u != nil {
			q.SetUserID(u.ID)
		}
	}
	if in.Phone != nil && strings.TrimSpace(*in.Phone) != "" {
		q.SetPhone(strings.TrimSpace(*in.Phone))
	}
	ct, err := q.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.email", "the account already has a contact with this e-mail")
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	roles := dedupe(in.Roles)
	if in.Roles == nil {
		roles = DefaultContactRoles
	}
	if err := checkRoleGrant(ctx, acct.ID, roles, "input.roles"); err != nil {
		var e *apperr.Error
		if in.Roles == nil && errors.As(err, &e) {
			e.Message += " (a new contact starts with TECHNICAL_CONTACT; pass roles: [] to create it without any role)"
		}
		return nil, err
	}
	for _, role := range roles {
		if _, err := s.grant(ctx, c, ct, role, now, nil); err != nil {
			return nil, err
		}
	}
	changes := map[string]any{"name": ct.Name, "roles": roleNames(roles)}
	if email != "" {
		changes["email"] = email
	}
	if ct.UserID != nil {
		changes["linkedUser"] = string(*ct.UserID)
	}
	if outside {
		changes["outsideOrganisationDomains"] = true
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "contact.create", AccountID: acct.ID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	if outside {
		if err := AuditOverride(ctx, c, acct.ID, "Contact", ct.ID, email); err != nil {
			return nil, err
		}
	}
	if email != "" && !byStaff {
		if err := identity.ContactAdded(ctx, c, email, acct.Name, acct.Number); err != nil {
			return nil, err
		}
	}
	if err := notify.RolesGranted(ctx, c, ct, nil, now, roles); err != nil {
		return nil, err
	}
	return ct, nil
}

func (s *Service) grant(ctx context.Context, c *ent.Client, ct *ent.Contact, role domain.Role, from time.Time, until *caldate.Date) (*ent.RoleAssignment, error) {
	q := c.RoleAssignment.Create().
		SetCustomerAccountID(ct.CustomerAccountID).
		SetContactID(ct.ID).
		SetRole(role).
		SetValidFrom(from).
		SetNillableValidUntil(until).
		SetNillableGrantedViaDelegationID(authz.DelegationVia(ctx, ct.CustomerAccountID))
	if uid := viewer.FromContext(ctx).UserID; uid != "" {
		q.SetGrantedByID(pulid.ID(uid))
	}
	return q.Save(ctx)
}

// contactWithAccount loads a live contact and its account's time zone
// through the transaction (so tenant policies apply); see liveContact.
func (s *Service) contactWithAccount(ctx context.Context, c *ent.Client, id pulid.ID) (*ent.Contact, *time.Location, error) {
	return s.liveContact(ctx, c, id, "input.contactID")
}

// roleChange opens the transaction, loads the contact with its account's
// time zone, and checks that a given last day is not in the past there.
func (s *Service) roleChange(ctx context.Context, contactID pulid.ID, lastDay *caldate.Date, field string) (*ent.Client, *ent.Contact, *time.Location, time.Time, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, nil, nil, time.Time{}, err
	}
	ct, loc, err := s.contactWithAccount(ctx, c, contactID)
	if err != nil {
		return nil, nil, nil, time.Time{}, err
	}
	now := s.Now()
	if lastDay != nil && *lastDay < caldate.Of(now, loc) {
		return nil, nil, nil, time.Time{}, apperr.BadInput(field,
			"the last day must be today or later (in the account's time zone %s); to end a role now, leave it empty", loc)
	}
	return c, ct, loc, now, nil
}

// AssignRole grants a role from now, open-ended or until a last day.
func (s *Service) AssignRole(ctx context.Context, contactID pulid.ID, role domain.Role, until *caldate.Date) (*ent.RoleAssignment, error) {
	c, ct, _, now, err := s.roleChange(ctx, contactID, until, "input.validUntil")
	if err != nil {
		return nil, err
	}
	// An open assignment made through an agency delegation ends with it; it
	// does not stop the account's own people (or another delegation) from
	// granting the role for good.
	sameSource := roleassignment.GrantedViaDelegationIDIsNil()
	if via := authz.DelegationVia(ctx, ct.CustomerAccountID); via != nil {
		sameSource = roleassignment.Or(sameSource, roleassignment.GrantedViaDelegationID(*via))
	}
	open, err := c.RoleAssignment.Query().Where(
		roleassignment.ContactID(ct.ID), roleassignment.RoleEQ(role),
		roleassignment.ValidUntilIsNil(), roleassignment.EndedAtIsNil(), roleassignment.ValidFromLTE(now),
		sameSource,
	).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if open {
		return nil, apperr.Conflict("input.role", "the contact already holds %s without an end", role)
	}
	if err := checkRoleGrant(ctx, ct.CustomerAccountID, []domain.Role{role}, "input.role"); err != nil {
		return nil, err
	}
	ra, err := s.grant(ctx, c, ct, role, now, until)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"role": string(role)}
	if until != nil {
		changes["validUntil"] = string(*until)
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "role.assign", AccountID: ct.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	return ra, notify.RolesGranted(ctx, c, ct, until, now, []domain.Role{role})
}

// RemoveRole ends every active assignment of role: immediately when lastDay
// is nil, else at the end of lastDay in the account's time zone (inclusive: docs/authorization.md, 'Validity dates'). A lastDay moves the end of an already dated
// assignment either way: earlier (down to today) or later (extending it).
func (s *Service) RemoveRole(ctx context.Context, contactID pulid.ID, role domain.Role, lastDay *caldate.Date) (*ent.Contact, error) {
	c, ct, loc, now, err := s.roleChange(ctx, contactID, lastDay, "input.lastDay")
	if err != nil {
		return nil, err
	}
	if err := checkLastAdmin(ctx, c, ct, role, lastDay, now, loc); err != nil {
		return nil, err
	}
	assignments, err := c.RoleAssignment.Query().Where(
		roleassignment.ContactID(ct.ID), roleassignment.RoleEQ(role), roleassignment.EndedAtIsNil(),
	).All(ctx)
	if err != nil {
		return nil, err
	}
	ended, extended := 0, false
	for _, ra := range assignments {
		v := validityOf(ra)
		if v.OverAt(now, loc) {
			continue // already over
		}
		upd := c.RoleAssignment.UpdateOne(ra)
		if lastDay == nil {
			upd.SetEndedAt(now)
		} else {
			extended = extended || groups.Extends(ra.ValidUntil, *lastDay)
			upd.SetValidUntil(*lastDay)
		}
		if err := upd.Exec(ctx); err != nil {
			return nil, err
		}
		ended++
	}
	if ended == 0 {
		return nil, apperr.BadInput("input.role", "the contact does not hold %s", role)
	}
	if extended {
		// Extending is a grant.
		if err := checkRoleGrant(ctx, ct.CustomerAccountID, []domain.Role{role}, "input.lastDay"); err != nil {
			return nil, err
		}
	}
	changes := map[string]any{"role": string(role)}
	if extended {
		changes["extended"] = true
	}
	if lastDay != nil {
		changes["lastDay"] = string(*lastDay)
	} else {
		changes["endedAt"] = now.Format(time.RFC3339)
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "role.remove", AccountID: ct.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	if !extended {
		if err := notify.RoleRemoved(ctx, c, ct, role, lastDay, now); err != nil {
			return nil, err
		}
	}
	return c.Contact.Get(ctx, ct.ID)
}

// checkRoleGrant refuses to grant (or extend) roles whose permissions the
// actor does not hold itself on the account: nobody grants what he does not
// hold (docs/authorization.md, 'Roles and permissions'), so a holder of CONTACTS_MANAGE through a rights group or
// an agency delegation cannot make anyone — himself included — CUSTOMER_ADMIN.
// Provider staff are exempt: SALES on an assigned, consenting account sets
// up a customer's first admins (their own contacts never give them rights).
func checkRoleGrant(ctx context.Context, accountID pulid.ID, roles []domain.Role, field string) error {
	v := viewer.FromContext(ctx)
	if v.IsStaff() {
		return nil
	}
	if v.Access == nil {
		return apperr.Forbidden("no principal")
	}
	own, err := v.Access.Permissions(ctx, string(accountID))
	if err != nil {
		return err
	}
	for _, role := range roles {
		if missing := groups.Exceeding(domain.RolePermissions[role], own); len(missing) > 0 {
			names := make([]string, len(missing))
			for i, p := range missing {
				names[i] = p.EnumName()
			}
			e := apperr.ForbiddenReason("GRANT_EXCEEDS_OWN_PERMISSIONS",
				"you cannot grant "+string(role)+": it gives permissions you do not hold yourself on this customer account: "+strings.Join(names, ", "))
			e.Field = field
			return e
		}
	}
	return nil
}

func dedupe(roles []domain.Role) []domain.Role {
	seen := map[domain.Role]bool{}
	var out []domain.Role
	for _, r := range roles {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func roleNames(roles []domain.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}
