// Package groups holds the operations on rights groups (docs/authorization.md, 'Roles and permissions'): a
// named set of permissions inside one customer account whose members are
// contacts, each for a time.
//
// Authorization: the GraphQL directive has already checked GROUPS_MANAGE on
// the account that owns the group (or the account given), and the ent
// policies enforce it again on every write. The group and the contact named
// in an input are read as Portier itself (the directive vouched for the
// group's account; a holder of GROUPS_MANAGE need not hold CONTACTS_READ),
// and a contact of another account is NOT_FOUND, exactly like an ID that
// does not exist. On top of that, nobody grants what he does not hold: a
// group's permissions may never exceed the actor's own effective
// permissions on the account when they are set or when a member is added
// (or a membership extended). Taking away — removing permissions, members
// or groups, shortening a membership — is always allowed. An API key never
// changes its own user's rights: not its user's memberships, nor the
// permissions of a group its user belongs to.
//
// Every operation runs in the mutation's one transaction and is audited in
// it.
package groups

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"portier/ent"
	"portier/ent/contact"
	"portier/ent/customeraccount"
	"portier/ent/groupmembership"
	"portier/ent/rightsgroup"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Service runs the operations. Tx returns the mutation's transaction.
type Service struct {
	Tx  func() (*ent.Client, error)
	Now func() time.Time
}

const maxName = 100

// BuiltInName is the name of an account's built-in group :
// "X" + customer number + "-" + customer name, cut to the name limit.
func BuiltInName(number, name string) string {
	s := "X" + number + "-" + strings.TrimSpace(name)
	if utf8.RuneCountInString(s) <= maxName {
		return s
	}
	r := []rune(s)
	return string(r[:maxName])
}

// CreateBuiltIn creates the built-in group of a new account, with no
// permissions: the customer admin decides what every user of the account
// gets. c is the client of the transaction that creates the account.
func CreateBuiltIn(ctx context.Context, c *ent.Client, acct *ent.CustomerAccount) (*ent.RightsGroup, error) {
	g, err := c.RightsGroup.Create().
		SetCustomerAccountID(acct.ID).
		SetName(BuiltInName(acct.Number, acct.Name)).
		SetDescription("Every user of the account (every contact holding PORTAL_ACCESS) is a member of this group.").
		SetBuiltIn(true).
		SetPermissions([]string{}).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	return g, audit.Record(ctx, c, audit.Entry{
		Action: "rights_group.create", AccountID: acct.ID, TargetType: "RightsGroup", TargetID: string(g.ID),
		Changes: map[string]any{"name": g.Name, "builtIn": true, "permissions": []string{}},
	})
}

// NewGroup is the input of Create.
type NewGroup struct {
	AccountID   pulid.ID
	Name        string
	Description *string
	Permissions []domain.Permission
}

// Create creates a group in an account.
func (s *Service) Create(ctx context.Context, in NewGroup) (*ent.RightsGroup, error) {
	name, err := checkName(in.Name)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, err
	}
	c, err := s.Tx()
	if err != nil {
		return nil, err
	}
	acct, err := c.CustomerAccount.Query().Where(customeraccount.ID(in.AccountID)).Only(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	if acct.Status == customeraccount.StatusDELETED {
		return nil, apperr.BadInput("input.customerAccountID", "the customer account is deleted")
	}
	perms := Normalize(in.Permissions)
	if err := checkGrant(ctx, acct.ID, perms, "input.permissions"); err != nil {
		return nil, err
	}
	q := c.RightsGroup.Create().SetCustomerAccountID(acct.ID).SetName(name).SetPermissions(wire(perms))
	if desc != nil {
		q.SetDescription(*desc)
	}
	g, err := q.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.name", "the account already has a group named %q", name)
	}
	if err != nil {
		return nil, err
	}
	return g, audit.Record(ctx, c, audit.Entry{
		Action: "rights_group.create", AccountID: acct.ID, TargetType: "RightsGroup", TargetID: string(g.ID),
		Changes: map[string]any{"name": g.Name, "description": g.Description, "permissions": g.Permissions},
	})
}

