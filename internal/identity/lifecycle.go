package identity

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"portier/ent"
	"portier/ent/apikey"
	"portier/ent/contact"
	"portier/ent/loginchallenge"
	"portier/ent/onetimetoken"
	"portier/ent/retiredidentifier"
	"portier/ent/supportpinstate"
	"portier/ent/useraccount"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/mail"
	"portier/internal/pulid"
)

// RestoreWindow is how long after deleting itself a user account can be
// restored by the provider's support; after it the account is anonymised.
const RestoreWindow = 90 * 24 * time.Hour

// DeleteMyAccount deletes the viewer's own user account after checking its
// current password. The row stays, marked DELETED, so that
// its e-mail address and username stay reserved. In the same transaction
// every session is revoked, every API key revoked, the support PIN, login
// challenges and open links discarded, and each linked contact unlinked
// (remembering the user in unlinked_user_id, audited per contact) while
// keeping its roles. Staff users cannot delete themselves: a staff ADMIN
// removes them.
func (s *Service) DeleteMyAccount(ctx context.Context, pw string) error {
	u, err := s.currentUser(ctx)
	if err != nil {
		return err
	}
	if u.StaffRole != nil {
		return apperr.Forbidden("staff users cannot delete themselves; a staff ADMIN removes them (removeStaffUser)")
	}
	if err := s.checkPassword(ctx, u, pw, "input.password"); err != nil {
		return err
	}
	c, err := s.Tx()
	if err != nil {
		return err
	}
	now := s.Now()
	// Guarded on ACTIVE: two deletions in parallel delete once.
	n, err := c.UserAccount.Update().Where(useraccount.ID(u.ID), useraccount.StatusEQ(useraccount.StatusACTIVE)).
		SetStatus(useraccount.StatusDELETED).SetDeletedAt(now).Save(sys(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.BadInput("", "the account is not active")
	}
	sessions, err := revokeUserSessions(ctx, c, u.ID, "", now, "account deleted")
	if err != nil {
		return err
	}
	keys, err := c.APIKey.Update().Where(apikey.UserID(u.ID), apikey.RevokedAtIsNil()).SetRevokedAt(now).Save(sys(ctx))
	if err != nil {
		return err
	}
	if _, err := c.SupportPinState.Delete().Where(supportpinstate.UserID(u.ID)).Exec(sys(ctx)); err != nil {
		return err
	}
	if _, err := c.LoginChallenge.Delete().Where(loginchallenge.UserID(u.ID)).Exec(sys(ctx)); err != nil {
		return err
	}
	if err := invalidateTokens(ctx, c, u.ID, now, onetimetoken.PurposeEMAIL_VERIFY, onetimetoken.PurposeEMAIL_CHANGE,
		onetimetoken.PurposePASSWORD_RESET, onetimetoken.PurposeSTAFF_INVITE, onetimetoken.PurposeREFERENCE_EMAIL); err != nil {
		return err
	}
	contacts, err := c.Contact.Query().Where(contact.UserID(u.ID)).All(sys(ctx))
	if err != nil {
		return err
	}
	entries := []audit.Entry{{Action: "user.deleted", TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"status": "DELETED", "sessionsRevoked": sessions, "apiKeysRevoked": keys, "contactsUnlinked": len(contacts)}}}
	for _, ct := range contacts {
		if err := c.Contact.UpdateOneID(ct.ID).ClearUserID().SetUnlinkedUserID(u.ID).Exec(sys(ctx)); err != nil {
			return err
		}
		entries = append(entries, audit.Entry{Action: "contact.unlinked", AccountID: ct.CustomerAccountID,
			TargetType: "Contact", TargetID: string(ct.ID), Changes: map[string]any{"user": string(u.ID), "reason": "user_deleted"}})
	}
	if err := audit.RecordAll(ctx, c, entries); err != nil {
		return err
	}
	return send(ctx, c, u, u.Email, mail.UserAccountDeleted, map[string]string{"until": now.Add(RestoreWindow).Format("2006-01-02")})
}

