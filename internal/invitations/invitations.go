// Package invitations lets a customer account invite a person by e-mail
// with roles and rights groups (docs/authorization.md, 'Roles and permissions').
//
// The mailed link carries 256 random bits; only their SHA-256 is stored. An
// invitation is accepted only by a logged-in user whose verified e-mail is
// exactly the invited address after normalisation (never a pattern or
// suffix match), so the link alone — forwarded, leaked or guessed — gives
// nobody access: it also needs the mailbox's verified owner. Accepting
// creates or links that user's contact on the account, with the roles and
// memberships, in one transaction. Because a user is one login across
// accounts, a person invited to several accounts ends up with one user
// acting for all of them.
//
// Nobody invites with more than he could grant himself: the roles pass the
// customers' grant rule and the groups the groups' escalation rule, at
// invitation and again at every resend.
package invitations

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"portier/internal/authz"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/groupmembership"
	"portier/ent/invitation"
	"portier/ent/rightsgroup"
	"portier/ent/roleassignment"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/caldate"
	"portier/internal/customers"
	"portier/internal/domain"
	"portier/internal/groups"
	"portier/internal/identity"
	"portier/internal/mail"
	"portier/internal/notify"
	"portier/internal/outbox"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/viewer"
)

// Lifetime is how long an invitation link works.
const Lifetime = 7 * 24 * time.Hour

// Token guesses are limited per client address and per user; windows end
// by themselves.
var (
	ruleAcceptIP   = ratelimit.Rule{Name: "invite:ip", Limit: 30, Window: 15 * time.Minute}
	ruleAcceptUser = ratelimit.Rule{Name: "invite:user", Limit: 10, Window: 15 * time.Minute}
)

// States as the API shows them.
const (
	StatePending  = "PENDING"
	StateAccepted = "ACCEPTED"
	StateRevoked  = "REVOKED"
	StateExpired  = "EXPIRED"
)

// Service runs the invitation operations of one request. Tx returns the
// mutation's transaction. Identity creates logins (activateLogin).
type Service struct {
	Client    *ent.Client
	Tx        func() (*ent.Client, error)
	Limiter   *ratelimit.Limiter
	PublicURL string
	Now       func() time.Time
	Identity  *identity.Service
}

// New is the input of Invite.
type New struct {
	AccountID  pulid.ID
	Email      string
	Name       *string
	Roles      []domain.Role
	Groups     []pulid.ID
	ValidUntil *caldate.Date
	// AllowOutsideOrganisationDomains is the staff override of the
	// organisation-domain rule (customers.CheckNewContactAddress).
	AllowOutsideOrganisationDomains bool
}

// fields names the input fields errors point at.
type fields struct{ account, email, name, roles, groups, validUntil string }

var inviteFields = fields{
	account: "input.customerAccountID", email: "input.email", name: "input.name",
	roles: "input.roles", groups: "input.groups", validUntil: "input.validUntil",
}

func sys(ctx context.Context) context.Context { return viewer.SystemContext(ctx) }

// State is the state of inv at now: a PENDING invitation past its expiry
// is EXPIRED.
func State(inv *ent.Invitation, now time.Time) string {
	if inv.State == invitation.StatePENDING && !inv.ExpiresAt.After(now) {
		return StateExpired
	}
	return string(inv.State)
}

// Invite creates an invitation and mails its link.
func (s *Service) Invite(ctx context.Context, in New) (*ent.Invitation, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Get(ctx, in.AccountID)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = inviteFields.account
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return s.invite(ctx, c, acct, in, inviteFields)
}

// InviteFirstAdmin invites the first customer admin of a new account (made
// by staff in the same transaction c) with CUSTOMER_ADMIN and PORTAL_ACCESS.
// A BUSINESS account created without organisation domains admits the
// address as a staff override (recorded on the invitation and audited); one
// created with domains needs the address in one of them.
func (s *Service) InviteFirstAdmin(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, email string, name *string) (*ent.Invitation, error) {
	confirmed, err := customers.ConfirmedDomains(ctx, c, acct.ID)
	if err != nil {
		return nil, err
	}
	return s.invite(ctx, c, acct, New{
		AccountID: acct.ID, Email: email, Name: name,
		Roles:                           []domain.Role{domain.RoleCustomerAdmin, domain.RolePortalAccess},
		AllowOutsideOrganisationDomains: len(confirmed) == 0 && acct.Kind == customeraccount.KindBUSINESS,
	}, fields{email: "input.initialAdminEmail", name: "input.initialAdminName", roles: "input.initialAdminEmail",
		groups: "input.initialAdminEmail", validUntil: "input.initialAdminEmail", account: "input"})
}

