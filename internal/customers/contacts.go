package customers

import (
	"context"
	"errors"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/groupmembership"
	"portier/ent/invitation"
	"portier/ent/roleassignment"
	"portier/ent/schema"
	"portier/ent/supportauthorization"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/groups"
	"portier/internal/identity"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Contacts (issue 8 item 1): changed and deleted by holders of
// CONTACTS_MANAGE (the directive decides; the tenant policies apply again).
// A deleted contact stays as a row in history with deleted_at set; every
// change of it is refused in one place, liveContact.

// checkContactEmail checks an e-mail address (already normalised, not
// empty) that a contact of acct is to get, answering on field: today its
// format and that no other live contact of the account has it.
//
// It is the one place for rules on contact addresses: a later rule (e.g.
// that the address lies in one of the account's organisation domains) is
// added here, and createContact and updateContact both follow it.
// The uniqueness is also kept by the partial unique index on live contacts,
// so a concurrent insert still ends in CONFLICT.
func checkContactEmail(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, email, field string) error {
	if !schema.ValidEmail(email) {
		return apperr.BadInput(field, "%q is not an e-mail address", email)
	}
	// Read as Portier: uniqueness counts every live contact of the account,
	// also one the actor could not list.
	taken, err := c.Contact.Query().
		Where(contact.CustomerAccountID(acct.ID), contact.Email(email), contact.DeletedAtIsNil()).
		Exist(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	if taken {
		return errEmailTaken(field)
	}
	return nil
}

func errEmailTaken(field string) error {
	return apperr.Conflict(field, "the account already has a contact with this e-mail")
}

// liveContact loads a contact with its account through the transaction
// (so the tenant policies apply) and refuses a deleted one: every change of
// a contact starts here (roles, updates, deletion, login activation).
func (s *Service) liveContact(ctx context.Context, c *ent.Client, id pulid.ID, field string) (*ent.Contact, *time.Location, error) {
	ct, err := c.Contact.Query().Where(contactID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = field
		return nil, nil, e
	}
	if err != nil {
		return nil, nil, err
	}
	if ct.DeletedAt != nil {
		return nil, nil, apperr.ContactDeleted(field)
	}
	// The account is read as Portier: only its status and time zone are
	// needed, and a caller may manage contacts without ACCOUNT_READ (an API
	// key narrowed to CONTACTS_*), for whom an eager load comes back empty.
	acct, err := c.CustomerAccount.Get(viewer.SystemContext(ctx), ct.CustomerAccountID)
	if err != nil {
		return nil, nil, err
	}
	ct.Edges.CustomerAccount = acct
	loc, err := caldate.Zone(ct.Edges.CustomerAccount.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return ct, loc, nil
}

// LiveContact is liveContact for other packages that change a contact
// (login activation): the contact with its account and the account's time
// zone; NOT_FOUND on field when the viewer cannot see it, BAD_USER_INPUT
// (reason CONTACT_DELETED) when it is deleted.
func LiveContact(ctx context.Context, c *ent.Client, id pulid.ID, field string) (*ent.Contact, *time.Location, error) {
	return (&Service{}).liveContact(ctx, c, id, field)
}

// ContactChange is the input of UpdateContact: nil fields stay.
type ContactChange struct {
	ID                 pulid.ID
	Name, Email, Phone *string
	// AllowOutsideOrganisationDomains is the staff override of the domain
	// rule for the new address (see domains.go).
	AllowOutsideOrganisationDomains bool
}

// UpdateContact changes a live contact's name, e-mail or phone. The address
// of a contact linked to a user follows that user's verified address and is
// not changed here. A new address never links the contact to a user: the
// holder of the address, if any, is told by e-mail (as at createContact), so
// the answer does not depend on it. A pending login activation of the
// contact went to the old address and is revoked.
func (s *Service) UpdateContact(ctx context.Context, in ContactChange) (*ent.Contact, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	ct, _, err := s.liveContact(ctx, c, in.ID, "input.id")
	if err != nil {
		return nil, err
	}
	acct := ct.Edges.CustomerAccount
	if acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.id", "the customer account is deleted")
	}
	changes := map[string]any{}
	upd := c.Contact.Update().Where(contact.ID(ct.ID), contact.DeletedAtIsNil())
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || len(name) > 200 {
			return nil, apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
		}
		if name != ct.Name {
			upd.SetName(name)
			changes["name"] = change(ct.Name, name)
		}
	}
	newEmail := ""
	emailChanged, overridden := false, false
	if in.Email != nil {
		newEmail = schema.NormalizeEmail(*in.Email)
		old := deref(ct.Email)
		if newEmail != old {
			if ct.UserID != nil {
				return nil, apperr.BadInput("input.email",
					"the contact is linked to a user account: its e-mail address follows that user's verified address and cannot be changed here")
			}
			if newEmail == "" {
				upd.ClearEmail().SetOutsideOrganisationDomains(false)
			} else {
				if err := checkContactEmail(ctx, c, acct, newEmail, "input.email"); err != nil {
					return nil, err
				}
				// Whoever holds the new address gets everything the contact
				// holds once it links (flow 5, or enableLogin): the change
				// is a grant of it, under the grant rules.
				if err := checkAddressGrant(ctx, c, ct, s.Now(), "input.email"); err != nil {
					return nil, err
				}
				// The organisation-domain rule holds for a changed address as
				// for a new contact (issue 8 item 1).
				outside, err := CheckChangedContactAddress(ctx, c, acct, newEmail, in.AllowOutsideOrganisationDomains, "input.email")
				if err != nil {
					return nil, err
				}
				upd.SetEmail(newEmail).SetOutsideOrganisationDomains(outside)
				overridden = outside
			}
			// Guarded: a contact linked meanwhile keeps its address.
			upd.Where(contact.UserIDIsNil())
			changes["email"] = change(old, newEmail)
			emailChanged = true
		}
	}
	if in.Phone != nil {
		phone := strings.TrimSpace(*in.Phone)
		if len(phone) > 32 {
			return nil, apperr.BadInput("input.phone", "a phone number has at most 32 characters")
		}
		if old := deref(ct.Phone); phone != old {
			if phone == "" {
				upd.ClearPhone()
			} else {
				upd.SetPhone(phone)
			}
			changes["phone"] = change(old, phone)
		}
	}
	if len(changes) == 0 {
		return ct, nil
	}
	n, err := upd.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, errEmailTaken("input.email")
	}
	if err != nil {
		return nil, err
	}
	if n != 1 {
		// Deleted or linked by a concurrent request.
		return nil, apperr.Conflict("input.id", "the contact was changed meanwhile; load it and try again")
	}
	if emailChanged {
		k, err := revokeActivations(ctx, c, ct.ID, s.Now())
		if err != nil {
			return nil, err
		}
		if k > 0 {
			changes["activationsRevoked"] = k
		}
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "contact.update", AccountID: ct.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	if overridden {
		if err := AuditOverride(ctx, c, ct.CustomerAccountID, "Contact", ct.ID, newEmail); err != nil {
			return nil, err
		}
	}
	if emailChanged && newEmail != "" {
		if err := identity.ContactAdded(ctx, c, newEmail, acct.Name, acct.Number); err != nil {
			return nil, err
		}
	}
	return c.Contact.Get(ctx, ct.ID)
}

// checkAddressGrant applies the grant rules to a new address of ct: the
// viewer must be allowed to grant every role the contact holds now or
// later (CheckRoleGrant) and every permission of its rights groups, and
// needs AUTHORIZATIONS_MANAGE when the contact holds support
// authorizations; else FORBIDDEN (GRANT_EXCEEDS_OWN_PERMISSIONS) on field.
// Staff are exempt. Read as Portier: the rule counts everything the
// contact holds, also what the viewer could not list.
func checkAddressGrant(ctx context.Context, c *ent.Client, ct *ent.Contact, now time.Time, field string) error {
	v := viewer.FromContext(ctx)
	if v.IsStaff() {
		return nil
	}
	loc, err := caldate.Zone(ct.Edges.CustomerAccount.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	sys := viewer.SystemContext(ctx)
	ras, err := c.RoleAssignment.Query().Where(roleassignment.ContactID(ct.ID), roleassignment.EndedAtIsNil()).All(sys)
	if err != nil {
		return err
	}
	var roles []domain.Role
	for _, ra := range ras {
		if !validityOf(ra).OverAt(now, loc) {
			roles = append(roles, ra.Role)
		}
	}
	if err := checkRoleGrant(ctx, ct.CustomerAccountID, dedupe(roles), field); err != nil {
		return err
	}
	ms, err := c.GroupMembership.Query().Where(groupmembership.ContactID(ct.ID), groupmembership.EndedAtIsNil()).
		WithGroup().All(sys)
	if err != nil {
		return err
	}
	var perms []domain.Permission
	for _, m := range ms {
		if m.Edges.Group == nil || (authz.Validity{From: m.ValidFrom, UntilDate: m.ValidUntil, EndedAt: m.EndedAt}).OverAt(now, loc) {
			continue
		}
		for _, p := range m.Edges.Group.Permissions {
			perms = append(perms, domain.Permission(p))
		}
	}
	auths, err := c.SupportAuthorization.Query().Where(supportauthorization.ContactID(ct.ID), supportauthorization.EndedAtIsNil()).All(sys)
	if err != nil {
		return err
	}
	for _, a := range auths {
		if !(authz.Validity{From: a.ValidFrom, UntilDate: a.ValidUntil, EndedAt: a.EndedAt}).OverAt(now, loc) {
			perms = append(perms, domain.PermAuthorizationsManage)
			break
		}
	}
	if len(perms) == 0 {
		return nil
	}
	return groups.CheckGrant(ctx, ct.CustomerAccountID, perms, field)
}

// DeleteContact deletes a contact softly: the row stays in history with
// deleted_at; its role assignments, group memberships and support
// authorizations that are not over end now, a pending login activation is
// revoked, and its user link is cleared (the user kept in former_user_id).
// The person is told it lost access. The last-admin rule applies: the
// account's only customer admin cannot be deleted.
func (s *Service) DeleteContact(ctx context.Context, id pulid.ID) (*ent.Contact, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	ct, loc, err := s.liveContact(ctx, c, id, "id")
	if err != nil {
		return nil, err
	}
	now := s.Now()
	// Removing CUSTOMER_ADMIN now covers the pair: a contact that is not
	// an administrator passes; the only one does not. This also takes the
	// lock that serialises two admins deleting each other.
	if err := checkLastAdmin(ctx, c, ct, domain.RoleCustomerAdmin, nil, now, loc); err != nil {
		var e *apperr.Error
		if errors.As(err, &e) && e.Reason == ReasonLastCustomerAdmin {
			e.Field = "id"
			e.Message = "this is the customer account's only administrator: another contact must hold CUSTOMER_ADMIN and PORTAL_ACCESS at least as long as this one does before it can be deleted"
		}
		return nil, err
	}
	// Guarded: of two concurrent deletions one wins, the other is told.
	n, err := c.Contact.Update().Where(contact.ID(ct.ID), contact.DeletedAtIsNil()).SetDeletedAt(now).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.ContactDeleted("id")
	}
	ended, err := s.endRoles(ctx, c, ct, now, loc)
	if err != nil {
		return nil, err
	}
	// Memberships and authorizations are written as Portier: the actor
	// holds CONTACTS_MANAGE (checked by the directive), not necessarily
	// GROUPS_MANAGE or AUTHORIZATIONS_MANAGE, and deleting a contact ends
	// everything it holds.
	sys := viewer.SystemContext(ctx)
	memberships, err := endMemberships(sys, c, ct.ID, now, loc)
	if err != nil {
		return nil, err
	}
	auths, err := endAuthorizations(sys, c, ct.ID, now, loc)
	if err != nil {
		return nil, err
	}
	activations, err := revokeActivations(ctx, c, ct.ID, now)
	if err != nil {
		return nil, err
	}
	// Told while the contact is still linked: the mails go to its user.
	for _, role := range []domain.Role{domain.RolePortalAccess, domain.RoleCustomerAdmin} {
		if ended[role] {
			if err := notify.RoleRemoved(ctx, c, ct, role, nil, now); err != nil {
				return nil, err
			}
		}
	}
	changes := map[string]any{"deletedAt": now.UTC().Format(time.RFC3339), "rolesEnded": endedNames(ended),
		"groupMembershipsEnded": memberships, "supportAuthorizationsEnded": auths}
	if activations > 0 {
		changes["activationsRevoked"] = activations
	}
	former := ct.UserID
	if former == nil {
		former = ct.UnlinkedUserID
	}
	unlink := c.Contact.UpdateOneID(ct.ID).ClearUserID().ClearUnlinkedUserID()
	if former != nil {
		unlink.SetFormerUserID(*former)
		changes["formerUser"] = string(*former)
	}
	if err := unlink.Exec(ctx); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: "contact.delete", AccountID: ct.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	return c.Contact.Get(ctx, ct.ID)
}

// endRoles ends now every assignment of ct that is not over; it returns
// the roles that were active.
func (s *Service) endRoles(ctx context.Context, c *ent.Client, ct *ent.Contact, now time.Time, loc *time.Location) (map[domain.Role]bool, error) {
	ras, err := c.RoleAssignment.Query().Where(roleassignment.ContactID(ct.ID), roleassignment.EndedAtIsNil()).All(ctx)
	if err != nil {
		return nil, err
	}
	active := map[domain.Role]bool{}
	for _, ra := range ras {
		v := validityOf(ra)
		if v.OverAt(now, loc) {
			continue
		}
		if v.ActiveAt(now, loc) {
			active[ra.Role] = true
		}
		if err := c.RoleAssignment.UpdateOne(ra).SetEndedAt(now).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return active, nil
}

func endMemberships(sys context.Context, c *ent.Client, id pulid.ID, now time.Time, loc *time.Location) (int, error) {
	ms, err := c.GroupMembership.Query().Where(groupmembership.ContactID(id), groupmembership.EndedAtIsNil()).All(sys)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if (authz.Validity{From: m.ValidFrom, UntilDate: m.ValidUntil, EndedAt: m.EndedAt}).OverAt(now, loc) {
			continue
		}
		if err := c.GroupMembership.UpdateOne(m).SetEndedAt(now).Exec(sys); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func endAuthorizations(sys context.Context, c *ent.Client, id pulid.ID, now time.Time, loc *time.Location) (int, error) {
	as, err := c.SupportAuthorization.Query().Where(supportauthorization.ContactID(id), supportauthorization.EndedAtIsNil()).All(sys)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range as {
		if (authz.Validity{From: a.ValidFrom, UntilDate: a.ValidUntil, EndedAt: a.EndedAt}).OverAt(now, loc) {
			continue
		}
		if err := c.SupportAuthorization.UpdateOne(a).SetEndedAt(now).Exec(sys); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// revokeActivations revokes the pending login activations of a contact
// (their links went to its address; enableLogin sends a new one). Written
// as Portier: the actor manages contacts, not necessarily invitations.
func revokeActivations(ctx context.Context, c *ent.Client, id pulid.ID, now time.Time) (int, error) {
	return c.Invitation.Update().
		Where(invitation.ContactID(id), invitation.StateEQ(invitation.StatePENDING)).
		SetState(invitation.StateREVOKED).SetRevokedAt(now).
		Save(viewer.SystemContext(ctx))
}

// RevokeActivations is revokeActivations for the login activation itself
// (a new activation replaces the old one).
func RevokeActivations(ctx context.Context, c *ent.Client, id pulid.ID, now time.Time) (int, error) {
	return revokeActivations(ctx, c, id, now)
}

func endedNames(ended map[domain.Role]bool) []string {
	out := []string{}
	for _, r := range domain.Roles {
		if ended[r] {
			out = append(out, string(r))
		}
	}
	return out
}

// change is the audit form of one changed field.
func change(old, new string) map[string]any {
	return map[string]any{"old": old, "new": new}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