// Update renames a group or changes its description. The built-in group
// keeps its name.
func (s *Service) Update(ctx context.Context, groupID pulid.ID, name, description *string) (*ent.RightsGroup, error) {
	var newName string
	if name != nil {
		n, err := checkName(*name)
		if err != nil {
			return nil, err
		}
		newName = n
	}
	desc, err := checkDescription(description)
	if err != nil {
		return nil, err
	}
	c, g, err := s.open(ctx, groupID)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{}
	upd := c.RightsGroup.UpdateOne(g)
	if name != nil && newName != g.Name {
		if g.BuiltIn {
			return nil, builtInError("input.name", "the built-in group cannot be renamed")
		}
		upd.SetName(newName)
		changes["name"] = newName
	}
	if desc != nil && *desc != g.Description {
		upd.SetDescription(*desc)
		changes["description"] = *desc
	}
	if len(changes) == 0 {
		return g, nil
	}
	g, err = upd.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.Conflict("input.name", "the account already has a group named %q", newName)
	}
	if err != nil {
		return nil, err
	}
	return g, audit.Record(ctx, c, audit.Entry{
		Action: "rights_group.update", AccountID: g.CustomerAccountID, TargetType: "RightsGroup", TargetID: string(g.ID), Changes: changes,
	})
}

// Delete deletes a group and its memberships (the audit log keeps the
// history). The built-in group cannot be deleted.
func (s *Service) Delete(ctx context.Context, groupID pulid.ID) (pulid.ID, error) {
	c, g, err := s.open(ctx, groupID)
	if err != nil {
		return "", err
	}
	if g.BuiltIn {
		return "", builtInError("input.groupID", "the built-in group cannot be deleted")
	}
	// Deleting ends the members' memberships: a key never ends its own
	// user's.
	if err := s.keyNotMember(ctx, c, g); err != nil {
		return "", err
	}
	n, err := c.GroupMembership.Delete().Where(groupmembership.GroupID(g.ID)).Exec(ctx)
	if err != nil {
		return "", err
	}
	if err := c.RightsGroup.DeleteOne(g).Exec(ctx); err != nil {
		return "", err
	}
	return g.ID, audit.Record(ctx, c, audit.Entry{
		Action: "rights_group.delete", AccountID: g.CustomerAccountID, TargetType: "RightsGroup", TargetID: string(g.ID),
		Changes: map[string]any{"name": g.Name, "permissions": g.Permissions, "membershipsDeleted": n},
	})
}

// SetPermissions replaces a group's permissions. The new set may not
// exceed the actor's own permissions on the account.
func (s *Service) SetPermissions(ctx context.Context, groupID pulid.ID, perms []domain.Permission) (*ent.RightsGroup, error) {
	c, g, err := s.open(ctx, groupID)
	if err != nil {
		return nil, err
	}
	perms = Normalize(perms)
	if err := checkGrant(ctx, g.CustomerAccountID, perms, "input.permissions"); err != nil {
		return nil, err
	}
	if err := s.keyNotMember(ctx, c, g); err != nil {
		return nil, err
	}
	before := g.Permissions
	g, err = c.RightsGroup.UpdateOne(g).SetPermissions(wire(perms)).Save(ctx)
	if err != nil {
		return nil, err
	}
	return g, audit.Record(ctx, c, audit.Entry{
		Action: "rights_group.set_permissions", AccountID: g.CustomerAccountID, TargetType: "RightsGroup", TargetID: string(g.ID),
		Changes: map[string]any{"permissions": g.Permissions, "previousPermissions": before},
	})
}

// NewMember is the input of AddMember. ValidFrom is a first day (from its
// start in the account's time zone; null or today means now); ValidUntil
// the inclusive last day.
type NewMember struct {
	GroupID, ContactID    pulid.ID
	ValidFrom, ValidUntil *caldate.Date
}

