package identity

import (
	"context"
	"strings"

	"portier/ent"
	"portier/ent/retiredidentifier"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/password"
	"portier/internal/pulid"
)

// Login activation ("Login aktivieren"): a customer account mails
// one of its contacts a link; a person without a user account creates its
// login with it (the invitations package runs the flow and calls these).
// The link was sent to the contact's address and its token is a secret
// only that mailbox received, so the new account's address is verified at
// once — as for a staff invitation, the account has had no holder before.

// NewLogin is a login to create for a proven address.
type NewLogin struct {
	Email, Username, Name, Password, Locale string
}

// AddressHeld reports whether a user account holds email as its verified
// address, or ever did (addresses are used once, ever).
func (s *Service) AddressHeld(ctx context.Context, email string) (bool, error) {
	return s.emailUsed(ctx, email)
}

// PrepareLogin checks a new login's input (fields input.username,
// input.name, input.password, input.locale) as signUp does, refuses a taken
// username (CONFLICT on input.username: the caller proved the mailbox, so
// it is told directly what signUp tells by mail), and hashes the password —
// before any transaction opens: argon2 must not hold the write lock. It
// returns the normalised input and the hash.
func (s *Service) PrepareLogin(ctx context.Context, in NewLogin) (NewLogin, string, error) {
	out := NewLogin{
		Email:    in.Email,
		Username: strings.ToLower(strings.TrimSpace(in.Username)),
		Name:     strings.TrimSpace(in.Name),
		Locale:   strings.ToLower(strings.TrimSpace(in.Locale)),
	}
	switch {
	case !usernamePattern.MatchString(out.Username):
		return out, "", apperr.BadInput("input.username", "a username has 3 to 64 letters, digits, dots, dashes or underscores")
	case out.Name == "" || len(out.Name) > 200:
		return out, "", apperr.BadInput("input.name", "a name of 1 to 200 characters is required")
	}
	if out.Locale == "" {
		out.Locale = "de"
	}
	if out.Locale != "de" && out.Locale != "en" {
		return out, "", apperr.BadInput("input.locale", "locale must be de or en")
	}
	if err := policyError("input.password", password.Validate(in.Password, out.Email, out.Username, strings.Split(out.Email, "@")[0])); err != nil {
		return out, "", err
	}
	taken, err := s.usernameTaken(ctx, out.Username)
	if err != nil {
		return out, "", err
	}
	if taken {
		return out, "", errUsernameTaken()
	}
	hash, err := password.Hash(ctx, in.Password)
	return out, hash, err
}

func errUsernameTaken() error {
	return apperr.Conflict("input.username", "this username is taken (usernames are used once, ever); choose another")
}

func (s *Service) usernameTaken(ctx context.Context, username string) (bool, error) {
	taken, err := s.Client.UserAccount.Query().Where(useraccount.Username(username)).Exist(sys(ctx))
	if err != nil || taken {
		return taken, err
	}
	// The username of an anonymised account stays reserved.
	return s.Client.RetiredIdentifier.Query().Where(retiredidentifier.ID("username:" + username)).Exist(sys(ctx))
}

// CreateProvenUser creates, through c (the transaction redeeming the link),
// an ACTIVE user whose address in.Email is verified now, with the password
// hash from PrepareLogin; every other account's unverified claim on the
// address ends. Audited as user.activated. A username or address taken
// concurrently is CONFLICT (on input.username or addressField).
func (s *Service) CreateProvenUser(ctx context.Context, c *ent.Client, in NewLogin, hash, addressField string) (*ent.UserAccount, error) {
	now := s.Now()
	id := pulid.New("usr")
	// Other claims first: an unverified sign-up of the same address would
	// otherwise still hold it in its (pre-migration) email column.
	if err := VoidOtherClaims(ctx, c, id, in.Email, now); err != nil {
		return nil, err
	}
	u, err := c.UserAccount.Create().SetID(id).
		SetEmail(in.Email).SetEmailVerifiedAt(now).
		SetUsername(in.Username).SetName(in.Name).SetLocale(in.Locale).
		SetPasswordHash(hash).SetPasswordChangedAt(now).
		Save(sys(ctx))
	if ent.IsConstraintError(err) {
		taken, terr := s.usernameTaken(ctx, in.Username)
		if terr == nil && taken {
			return nil, errUsernameTaken()
		}
		return nil, apperr.Conflict(addressField, "a user account now holds this e-mail address: log in with it and accept the link with acceptInvitation")
	}
	if err != nil {
		return nil, err
	}
	return u, audit.Record(ctx, c, audit.Entry{Action: "user.activated", ActorID: string(u.ID), TargetType: "UserAccount",
		TargetID: string(u.ID), Changes: map[string]any{"email": u.Email, "username": u.Username}})
}

// OpenSession logs u in through c and returns its tokens (u has just been
// created and has no second factor).
func (s *Service) OpenSession(ctx context.Context, c *ent.Client, u *ent.UserAccount) (*Tokens, error) {
	return s.openSession(ctx, c, u, nil)
}
