package identity

import (
	"context"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/onetimetoken"
	"portier/ent/retiredidentifier"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/mail"
	"portier/internal/password"
)

// StaffInviteLifetime is how long a staff invitation link works.
const StaffInviteLifetime = 72 * time.Hour

// SendStaffInvitation sends u (a staff user created by an ADMIN, whose
// address waits in pending_email) a one-time link to set a password; a
// link sent before stops working. c is the mutation's transaction.
func (s *Service) SendStaffInvitation(ctx context.Context, c *ent.Client, u *ent.UserAccount) error {
	tok, err := s.newToken(ctx, c, u, onetimetoken.PurposeSTAFF_INVITE, StaffInviteLifetime, u.PendingEmail)
	if err != nil {
		return err
	}
	role := ""
	if u.StaffRole != nil {
		role = string(*u.StaffRole)
	}
	return send(ctx, c, u, u.PendingEmail, mail.StaffInvitation, map[string]string{
		"link": s.link("/accept-staff-invitation", tok), "role": role,
	})
}

// AcceptStaffInvitation redeems a staff invitation link: the invitee sets
// the password, and the invited address becomes the account's verified
// address. The link proves the mailbox; the account was created by an
// ADMIN for exactly that address and has had no holder before, so the
// link's holder is its holder (the account has no password to prove).
// Every other unverified claim on the address (a stranger's sign-up) is
// voided, as at any verification. The link fails when, meanwhile, another
// account verified the address, or the invitation was withdrawn
// (removeStaffUser) or replaced by a newer one.
func (s *Service) AcceptStaffInvitation(ctx context.Context, tok, pw string) error {
	t, err := s.redeem(ctx, tok, onetimetoken.PurposeSTAFF_INVITE)
	if err != nil {
		return err
	}
	bad := apperr.BadInput("token", "the link is invalid, used or expired")
	u, err := s.Client.UserAccount.Get(sys(ctx), t.UserID)
	if err != nil {
		return err
	}
	address := t.NewEmail
	if u.Status != useraccount.StatusACTIVE || u.StaffRole == nil || u.EmailVerifiedAt != nil ||
		address == "" || u.PendingEmail != address {
		return bad
	}
	if err := policyError("input.password", password.Validate(pw, address, u.Username, strings.Split(address, "@")[0])); err != nil {
		return err
	}
	used, err := s.Client.UserAccount.Query().
		Where(useraccount.Email(address), useraccount.EmailVerifiedAtNotNil(), useraccount.IDNEQ(u.ID)).Exist(sys(ctx))
	if err == nil && !used {
		used, err = s.Client.RetiredIdentifier.Query().
			Where(retiredidentifier.ID("email:"+address), retiredidentifier.UserIDNEQ(u.ID)).Exist(sys(ctx))
	}
	if err != nil {
		return err
	}
	if used {
		return apperr.Conflict("token", "this address is now used by another account")
	}
	hash, err := password.Hash(ctx, pw)
	if err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.use(ctx, c, t); err != nil {
		return err
	}
	now := s.Now()
	if err := s.voidOtherClaims(ctx, c, u.ID, address, now); err != nil {
		return err
	}
	n, err := c.UserAccount.Update().
		Where(useraccount.ID(u.ID), useraccount.PendingEmail(address), useraccount.EmailVerifiedAtIsNil(),
			useraccount.StaffRoleNotNil(), useraccount.StatusEQ(useraccount.StatusACTIVE)).
		SetEmail(address).SetEmailVerifiedAt(now).ClearPendingEmail().
		SetPasswordHash(hash).SetPasswordChangedAt(now).SetMustChangePassword(false).
		Save(sys(ctx))
	if ent.IsConstraintError(err) {
		return apperr.Conflict("token", "this address is now used by another account")
	}
	if err != nil {
		return err
	}
	if n != 1 {
		return bad
	}
	return audit.Record(ctx, c, audit.Entry{Action: "staff.invitation_accepted", ActorID: string(u.ID),
		TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"email": address, "staffRole": string(*u.StaffRole)}})
}