func (s *Service) invite(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, in New, f fields) (*ent.Invitation, error) {
	email := schema.NormalizeEmail(in.Email)
	if !schema.ValidEmail(email) {
		return nil, apperr.BadInput(f.email, "%q is not an e-mail address", in.Email)
	}
	name := ""
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
	}
	if len(name) > 200 {
		return nil, apperr.BadInput(f.name, "a name has at most 200 characters")
	}
	if acct.Status != customeraccount.StatusACTIVE {
		return nil, apperr.BadInput(f.account, "the customer account is not active")
	}
	loc := location(acct)
	now := s.Now()
	if in.ValidUntil != nil && *in.ValidUntil < caldate.Of(now, loc) {
		return nil, apperr.BadInput(f.validUntil, "the last day must be today or later (in the account's time zone %s)", loc)
	}
	roles := customers.Dedupe(in.Roles)
	groupIDs := dedupeIDs(in.Groups)
	if err := s.checkGrants(ctx, c, acct.ID, roles, groupIDs, f.roles, f.groups); err != nil {
		return nil, err
	}
	// Any contact with the address, also one the viewer could not see.
	isContact, err := c.Contact.Query().Where(contact.CustomerAccountID(acct.ID), contact.Email(email), contact.DeletedAtIsNil()).Exist(sys(ctx))
	if err != nil {
		return nil, err
	}
	if isContact {
		return nil, apperr.Conflict(f.email, "the customer account already has a contact with this e-mail address")
	}
	pending, err := c.Invitation.Query().Where(invitation.CustomerAccountID(acct.ID), invitation.Email(email),
		invitation.StateEQ(invitation.StatePENDING), invitation.ExpiresAtGT(now)).Exist(sys(ctx))
	if err != nil {
		return nil, err
	}
	if pending {
		return nil, apperr.Conflict(f.email, "an invitation for this e-mail address is pending; resend or revoke it")
	}
	outside, err := customers.CheckNewContactAddress(ctx, c, acct, email, in.AllowOutsideOrganisationDomains, f.email)
	if err != nil {
		return nil, err
	}
	tok, hash := newToken()
	q := c.Invitation.Create().
		SetCustomerAccountID(acct.ID).SetEmail(email).SetName(name).SetOutsideOrganisationDomains(outside).
		SetRoles(roleStrings(roles)).SetGroupIds(idStrings(groupIDs)).
		SetNillableValidUntil(in.ValidUntil).
		SetTokenHash(hash).SetExpiresAt(now.Add(Lifetime)).
		SetNillableGrantedViaDelegationID(authz.DelegationVia(ctx, acct.ID))
	if uid := viewer.FromContext(ctx).UserID; uid != "" {
		q.SetInvitedByID(pulid.ID(uid))
	}
	inv, err := q.Save(ctx)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"email": email, "roles": roleStrings(roles), "groups": idStrings(groupIDs),
		"expiresAt": inv.ExpiresAt.UTC().Format(time.RFC3339)}
	if name != "" {
		changes["name"] = name
	}
	if in.ValidUntil != nil {
		changes["validUntil"] = string(*in.ValidUntil)
	}
	if outside {
		changes["outsideOrganisationDomains"] = true
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "invitation.create", AccountID: acct.ID,
		TargetType: "Invitation", TargetID: string(inv.ID), Changes: changes}); err != nil {
		return nil, err
	}
	if outside {
		if err := customers.AuditOverride(ctx, c, acct.ID, "Invitation", inv.ID, email); err != nil {
			return nil, err
		}
	}
	return inv, s.sendLink(ctx, c, acct, inv, tok)
}