// AddMember makes a contact of the group's account a member.
func (s *Service) AddMember(ctx context.Context, in NewMember) (*ent.GroupMembership, error) {
	c, g, err := s.open(ctx, in.GroupID)
	if err != nil {
		return nil, err
	}
	ct, loc, err := s.contact(ctx, c, g, in.ContactID)
	if err != nil {
		return nil, err
	}
	if g.BuiltIn {
		return nil, builtInError("input.groupID",
			"every contact holding PORTAL_ACCESS is a member of the built-in group; it has no explicit members")
	}
	if err := keyNotOwn(ctx, ct.ID); err != nil {
		return nil, err
	}
	now := s.Now()
	today := caldate.Of(now, loc)
	from := now
	if in.ValidFrom != nil {
		switch {
		case *in.ValidFrom < today:
			return nil, apperr.BadInput("input.validFrom", "the first day must be today or later (in the account's time zone %s)", loc)
		case *in.ValidFrom > today:
			if from, err = in.ValidFrom.StartIn(loc); err != nil {
				return nil, apperr.BadInput("input.validFrom", "%q is not a date", *in.ValidFrom)
			}
		}
	}
	if in.ValidUntil != nil {
		if *in.ValidUntil < today {
			return nil, apperr.BadInput("input.validUntil", "the last day must be today or later (in the account's time zone %s)", loc)
		}
		if in.ValidFrom != nil && *in.ValidUntil < *in.ValidFrom {
			return nil, apperr.BadInput("input.validUntil", "the last day must not be before the first day")
		}
	}
	if err := checkGrant(ctx, g.CustomerAccountID, Normalize(permsOf(g)), "input.groupID"); err != nil {
		return nil, err
	}
	current, err := s.current(ctx, c, g, ct, now, loc)
	if err != nil {
		return nil, err
	}
	// A membership made through an agency delegation ends with it; it
	// does not stop the account's own people (or another delegation) from
	// adding the contact for good.
	via := authz.DelegationVia(ctx, g.CustomerAccountID)
	current = slices.DeleteFunc(current, func(m *ent.GroupMembership) bool {
		return m.GrantedViaDelegationID != nil && (via == nil || *m.GrantedViaDelegationID != *via)
	})
	if len(current) > 0 {
		return nil, apperr.Conflict("input.contactID",
			"the contact is already a member of this group; change the end of the membership with removeRightsGroupMember(lastDay:)")
	}
	m, err := c.GroupMembership.Create().
		SetCustomerAccountID(g.CustomerAccountID).
		SetGroupID(g.ID).
		SetContactID(ct.ID).
		SetValidFrom(from).
		SetNillableValidUntil(in.ValidUntil).
		SetNillableGrantedViaDelegationID(via).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{"group": string(g.ID), "groupName": g.Name, "validFrom": from.Format(time.RFC3339)}
	if in.ValidUntil != nil {
		changes["validUntil"] = string(*in.ValidUntil)
	}
	return m, audit.Record(ctx, c, audit.Entry{
		Action: "rights_group.add_member", AccountID: g.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	})
}

// RemoveMember ends a contact's membership: immediately when lastDay is
// nil, else after lastDay (inclusive, in the account's time zone). A later
// lastDay than the current end extends the membership — a grant, so it
// needs the group's permissions — and an earlier one shortens it; a
// lastDay in the past is refused.
func (s *Service) RemoveMember(ctx context.Context, groupID, contactID pulid.ID, lastDay *caldate.Date) (*ent.RightsGroup, error) {
	c, g, err := s.open(ctx, groupID)
	if err != nil {
		return nil, err
	}
	ct, loc, err := s.contact(ctx, c, g, contactID)
	if err != nil {
		return nil, err
	}
	if err := keyNotOwn(ctx, ct.ID); err != nil {
		return nil, err
	}
	now := s.Now()
	if lastDay != nil && *lastDay < caldate.Of(now, loc) {
		return nil, apperr.BadInput("input.lastDay",
			"the last day must be today or later (in the account's time zone %s); to end a membership now, leave it empty", loc)
	}
	current, err := s.current(ctx, c, g, ct, now, loc)
	if err != nil {
		return nil, err
	}
	if len(current) == 0 {
		return nil, apperr.BadInput("input.contactID", "the contact is not a member of this group")
	}
	extended := false
	for _, m := range current {
		if lastDay == nil {
			continue
		}
		if first := caldate.Of(m.ValidFrom, loc); *lastDay < first {
			return nil, apperr.BadInput("input.lastDay", "the last day is before the membership starts (%s)", first)
		}
		extended = extended || Extends(m.ValidUntil, *lastDay)
	}
	if extended {
		if err := checkGrant(ctx, g.CustomerAccountID, Normalize(permsOf(g)), "input.groupID"); err != nil {
			return nil, err
		}
	}
	for _, m := range current {
		upd := c.GroupMembership.UpdateOne(m)
		if lastDay == nil {
			upd.SetEndedAt(now)
		} else {
			upd.SetValidUntil(*lastDay)
		}
		if err := upd.Exec(ctx); err != nil {
			return nil, err
		}
	}
	action := "rights_group.remove_member"
	changes := map[string]any{"group": string(g.ID), "groupName": g.Name}
	switch {
	case lastDay == nil:
		changes["endedAt"] = now.Format(time.RFC3339)
	case extended:
		action = "rights_group.extend_member"
		changes["lastDay"] = string(*lastDay)
	default:
		changes["lastDay"] = string(*lastDay)
	}
	if err := audit.Record(ctx, c, audit.Entry{
		Action: action, AccountID: g.CustomerAccountID, TargetType: "Contact", TargetID: string(ct.ID), Changes: changes,
	}); err != nil {
		return nil, err
	}
	return g, nil
}

