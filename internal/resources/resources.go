package resources

import (
	"context"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/resource"
	"portier/ent/scopedlogin"
	"portier/ent/session"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/password"
	"portier/internal/pulid"
	"portier/internal/viewer"

	"portier/ent/schema"
)

// MaxReferenceEmails bounds the reference addresses of one scoped login.
const MaxReferenceEmails = 5

// Service runs the operations of one request. Tx returns the mutation's
// transaction; every write goes through it and is audited in it.
type Service struct {
	Client *ent.Client
	Tx     func() (*ent.Client, error)
	Now    func() time.Time
}

// NewResource is the input of CreateResource.
type NewResource struct {
	AccountID pulid.ID
	Kind      resource.Kind
	Name      string
}

// CreateResource creates a resource; the directive checked RESOURCES_MANAGE
// on the account and the Resource policy checks it again on the write.
func (s *Service) CreateResource(ctx context.Context, in NewResource) (*ent.Resource, error) {
	name := NormalizeName(in.Name)
	if err := CheckName(in.Kind, name); err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	if err := checkProvisioning(ctx, c, in.AccountID, in.Kind, name); err != nil {
		return nil, err
	}
	r, err := c.Resource.Create().SetCustomerAccountID(in.AccountID).SetKind(in.Kind).SetName(name).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.name", "the customer account already has a %s named %s", in.Kind, name)
	}
	if err != nil {
		return nil, err
	}
	return r, audit.Record(ctx, c, audit.Entry{Action: "resource.create", AccountID: r.CustomerAccountID,
		TargetType: "Resource", TargetID: string(r.ID), Changes: map[string]any{"kind": string(r.Kind), "name": r.Name}})
}

// ReasonStaffProvisioned refuses a customer a resource kind that only the
// provider provisions.
const ReasonStaffProvisioned = "STAFF_PROVISIONED"

// checkProvisioning decides who may create a resource whose name is a
// domain or a mailbox. The login names of MAIL_VHOST, MAILBOX, DNS_ZONE and
// DOMAIN logins follow those names and are unique across all customers for
// ever, so whoever may create such a resource could take another customer's
// login name first and learn from the answer that it exists. Domains are
// therefore the provider's to provision (it registers and hosts them for
// one customer): MAIL_VHOST, DNS_ZONE and DOMAIN by staff only. A customer
// with RESOURCES_MANAGE creates mailboxes, but only under a MAIL_VHOST its
// own account holds; WEB_VHOST (its login is a free SFTP user name),
// SERVER and VPN freely.
func checkProvisioning(ctx context.Context, c *ent.Client, accountID pulid.ID, k resource.Kind, name string) error {
	if viewer.FromContext(ctx).IsStaff() {
		return nil
	}
	switch k {
	case resource.KindMAIL_VHOST, resource.KindDNS_ZONE, resource.KindDOMAIN:
		return apperr.ForbiddenReason(ReasonStaffProvisioned,
			"mail domains, DNS zones and domains are provisioned by the provider: order them or ask support")
	case resource.KindMAILBOX:
		domain := name[strings.LastIndexByte(name, '@')+1:]
		// Read as Portier: the rule must see the account's mail domains
		// whatever the caller may read.
		ok, err := c.Resource.Query().Where(resource.CustomerAccountID(accountID), resource.KindEQ(resource.KindMAIL_VHOST),
			resource.Name(domain)).Exist(viewer.SystemContext(ctx))
		if err != nil {
			return err
		}
		if !ok {
			e := apperr.ForbiddenReason(ReasonStaffProvisioned,
				"a mailbox needs a mail domain (MAIL_VHOST) of this customer account with its domain")
			e.Field = "input.name"
			return e
		}
	}
	return nil
}