// checkGrants applies "nobody grants what he does not hold" to the roles
// and to the permissions of the groups, which must be explicit groups of
// the account.
func (s *Service) checkGrants(ctx context.Context, c *ent.Client, accountID pulid.ID, roles []domain.Role, groupIDs []pulid.ID, rolesField, groupsField string) error {
	if err := customers.CheckRoleGrant(ctx, accountID, roles, rolesField); err != nil {
		return err
	}
	if len(groupIDs) == 0 {
		return nil
	}
	gs, err := c.RightsGroup.Query().
		Where(rightsgroup.IDIn(groupIDs...), rightsgroup.CustomerAccountID(accountID)).All(sys(ctx))
	if err != nil {
		return err
	}
	if len(gs) != len(groupIDs) {
		e := apperr.NotFound()
		e.Field = groupsField
		return e
	}
	var perms []domain.Permission
	for _, g := range gs {
		if g.BuiltIn {
			return apperr.BadInput(groupsField, "every contact holding PORTAL_ACCESS is a member of the built-in group; it cannot be joined")
		}
		perms = append(perms, groups.Permissions(g)...)
	}
	return groups.CheckGrant(ctx, accountID, groups.Normalize(perms), groupsField)
}

// Revoke withdraws a pending (or expired) invitation.
func (s *Service) Revoke(ctx context.Context, id pulid.ID) (*ent.Invitation, error) {
	c, inv, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if inv.State != invitation.StatePENDING {
		return nil, apperr.BadInput("id", "the invitation is already %s", strings.ToLower(string(inv.State)))
	}
	now := s.Now()
	n, err := c.Invitation.Update().Where(invitation.ID(inv.ID), invitation.StateEQ(invitation.StatePENDING)).
		SetState(invitation.StateREVOKED).SetRevokedAt(now).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.BadInput("id", "the invitation is no longer pending")
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "invitation.revoke", AccountID: inv.CustomerAccountID,
		TargetType: "Invitation", TargetID: string(inv.ID), Changes: map[string]any{"email": inv.Email}}); err != nil {
		return nil, err
	}
	return c.Invitation.Get(ctx, inv.ID)
}

// Resend gives a pending (or expired) invitation a new link, valid for
// Lifetime from now; the old link stops working. The grants are checked
// again: the resender offers them anew.
func (s *Service) Resend(ctx context.Context, id pulid.ID) (*ent.Invitation, error) {
	c, inv, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if inv.State != invitation.StatePENDING {
		return nil, apperr.BadInput("id", "the invitation is %s; only a pending or expired one can be sent again", strings.ToLower(string(inv.State)))
	}
	acct, err := c.CustomerAccount.Get(sys(ctx), inv.CustomerAccountID)
	if err != nil {
		return nil, err
	}
	if acct.Status != customeraccount.StatusACTIVE {
		return nil, apperr.BadInput("id", "the customer account is not active")
	}
	if err := s.checkGrants(ctx, c, acct.ID, rolesOf(inv), idsOf(inv), "id", "id"); err != nil {
		return nil, err
	}
	// The address is offered anew too: the domains may have changed.
	if _, err := customers.CheckInvitedContactAddress(ctx, c, acct, inv, "id"); err != nil {
		return nil, err
	}
	now := s.Now()
	tok, hash := newToken()
	n, err := c.Invitation.Update().Where(invitation.ID(inv.ID), invitation.StateEQ(invitation.StatePENDING)).
		SetTokenHash(hash).SetExpiresAt(now.Add(Lifetime)).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.BadInput("id", "the invitation is no longer pending")
	}
	inv, err = c.Invitation.Get(ctx, inv.ID)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "invitation.resend", AccountID: inv.CustomerAccountID,
		TargetType: "Invitation", TargetID: string(inv.ID),
		Changes: map[string]any{"email": inv.Email, "expiresAt": inv.ExpiresAt.UTC().Format(time.RFC3339)}}); err != nil {
		return nil, err
	}
	return inv, s.sendLink(ctx, c, acct, inv, tok)
}

// List returns the invitations of an account, newest first, optionally
// only those in state (as State computes it).
func (s *Service) List(ctx context.Context, accountID pulid.ID, state *string) ([]*ent.Invitation, error) {
	q := s.Client.Invitation.Query().Where(invitation.CustomerAccountID(accountID))
	now := s.Now()
	if state != nil {
		switch *state {
		case StatePending:
			q.Where(invitation.StateEQ(invitation.StatePENDING), invitation.ExpiresAtGT(now))
		case StateExpired:
			q.Where(invitation.StateEQ(invitation.StatePENDING), invitation.ExpiresAtLTE(now))
		default:
			q.Where(invitation.StateEQ(invitation.State(*state)))
		}
	}
	return q.Order(ent.Desc(invitation.FieldCreatedAt), ent.Desc(invitation.FieldID)).Limit(1000).All(ctx)
}

