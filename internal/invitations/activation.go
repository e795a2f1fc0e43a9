package invitations

import (
	"context"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/invitation"
	"portier/ent/roleassignment"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/customers"
	"portier/internal/domain"
	"portier/internal/identity"
	"portier/internal/notify"
	"portier/internal/pulid"
	"portier/internal/ratelimit"
	"portier/internal/viewer"
)

// Login activation ("Login aktivieren"). enableLogin mails an
// existing contact a link that gives it PORTAL_ACCESS: an invitation bound
// to the contact (contact_id), with the same token handling as any
// invitation (256 random bits, only the hash stored, 7 days, single use; a
// newer activation of the contact revokes the older). It is redeemed
//   - by a logged-in user whose verified e-mail is the contact's, with
//     acceptInvitation (Accept → linkActivated), or
//   - by a person without a user account, with activateLogin: the link
//     proves the mailbox, so the new user's address is verified at once.
// Never is a password sent by mail.

// ruleActivateIP limits activation token guesses per client address.
var ruleActivateIP = ratelimit.Rule{Name: "activate:ip", Limit: 30, Window: 15 * time.Minute}

// activationRoles are what an activation grants.
var activationRoles = []domain.Role{domain.RolePortalAccess}

// EnableLogin sends the contact an activation link. The caller holds
// CONTACTS_MANAGE (the directive) and must be allowed to grant
// PORTAL_ACCESS. The contact needs an e-mail address and must not already
// have a login with PORTAL_ACCESS.
func (s *Service) EnableLogin(ctx context.Context, contactID pulid.ID) (*ent.Invitation, error) {
	const field = "contactID"
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	ct, _, err := customers.LiveContact(ctx, c, contactID, field)
	if err != nil {
		return nil, err
	}
	acct := ct.Edges.CustomerAccount
	if acct.Status != customeraccount.StatusACTIVE {
		return nil, apperr.BadInput(field, "the customer account is not active")
	}
	if ct.Email == nil || *ct.Email == "" {
		return nil, apperr.BadInput(field, "the contact has no e-mail address: add one with updateContact first")
	}
	now := s.Now()
	if ct.UserID != nil {
		open, err := c.RoleAssignment.Query().Where(roleassignment.ContactID(ct.ID),
			roleassignment.RoleEQ(domain.RolePortalAccess), roleassignment.EndedAtIsNil()).All(sys(ctx))
		if err != nil {
			return nil, err
		}
		loc := location(acct)
		var via []*pulid.ID
		for _, ra := range open {
			via = append(via, ra.GrantedViaDelegationID)
		}
		over, err := authz.OverDelegations(ctx, c, now, loc, via...)
		if err != nil {
			return nil, err
		}
		for _, ra := range open {
			if (authz.Validity{From: ra.ValidFrom, UntilDate: ra.ValidUntil, EndedAt: ra.EndedAt}).ActiveAt(now, loc) &&
				(ra.GrantedViaDelegationID == nil || !over[*ra.GrantedViaDelegationID]) {
				return nil, apperr.Conflict(field, "the contact already has a login with PORTAL_ACCESS")
			}
		}
	}
	if err := customers.CheckRoleGrant(ctx, acct.ID, activationRoles, field); err != nil {
		return nil, err
	}
	revoked, err := customers.RevokeActivations(ctx, c, ct.ID, now)
	if err != nil {
		return nil, err
	}
	tok, hash := newToken()
	q := c.Invitation.Create().
		SetCustomerAccountID(acct.ID).SetEmail(*ct.Email).SetName(ct.Name).SetContactID(ct.ID).
		SetRoles(roleStrings(activationRoles)).SetTokenHash(hash).SetExpiresAt(now.Add(Lifetime)).
		SetNillableGrantedViaDelegationID(authz.DelegationVia(ctx, acct.ID))
	if uid := viewer.FromContext(ctx).UserID; uid != "" {
		q.SetInvitedByID(pulid.ID(uid))
	}
	// Written as Portier: the activation is part of managing the contact
	// (CONTACTS_MANAGE, checked by the directive, and the grant rule above);
	// the invitation policy would ask for INVITATIONS_MANAGE.
	inv, err := q.Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"invitation": string(inv.ID), "email": inv.Email,
		"roles": roleStrings(activationRoles), "expiresAt": inv.ExpiresAt.UTC().Format(time.RFC3339)}
	if revoked > 0 {
		changes["previousActivationsRevoked"] = revoked
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "contact.login_enabled", AccountID: acct.ID,
		TargetType: "Contact", TargetID: string(ct.ID), Changes: changes}); err != nil {
		return nil, err
	}
	return inv, s.sendLink(ctx, c, acct, inv, tok)
}

