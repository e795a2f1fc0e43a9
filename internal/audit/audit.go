// Package audit writes the append-only audit log. Callers pass the client of
// the request's transaction, so the event commits or rolls back with the
// change it describes.
package audit

import (
	"context"
	"strings"

	"entgo.io/ent/privacy"

	"portier/ent"
	"portier/internal/pulid"
	"portier/internal/viewer"
)

// Entry describes one change.
type Entry struct {
	Action string // e.g. "contact.create"
	// ActorID overrides the viewer's user as the actor (login, where the
	// viewer is still anonymous).
	ActorID    string
	AccountID  pulid.ID
	TargetType string
	TargetID   string
	// Changes are field names and new values. Keys that look like secrets
	// are dropped, whatever the caller passed.
	Changes map[string]any
}

var secretWords = []string{"password", "token", "secret", "pin", "code", "key", "hash"}

// IsSecretKey reports whether a change key names a secret.
func IsSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Record writes e with the actor and request details of ctx's viewer.
func Record(ctx context.Context, c *ent.Client, e Entry) error {
	return RecordAll(ctx, c, []Entry{e})
}

// RecordAll writes the entries in one statement, each with the actor and
// request details of ctx's viewer.
func RecordAll(ctx context.Context, c *ent.Client, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	v := viewer.FromContext(ctx)
	via := ""
	if v.StaffRole != "" {
		via = "staff:" + string(v.StaffRole)
	}
	if v.Key != nil {
		via = "apikey:" + v.Key.ID // the actor is the key's user
	}
	creates := make([]*ent.AuditEventCreate, len(entries))
	for i, e := range entries {
		changes := make(map[string]any, len(e.Changes))
		for k, val := range e.Changes {
			if !IsSecretKey(k) {
				changes[k] = val
			}
		}
		actor := v.UserID
		if e.ActorID != "" {
			actor = e.ActorID
		}
		entryVia := via
		// An agency's person acting on a client: "agency <id> for client <account>".
		if a, ok := v.Access.(interface {
			AgencyFor(context.Context, string) string
		}); ok && e.AccountID != "" {
			if agency := a.AgencyFor(ctx, string(e.AccountID)); agency != "" {
				if entryVia != "" {
					entryVia += ";"
				}
				entryVia += "agency:" + agency
			}
		}
		q := c.AuditEvent.Create().
			SetActorKind(string(v.Kind)).
			SetActorID(actor).
			SetActingVia(entryVia).
			SetAction(e.Action).
			SetTargetType(e.TargetType).
			SetTargetID(e.TargetID).
			SetChanges(changes).
			SetIP(v.IP).
			SetUserAgent(v.UserAgent).
			SetRequestID(v.RequestID)
		if e.AccountID != "" {
			q.SetCustomerAccountID(e.AccountID)
		}
		creates[i] = q
	}
	// Only this package writes audit events; the AuditEvent policy denies
	// every other writer.
	allow := privacy.DecisionContext(ctx, privacy.Allow)
	if len(creates) == 1 {
		return creates[0].Exec(allow)
	}
	return c.AuditEvent.CreateBulk(creates...).Exec(allow)
}
