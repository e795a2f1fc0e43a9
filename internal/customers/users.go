package customers

import (
	"context"
	"slices"
	"sort"
	"time"

	"entgo.io/contrib/entgql"

	"portier/ent"
	"portier/ent/apikey"
	"portier/ent/contact"
	"portier/internal/authz"
	"portier/internal/caldate"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// AccountUser is one person with a login on an account, as its customer
// admin sees it: only what concerns this account.
type AccountUser struct {
	Contact    *ent.Contact
	User       *ent.UserAccount
	Roles      []domain.Role      // active now
	Groups     []*ent.RightsGroup // active memberships now, by name
	HasAPIKeys bool               // live keys of the user on this account
}

// AccountUserPage is a page of AccountUsers, in the order of Conn's edges.
type AccountUserPage struct {
	Conn  *ent.ContactConnection
	Users []AccountUser
}

// AccountUsers lists the contacts of acct that have a login, by name, for a
// viewer holding CONTACTS_READ on it (an empty page for anyone else, like
// the contacts edge). A page costs a constant number of statements whatever
// its size: the page (and, withTotal, its count), then the users, roles,
// group memberships with their groups, and API keys of the page, one query
// each. Without withTotal the count (a COUNT over every user of the
// account) is not made and Conn.TotalCount is the page's length.
func (s *Service) AccountUsers(ctx context.Context, acct *ent.CustomerAccount, after *ent.Cursor, first *int, before *ent.Cursor, last *int, withTotal bool) (*AccountUserPage, error) {
	empty := &AccountUserPage{Conn: &ent.ContactConnection{Edges: []*ent.ContactEdge{}}}
	v := viewer.FromContext(ctx)
	if v.Access == nil {
		return empty, nil
	}
	perms, err := v.Access.Permissions(ctx, string(acct.ID))
	if err != nil {
		return nil, err
	}
	if !slices.Contains(perms, domain.PermContactsRead) {
		return empty, nil
	}
	// The page is read through the Contact policy (the viewer's context)
	// but without the GraphQL field context: the selection below `users`
	// is of AccountUser, not of Contact, and must not narrow the columns.
	q := s.Client.Contact.Query().
		Where(contact.CustomerAccountID(acct.ID), contact.UserIDNotNil()).
		WithUser().
		WithRoleAssignments().
		WithGroupMemberships(func(q *ent.GroupMembershipQuery) { q.WithGroup() })
	qctx, done := detached(ctx, v)
	defer done()
	if !withTotal {
		qctx = ent.WithoutTotalCount(qctx)
	}
	conn, err := q.Paginate(qctx, after, first, before, last,
		ent.WithContactOrder([]*ent.ContactOrder{{Field: ent.ContactOrderFieldName, Direction: entgql.OrderDirectionAsc}}))
	if err != nil {
		return nil, err
	}
	now := s.Now()
	loc, err := caldate.Zone(acct.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	// Grants made through an agency delegation that is over do not count
	// (authz); their delegations are read in one query for the page.
	var via []*pulid.ID
	for _, e := range conn.Edges {
		for _, ra := range e.Node.Edges.RoleAssignments {
			via = append(via, ra.GrantedViaDelegationID)
		}
		for _, m := range e.Node.Edges.GroupMemberships {
			via = append(via, m.GrantedViaDelegationID)
		}
	}
	over, err := authz.OverDelegations(ctx, s.Client, now, loc, via...)
	if err != nil {
		return nil, err
	}
	counts := func(via *pulid.ID) bool { return via == nil || !over[*via] }
	page := &AccountUserPage{Conn: conn, Users: make([]AccountUser, 0, len(conn.Edges))}
	var users []pulid.ID
	for _, e := range conn.Edges {
		c := e.Node
		u := AccountUser{Contact: c, User: c.Edges.User, Roles: []domain.Role{}, Groups: []*ent.RightsGroup{}}
		for _, ra := range c.Edges.RoleAssignments {
			if validityOf(ra).ActiveAt(now, loc) && counts(ra.GrantedViaDelegationID) && !slices.Contains(u.Roles, ra.Role) {
				u.Roles = append(u.Roles, ra.Role)
			}
		}
		sort.Slice(u.Roles, func(i, j int) bool {
			return slices.Index(domain.Roles, u.Roles[i]) < slices.Index(domain.Roles, u.Roles[j])
		})
		for _, m := range c.Edges.GroupMemberships {
			g := m.Edges.Group
			if g == nil || g.CustomerAccountID != acct.ID || slices.Contains(u.Groups, g) {
				continue
			}
			if (authz.Validity{From: m.ValidFrom, UntilDate: m.ValidUntil, EndedAt: m.EndedAt}).ActiveAt(now, loc) && counts(m.GrantedViaDelegationID) {
				u.Groups = append(u.Groups, g)
			}
		}
		sort.Slice(u.Groups, func(i, j int) bool { return u.Groups[i].Name < u.Groups[j].Name })
		if u.User != nil {
			users = append(users, u.User.ID)
		}
		page.Users = append(page.Users, u)
	}
	if len(users) == 0 {
		return page, nil
	}
	// Read as Portier: whether a person holds keys on this account is part
	// of the user list (CONTACTS_READ, checked above), while the APIKey
	// policy shows keys only to holders of APIKEYS_MANAGE. Only the owners
	// of live keys of this account are read, nothing of the keys.
	owners, err := s.Client.APIKey.Query().
		Where(apikey.UserIDIn(users...), apikey.CustomerAccountID(acct.ID), apikey.RevokedAtIsNil(),
			apikey.Or(apikey.ExpiresAtIsNil(), apikey.ExpiresAtGT(now))).
		Unique(true).Select(apikey.FieldUserID).Strings(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	for i := range page.Users {
		if u := page.Users[i].User; u != nil {
			page.Users[i].HasAPIKeys = slices.Contains(owners, string(u.ID))
		}
	}
	return page, nil
}

// detached is ctx's viewer and cancellation without its other values (the
// GraphQL field context above all, which ent's pagination would read as
// the selection of the rows it loads).
func detached(ctx context.Context, v *viewer.Viewer) (context.Context, func()) {
	d, cancel := context.WithCancel(viewer.NewContext(context.Background(), v))
	stop := context.AfterFunc(ctx, cancel)
	return d, func() { stop(); cancel() }
}