// NormalizeEmails trims, lower-cases, de-duplicates and checks reference
// addresses.
func NormalizeEmails(field string, in []string) ([]string, error) {
	if len(in) > MaxReferenceEmails {
		return nil, apperr.BadInput(field, "at most %d reference e-mail addresses", MaxReferenceEmails)
	}
	out := []string{}
	seen := map[string]bool{}
	for _, e := range in {
		n := schema.NormalizeEmail(e)
		if !schema.ValidEmail(n) {
			return nil, apperr.BadInput(field, "%q is not an e-mail address", e)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// NewScopedLogin is the input of CreateScopedLogin.
type NewScopedLogin struct {
	ResourceID      pulid.ID
	LoginName       string
	Password        string
	ReferenceEmails []string
}

// resourceOf reads the resource the directive already decided on. The
// read is Portier's own: a holder of a credentials right need not hold
// RESOURCES_READ.
func (s *Service) resourceOf(ctx context.Context, id pulid.ID) (*ent.Resource, error) {
	r, err := s.Client.Resource.Get(viewer.SystemContext(ctx), id)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "input.resourceID"
		return nil, e
	}
	return r, err
}

// CreateScopedLogin creates a scoped login for a resource; its login name
// follows the resource and is unique forever. The password is hashed before
// the transaction opens and never leaves this function.
func (s *Service) CreateScopedLogin(ctx context.Context, in NewScopedLogin) (*ent.ScopedLogin, error) {
	r, err := s.resourceOf(ctx, in.ResourceID)
	if err != nil {
		return nil, err
	}
	login := NormalizeName(in.LoginName)
	if err := CheckLoginName(r.Kind, r.Name, login); err != nil {
		return nil, err
	}
	refs, err := NormalizeEmails("input.referenceEmails", in.ReferenceEmails)
	if err != nil {
		return nil, err
	}
	if err := password.Validate(in.Password, login); err != nil {
		return nil, apperr.BadInput("input.password", "%s", err.Error())
	}
	taken, err := s.Client.ScopedLogin.Query().Where(scopedlogin.LoginName(login)).Exist(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, apperr.Conflict("input.loginName", "the login name %s is taken (login names are never reused)", login)
	}
	hash, err := password.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	l, err := c.ScopedLogin.Create().SetCustomerAccountID(r.CustomerAccountID).SetResourceID(r.ID).
		SetLoginName(login).SetPasswordHash(hash).SetReferenceEmails(refs).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.loginName", "the login name %s is taken (login names are never reused)", login)
	}
	if err != nil {
		return nil, err
	}
	return l, audit.Record(ctx, c, audit.Entry{Action: "scoped_login.create", AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID),
		Changes: map[string]any{"loginName": login, "resource": string(r.ID), "resourceKind": string(r.Kind), "referenceEmails": refs}})
}

// login reads a scoped login the directive decided on.
func (s *Service) login(ctx context.Context, id pulid.ID, field string) (*ent.ScopedLogin, error) {
	l, err := s.Client.ScopedLogin.Get(viewer.SystemContext(ctx), id)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = field
		return nil, e
	}
	return l, err
}

// RevokeSessions ends the live sessions of a scoped login. Sessions are
// Portier's bookkeeping, not the caller's rows: written as Portier itself.
func RevokeSessions(ctx context.Context, c *ent.Client, id pulid.ID, now time.Time, reason string) (int, error) {
	return c.Session.Update().Where(session.ScopedLoginID(id), session.RevokedAtIsNil()).
		SetRevokedAt(now).SetRevokeReason(reason).Save(viewer.SystemContext(ctx))
}

// SetPassword sets a new password for a scoped login (by a manager of its
// credentials): its sessions end and its pending reset links are void.
// The ScopedLogin policy checks the caller's right again on the write.
func (s *Service) SetPassword(ctx context.Context, id pulid.ID, pw string, voidLinks func(context.Context, *ent.Client, pulid.ID) error) (*ent.ScopedLogin, error) {
	l, err := s.login(ctx, id, "input.scopedLoginID")
	if err != nil {
		return nil, err
	}
	if l.Status == scopedlogin.StatusDELETED {
		return nil, apperr.BadInput("input.scopedLoginID", "the scoped login is deleted")
	}
	if err := password.Validate(pw, l.LoginName); err != nil {
		return nil, apperr.BadInput("input.newPassword", "%s", err.Error())
	}
	hash, err := password.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	l, err = c.ScopedLogin.UpdateOneID(l.ID).SetPasswordHash(hash).Save(ctx)
	if err != nil {
		return nil, err
	}
	n, err := RevokeSessions(ctx, c, l.ID, s.Now(), "password set by a manager")
	if err != nil {
		return nil, err
	}
	if voidLinks != nil {
		if err := voidLinks(ctx, c, l.ID); err != nil {
			return nil, err
		}
	}
	return l, audit.Record(ctx, c, audit.Entry{Action: "scoped_login.password_set", AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID), Changes: map[string]any{"sessionsRevoked": n}})
}

// SetStatus moves a scoped login to status to from one of from, guarded on
// the status read (a concurrent change wins once). Leaving ACTIVE ends its
// sessions.
func (s *Service) SetStatus(ctx context.Context, id pulid.ID, to scopedlogin.Status, from ...scopedlogin.Status) (*ent.ScopedLogin, error) {
	l, err := s.login(ctx, id, "scopedLoginID")
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	// One row, guarded on the status (UpdateOne, so that the policy's
	// credentials rule can judge the row).
	updated, err := c.ScopedLogin.UpdateOneID(l.ID).Where(scopedlogin.StatusIn(from...)).SetStatus(to).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.BadInput("scopedLoginID", "the scoped login is %s", l.Status)
	}
	if err != nil {
		return nil, err
	}
	revoked := 0
	if to != scopedlogin.StatusACTIVE {
		if revoked, err = RevokeSessions(ctx, c, l.ID, s.Now(), "scoped login "+string(to)); err != nil {
			return nil, err
		}
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "scoped_login.status", AccountID: l.CustomerAccountID,
		TargetType: "ScopedLogin", TargetID: string(l.ID),
		Changes: map[string]any{"status": string(to), "previousStatus": string(l.Status), "sessionsRevoked": revoked}}); err != nil {
		return nil, err
	}
	return updated, nil
}
