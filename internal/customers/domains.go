package customers

import (
	"context"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/invitation"
	"portier/ent/predicate"
	"portier/ent/schema"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/orgdomains"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Account kinds and organisation domains. The one rule for who
// may become a new contact of a customer account:
//
//   - PERSONAL: exactly one contact, its owner. Once the account has a
//     contact or a PENDING invitation (an expired one too: it can be resent),
//     a further one is FORBIDDEN with reason PERSONAL_ACCOUNT; the provider
//     switches the account to BUSINESS (convertToBusinessAccount). There is no
//     domain restriction on a PERSONAL account.
//   - BUSINESS without a CONFIRMED organisation domain: FORBIDDEN with reason
//     NO_ORGANISATION_DOMAIN.
//   - BUSINESS: the domain of the e-mail address must equal one confirmed
//     domain exactly, after trimming and lower-casing (mail.x.de is not x.de,
//     evilx.de is not x.de); otherwise BAD_USER_INPUT on the e-mail field with
//     reason EMAIL_OUTSIDE_ORGANISATION_DOMAINS. A contact without e-mail is
//     admitted once the account has a confirmed domain.
//   - Provider staff may override the domain part for one contact or
//     invitation (allowOutsideOrganisationDomains): the address is admitted
//     outside the domains, or before there is any; the contact records it
//     (outsideOrganisationDomains) and the audit log has an
//     organisation_domain.override event. Anyone else asking for the override
//     is FORBIDDEN (OVERRIDE_STAFF_ONLY). The override never lifts the
//     one-contact limit of a PERSONAL account.
//
// The decision reads the account row under a lock (FOR UPDATE on
// PostgreSQL; SQLite write transactions hold the database's single write
// lock from BEGIN), so two concurrent additions to a PERSONAL account, or an
// addition racing the removal of the last domain, are serialised.

// Reasons of the refusals.
const (
	ReasonPersonalAccount      = "PERSONAL_ACCOUNT"
	ReasonNoOrganisationDomain = "NO_ORGANISATION_DOMAIN"
	ReasonEmailOutsideDomains  = "EMAIL_OUTSIDE_ORGANISATION_DOMAINS"
	ReasonOverrideStaffOnly    = "OVERRIDE_STAFF_ONLY"
	ReasonAlreadyBusiness      = "ALREADY_BUSINESS"
)

// EmailDomain returns the domain of an e-mail address, trimmed and
// lower-cased (everything after the last "@"), or "" when there is none.
func EmailDomain(email string) string { return orgdomains.EmailDomain(email) }

// InDomains reports whether the e-mail address's domain equals one of the
// (normalised) domains exactly (orgdomains.InDomains).
func InDomains(email string, domains []string) bool { return orgdomains.InDomains(email, domains) }

// CheckAddressInDomains is the domain part of the rule for a BUSINESS
// account, without any database read: confirmed are the account's
// confirmed domains, email the (possibly empty) address, override whether
// staff admit it anyway (the caller has checked that only staff ask). It
// reports whether the address is admitted only by the override (outside),
// or the refusal, on field for an address outside.
func CheckAddressInDomains(email string, confirmed []string, override bool, field string) (outside bool, err error) {
	email = schema.NormalizeEmail(email)
	switch {
	case len(confirmed) == 0 && override:
		return true, nil
	case len(confirmed) == 0:
		return false, apperr.ForbiddenReason(ReasonNoOrganisationDomain,
			"a business account adds contacts only once it has a confirmed organisation domain: propose one (proposeOrganisationDomain) and ask the provider to confirm it")
	case email == "" || InDomains(email, confirmed):
		return false, nil
	case override:
		return true, nil
	}
	e := apperr.BadInput(field, "the e-mail address is outside the customer account's confirmed organisation domains")
	e.Reason = ReasonEmailOutsideDomains
	return false, e
}

// CheckOverride refuses the domain override to anyone but provider staff.
func CheckOverride(ctx context.Context, override bool, field string) error {
	if override && !viewer.FromContext(ctx).IsStaff() {
		e := apperr.ForbiddenReason(ReasonOverrideStaffOnly,
			"only the provider's staff may admit an address outside the organisation domains")
		e.Field = field
		return e
	}
	return nil
}

// ConfirmedDomains returns the account's confirmed organisation domains.
// It reads as Portier: the rule counts every confirmed domain, also when the
// viewer (say, an API key with contacts:manage only) may not list them.
func ConfirmedDomains(ctx context.Context, c *ent.Client, accountID pulid.ID) ([]string, error) {
	return orgdomains.Confirmed(ctx, c, accountID)
}

// CheckNewContactAddress is the rule for a new contact or invitation with
// address email (may be empty) on acct, in the mutation's transaction c:
// override is the caller's allowOutsideOrganisationDomains (staff only),
// field the input field of the address. It reports whether the address was
// admitted by the override (to be stored on the contact or invitation and
// audited with AuditOverride).
func CheckNewContactAddress(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, email string, override bool, field string) (outside bool, err error) {
	if err := CheckOverride(ctx, override, overrideField(field)); err != nil {
		return false, err
	}
	return checkNew(ctx, c, acct.ID, email, override, field, "")
}

// CheckInvitedContactAddress applies the rule again when an invitation is
// resent or accepted: the override is the one staff stored on the
// invitation, and the invitation itself (except) does not count as a
// further one on a PERSONAL account.
func CheckInvitedContactAddress(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, inv *ent.Invitation, field string) (outside bool, err error) {
	return checkNew(ctx, c, acct.ID, inv.Email, inv.OutsideOrganisationDomains, field, inv.ID)
}

// CheckChangedContactAddress is the rule for an existing contact whose
// e-mail changes to email: no limit on a PERSONAL account (its owner
// changes its own address), the domain rule on a BUSINESS one. override is
// the caller's allowOutsideOrganisationDomains (staff only).
func CheckChangedContactAddress(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount, email string, override bool, field string) (outside bool, err error) {
	if err := CheckOverride(ctx, override, overrideField(field)); err != nil {
		return false, err
	}
	a, err := lockAccount(ctx, c, acct.ID)
	if err != nil {
		return false, err
	}
	if a.Kind == customeraccount.KindPERSONAL {
		return false, nil
	}
	confirmed, err := ConfirmedDomains(ctx, c, a.ID)
	if err != nil {
		return false, err
	}
	return CheckAddressInDomains(email, confirmed, override, field)
}

// checkNew locks the account row, then applies the rule; except is an
// invitation that does not count (the one being resent or accepted).
func checkNew(ctx context.Context, c *ent.Client, accountID pulid.ID, email string, override bool, field string, except pulid.ID) (bool, error) {
	a, err := lockAccount(ctx, c, accountID)
	if err != nil {
		return false, err
	}
	if a.Kind == customeraccount.KindPERSONAL {
		// Every contact and pending invitation counts, also those the
		// viewer could not list.
		sys := viewer.SystemContext(ctx)
		n, err := c.Contact.Query().Where(contact.CustomerAccountID(a.ID)).Count(sys)
		if err != nil {
			return false, err
		}
		q := c.Invitation.Query().Where(invitation.CustomerAccountID(a.ID), invitation.StateEQ(invitation.StatePENDING))
		if except != "" {
			q.Where(invitation.IDNEQ(except))
		}
		m, err := q.Count(sys)
		if err != nil {
			return false, err
		}
		if n+m > 0 {
			return false, apperr.ForbiddenReason(ReasonPersonalAccount,
				"a personal customer account has exactly one contact, its owner: ask the provider to switch the account to a business account to add more people")
		}
		return false, nil
	}
	confirmed, err := ConfirmedDomains(ctx, c, a.ID)
	if err != nil {
		return false, err
	}
	return CheckAddressInDomains(email, confirmed, override, field)
}

// AuditOverride records that staff admitted email outside the confirmed
// organisation domains for the contact or invitation target.
func AuditOverride(ctx context.Context, c *ent.Client, accountID pulid.ID, targetType string, targetID pulid.ID, email string) error {
	changes := map[string]any{"emailDomain": EmailDomain(email)}
	if email == "" {
		changes["emailDomain"] = nil
	}
	return audit.Record(ctx, c, audit.Entry{Action: "organisation_domain.override", AccountID: accountID,
		TargetType: targetType, TargetID: string(targetID), Changes: changes})
}

// lockAccount reads the account row as Portier, locked for the rest of the
// transaction on PostgreSQL.
func lockAccount(ctx context.Context, c *ent.Client, id pulid.ID) (*ent.CustomerAccount, error) {
	return c.CustomerAccount.Query().Where(customeraccount.ID(id), accountLockedOnPostgres()).Only(viewer.SystemContext(ctx))
}

// accountLockedOnPostgres makes the query SELECT … FOR UPDATE on PostgreSQL
// (see lockedOnPostgres).
func accountLockedOnPostgres() predicate.CustomerAccount {
	return func(s *sql.Selector) {
		if s.Dialect() == dialect.Postgres {
			s.ForUpdate(sql.WithLockTables(customeraccount.Table))
		}
	}
}

// overrideField names the override input next to the e-mail field
// ("input.email" → "input.allowOutsideOrganisationDomains").
func overrideField(emailField string) string {
	if i := strings.LastIndexByte(emailField, '.'); i >= 0 {
		return emailField[:i+1] + "allowOutsideOrganisationDomains"
	}
	return "allowOutsideOrganisationDomains"
}