// Accept redeems an invitation for the logged-in user.
func (s *Service) Accept(ctx context.Context, tok string) (*ent.Invitation, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		return nil, apperr.Forbidden("an invitation is accepted by a logged-in user")
	}
	if err := s.Limiter.Take(ctx, ruleAcceptIP, v.IP); err != nil {
		return nil, err
	}
	if err := s.Limiter.Take(ctx, ruleAcceptUser, v.UserID); err != nil {
		return nil, err
	}
	bad := apperr.BadInput("token", "the invitation link is invalid, used, revoked or expired")
	hash := hashToken(strings.TrimSpace(tok))
	inv, err := s.Client.Invitation.Query().Where(invitation.TokenHash(hash)).Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if State(inv, now) != StatePending {
		return nil, bad
	}
	u, err := s.Client.UserAccount.Get(sys(ctx), pulid.ID(v.UserID))
	if err != nil {
		return nil, err
	}
	if u.StaffRole != nil {
		return nil, apperr.ForbiddenReason("STAFF_USER", "provider staff act through their staff role, not as contacts of customer accounts")
	}
	if u.Status != useraccount.StatusACTIVE {
		return nil, apperr.Forbidden("the user account is not active")
	}
	// Exact comparison of normalised addresses: never a pattern, so
	// "ice@x" is not "alice@x". The invited address is not revealed.
	if u.EmailVerifiedAt == nil || u.Email == "" || schema.NormalizeEmail(u.Email) != inv.Email {
		// Recorded through the plain client: the mutation fails, the
		// record must stay (acceptInvitation runs in a request of its own).
		if err := audit.Record(ctx, s.Client, audit.Entry{Action: "invitation.accept_refused", AccountID: inv.CustomerAccountID,
			TargetType: "Invitation", TargetID: string(inv.ID),
			Changes: map[string]any{"reason": "email_mismatch", "verified": u.EmailVerifiedAt != nil}}); err != nil {
			return nil, err
		}
		return nil, apperr.ForbiddenReason("EMAIL_MISMATCH",
			"this invitation was sent to another e-mail address: log in with the user whose verified e-mail address received it")
	}
	acct, err := s.Client.CustomerAccount.Get(sys(ctx), inv.CustomerAccountID)
	if err != nil {
		return nil, err
	}
	if acct.Status != customeraccount.StatusACTIVE {
		return nil, apperr.BadInput("token", "the customer account is not active")
	}
	loc := location(acct)
	if inv.ValidUntil != nil && *inv.ValidUntil < caldate.Of(now, loc) {
		return nil, apperr.BadInput("token", "the access offered by this invitation has ended")
	}

	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	n, err := c.Invitation.Update().
		Where(invitation.ID(inv.ID), invitation.TokenHash(hash), invitation.StateEQ(invitation.StatePENDING)).
		SetState(invitation.StateACCEPTED).SetAcceptedAt(now).SetAcceptedByID(u.ID).Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, bad // a concurrent accept, revoke or resend won
	}
	ct, created, err := s.contactFor(ctx, c, acct, inv, u)
	if err != nil {
		return nil, err
	}
	granted, err := s.grantRoles(ctx, c, inv, ct, now)
	if err != nil {
		return nil, err
	}
	joined, err := s.joinGroups(ctx, c, inv, ct, now, loc)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"invitation": string(inv.ID), "email": inv.Email, "user": string(u.ID),
		"roles": granted, "groups": joined, "contactCreated": created}
	if inv.ValidUntil != nil {
		changes["validUntil"] = string(*inv.ValidUntil)
	}
	if err := audit.RecordAll(ctx, c, []audit.Entry{
		{Action: "invitation.accept", AccountID: acct.ID, TargetType: "Invitation", TargetID: string(inv.ID),
			Changes: map[string]any{"contact": string(ct.ID), "user": string(u.ID)}},
		{Action: "contact.join_by_invitation", AccountID: acct.ID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes},
	}); err != nil {
		return nil, err
	}
	if err := notify.RolesGranted(ctx, c, ct, inv.ValidUntil, now, granted); err != nil {
		return nil, err
	}
	return c.Invitation.Get(sys(ctx), inv.ID)
}