// RestoreUserAccount brings back a user account deleted less than
// RestoreWindow ago (staff SUPPORT, checked by the directive): ACTIVE again,
// and the contacts unlinked at deletion are linked again where that is
// still possible (the contact has no other user and the user no other
// contact on that account). Sessions, API keys and links stay ended.
func (s *Service) RestoreUserAccount(ctx context.Context, id pulid.ID) (*ent.UserAccount, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	u, err := c.UserAccount.Get(sys(ctx), id)
	if ent.IsNotFound(err) {
		e := apperr.NotFound()
		e.Field = "id"
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	switch {
	case u.Status != useraccount.StatusDELETED || u.StaffRole != nil:
		return nil, apperr.BadInput("id", "the user account is not deleted")
	case u.AnonymisedAt != nil || u.DeletedAt == nil || !now.Before(u.DeletedAt.Add(RestoreWindow)):
		return nil, apperr.BadInput("id", "the user account was deleted more than 90 days ago and cannot be restored")
	}
	n, err := c.UserAccount.Update().Where(useraccount.ID(u.ID), useraccount.StatusEQ(useraccount.StatusDELETED)).
		SetStatus(useraccount.StatusACTIVE).ClearDeletedAt().Save(sys(ctx))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, apperr.BadInput("id", "the user account is not deleted")
	}
	// A contact deleted meanwhile stays deleted (deleteContact clears
	// unlinked_user_id; the condition holds even if it did not).
	contacts, err := c.Contact.Query().Where(contact.UnlinkedUserID(u.ID), contact.DeletedAtIsNil()).All(sys(ctx))
	if err != nil {
		return nil, err
	}
	var entries []audit.Entry
	relinked := 0
	for _, ct := range contacts {
		taken, err := c.Contact.Query().Where(contact.CustomerAccountID(ct.CustomerAccountID), contact.UserID(u.ID), contact.DeletedAtIsNil()).Exist(sys(ctx))
		if err != nil {
			return nil, err
		}
		action := "contact.relinked"
		upd := c.Contact.Update().Where(contact.ID(ct.ID)).ClearUnlinkedUserID()
		if ct.UserID == nil && !taken {
			upd.SetUserID(u.ID)
		} else {
			action = "contact.relink_skipped"
		}
		if err := upd.Exec(sys(ctx)); err != nil {
			return nil, err
		}
		if action == "contact.relinked" {
			relinked++
		}
		entries = append(entries, audit.Entry{Action: action, AccountID: ct.CustomerAccountID,
			TargetType: "Contact", TargetID: string(ct.ID), Changes: map[string]any{"user": string(u.ID), "reason": "user_restored"}})
	}
	entries = append([]audit.Entry{{Action: "user.restored", TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"status": "ACTIVE", "contactsRelinked": relinked}}}, entries...)
	if err := audit.RecordAll(ctx, c, entries); err != nil {
		return nil, err
	}
	u, err = c.UserAccount.Get(sys(ctx), u.ID)
	if err != nil {
		return nil, err
	}
	return u, send(ctx, c, u, u.Email, mail.UserAccountRestored, nil)
}

// AnonymiseDeleted erases the personal data of user accounts deleted more
// than RestoreWindow before now (called from the server's hourly loop): the
// name, phone, e-mail address and username are replaced or cleared, the
// address and username are kept reserved as RetiredIdentifiers (usable
// once, ever), credentials are cleared, and the contacts stop remembering
// the user. Each account is one transaction, audited. It returns how many
// accounts were anonymised.
func AnonymiseDeleted(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	ids, err := client.UserAccount.Query().
		Where(useraccount.StatusEQ(useraccount.StatusDELETED), useraccount.AnonymisedAtIsNil(),
			useraccount.DeletedAtLTE(now.Add(-RestoreWindow))).
		IDs(sys(ctx))
	if err != nil {
		return 0, err
	}
	done := 0
	for _, id := range ids {
		if err := anonymise(ctx, client, id, now); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

func anonymise(ctx context.Context, client *ent.Client, id pulid.ID, now time.Time) (err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		} else {
			err = tx.Commit()
		}
	}()
	c := tx.Client()
	u, err := c.UserAccount.Get(sys(ctx), id)
	if err != nil {
		return err
	}
	if u.Status != useraccount.StatusDELETED || u.AnonymisedAt != nil {
		return nil
	}
	for _, rid := range []string{"email:" + u.Email, "username:" + u.Username} {
		if strings.HasSuffix(rid, ":") {
			continue
		}
		if err := c.RetiredIdentifier.Create().SetID(rid).SetUserID(u.ID).
			OnConflictColumns(retiredidentifier.FieldID).DoNothing().Exec(sys(ctx)); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if err := c.UserAccount.UpdateOneID(u.ID).
		ClearEmail().ClearPendingEmail().SetUsername("deleted." + strings.ToLower(string(u.ID))).
		SetName("").ClearPhone().ClearPhoneVerifiedAt().ClearPendingPhone().ClearReferenceEmail().ClearReferenceEmailConfirmedAt().ClearPasswordHash().ClearTotpSecret().ClearPendingTotpSecret().
		ClearRecoveryCodeHashes().ClearSecondFactorMethods().SetAnonymisedAt(now).
		Exec(sys(ctx)); err != nil {
		return err
	}
	if _, err := c.Contact.Update().Where(contact.UnlinkedUserID(u.ID)).ClearUnlinkedUserID().Save(sys(ctx)); err != nil {
		return err
	}
	return audit.Record(ctx, c, audit.Entry{Action: "user.anonymised", TargetType: "UserAccount", TargetID: string(u.ID),
		Changes: map[string]any{"fields": []string{"email", "username", "name", "phone", "referenceEmail"}}})
}