// Extends reports whether setting the last day to d lengthens a grant that
// currently ends after until (nil: open-ended, which nothing lengthens).
func Extends(until *caldate.Date, d caldate.Date) bool { return until != nil && d > *until }

// open starts the transaction and reads the group as Portier: the
// directive has checked GROUPS_MANAGE on its account.
func (s *Service) open(ctx context.Context, groupID pulid.ID) (*ent.Client, *ent.RightsGroup, error) {
	c, err := s.Tx()
	if err != nil {
		return nil, nil, err
	}
	g, err := c.RightsGroup.Query().Where(rightsgroup.ID(groupID)).WithCustomerAccount().Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, nil, notFound("input.groupID")
	}
	if err != nil {
		return nil, nil, err
	}
	return c, g, nil
}

// contact reads a contact of the group's account, and returns it with the
// account's time zone. A contact of another account is not found, like one
// that does not exist: one query either way, so that neither the answer nor
// its timing tells them apart.
func (s *Service) contact(ctx context.Context, c *ent.Client, g *ent.RightsGroup, id pulid.ID) (*ent.Contact, *time.Location, error) {
	ct, err := c.Contact.Query().Where(contact.ID(id)).Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) || (err == nil && ct.CustomerAccountID != g.CustomerAccountID) {
		return nil, nil, notFound("input.contactID")
	}
	if err != nil {
		return nil, nil, err
	}
	if ct.DeletedAt != nil {
		return nil, nil, apperr.ContactDeleted("input.contactID")
	}
	loc := time.UTC
	if a := g.Edges.CustomerAccount; a != nil {
		if l, err := caldate.Zone(a.TimeZone); err == nil {
			loc = l
		}
	}
	return ct, loc, nil
}

// current returns the contact's memberships of g that are active now or
// start later, and were not ended.
func (s *Service) current(ctx context.Context, c *ent.Client, g *ent.RightsGroup, ct *ent.Contact, now time.Time, loc *time.Location) ([]*ent.GroupMembership, error) {
	all, err := c.GroupMembership.Query().Where(
		groupmembership.GroupID(g.ID), groupmembership.ContactID(ct.ID), groupmembership.EndedAtIsNil(),
	).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	var out []*ent.GroupMembership
	for _, m := range all {
		v := authz.Validity{From: m.ValidFrom, UntilDate: m.ValidUntil, EndedAt: m.EndedAt}
		if !v.OverAt(now, loc) {
			out = append(out, m)
		}
	}
	return out, nil
}

// ownContacts is what the evaluator knows of the viewer's own contacts.
type ownContacts interface {
	IsOwnContact(ctx context.Context, contactID string) (bool, error)
	Memberships(ctx context.Context) (map[string]*ent.Contact, map[string]authz.PermSet, error)
}