// contactFor returns the user's contact on the invitation's account: the
// one already linked to the user, else the unlinked one with the invited
// address (now linked), else a new one.
func (s *Service) contactFor(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, inv *ent.Invitation, u *ent.UserAccount) (*ent.Contact, bool, error) {
	if inv.ContactID != nil {
		ct, err := linkActivated(ctx, c, inv, u.ID)
		return ct, false, err
	}
	ct, err := c.Contact.Query().
		Where(contact.CustomerAccountID(inv.CustomerAccountID), contact.UserID(u.ID), contact.DeletedAtIsNil()).Only(sys(ctx))
	if err == nil {
		return ct, false, nil
	}
	if !ent.IsNotFound(err) {
		return nil, false, err
	}
	ct, err = c.Contact.Query().
		Where(contact.CustomerAccountID(inv.CustomerAccountID), contact.Email(inv.Email), contact.DeletedAtIsNil()).Only(sys(ctx))
	switch {
	case err == nil && ct.UserID == nil:
		ct, err = c.Contact.UpdateOne(ct).SetUserID(u.ID).Save(sys(ctx))
		return ct, false, err
	case err == nil:
		return nil, false, apperr.Conflict("token", "a contact with this address is linked to another user")
	case !ent.IsNotFound(err):
		return nil, false, err
	}
	// A new contact: the account's rule applies as it is now (a domain
	// removed since the invitation stops it; a PERSONAL account that got
	// its owner meanwhile takes no second one), with the staff override
	// stored on the invitation.
	outside, err := customers.CheckInvitedContactAddress(ctx, c, acct, inv, "token")
	if err != nil {
		return nil, false, err
	}
	name := inv.Name
	if name == "" {
		name = u.Name
	}
	if name == "" {
		name = inv.Email
	}
	ct, err = c.Contact.Create().SetCustomerAccountID(inv.CustomerAccountID).
		SetName(name).SetEmail(inv.Email).SetUserID(u.ID).SetOutsideOrganisationDomains(outside).Save(sys(ctx))
	if ent.IsConstraintError(err) {
		return nil, false, apperr.Conflict("token", "the customer account already has a contact for this user")
	}
	return ct, true, err
}

// grantRoles grants the invitation's roles the contact does not already
// hold open-ended; it returns the roles granted.
func (s *Service) grantRoles(ctx context.Context, c *ent.Client, inv *ent.Invitation, ct *ent.Contact, now time.Time) ([]string, error) {
	granted := []string{}
	for _, role := range rolesOf(inv) {
		// An open grant from another source (an agency delegation that
		// may end) does not make this one redundant.
		sameSource := roleassignment.GrantedViaDelegationIDIsNil()
		if inv.GrantedViaDelegationID != nil {
			sameSource = roleassignment.Or(sameSource, roleassignment.GrantedViaDelegationID(*inv.GrantedViaDelegationID))
		}
		open, err := c.RoleAssignment.Query().Where(
			roleassignment.ContactID(ct.ID), roleassignment.RoleEQ(role),
			roleassignment.ValidUntilIsNil(), roleassignment.EndedAtIsNil(), roleassignment.ValidFromLTE(now),
			sameSource,
		).Exist(sys(ctx))
		if err != nil {
			return nil, err
		}
		if open {
			continue
		}
		q := c.RoleAssignment.Create().SetCustomerAccountID(ct.CustomerAccountID).SetContactID(ct.ID).
			SetRole(role).SetValidFrom(now).SetNillableValidUntil(inv.ValidUntil).
			SetNillableGrantedViaDelegationID(inv.GrantedViaDelegationID)
		if inv.InvitedByID != nil {
			q.SetGrantedByID(*inv.InvitedByID)
		}
		if err := q.Exec(sys(ctx)); err != nil {
			return nil, err
		}
		granted = append(granted, string(role))
	}
	return granted, nil
}

