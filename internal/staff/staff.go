// Package staff manages the provider's own staff users (SUPPORT, SALES,
// ADMIN), account managers and the customer's support-access consent.
// Authorization has been decided by the directive (and is enforced again
// by the ent policies); every change is written through the mutation's
// transaction and audited in it.
//
// Staff invitations and pre-account hijacking. A staff login is a user
// account of its own, created by an ADMIN for one address, which waits in
// pending_email (unverified, not unique) until the invitee opens the link
// and sets a password. inviteStaffUser refuses (CONFLICT on input.email)
// an address that is the verified address of any user account, or ever
// was: a customer's login is never turned into a staff login, because
// staff act through their role only, never through contacts, and the
// holder of that login never asked for it. The answer reveals nothing an
// ADMIN could not read anyway (ADMIN lists every user). An unverified
// claim on the address (a stranger who signed up with it first) does not
// block the invitation and gains nothing: accepting the link voids it; if
// instead the stranger's claim is proven first, the invitation link stops
// working (the address is then someone else's).
package staff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/accountmanager"
	"portier/ent/apikey"
	"portier/ent/customeraccount"
	"portier/ent/onetimetoken"
	"portier/ent/retiredidentifier"
	"portier/ent/schema"
	"portier/ent/session"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/identity"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Service runs the staff operations of one request. Tx returns the
// mutation's transaction.
type Service struct {
	Client   *ent.Client
	Tx       func() (*ent.Client, error)
	Now      func() time.Time
	Identity *identity.Service
}

func sys(ctx context.Context) context.Context { return viewer.SystemContext(ctx) }

func notFound(field string) error {
	e := apperr.NotFound()
	e.Field = field
	return e
}

// Invitation is the input of Invite.
type Invitation struct {
	Email, Name string
	Role        domain.StaffRole
	Locale      *string
}