func errKey() error {
	return apperr.ForbiddenReason("API_KEY_NOT_ALLOWED",
		"an API key cannot change its own user's rights; log in as the user")
}

// keyNotOwn refuses an API key a change of its own user's memberships: a
// key never changes its user's rights.
func keyNotOwn(ctx context.Context, contactID pulid.ID) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.APIKey {
		return nil
	}
	oc, ok := v.Access.(ownContacts)
	if !ok {
		return errKey()
	}
	own, err := oc.IsOwnContact(ctx, string(contactID))
	if err != nil {
		return err
	}
	if own {
		return errKey()
	}
	return nil
}

// keyNotMember refuses an API key a change of the permissions of a group
// its own user belongs to (the built-in group always).
func (s *Service) keyNotMember(ctx context.Context, c *ent.Client, g *ent.RightsGroup) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.APIKey {
		return nil
	}
	if g.BuiltIn {
		return errKey()
	}
	oc, ok := v.Access.(ownContacts)
	if !ok {
		return errKey()
	}
	contacts, _, err := oc.Memberships(ctx)
	if err != nil {
		return err
	}
	var ids []pulid.ID
	for _, ct := range contacts {
		ids = append(ids, ct.ID)
	}
	if len(ids) == 0 {
		return nil
	}
	member, err := c.GroupMembership.Query().
		Where(groupmembership.GroupID(g.ID), groupmembership.ContactIDIn(ids...), groupmembership.EndedAtIsNil()).
		Exist(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	if member {
		return errKey()
	}
	return nil
}

// checkGrant refuses to grant permissions the actor does not hold itself on
// the account (staff ADMIN holds every permission).
func checkGrant(ctx context.Context, accountID pulid.ID, perms []domain.Permission, field string) error {
	v := viewer.FromContext(ctx)
	if v.Access == nil {
		return apperr.Forbidden("no principal")
	}
	own, err := v.Access.Permissions(ctx, string(accountID))
	if err != nil {
		return err
	}
	if missing := Exceeding(perms, own); len(missing) > 0 {
		names := make([]string, len(missing))
		for i, p := range missing {
			names[i] = p.EnumName()
		}
		e := apperr.ForbiddenReason("GRANT_EXCEEDS_OWN_PERMISSIONS",
			"you cannot grant permissions you do not hold yourself on this customer account: "+strings.Join(names, ", "))
		e.Field = field
		return e
	}
	return nil
}

// Exceeding returns the permissions of want that are not in own.
func Exceeding(want, own []domain.Permission) []domain.Permission {
	set := authz.PermSet{}
	set.Add(own...)
	var out []domain.Permission
	for _, p := range want {
		if !set.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// Normalize returns the valid permissions of ps without duplicates, in
// catalogue order.
func Normalize(ps []domain.Permission) []domain.Permission {
	set := authz.PermSet{}
	for _, p := range ps {
		if p.Valid() {
			set.Add(p)
		}
	}
	return set.List()
}

// Permissions returns a group's stored permissions that are in the
// catalogue, in catalogue order.
func Permissions(g *ent.RightsGroup) []domain.Permission { return Normalize(permsOf(g)) }

func permsOf(g *ent.RightsGroup) []domain.Permission {
	out := make([]domain.Permission, len(g.Permissions))
	for i, p := range g.Permissions {
		out[i] = domain.Permission(p)
	}
	return out
}

func wire(ps []domain.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func checkName(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" || utf8.RuneCountInString(name) > maxName {
		return "", apperr.BadInput("input.name", "a group name of 1 to %d characters is required", maxName)
	}
	return name, nil
}

func checkDescription(s *string) (*string, error) {
	if s == nil {
		return nil, nil
	}
	d := strings.TrimSpace(*s)
	if utf8.RuneCountInString(d) > 1000 {
		return nil, apperr.BadInput("input.description", "a description has at most 1000 characters")
	}
	return &d, nil
}

func builtInError(field, msg string) error {
	return &apperr.Error{Code: apperr.CodeBadUserInput, Field: field, Reason: "BUILT_IN_GROUP", Message: msg}
}

func notFound(field string) error {
	e := apperr.NotFound()
	e.Field = field
	return e
}
