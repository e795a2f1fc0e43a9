package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"

	"portier/internal/groups"
	"portier/internal/password"
	"portier/internal/pulid"
)

// The seeded data: seedAccounts customer accounts (ACTIVE, BUSINESS, with
// their built-in rights group and a confirmed organisation domain), each
// with contactsPerAccount contacts, each contact linked to its own verified,
// ACTIVE user and holding rolesPerContact role assignments. Every user has
// the same password (one argon2id hash, computed once).
const (
	seedAccounts       = 1000
	contactsPerAccount = 10
	rolesPerContact    = 5
	// Contacts 0 and 1 of every account are customer admins (CUSTOMER_ADMIN
	// active); the others hold it only in the past.
	adminContacts = 2
	// plainContact is a contact with portal access but no admin role.
	plainContact = 5

	seedDB         = "bench_seed"
	benchPassword  = "Bench-Passw0rd-not-common-7319"
	benchAdminMail = "bench-admin@bench.example"
)

type seedContact struct {
	id, userID pulid.ID
	username   string
}

type seedAccount struct {
	id       pulid.ID
	number   string
	contacts []seedContact
}

// seedData are the IDs written, the same in every copy of the seed.
type seedData struct {
	accounts []seedAccount
}

func accountNumber(i int) string { return fmt.Sprintf("B%05d", i+1) }
func username(i, k int) string   { return fmt.Sprintf("u%05d-%02d", i+1, k) }

// seed bulk-inserts the data into a database whose schema the server has
// created (and where it has bootstrapped the staff admin), then analyses it.
func seed(ctx context.Context, dbURL string) (*seedData, error) {
	hash, err := password.Hash(ctx, benchPassword)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	now := time.Now().UTC().Truncate(time.Microsecond)
	created := now.Add(-90 * 24 * time.Hour)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.UTC
	}
	date := func(t time.Time) string { return t.In(berlin).Format("2006-01-02") }

	data := &seedData{accounts: make([]seedAccount, seedAccounts)}
	for i := range data.accounts {
		a := &data.accounts[i]
		a.id = pulid.New("acct")
		a.number = accountNumber(i)
		a.contacts = make([]seedContact, contactsPerAccount)
		for k := range a.contacts {
			a.contacts[k] = seedContact{id: pulid.New("ctc"), userID: pulid.New("usr"), username: username(i, k)}
		}
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()

	// copyRows runs one COPY ... FROM STDIN.
	copyRows := func(table string, cols []string, each func(add func(...any) error) error) error {
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
		if err != nil {
			return fmt.Errorf("COPY %s: %w", table, err)
		}
		add := func(v ...any) error { _, err := stmt.ExecContext(ctx, v...); return err }
		if err := each(add); err != nil {
			_ = stmt.Close()
			return fmt.Errorf("COPY %s: %w", table, err)
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			_ = stmt.Close()
			return fmt.Errorf("COPY %s: %w", table, err)
		}
		return stmt.Close()
	}

	err = copyRows("customer_accounts", []string{"id", "created_at", "updated_at", "number", "name", "kind", "time_zone",
		"status", "has_sla", "portal_enabled", "is_agency", "support_access_consent", "locale", "second_factor_required"},
		func(add func(...any) error) error {
			for i, a := range data.accounts {
				if err := add(string(a.id), created, created, a.number, fmt.Sprintf("Bench Customer %05d GmbH", i+1), "BUSINESS",
					"Europe/Berlin", "ACTIVE", false, true, false, false, "de", false); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = copyRows("rights_groups", []string{"id", "created_at", "updated_at", "name", "description", "permissions", "built_in", "customer_account_id"},
		func(add func(...any) error) error {
			for i, a := range data.accounts {
				name := groups.BuiltInName(a.number, fmt.Sprintf("Bench Customer %05d GmbH", i+1))
				if err := add(string(pulid.New("grp")), created, created, name,
					"Every user of the account (every contact holding PORTAL_ACCESS) is a member of this group.",
					"[]", true, string(a.id)); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = copyRows("organisation_domains", []string{"id", "created_at", "updated_at", "domain", "status", "confirmed_at", "customer_account_id"},
		func(add func(...any) error) error {
			for i, a := range data.accounts {
				if err := add(string(pulid.New("odm")), created, created, fmt.Sprintf("c%05d.bench.example", i+1), "CONFIRMED",
					created, string(a.id)); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = copyRows("user_accounts", []string{"id", "created_at", "updated_at", "email", "email_verified_at", "username", "name",
		"locale", "password_hash", "password_changed_at", "must_change_password", "status"},
		func(add func(...any) error) error {
			for i, a := range data.accounts {
				for k, c := range a.contacts {
					email := fmt.Sprintf("%s@c%05d.bench.example", c.username, i+1)
					if err := add(string(c.userID), created, created, email, created, c.username,
						fmt.Sprintf("Person %05d-%02d", i+1, k), "de", hash, created, false, "ACTIVE"); err != nil {
						return err
					}
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = copyRows("contacts", []string{"id", "created_at", "updated_at", "name", "email", "outside_organisation_domains",
		"customer_account_id", "user_id"},
		func(add func(...any) error) error {
			for i, a := range data.accounts {
				for k, c := range a.contacts {
					email := fmt.Sprintf("%s@c%05d.bench.example", c.username, i+1)
					if err := add(string(c.id), created, created, fmt.Sprintf("Person %05d-%02d", i+1, k), email, false,
						string(a.id), string(c.userID)); err != nil {
						return err
					}
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	// Five assignments per contact: portal access and technical contact
	// open-ended, customer admin active (contacts 0 and 1) or ended, a past
	// portal access, and a technical contact with a last day a year ahead.
	type ra struct {
		role  string
		from  time.Time
		until *string
		ended *time.Time
	}
	pastUntil := date(now.AddDate(-1, 0, 0))
	nextYear := date(now.AddDate(1, 0, 0))
	endedAt := now.Add(-30 * 24 * time.Hour)
	err = copyRows("role_assignments", []string{"id", "created_at", "updated_at", "role", "valid_from", "valid_until", "ended_at",
		"contact_id", "customer_account_id"},
		func(add func(...any) error) error {
			for _, a := range data.accounts {
				for k, c := range a.contacts {
					rs := [rolesPerContact]ra{
						{role: "PORTAL_ACCESS", from: created},
						{role: "TECHNICAL_CONTACT", from: created},
						{role: "CUSTOMER_ADMIN", from: created},
						{role: "PORTAL_ACCESS", from: created.AddDate(-2, 0, 0), until: &pastUntil},
						{role: "TECHNICAL_CONTACT", from: created, until: &nextYear},
					}
					if k >= adminContacts {
						rs[2].ended = &endedAt
					}
					for _, r := range rs {
						var until, ended any
						if r.until != nil {
							until = *r.until
						}
						if r.ended != nil {
							ended = *r.ended
						}
						if err := add(string(pulid.New("rol")), created, created, r.role, r.from, until, ended,
							string(c.id), string(a.id)); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// Planner statistics travel with the template into every copy.
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, fmt.Errorf("VACUUM ANALYZE: %w", err)
	}
	return data, nil
}