// joinGroups makes the contact a member of the invitation's groups that
// still exist, unless it already is one; it returns the groups joined.
func (s *Service) joinGroups(ctx context.Context, c *ent.Client, inv *ent.Invitation, ct *ent.Contact, now time.Time, loc *time.Location) ([]string, error) {
	joined := []string{}
	ids := idsOf(inv)
	if len(ids) == 0 {
		return joined, nil
	}
	gs, err := c.RightsGroup.Query().Where(rightsgroup.IDIn(ids...),
		rightsgroup.CustomerAccountID(inv.CustomerAccountID), rightsgroup.BuiltIn(false)).All(sys(ctx))
	if err != nil {
		return nil, err
	}
	today := caldate.Of(now, loc)
	for _, g := range gs {
		sameSource := groupmembership.GrantedViaDelegationIDIsNil()
		if inv.GrantedViaDelegationID != nil {
			sameSource = groupmembership.Or(sameSource, groupmembership.GrantedViaDelegationID(*inv.GrantedViaDelegationID))
		}
		current, err := c.GroupMembership.Query().Where(groupmembership.GroupID(g.ID), groupmembership.ContactID(ct.ID),
			groupmembership.EndedAtIsNil(), groupmembership.Or(groupmembership.ValidUntilIsNil(), groupmembership.ValidUntilGTE(today)),
			sameSource).
			Exist(sys(ctx))
		if err != nil {
			return nil, err
		}
		if current {
			continue
		}
		if err := c.GroupMembership.Create().SetCustomerAccountID(g.CustomerAccountID).SetGroupID(g.ID).
			SetContactID(ct.ID).SetValidFrom(now).SetNillableValidUntil(inv.ValidUntil).
			SetNillableGrantedViaDelegationID(inv.GrantedViaDelegationID).Exec(sys(ctx)); err != nil {
			return nil, err
		}
		joined = append(joined, string(g.ID))
	}
	return joined, nil
}

// load opens the transaction and loads an invitation the viewer may
// manage (the tenant policy hides others': NOT_FOUND).
func (s *Service) load(ctx context.Context, id pulid.ID) (*ent.Client, *ent.Invitation, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, nil, err
	}
	inv, err := c.Invitation.Get(ctx, id)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "id"
		return nil, nil, e
	}
	return c, inv, err
}

// sendLink mails the invitation link through the outbox, in the invitee's
// language when the address belongs to a verified user, else German.
func (s *Service) sendLink(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, inv *ent.Invitation, tok string) error {
	locale, name := mail.LocaleDE, inv.Name
	u, err := c.UserAccount.Query().Where(useraccount.Email(inv.Email), useraccount.EmailVerifiedAtNotNil()).Only(sys(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	if u != nil {
		locale = u.Locale
		if name == "" {
			name = u.Name
		}
	}
	kind, path := mail.ContactInvitation, "/accept-invitation"
	if inv.ContactID != nil {
		kind, path = mail.ContactLoginActivation, "/activate-login"
	}
	link := strings.TrimRight(s.PublicURL, "/") + path + "?token=" + url.QueryEscape(tok)
	e, err := mail.RenderEmail(kind, locale, map[string]string{
		"name": name, "account": acct.Name + " (" + acct.Number + ")", "link": link,
	})
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, c, outbox.Email(inv.Email, e))
}

// newToken returns a link token of 256 random bits and its stored hash.
func newToken() (tok, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	tok = base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

// hashToken is the stored form of a token: its 256 bits make a fast hash
// enough.
func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func location(acct *ent.CustomerAccount) *time.Location {
	loc, err := caldate.Zone(acct.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Roles returns the roles an invitation grants.
func Roles(inv *ent.Invitation) []domain.Role { return rolesOf(inv) }

// GroupIDs returns the groups an invitation joins.
func GroupIDs(inv *ent.Invitation) []pulid.ID { return idsOf(inv) }

func rolesOf(inv *ent.Invitation) []domain.Role {
	out := make([]domain.Role, 0, len(inv.Roles))
	for _, r := range inv.Roles {
		out = append(out, domain.Role(r))
	}
	return out
}

func idsOf(inv *ent.Invitation) []pulid.ID {
	out := make([]pulid.ID, 0, len(inv.GroupIds))
	for _, id := range inv.GroupIds {
		out = append(out, pulid.ID(id))
	}
	return out
}

func roleStrings(roles []domain.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

func idStrings(ids []pulid.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func dedupeIDs(ids []pulid.ID) []pulid.ID {
	seen := map[pulid.ID]bool{}
	var out []pulid.ID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