// Invite creates a staff user for an address and mails it a link to set a
// password. Inviting an address whose invitation is still pending sends a
// new link (the old one stops working) and takes the new name and role.
func (s *Service) Invite(ctx context.Context, in Invitation) (*ent.UserAccount, error) {
	email := schema.NormalizeEmail(in.Email)
	name := strings.TrimSpace(in.Name)
	locale := "de"
	if in.Locale != nil && strings.TrimSpace(*in.Locale) != "" {
		locale = strings.ToLower(strings.TrimSpace(*in.Locale))
	}
	switch {
	case !schema.ValidEmail(email):
		return nil, apperr.BadInput("input.email", "%q is not an e-mail address", in.Email)
	case name == "" || len(name) > 200:
		return nil, apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
	case locale != "de" && locale != "en":
		return nil, apperr.BadInput("input.locale", "locale must be de or en")
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	used, err := c.UserAccount.Query().Where(useraccount.Email(email), useraccount.EmailVerifiedAtNotNil()).Exist(sys(ctx))
	if err == nil && !used {
		used, err = c.RetiredIdentifier.Query().Where(retiredidentifier.ID("email:" + email)).Exist(sys(ctx))
	}
	if err != nil {
		return nil, err
	}
	if used {
		return nil, apperr.Conflict("input.email",
			"this address belongs to an existing user account; a staff user needs an address of its own")
	}
	pending, err := c.UserAccount.Query().
		Where(useraccount.PendingEmail(email), useraccount.EmailVerifiedAtIsNil(),
			useraccount.StaffRoleNotNil(), useraccount.StatusEQ(useraccount.StatusACTIVE)).
		First(sys(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	action := "staff.invite"
	var u *ent.UserAccount
	if pending != nil {
		action = "staff.invite_resent"
		u, err = c.UserAccount.UpdateOne(pending).SetName(name).SetStaffRole(in.Role).SetLocale(locale).Save(ctx)
	} else {
		u, err = c.UserAccount.Create().
			SetUsername("staff-" + randomHex(5)).
			SetPendingEmail(email).SetName(name).SetLocale(locale).
			SetStaffRole(in.Role).
			Save(ctx)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Identity.SendStaffInvitation(ctx, c, u); err != nil {
		return nil, err
	}
	return u, audit.Record(ctx, c, audit.Entry{Action: action, TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"email": email, "name": name, "staffRole": string(in.Role), "username": u.Username}})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// staffUser loads a user that holds a staff role (an accepted or a pending
// invitation).
func staffUser(ctx context.Context, c *ent.Client, id pulid.ID, field string) (*ent.UserAccount, error) {
	u, err := c.UserAccount.Query().Where(useraccount.ID(id)).Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, notFound(field)
	}
	if err != nil {
		return nil, err
	}
	if u.StaffRole == nil || u.Status != useraccount.StatusACTIVE {
		return nil, apperr.BadInput(field, "this user is not a staff user")
	}
	return u, nil
}

// keepAnAdmin fails unless an ADMIN other than u remains able to act. It
// first writes every ADMIN row, so that concurrent changes to ADMINs wait
// for each other (PostgreSQL row locks; SQLite has one writer) and the
// count that follows sees the other's outcome: two ADMINs cannot demote
// each other at the same time and leave none.
func (s *Service) keepAnAdmin(ctx context.Context, c *ent.Client, u *ent.UserAccount) error {
	if u.StaffRole == nil || *u.StaffRole != domain.StaffAdmin {
		return nil
	}
	if err := c.UserAccount.Update().
		Where(useraccount.StaffRoleEQ(domain.StaffAdmin), useraccount.StatusEQ(useraccount.StatusACTIVE)).
		SetUpdatedAt(s.Now()).Exec(sys(ctx)); err != nil {
		return err
	}
	others, err := c.UserAccount.Query().
		Where(useraccount.StaffRoleEQ(domain.StaffAdmin), useraccount.StatusEQ(useraccount.StatusACTIVE),
			useraccount.EmailVerifiedAtNotNil(), useraccount.IDNEQ(u.ID)).
		Count(sys(ctx))
	if err != nil {
		return err
	}
	if others == 0 {
		return apperr.Conflict("input.userID", "the last ADMIN cannot lose the role: make another staff user ADMIN first")
	}
	return nil
}

// endAssignments removes every account-manager assignment of a user, each
// audited on its account, and returns how many there were.
func endAssignments(ctx context.Context, c *ent.Client, uid pulid.ID, why string) (int, error) {
	rows, err := c.AccountManager.Query().Where(accountmanager.UserID(uid)).All(sys(ctx))
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if err := c.AccountManager.DeleteOne(r).Exec(ctx); err != nil {
			return 0, err
		}
		if err := audit.Record(ctx, c, audit.Entry{Action: "account_manager.unassign", AccountID: r.CustomerAccountID,
			TargetType: "UserAccount", TargetID: string(uid), Changes: map[string]any{"reason": why}}); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// ChangeRole gives a staff user another staff role, from its next request
// on. The last ADMIN keeps the role. A SALES user that becomes SUPPORT or
// ADMIN stops being an account manager (only SALES users are).
func (s *Service) ChangeRole(ctx context.Context, id pulid.ID, role domain.StaffRole) (*ent.UserAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	u, err := staffUser(ctx, c, id, "input.userID")
	if err != nil {
		return nil, err
	}
	from := *u.StaffRole
	if from == role {
		return u, nil
	}
	if err := s.keepAnAdmin(ctx, c, u); err != nil {
		return nil, err
	}
	u, err = c.UserAccount.UpdateOne(u).SetStaffRole(role).Save(ctx)
	if err != nil {
		return nil, err
	}
	ended := 0
	if from == domain.StaffSales {
		if ended, err = endAssignments(ctx, c, u.ID, "staff role changed"); err != nil {
			return nil, err
		}
	}
	return u, audit.Record(ctx, c, audit.Entry{Action: "staff.role_change", TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"from": string(from), "staffRole": string(role), "accountManagerAssignmentsEnded": ended}})
}

// Remove takes a staff user's role away at once: the account is disabled
// (it was a staff login, not a customer's), its sessions, links, API keys
// and account-manager assignments end. An ADMIN cannot remove himself, nor
// the last ADMIN.
func (s *Service) Remove(ctx context.Context, id pulid.ID) error {
	if viewer.FromContext(ctx).UserID == string(id) {
		return apperr.BadInput("userID", "you cannot remove yourself; another ADMIN can")
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	u, err := staffUser(ctx, c, id, "userID")
	if err != nil {
		return err
	}
	if err := s.keepAnAdmin(ctx, c, u); err != nil {
		return err
	}
	now := s.Now()
	if err := c.UserAccount.UpdateOne(u).ClearStaffRole().SetStatus(useraccount.StatusDISABLED).Exec(ctx); err != nil {
		return err
	}
	sessions, err := c.Session.Update().Where(session.UserID(u.ID), session.RevokedAtIsNil()).
		SetRevokedAt(now).SetRevokeReason("staff user removed").Save(sys(ctx))
	if err != nil {
		return err
	}
	if err := c.OneTimeToken.Update().
		Where(onetimetoken.UserID(u.ID), onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		SetInvalidatedAt(now).Exec(sys(ctx)); err != nil {
		return err
	}
	keys, err := c.APIKey.Update().Where(apikey.UserID(u.ID), apikey.RevokedAtIsNil()).SetRevokedAt(now).Save(sys(ctx))
	if err != nil {
		return err
	}
	ended, err := endAssignments(ctx, c, u.ID, "staff user removed")
	if err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "staff.remove", TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"staffRole": string(*u.StaffRole), "status": "DISABLED", "sessionsRevoked": sessions,
			"apiKeysRevoked": keys, "accountManagerAssignmentsEnded": ended}})
}

// AssignManager makes a SALES user an account manager of an account: from
// its next request on it acts on that account (docs/authorization.md, 'Staff').
func (s *Service) AssignManager(ctx context.Context, accountID, userID pulid.ID) (*ent.AccountManager, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Query().Where(customeraccount.ID(accountID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("input.customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	if acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.customerAccountID", "the customer account is deleted")
	}
	u, err := staffUser(ctx, c, userID, "input.userID")
	if err != nil {
		return nil, err
	}
	if *u.StaffRole != domain.StaffSales {
		return nil, apperr.BadInput("input.userID", "only SALES staff users can be account managers")
	}
	exists, err := c.AccountManager.Query().
		Where(accountmanager.CustomerAccountID(acct.ID), accountmanager.UserID(u.ID)).Exist(sys(ctx))
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, apperr.Conflict("input.userID", "this user already is an account manager of the account")
	}
	m, err := c.AccountManager.Create().SetCustomerAccountID(acct.ID).SetUserID(u.ID).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.userID", "this user already is an account manager of the account")
	}
	if err != nil {
		return nil, err
	}
	return m, audit.Record(ctx, c, audit.Entry{Action: "account_manager.assign", AccountID: acct.ID,
		TargetType: "UserAccount", TargetID: string(u.ID), Changes: map[string]any{"name": u.Name}})
}

// UnassignManager ends an assignment: the SALES user loses the account on
// its next request.
func (s *Service) UnassignManager(ctx context.Context, accountID, userID pulid.ID) (*ent.CustomerAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Query().Where(customeraccount.ID(accountID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("input.customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	n, err := c.AccountManager.Delete().
		Where(accountmanager.CustomerAccountID(acct.ID), accountmanager.UserID(userID)).Exec(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, notFound("input.userID")
	}
	return acct, audit.Record(ctx, c, audit.Entry{Action: "account_manager.unassign", AccountID: acct.ID,
		TargetType: "UserAccount", TargetID: string(userID)})
}

// SetConsent switches the account's supportAccessConsent. The customer
// decides: the directive demands account:update, and staff (who may hold
// it through their role) are refused, so the provider can never consent
// on the customer's behalf.
func (s *Service) SetConsent(ctx context.Context, accountID pulid.ID, consent bool) (*ent.CustomerAccount, error) {
	if viewer.FromContext(ctx).IsStaff() {
		return nil, apperr.Forbidden("only the customer's own administrators decide on support access")
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Query().Where(customeraccount.ID(accountID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("input.customerAccountID")
	}
	if err != nil {
		return nil, err
	}
	if acct.SupportAccessConsent == consent {
		return acct, nil
	}
	acct, err = c.CustomerAccount.UpdateOne(acct).SetSupportAccessConsent(consent).Save(ctx)
	if err != nil {
		return nil, err
	}
	return acct, audit.Record(ctx, c, audit.Entry{Action: "customer_account.support_access_consent", AccountID: acct.ID,
		TargetType: "CustomerAccount", TargetID: string(acct.ID), Changes: map[string]any{"supportAccessConsent": consent}})
}

// Managers returns the public details (name, e-mail, phone) of an account's
// managers. The assignments are read as the viewer, so only someone who
// may read the account gets them; the staff users behind them are then read
// as Portier, but only those three columns: customers learn whom to call,
// not the staff user's login data.
func (s *Service) Managers(ctx context.Context, acct *ent.CustomerAccount) ([]*ent.UserAccount, error) {
	ids, err := s.Client.AccountManager.Query().
		Where(accountmanager.CustomerAccountID(acct.ID)).
		Order(ent.Asc(accountmanager.FieldCreatedAt)).
		Select(accountmanager.FieldUserID).Strings(ctx)
	if err != nil || len(ids) == 0 {
		return []*ent.UserAccount{}, err
	}
	uids := make([]pulid.ID, len(ids))
	for i, id := range ids {
		uids[i] = pulid.ID(id)
	}
	users, err := s.Client.UserAccount.Query().
		Where(useraccount.IDIn(uids...), useraccount.StatusEQ(useraccount.StatusACTIVE),
			useraccount.StaffRoleEQ(domain.StaffSales), useraccount.EmailVerifiedAtNotNil()).
		Select(useraccount.FieldName, useraccount.FieldEmail, useraccount.FieldPhone).
		All(sys(ctx))
	if err != nil {
		return nil, err
	}
	byID := map[pulid.ID]*ent.UserAccount{}
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]*ent.UserAccount, 0, len(users))
	for _, id := range uids {
		if u := byID[id]; u != nil {
			out = append(out, &ent.UserAccount{Name: u.Name, Email: u.Email, Phone: u.Phone})
		}
	}
	return out, nil
}
