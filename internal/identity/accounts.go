package identity

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/onetimetoken"
	"portier/ent/retiredidentifier"
	"portier/ent/schema"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/mail"
	"portier/internal/orgdomains"
	"portier/internal/password"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$`)

func policyError(field string, err error) error {
	if err == nil {
		return nil
	}
	return apperr.BadInput(field, "%s", err.Error())
}

// emailUsed reports whether an address is the verified address of a user
// account, or ever was. An address that accounts merely claim (unverified,
// pending_email) is free: the first that proves it gets it.
func (s *Service) emailUsed(ctx context.Context, email string) (bool, error) {
	taken, err := s.Client.UserAccount.Query().
		Where(useraccount.Email(email), useraccount.EmailVerifiedAtNotNil()).Exist(sys(ctx))
	if err != nil || taken {
		return taken, err
	}
	return s.Client.RetiredIdentifier.Query().Where(retiredidentifier.ID("email:" + email)).Exist(sys(ctx))
}

// SignUpInput is a new user.
type SignUpInput struct {
	Email, Username, Name, Password, Locale string
}

// SignUp creates an unverified user and sends the verification link. It
// answers the same whatever happens after the input checks, so that it
// tells nobody which addresses or usernames have an account:
//   - a free address (also one that other unverified accounts claim): a new
//     account claims it in pending_email and gets a link naming its
//     username;
//   - an address verified by an account: nothing is created or sent;
//   - a taken username: nothing is created; the address is told to pick
//     another (at most 3 such notes per address and hour).
func (s *Service) SignUp(ctx context.Context, in SignUpInput) error {
	v := viewer.FromContext(ctx)
	email := schema.NormalizeEmail(in.Email)
	username := strings.ToLower(strings.TrimSpace(in.Username))
	name := strings.TrimSpace(in.Name)
	locale := strings.ToLower(strings.TrimSpace(in.Locale))
	switch {
	case !schema.ValidEmail(email):
		return apperr.BadInput("input.email", "%q is not an e-mail address", in.Email)
	case !usernamePattern.MatchString(username):
		return apperr.BadInput("input.username", "a username has 3 to 64 letters, digits, dots, dashes or underscores")
	case name == "" || len(name) > 200:
		return apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
	}
	if locale == "" {
		locale = "de"
	}
	if locale != "de" && locale != "en" {
		return apperr.BadInput("input.locale", "locale must be de or en")
	}
	if err := policyError("input.password", password.Validate(in.Password, email, username, strings.Split(email, "@")[0])); err != nil {
		return err
	}
	if err := s.Limiter.Take(ctx, ruleSignUpIP, v.IP); err != nil {
		return err
	}
	usernameTaken, err := s.Client.UserAccount.Query().Where(useraccount.Username(username)).Exist(sys(ctx))
	if err == nil && !usernameTaken {
		// The username of an anonymised account stays reserved.
		usernameTaken, err = s.Client.RetiredIdentifier.Query().Where(retiredidentifier.ID("username:" + username)).Exist(sys(ctx))
	}
	if err != nil {
		return err
	}
	emailTaken, err := s.emailUsed(ctx, email)
	if err != nil {
		return err
	}
	// Hashed in every case: the answer takes as long either way.
	hash, err := password.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	if usernameTaken {
		return s.tellUsernameTaken(ctx, email, username, name, locale)
	}
	if emailTaken {
		return nil
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	// A concurrent sign-up may take the username first: then nothing is
	// inserted (no failed statement in the transaction) and the answer is
	// the same.
	id := pulid.New("usr")
	err = c.UserAccount.Create().SetID(id).
		SetPendingEmail(email).SetUsername(username).SetName(name).SetLocale(locale).
		SetPasswordHash(hash).SetPasswordChangedAt(s.Now()).
		OnConflictColumns(useraccount.FieldUsername).DoNothing().Exec(sys(ctx))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	u, err := c.UserAccount.Query().Where(useraccount.ID(id)).Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: "user.sign_up", ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"pendingEmail": email, "username": username}}); err != nil {
		return err
	}
	return s.sendVerification(ctx, c, u, onetimetoken.PurposeEMAIL_VERIFY, email, mail.VerifyEmail)
}

// tellUsernameTaken mails the address of a sign-up whose username is taken,
// rate-limited per address (over the limit: silently nothing).
func (s *Service) tellUsernameTaken(ctx context.Context, email, username, name, locale string) error {
	if err := s.Limiter.Take(ctx, ruleSignUpNote, email); err != nil {
		return nil
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	u := &ent.UserAccount{Name: name, Locale: locale, Username: username}
	if err := send(ctx, c, u, email, mail.SignUpUsernameTaken, nil); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "user.sign_up_username_taken",
		Changes: map[string]any{"username": username}})
}

// newToken invalidates the user's live tokens of the purpose and stores a
// new one (32 random bytes) bound to the address it is sent to; it returns
// the token for the link.
func (s *Service) newToken(ctx context.Context, c *ent.Client, u *ent.UserAccount, p onetimetoken.Purpose, ttl time.Duration, email string) (string, error) {
	now := s.Now()
	if err := c.OneTimeToken.Update().
		Where(onetimetoken.UserID(u.ID), onetimetoken.PurposeEQ(p), onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		SetInvalidatedAt(now).Exec(sys(ctx)); err != nil {
		return "", err
	}
	tok := randomToken(32)
	q := c.OneTimeToken.Create().
		SetPurpose(p).SetUserID(u.ID).SetTokenHash(hashToken(tok)).
		SetExpiresAt(now.Add(ttl))
	if email != "" {
		q.SetNewEmail(email)
	}
	return tok, q.Exec(sys(ctx))
}

func (s *Service) sendVerification(ctx context.Context, c *ent.Client, u *ent.UserAccount, p onetimetoken.Purpose, to, kind string) error {
	tok, err := s.newToken(ctx, c, u, p, VerifyLinkLifetime, to)
	if err != nil {
		return err
	}
	data := map[string]string{"link": s.link("/verify-email", tok)}
	if p == onetimetoken.PurposeEMAIL_CHANGE {
		data["new_email"] = to
	}
	return send(ctx, c, u, to, kind, data)
}

// redeem finds a live token of one of the purposes, counting the attempt
// against the client address first. It does not consume it.
func (s *Service) redeem(ctx context.Context, tok string, purposes ...onetimetoken.Purpose) (*ent.OneTimeToken, error) {
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleTokenIP, v.IP); err != nil {
		return nil, err
	}
	bad := apperr.BadInput("token", "the link is invalid, used or expired")
	t, err := s.Client.OneTimeToken.Query().
		Where(onetimetoken.TokenHash(hashToken(strings.TrimSpace(tok))), onetimetoken.PurposeIn(purposes...)).
		Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if t.UsedAt != nil || t.InvalidatedAt != nil || !t.ExpiresAt.After(s.Now()) {
		return nil, bad
	}
	return t, nil
}

// use marks a token used, once: concurrent redemptions lose.
func (s *Service) use(ctx context.Context, c *ent.Client, t *ent.OneTimeToken) error {
	// Guarded: a link used, voided or expired since it was read (a
	// concurrent request, a newer link) is not used now.
	now := s.Now()
	n, err := c.OneTimeToken.Update().Where(onetimetoken.ID(t.ID), onetimetoken.UsedAtIsNil(),
		onetimetoken.InvalidatedAtIsNil(), onetimetoken.ExpiresAtGT(now)).
		SetUsedAt(now).Save(sys(ctx))
	if err != nil {
		return err
	}
	if n != 1 {
		return apperr.BadInput("token", "the link is invalid, used or expired")
	}
	return nil
}

// proveHolder checks that the request comes from the holder of u: its own
// session (the bearer token is a session of u), or u's password
// (rate-limited per user). A link in a mailbox proves the mailbox, not the
// account: both are needed before an address counts as u's.
func (s *Service) proveHolder(ctx context.Context, u *ent.UserAccount, pw *string) error {
	v := viewer.FromContext(ctx)
	if v.Kind == viewer.User && v.SessionID != "" && v.UserID == string(u.ID) {
		return nil
	}
	if pw == nil || *pw == "" {
		return apperr.BadInput("password", "this link belongs to the account %q: log in as that account, or give its password", u.Username)
	}
	if err := s.Limiter.Take(ctx, rulePasswordUsr, string(u.ID)); err != nil {
		return err
	}
	ok, _, err := password.Verify(ctx, *pw, u.PasswordHash)
	if err != nil || !ok || u.PasswordHash == "" {
		s.auditOutside(ctx, "password.check_failure", string(u.ID), map[string]any{"for": "verify_email"})
		return apperr.BadInput("password", "the password of the account %q is wrong", u.Username)
	}
	return nil
}

// VerifyEmail redeems a verification link (after sign-up or an e-mail
// change). The link proves the mailbox; the request must also prove the
// account the link belongs to (its session, or pw). Then the address
// becomes the account's verified address; every other unverified claim on
// it (sign-ups, pending e-mail changes) is void; after a change the old
// address is told and stays reserved. Contacts with the address and no
// login are linked to the user (flow 5), where the user has no contact on
// that customer account yet; the others stay unlinked. Each link and each
// skip is audited. After an e-mail change the contacts already linked to
// the user take the new address (followEmail).
func (s *Service) VerifyEmail(ctx context.Context, tok string, pw *string) error {
	t, err := s.redeem(ctx, tok, onetimetoken.PurposeEMAIL_VERIFY, onetimetoken.PurposeEMAIL_CHANGE)
	if err != nil {
		return err
	}
	u, err := s.Client.UserAccount.Get(sys(ctx), t.UserID)
	if err != nil {
		return err
	}
	if u.Status == useraccount.StatusDELETED {
		return apperr.BadInput("token", "the link is invalid, used or expired")
	}
	if err := s.proveHolder(ctx, u, pw); err != nil {
		return err
	}
	address := t.NewEmail
	if address == "" { // a link from before addresses were bound to links
		address = cmp.Or(u.PendingEmail, u.Email)
	}
	if t.Purpose == onetimetoken.PurposeEMAIL_VERIFY && (u.PendingEmail != address && u.Email != address) {
		// The claim was voided (another account verified the address) or
		// replaced by a newer one.
		return apperr.BadInput("token", "the link is invalid, used or expired")
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
	oldEmail := u.Email
	action := "user.email_verified"
	if t.Purpose == onetimetoken.PurposeEMAIL_CHANGE {
		action = "user.email_changed"
	}
	// With a verified address, the account's own sign-up claim is moot.
	u, err = c.UserAccount.UpdateOneID(u.ID).SetEmail(address).SetEmailVerifiedAt(now).ClearPendingEmail().Save(sys(ctx))
	if err != nil {
		return err
	}
	changes := map[string]any{"email": u.Email}
	if t.Purpose == onetimetoken.PurposeEMAIL_CHANGE && oldEmail != "" && oldEmail != address {
		changes["previousEmail"] = oldEmail
		// Reset links went to the old address: they end with it.
		if err := invalidateTokens(ctx, c, u.ID, now, onetimetoken.PurposePASSWORD_RESET); err != nil {
			return err
		}
		// The old address stays reserved: usable once, ever.
		if err := c.RetiredIdentifier.Create().SetID("email:" + oldEmail).SetUserID(u.ID).
			OnConflictColumns(retiredidentifier.FieldID).DoNothing().Exec(sys(ctx)); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := send(ctx, c, u, oldEmail, mail.EmailChangedNotice, map[string]string{"new_email": u.Email}); err != nil {
			return err
		}
	}
	if err := audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: changes}); err != nil {
		return err
	}
	if t.Purpose == onetimetoken.PurposeEMAIL_CHANGE && oldEmail != address {
		if err := followEmail(ctx, c, u); err != nil {
			return err
		}
	}
	_, err = linkContacts(ctx, c, u)
	return err
}

// followEmail gives every contact linked to u its new verified address
// (issue 8 item 9): a person's contacts follow the address the person
// proved. Each change is audited on the contact's account as
// contact.email_followed_user (from, to). Where that account already has
// another contact with the new address, the contact keeps its old one and
// contact.email_follow_skipped says why; the e-mail change succeeds anyway.
// It runs in the transaction of the verification; the contacts are read
// with the system context because the user need not be allowed to read
// its accounts' contacts (a contact without CONTACTS_READ is still the
// user's own).
func followEmail(ctx context.Context, c *ent.Client, u *ent.UserAccount) error {
	if u.Email == "" || u.EmailVerifiedAt == nil {
		return nil
	}
	linked, err := c.Contact.Query().Where(contact.UserID(u.ID)).
		Order(ent.Asc(contact.FieldCreatedAt), ent.Asc(contact.FieldID)).All(sys(ctx))
	if err != nil {
		return err
	}
	for _, ct := range linked {
		from := ""
		if ct.Email != nil {
			from = *ct.Email
		}
		if from == u.Email {
			continue
		}
		taken, err := c.Contact.Query().
			Where(contact.CustomerAccountID(ct.CustomerAccountID), contact.Email(u.Email), contact.IDNEQ(ct.ID), contact.DeletedAtIsNil()).
			Exist(sys(ctx))
		if err != nil {
			return err
		}
		outside, err := outsideDomains(ctx, c, ct.CustomerAccountID, u.Email)
		if err != nil {
			return err
		}
		changes := map[string]any{"from": from, "to": u.Email, "user": string(u.ID)}
		action := "contact.email_followed_user"
		switch {
		case taken:
			action = "contact.email_follow_skipped"
			changes["reason"] = "another contact of this customer account has the address"
		case outside:
			// The account admits contacts only inside its confirmed
			// organisation domains; the contact keeps its
			// address and its link, and the account sees why.
			action = "contact.email_follow_skipped"
			changes["reason"] = "the address is outside the customer account's confirmed organisation domains"
		default:
			// Guarded: a contact unlinked meanwhile keeps its address.
			k, err := c.Contact.Update().Where(contact.ID(ct.ID), contact.UserID(u.ID)).
				SetEmail(u.Email).Save(sys(ctx))
			if err != nil {
				return err
			}
			if k == 0 {
				continue
			}
		}
		if err := audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(u.ID),
			AccountID: ct.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes}); err != nil {
			return err
		}
	}
	return nil
}

// outsideDomains reports whether address lies outside the confirmed
// organisation domains of a BUSINESS account (a PERSONAL account has no
// such rule).
func outsideDomains(ctx context.Context, c *ent.Client, accountID pulid.ID, address string) (bool, error) {
	acct, err := c.CustomerAccount.Get(sys(ctx), accountID)
	if err != nil {
		return false, err
	}
	if acct.Kind != customeraccount.KindBUSINESS {
		return false, nil
	}
	confirmed, err := orgdomains.Confirmed(ctx, c, accountID)
	if err != nil {
		return false, err
	}
	return !orgdomains.InDomains(address, confirmed), nil
}

// voidOtherClaims ends every unverified claim of other accounts on address,
// now that uid has proven it: sign-ups waiting for it, links already sent
// for it, and e-mail changes to it. Each voided account is audited.
func (s *Service) voidOtherClaims(ctx context.Context, c *ent.Client, uid pulid.ID, address string, now time.Time) error {
	return VoidOtherClaims(ctx, c, uid, address, now)
}

// VoidOtherClaims is voidOtherClaims for every flow in which a user proves
// an address (verification, staff and login activation), through c, the
// transaction in which uid gets the address.
func VoidOtherClaims(ctx context.Context, c *ent.Client, uid pulid.ID, address string, now time.Time) error {
	claimants, err := c.UserAccount.Query().
		Where(useraccount.IDNEQ(uid), useraccount.Or(
			useraccount.PendingEmail(address),
			// Accounts from before unverified addresses moved out of the
			// unique column.
			useraccount.And(useraccount.Email(address), useraccount.EmailVerifiedAtIsNil()),
		)).IDs(sys(ctx))
	if err != nil {
		return err
	}
	tokenOwners, err := c.OneTimeToken.Query().
		Where(onetimetoken.UserIDNEQ(uid), onetimetoken.NewEmail(address),
			onetimetoken.PurposeIn(onetimetoken.PurposeEMAIL_VERIFY, onetimetoken.PurposeEMAIL_CHANGE),
			onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		Select(onetimetoken.FieldUserID).Strings(sys(ctx))
	if err != nil {
		return err
	}
	if err := c.OneTimeToken.Update().
		Where(onetimetoken.UserIDNEQ(uid), onetimetoken.NewEmail(address),
			onetimetoken.PurposeIn(onetimetoken.PurposeEMAIL_VERIFY, onetimetoken.PurposeEMAIL_CHANGE),
			onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		SetInvalidatedAt(now).Exec(sys(ctx)); err != nil {
		return err
	}
	voided := map[pulid.ID]bool{}
	for _, id := range claimants {
		voided[id] = true
		if err := c.UserAccount.Update().Where(useraccount.ID(id), useraccount.PendingEmail(address)).
			ClearPendingEmail().Exec(sys(ctx)); err != nil {
			return err
		}
		if err := c.UserAccount.Update().Where(useraccount.ID(id), useraccount.Email(address), useraccount.EmailVerifiedAtIsNil()).
			ClearEmail().Exec(sys(ctx)); err != nil {
			return err
		}
		if err := invalidateTokens(ctx, c, id, now, onetimetoken.PurposeEMAIL_VERIFY); err != nil {
			return err
		}
	}
	for _, id := range tokenOwners {
		voided[pulid.ID(id)] = true
	}
	for id := range voided {
		if err := audit.Record(ctx, c, audit.Entry{Action: "user.email_claim_voided", ActorID: string(uid),
			TargetType: "UserAccount", TargetID: string(id),
			Changes: map[string]any{"email": address, "verifiedBy": string(uid)}}); err != nil {
			return err
		}
	}
	return nil
}

// linkContacts links the contacts that carry u's verified address and no
// login to u (flow 5): one per customer account, so a contact on an account
// where u already has a contact stays unlinked. Each link and each skip is
// audited on the contact's account. It returns how many were linked. Staff
// users act through their staff role only, never through contacts.
func linkContacts(ctx context.Context, c *ent.Client, u *ent.UserAccount) (int, error) {
	if u.StaffRole != nil || u.Email == "" || u.EmailVerifiedAt == nil || u.Status != useraccount.StatusACTIVE {
		return 0, nil
	}
	cands, err := c.Contact.Query().Where(contact.Email(u.Email), contact.UserIDIsNil(), contact.DeletedAtIsNil()).
		Order(ent.Asc(contact.FieldCreatedAt), ent.Asc(contact.FieldID)).All(sys(ctx))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ct := range cands {
		has, err := c.Contact.Query().
			Where(contact.CustomerAccountID(ct.CustomerAccountID), contact.UserID(u.ID), contact.DeletedAtIsNil()).Exist(sys(ctx))
		if err != nil {
			return n, err
		}
		action := "contact.linked"
		if has {
			action = "contact.link_skipped"
		} else {
			// Guarded: a contact linked meanwhile is left alone.
			k, err := c.Contact.Update().Where(contact.ID(ct.ID), contact.UserIDIsNil(), contact.DeletedAtIsNil()).SetUserID(u.ID).Save(sys(ctx))
			if err != nil {
				return n, err
			}
			if k == 0 {
				continue
			}
			n++
		}
		changes := map[string]any{"user": string(u.ID), "email": u.Email}
		if has {
			changes["reason"] = "the user already has a contact on this customer account"
		}
		if err := audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(u.ID),
			AccountID: ct.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// LinkContacts links the contacts that customer accounts created with the
// viewer's verified address since it was verified (the person confirms
// them: a customer admin typing an address links nobody). It returns how
// many were linked.
func (s *Service) LinkContacts(ctx context.Context) (int, error) {
	u, err := s.currentUser(ctx)
	if err != nil {
		return 0, err
	}
	if u.EmailVerifiedAt == nil {
		return 0, apperr.BadInput("", "verify your e-mail address first")
	}
	c, err := s.Tx()
	if err != nil {
		return 0, err
	}
	return linkContacts(ctx, c, u)
}

// ContactAdded tells the holder of a verified address that a customer
// account added a contact with it, through c (the transaction creating the
// contact). The user links it while logged in (LinkContacts); nothing is
// linked and nothing is shown to the customer account until then. It sends
// nothing when no user (or a staff user) holds the address.
func ContactAdded(ctx context.Context, c *ent.Client, email, accountName, accountNumber string) error {
	u, err := c.UserAccount.Query().
		Where(useraccount.Email(email), useraccount.EmailVerifiedAtNotNil(),
			useraccount.StatusEQ(useraccount.StatusACTIVE), useraccount.StaffRoleIsNil()).
		Only(sys(ctx))
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return send(ctx, c, u, u.Email, mail.ContactAdded, map[string]string{"account": accountName + " (" + accountNumber + ")"})
}

// ResendVerification sends a new link to the viewer's address waiting for
// verification. When there is none (already verified, or the claim was
// voided because another account proved the address) it answers the same
// and sends nothing.
func (s *Service) ResendVerification(ctx context.Context) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if u.EmailVerifiedAt != nil && u.PendingEmail == "" {
		return apperr.BadInput("", "the e-mail address is already verified")
	}
	if err := s.Limiter.Take(ctx, ruleCodeSend, string(u.ID)); err != nil {
		return err
	}
	if u.PendingEmail == "" {
		return nil
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	return s.sendVerification(ctx, c, u, onetimetoken.PurposeEMAIL_VERIFY, u.PendingEmail, mail.VerifyEmail)
}

// checkPassword verifies the viewer's current password, rate-limited.
func (s *Service) checkPassword(ctx context.Context, u *ent.UserAccount, pw, field string) error {
	if err := s.Limiter.Take(ctx, rulePasswordUsr, string(u.ID)); err != nil {
		return err
	}
	ok, _, err := password.Verify(ctx, pw, u.PasswordHash)
	if err != nil || !ok {
		s.auditOutside(ctx, "password.check_failure", string(u.ID), nil)
		return apperr.BadInput(field, "the current password is wrong")
	}
	return nil
}

// RequestEmailChange sends a verification link to the new address and a
// notice to the old one; the address changes when the link is used.
func (s *Service) RequestEmailChange(ctx context.Context, newEmail, pw string) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	email := schema.NormalizeEmail(newEmail)
	if !schema.ValidEmail(email) {
		return apperr.BadInput("input.newEmail", "%q is not an e-mail address", newEmail)
	}
	if email == u.Email {
		return apperr.BadInput("input.newEmail", "this is already your address")
	}
	if err := s.checkPassword(ctx, u, pw, "input.password"); err != nil {
		return err
	}
	taken, err := s.emailUsed(ctx, email)
	if err != nil {
		return err
	}
	if taken {
		// Same answer as for a free address: whether an address has an
		// account is nobody's business. No link is sent.
		return nil
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	if err := s.sendVerification(ctx, c, u, onetimetoken.PurposeEMAIL_CHANGE, email, mail.EmailChangeVerify); err != nil {
		return err
	}
	if err := send(ctx, c, u, u.Email, mail.EmailChangedNotice, map[string]string{"new_email": email}); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "user.email_change_requested", TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"newEmail": email}})
}

// setPassword stores a new password, ends sessions (all but keep), tells
// the user and audits.
func (s *Service) setPassword(ctx context.Context, c *ent.Client, u *ent.UserAccount, hash string, keep pulid.ID, action string) error {
	now := s.Now()
	if err := c.UserAccount.UpdateOneID(u.ID).SetPasswordHash(hash).SetPasswordChangedAt(now).
		SetMustChangePassword(false).Exec(sys(ctx)); err != nil {
		return err
	}
	// Links sent before (a pending e-mail or reference address change, a
	// reset link to an older address) must not outlive the new password.
	if err := invalidateTokens(ctx, c, u.ID, now, onetimetoken.PurposeEMAIL_CHANGE, onetimetoken.PurposePASSWORD_RESET,
		onetimetoken.PurposeREFERENCE_EMAIL); err != nil {
		return err
	}
	n, err := revokeUserSessions(ctx, c, u.ID, keep, now, "password "+strings.TrimPrefix(action, "password."))
	if err != nil {
		return err
	}
	if err := send(ctx, c, u, u.Email, mail.PasswordChanged, nil); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: action, ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"sessionsRevoked": n}})
}

// invalidateTokens ends the user's live one-time tokens of the purposes.
func invalidateTokens(ctx context.Context, c *ent.Client, uid pulid.ID, now time.Time, ps ...onetimetoken.Purpose) error {
	return c.OneTimeToken.Update().
		Where(onetimetoken.UserID(uid), onetimetoken.PurposeIn(ps...), onetimetoken.UsedAtIsNil(), onetimetoken.InvalidatedAtIsNil()).
		SetInvalidatedAt(now).Exec(sys(ctx))
}

// newPasswordHash checks the password policy and hashes pw, before any
// transaction opens (argon2 must not hold the write lock).
func newPasswordHash(ctx context.Context, u *ent.UserAccount, pw string) (string, error) {
	if err := policyError("input.newPassword", password.Validate(pw, u.Email, u.Username)); err != nil {
		return "", err
	}
	return password.Hash(ctx, pw)
}

// ChangePassword changes the viewer's password and ends its other sessions.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	if viewer.FromContext(ctx).Kind == viewer.ScopedLogin {
		return s.changeScopedPassword(ctx, current, next)
	}
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, u, current, "input.currentPassword"); err != nil {
		return err
	}
	if same, _, _ := password.Verify(ctx, next, u.PasswordHash); same {
		return apperr.BadInput("input.newPassword", "choose a password different from the current one")
	}
	hash, err := newPasswordHash(ctx, u, next)
	if err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	return s.setPassword(ctx, c, u, hash, pulid.ID(viewer.FromContext(ctx).SessionID), "password.changed")
}

// resetFloor is the least time requestPasswordReset takes, whatever
// happens, so that its duration does not tell whether the login exists.
const resetFloor = 400 * time.Millisecond

// RequestPasswordReset sends a reset link to the address on file. It
// answers the same, in about the same time, whether or not the login
// exists; the link is built from the configured public URL only.
func (s *Service) RequestPasswordReset(ctx context.Context, login string) error {
	return s.RequestPasswordResetFor(ctx, login, viewer.User)
}

// RequestPasswordResetFor is RequestPasswordReset for a user (kind USER) or
// a scoped login (SCOPED_LOGIN, scoped.go): both answer alike and take the
// same time whatever happens.
func (s *Service) RequestPasswordResetFor(ctx context.Context, login string, kind viewer.Kind) error {
	start := time.Now()
	// Wait out the floor before writing anything, so that the write lock
	// of the transaction is not held during the wait; the writes after it
	// take a few milliseconds.
	pad := func() {
		if d := resetFloor - time.Since(start); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
	}
	defer pad()
	v := viewer.FromContext(ctx)
	if err := s.Limiter.Take(ctx, ruleResetIP, v.IP); err != nil {
		return err
	}
	if kind == viewer.ScopedLogin {
		return s.requestScopedReset(ctx, login, pad)
	}
	u, err := s.findLogin(ctx, login)
	if err != nil {
		return err
	}
	// An unverified address gets no reset link: it may be somebody
	// else's, and the account has no proven address to send it to.
	if u == nil || u.Status == useraccount.StatusDELETED || u.Email == "" || u.EmailVerifiedAt == nil {
		return nil
	}
	if err := s.Limiter.Take(ctx, ruleResetUser, string(u.ID)); err != nil {
		// Same answer: the limit protects the mailbox, not a secret.
		s.auditOutside(ctx, "password.reset_rate_limited", string(u.ID), nil)
		return nil
	}
	pad()
	c, err := s.Tx()
	if err != nil {
		return err
	}
	tok, err := s.newToken(ctx, c, u, onetimetoken.PurposePASSWORD_RESET, ResetLinkLifetime, "")
	if err != nil {
		return err
	}
	// One link, to the e-mail address and the confirmed reference address
	// (userref.go): whichever mailbox uses it first, it works once.
	to := resetRecipients(u)
	for _, addr := range to {
		if err := send(ctx, c, u, addr, mail.PasswordReset, map[string]string{"link": s.link("/reset-password", tok)}); err != nil {
			return err
		}
	}
	return audit.Record(ctx, c, audit.Entry{Action: "password.reset_requested", TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"recipients": len(to)}})
}

// ResetPassword sets a new password with a reset token and ends every
// session. It does not log in: the next login asks for the second factor.
func (s *Service) ResetPassword(ctx context.Context, tok, next string) error {
	t, err := s.redeem(ctx, tok, onetimetoken.PurposePASSWORD_RESET, onetimetoken.PurposeSCOPED_PASSWORD_RESET)
	if err != nil {
		return err
	}
	if t.Purpose == onetimetoken.PurposeSCOPED_PASSWORD_RESET {
		return s.resetScopedPassword(ctx, t, next)
	}
	u, err := s.Client.UserAccount.Get(sys(ctx), t.UserID)
	if err != nil {
		return err
	}
	hash, err := newPasswordHash(ctx, u, next)
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
	return s.setPassword(ctx, c, u, hash, "", "password.reset")
}
