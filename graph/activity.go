package graph

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"portier/ent"
	"portier/ent/auditevent"
	"portier/ent/predicate"
	"portier/ent/useraccount"
	"portier/graph/model"
	"portier/internal/apperr"
	"portier/internal/audit"
	"portier/internal/domain"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// The activity log: auditEvents on a customer account and on a contact.

// activityLog lists the events of account matching where, newest first, for
// a viewer holding AUDIT_READ on it (staff included); anyone else gets
// NOT_FOUND. The AuditEvent policy filters the rows again. The actors' names
// of the page are loaded in one query, so a page costs a constant number of
// statements whatever its size.
func (r *Resolver) activityLog(ctx context.Context, account pulid.ID, after *entgql.Cursor[pulid.ID], first *int,
	before *entgql.Cursor[pulid.ID], last *int, filter *model.ActivityFilter, where ...predicate.AuditEvent) (*ent.AuditEventConnection, error) {
	v := viewer.FromContext(ctx)
	if v.Access == nil {
		return nil, apperr.NotFound()
	}
	perms, err := v.Access.Permissions(ctx, string(account))
	if err != nil {
		return nil, err
	}
	allowed := false
	for _, p := range perms {
		allowed = allowed || p == domain.PermAuditRead
	}
	if !allowed {
		return nil, apperr.NotFound()
	}
	where = append(where, auditevent.CustomerAccountID(account))
	if filter != nil {
		if filter.ActorID != nil {
			where = append(where, auditevent.ActorID(string(*filter.ActorID)))
		}
		if filter.Action != nil && *filter.Action != "" {
			where = append(where, auditevent.ActionHasPrefix(*filter.Action))
		}
		if filter.From != nil {
			where = append(where, auditevent.OccurredAtGTE(*filter.From))
		}
		if filter.Until != nil {
			where = append(where, auditevent.OccurredAtLT(*filter.Until))
		}
	}
	conn, err := r.Client.AuditEvent.Query().Where(where...).Paginate(ctx, after, first, before, last,
		ent.WithAuditEventOrder([]*ent.AuditEventOrder{{Field: ent.AuditEventOrderFieldOccurredAt, Direction: entgql.OrderDirectionDesc}}))
	if err != nil {
		return nil, err
	}
	if graphql.GetFieldContext(ctx) != nil {
		if err := r.loadActorNames(ctx, conn); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// actorNamesKey holds, for one operation, the names of the users that acted
// in the listed audit events.
type actorNamesKey struct{}

type actorNames struct {
	mu sync.Mutex
	m  map[string]string
}

// actorNameCache is the handler extension that gives each operation its
// actor-name map.
type actorNameCache struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = actorNameCache{}

func (actorNameCache) ExtensionName() string                   { return "ActorNameCache" }
func (actorNameCache) Validate(graphql.ExecutableSchema) error { return nil }

func (actorNameCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, actorNamesKey{}, &actorNames{m: map[string]string{}}))
}

// loadActorNames reads the names of the page's actors in one query, as
// Portier: a reader of the log learns who acted (a name, never an e-mail
// address), also when the actor is staff or of an agency.
func (r *Resolver) loadActorNames(ctx context.Context, conn *ent.AuditEventConnection) error {
	cache, ok := ctx.Value(actorNamesKey{}).(*actorNames)
	if !ok {
		return nil
	}
	var ids []pulid.ID
	seen := map[string]bool{}
	cache.mu.Lock()
	for _, e := range conn.Edges {
		if id := e.Node.ActorID; id != "" && !seen[id] {
			if _, known := cache.m[id]; !known {
				ids = append(ids, pulid.ID(id))
			}
			seen[id] = true
		}
	}
	cache.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	users, err := r.Client.UserAccount.Query().Where(useraccount.IDIn(ids...)).
		Select(useraccount.FieldID, useraccount.FieldName).All(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	cache.mu.Lock()
	defer cache.mu.Unlock()
	for _, id := range ids {
		cache.m[string(id)] = "" // known: no such user any more
	}
	for _, u := range users {
		cache.m[string(u.ID)] = u.Name
	}
	return nil
}

// auditActor describes who made the change of e and on whose behalf, from
// its actor and acting_via ("staff:ROLE", "apikey:ID", "agency:ID", joined
// by ";").
func auditActor(ctx context.Context, e *ent.AuditEvent) *model.AuditActor {
	a := &model.AuditActor{Kind: e.ActorKind}
	if e.ActorID != "" {
		id := pulid.ID(e.ActorID)
		a.UserID = &id
		if cache, ok := ctx.Value(actorNamesKey{}).(*actorNames); ok {
			cache.mu.Lock()
			name, known := cache.m[e.ActorID]
			cache.mu.Unlock()
			if known && name != "" {
				a.Name = &name
			}
		}
	}
	for _, part := range strings.Split(e.ActingVia, ";") {
		kind, val, ok := strings.Cut(part, ":")
		if !ok || val == "" {
			continue
		}
		switch kind {
		case "staff":
			role := domain.StaffRole(val)
			a.StaffRole = &role
		case "apikey":
			id := pulid.ID(val)
			a.APIKeyID = &id
		case "agency":
			id := pulid.ID(val)
			a.AgencyAccountID = &id
		}
	}
	return a
}

// auditChanges lists the changed fields of e by name. Secrets never reach
// the log (the audit package drops them when writing); values are shown as
// JSON text.
func auditChanges(e *ent.AuditEvent) ([]*model.AuditChange, error) {
	out := make([]*model.AuditChange, 0, len(e.Changes))
	for k, v := range e.Changes {
		if audit.IsSecretKey(k) {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out = append(out, &model.AuditChange{Field: k, Value: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out, nil
}