// linkActivated returns the contact of an activation, linked to uid (the
// logged-in user whose verified address is the invited one): linked now if
// it had no user. The contact must still be live and carry the address the
// link went to.
func linkActivated(ctx context.Context, c *ent.Client, inv *ent.Invitation, uid pulid.ID) (*ent.Contact, error) {
	bad := badActivation("token")
	ct, err := c.Contact.Get(sys(ctx), *inv.ContactID)
	if ent.IsNotFound(err) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if ct.DeletedAt != nil || ct.Email == nil || *ct.Email != inv.Email {
		return nil, bad
	}
	if ct.UserID != nil {
		if *ct.UserID == uid {
			return ct, nil
		}
		return nil, apperr.Conflict("token", "this contact is linked to another user account")
	}
	other, err := c.Contact.Query().Where(contact.CustomerAccountID(ct.CustomerAccountID), contact.UserID(uid),
		contact.DeletedAtIsNil()).Exist(sys(ctx))
	if err != nil {
		return nil, err
	}
	if other {
		return nil, apperr.Conflict("token", "your user account already has another contact on this customer account")
	}
	// Guarded: linked or deleted meanwhile → the link is spent.
	n, err := c.Contact.Update().Where(contact.ID(ct.ID), contact.UserIDIsNil(), contact.DeletedAtIsNil(),
		contact.Email(inv.Email)).SetUserID(uid).Save(sys(ctx))
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("token", "your user account already has another contact on this customer account")
	}
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, bad
	}
	return c.Contact.Get(sys(ctx), ct.ID)
}

func badActivation(field string) error {
	return apperr.BadInput(field, "the activation link is invalid, used, revoked or expired")
}

// Activation is the input of ActivateLogin.
type Activation struct {
	Token, Username, Password, Name, Locale string
}

// ActivateLogin redeems an activation link for a person without a user
// account: it creates the user (address verified: the link proves the
// mailbox), links the contact, grants PORTAL_ACCESS and logs the user in.
// Every unusable token gets the same answer; an address a user holds is
// CONFLICT (that user logs in and uses acceptInvitation).
func (s *Service) ActivateLogin(ctx context.Context, in Activation) (*identity.Tokens, error) {
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleActivateIP, v.IP); err != nil {
		return nil, err
	}
	bad := badActivation("input.token")
	hash := hashToken(strings.TrimSpace(in.Token))
	inv, err := s.Client.Invitation.Query().Where(invitation.TokenHash(hash), invitation.ContactIDNotNil()).Only(sys(ctx))
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
	ct, err := s.Client.Contact.Get(sys(ctx), *inv.ContactID)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if ct == nil || ct.DeletedAt != nil || ct.Email == nil || *ct.Email != inv.Email {
		return nil, bad
	}
	acct, err := s.Client.CustomerAccount.Get(sys(ctx), inv.CustomerAccountID)
	if err != nil {
		return nil, err
	}
	if acct.Status != customeraccount.StatusACTIVE {
		return nil, apperr.BadInput("input.token", "the customer account is not active")
	}
	held, err := s.Identity.AddressHeld(ctx, inv.Email)
	if err != nil {
		return nil, err
	}
	if held || ct.UserID != nil {
		return nil, apperr.Conflict("input.token",
			"a user account already holds this e-mail address: log in with it and accept the link with acceptInvitation")
	}
	login, pwHash, err := s.Identity.PrepareLogin(ctx, identity.NewLogin{
		Email: inv.Email, Username: in.Username, Name: in.Name, Password: in.Password, Locale: in.Locale,
	})
	if err != nil {
		return nil, err
	}

	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	// Guarded on the token and the state: of concurrent redemptions (or a
	// revoke, a resend) one wins.
	n, err := c.Invitation.Update().
		Where(invitation.ID(inv.ID), invitation.TokenHash(hash), invitation.StateEQ(invitation.StatePENDING)).
		SetState(invitation.StateACCEPTED).SetAcceptedAt(now).Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, bad
	}
	u, err := s.Identity.CreateProvenUser(ctx, c, login, pwHash, "input.token")
	if err != nil {
		return nil, err
	}
	if err := c.Invitation.UpdateOneID(inv.ID).SetAcceptedByID(u.ID).Exec(sys(ctx)); err != nil {
		return nil, err
	}
	ct, err = linkActivated(ctx, c, inv, u.ID)
	if err != nil {
		if e, ok := err.(*apperr.Error); ok && e.Field == "token" {
			e.Field = "input.token"
		}
		return nil, err
	}
	granted, err := s.grantRoles(ctx, c, inv, ct, now)
	if err != nil {
		return nil, err
	}
	if err := audit.RecordAll(ctx, c, []audit.Entry{
		{Action: "invitation.accept", AccountID: acct.ID, ActorID: string(u.ID), TargetType: "Invitation", TargetID: string(inv.ID),
			Changes: map[string]any{"contact": string(ct.ID), "user": string(u.ID)}},
		{Action: "contact.login_activated", AccountID: acct.ID, ActorID: string(u.ID), TargetType: "Contact", TargetID: string(ct.ID),
			Changes: map[string]any{"invitation": string(inv.ID), "email": inv.Email, "user": string(u.ID), "roles": granted}},
	}); err != nil {
		return nil, err
	}
	if err := notify.RolesGranted(ctx, c, ct, inv.ValidUntil, now, granted); err != nil {
		return nil, err
	}
	return s.Identity.OpenSession(ctx, c, u)
}
