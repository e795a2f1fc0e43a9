package authz

import (
	"context"
	"time"

	"portier/ent"
	"portier/ent/agencydelegation"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// What a person does on a client through an agency delegation lasts only
// as long as that delegation: a role assignment, group membership or
// support authorization made through one names it
// (granted_via_delegation_id) and is over once the delegation is over
// (revoked, ended or past its last day), whatever its own validity says.

// loadDelegations reads, as Portier itself, the delegations named by the
// given grants that are not loaded yet (one query).
func (e *Evaluator) loadDelegations(ctx context.Context, via []*pulid.ID) error {
	if e.delegations == nil {
		e.delegations = map[pulid.ID]*ent.AgencyDelegation{}
	}
	seen := map[pulid.ID]bool{}
	var ids []pulid.ID
	for _, id := range via {
		if id == nil || seen[*id] {
			continue
		}
		seen[*id] = true
		if _, ok := e.delegations[*id]; !ok {
			ids = append(ids, *id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// System read: the delegation belongs to the client and the agency,
	// and the viewer need not be allowed to read it to lose a grant by it.
	rows, err := e.client.AgencyDelegation.Query().
		Where(agencydelegation.IDIn(ids...)).
		All(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	for _, d := range rows {
		e.delegations[d.ID] = d
	}
	return nil
}

// LoadDelegations prepares GrantActive for grants loaded elsewhere (a list
// showing their state): it reads the delegations they name in one query.
func (e *Evaluator) LoadDelegations(ctx context.Context, via ...*pulid.ID) error {
	return e.loadDelegations(ctx, via)
}

// GrantActive reports whether a grant with validity v, made through the
// delegation via (nil: not through one), is active now on an account in
// loc. A grant through a delegation that is over, or unknown, is not.
// The delegations must have been loaded (LoadDelegations).
func (e *Evaluator) GrantActive(v Validity, via *pulid.ID, loc *time.Location) bool {
	if !v.ActiveAt(e.now, loc) {
		return false
	}
	return via == nil || !e.delegationOver(*via, loc)
}

// GrantOver reports whether such a grant has ended for good now (see
// Validity.OverAt): its own validity is over, or its delegation is.
func (e *Evaluator) GrantOver(v Validity, via *pulid.ID, loc *time.Location) bool {
	if v.OverAt(e.now, loc) {
		return true
	}
	return via != nil && !e.now.Before(v.From) && e.delegationOver(*via, loc)
}

func (e *Evaluator) delegationOver(id pulid.ID, loc *time.Location) bool {
	d, ok := e.delegations[id]
	if !ok {
		return true // deny by default
	}
	return (Validity{From: d.ValidFrom, UntilDate: d.ValidUntil, EndedAt: d.EndedAt}).OverAt(e.now, loc)
}

// DelegationFor returns the agency delegation through which the viewer
// acts on accountID, or nil. The viewer acts through one when its rights
// there are not all covered by grants made without a delegation: rights
// from a live delegation of an agency it works for, or from its own grants
// that were made through one (an agency's person who gave himself a
// contact on the client). Grants the viewer makes there name it.
func (e *Evaluator) DelegationFor(ctx context.Context, accountID string) *pulid.ID {
	if err := e.load(ctx); err != nil || e.blocked {
		return nil
	}
	set, untied := e.accounts[accountID], e.untied[accountID]
	covered := true
	for p := range set {
		if !untied.Has(p) {
			covered = false
			break
		}
	}
	if covered {
		return nil
	}
	if id, ok := e.viaDelegation[accountID]; ok {
		return &id
	}
	if id, ok := e.tiedVia[accountID]; ok {
		return &id
	}
	return nil
}

// DelegationVia is the one answer to "through which agency delegation
// does the principal in ctx act on account accountID?" (nil: none). Every
// code path that grants a role, a group membership or a support
// authorization, or sends an invitation, records it on what it creates.
func DelegationVia(ctx context.Context, accountID pulid.ID) *pulid.ID {
	a, ok := viewer.FromContext(ctx).Access.(interface {
		DelegationFor(context.Context, string) *pulid.ID
	})
	if !ok {
		return nil
	}
	return a.DelegationFor(ctx, string(accountID))
}

// OverDelegations reports, for grants read outside an evaluator (the
// support desk reads a caller's grants as staff), which of the delegations
// they name are over at now on an account in loc: a grant through one of
// them no longer counts. Unknown delegations count as over.
func OverDelegations(ctx context.Context, c *ent.Client, now time.Time, loc *time.Location, via ...*pulid.ID) (map[pulid.ID]bool, error) {
	e := &Evaluator{client: c, now: now}
	if err := e.loadDelegations(ctx, via); err != nil {
		return nil, err
	}
	over := map[pulid.ID]bool{}
	for _, id := range via {
		if id != nil && e.delegationOver(*id, loc) {
			over[*id] = true
		}
	}
	return over, nil
}
