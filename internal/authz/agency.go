package authz

import (
	"context"
	"time"

	"portier/ent/agencydelegation"
	"portier/ent/customeraccount"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
)

// Intersect is the pure agency rule: what an agency's person may do on a
// client is what that person holds on the agency, and only as far as the
// client delegated it. Unknown permission strings are ignored.
func Intersect(own PermSet, delegated []string) PermSet {
	set := PermSet{}
	for _, p := range delegated {
		if perm := domain.Permission(p); perm.Valid() && own.Has(perm) {
			set.Add(perm)
		}
	}
	return set
}

// loadAgencies adds the clients of the agencies the viewer acts for (one
// query, only when the viewer holds rights on an account marked as agency):
// for each delegation active now in the client's time zone, on an active
// client, own(agency) ∩ delegated. Delegations are not transitive: only
// rights from the viewer's own contacts on the agency count.
func (e *Evaluator) loadAgencies(ctx context.Context) error {
	own := map[pulid.ID]PermSet{}
	for id, c := range e.contacts {
		if a := c.Edges.CustomerAccount; a != nil && a.IsAgency && len(e.accounts[id]) > 0 {
			own[a.ID] = e.accounts[id]
		}
	}
	if len(own) == 0 {
		return nil
	}
	ids := make([]pulid.ID, 0, len(own))
	for id := range own {
		ids = append(ids, id)
	}
	rows, err := e.client.AgencyDelegation.Query().
		Where(agencydelegation.AgencyIDIn(ids...), agencydelegation.EndedAtIsNil(), agencydelegation.ValidFromLTE(e.now)).
		WithCustomerAccount().
		All(ctx)
	if err != nil {
		return err
	}
	e.viaAgency = map[string]string{}
	e.viaDelegation = map[string]pulid.ID{}
	for _, d := range rows {
		client := d.Edges.CustomerAccount
		if client == nil || client.Status != customeraccount.StatusACTIVE || !client.PortalEnabled {
			continue
		}
		loc, err := caldate.Zone(client.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		if !(Validity{From: d.ValidFrom, UntilDate: d.ValidUntil, EndedAt: d.EndedAt}).ActiveAt(e.now, loc) {
			continue
		}
		set := Intersect(own[d.AgencyID], d.Permissions)
		if len(set) == 0 {
			continue
		}
		if e.withholds(client) {
			// The client requires a second factor of everyone acting
			// for it, an agency's people included.
			e.noteWithheld(string(client.ID))
			continue
		}
		key := string(client.ID)
		if _, seen := e.viaDelegation[key]; !seen {
			e.viaDelegation[key] = d.ID
		}
		if prev, ok := e.accounts[key]; ok && len(prev) > 0 {
			set.Add(prev.List()...)
		}
		if _, direct := e.contacts[key]; !direct || len(e.accounts[key]) == 0 {
			if _, seen := e.viaAgency[key]; !seen {
				e.viaAgency[key] = string(d.AgencyID)
			}
		}
		e.accounts[key] = set
	}
	return nil
}

// AgencyFor returns the agency account through which the viewer acts on
// accountID, or "" when it acts there through its own contact (or not at
// all). The audit log records it as "agency:<id>".
func (e *Evaluator) AgencyFor(ctx context.Context, accountID string) string {
	if err := e.load(ctx); err != nil {
		return ""
	}
	return e.viaAgency[accountID]
}
