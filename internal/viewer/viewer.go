// Package viewer carries the principal of a request in its context. It knows
// nothing about the database: what a viewer may do on which customer account
// is answered by its Access, which the authz package provides.
package viewer

import (
	"context"

	"portier/internal/domain"
)

// Kind is the kind of principal.
type Kind string

// Principal kinds.
const (
	Anonymous   Kind = "ANONYMOUS"
	User        Kind = "USER"
	APIKey      Kind = "API_KEY"
	ScopedLogin Kind = "SCOPED_LOGIN"
	// System is Portier itself (bootstrap, background workers). Never the
	// result of authenticating a request.
	System Kind = "SYSTEM"
)

// Scope is a set of customer accounts: every account, or the listed ones
// plus, with Consenting, every account that has given supportAccessConsent.
type Scope struct {
	All        bool
	IDs        []string
	Consenting bool
}

// Empty reports whether the scope holds no account.
func (s Scope) Empty() bool { return !s.All && !s.Consenting && len(s.IDs) == 0 }

// Contains reports whether the scope holds the account id, as far as can be
// told without the database (a Consenting scope only by its listed IDs).
func (s Scope) Contains(id string) bool {
	if s.All {
		return true
	}
	for _, x := range s.IDs {
		if x == id {
			return true
		}
	}
	return false
}

// Access answers, for one request, which accounts the viewer holds a
// permission on. Implementations compute once per request and cache.
type Access interface {
	Accounts(ctx context.Context, p domain.Permission) (Scope, error)
	Permissions(ctx context.Context, accountID string) ([]domain.Permission, error)
}

// Viewer is the authenticated principal of a request.
type Viewer struct {
	Kind      Kind
	UserID    string
	SessionID string
	StaffRole domain.StaffRole // "" for customers
	// EmailVerified is false for a user who has not verified the e-mail
	// address yet: such a user acts for no customer account.
	EmailVerified bool
	// MustChangePassword restricts the viewer to changing the password.
	MustChangePassword bool
	// SecondFactorEnabled tells whether the user (for an API key: the key's
	// user) has a second factor enabled. On accounts that require one, the
	// evaluator grants nothing without it.
	SecondFactorEnabled bool
	// IP and UserAgent of the request, for audit events.
	IP        string
	UserAgent string
	RequestID string
	Access    Access
	// Key is set for an API_KEY principal (its user is UserID): the key and
	// what it is narrowed to.
	Key *KeyGrant
	// ScopedLoginID is set for a SCOPED_LOGIN principal (UserID is empty):
	// the login; the evaluator resolves what it is bound to.
	ScopedLoginID string
}

// KeyGrant is the narrowing of an API key: its user's rights on exactly one
// customer account, intersected with the key's permissions.
type KeyGrant struct {
	ID          string
	AccountID   string
	Permissions []domain.Permission
}

// StaffAccess is implemented by the authorization evaluator: it decides
// whether the principal acts with a provider staff role. An Access that
// does not implement it grants no staff rights (fail closed).
type StaffAccess interface {
	// HasStaffRole reports whether the principal holds staff role r now
	// (ADMIN holds every role); r == "" asks for any staff role.
	HasStaffRole(r domain.StaffRole) bool
}

// IsStaff reports whether the viewer acts as a staff user (with any role).
// The decision is the evaluator's (see StaffAccess).
func (v *Viewer) IsStaff() bool { return v.HasStaffRole("") }

// HasStaffRole reports whether the viewer holds role r; ADMIN holds every
// role; "" means any role. The decision is the evaluator's.
func (v *Viewer) HasStaffRole(r domain.StaffRole) bool {
	if v == nil || v.Access == nil {
		return false
	}
	sa, ok := v.Access.(StaffAccess)
	return ok && sa.HasStaffRole(r)
}

type ctxKey struct{}

var anonymous = &Viewer{Kind: Anonymous}
var system = &Viewer{Kind: System}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx; anonymous when there is none.
func FromContext(ctx context.Context) *Viewer {
	if v, ok := ctx.Value(ctxKey{}).(*Viewer); ok && v != nil {
		return v
	}
	return anonymous
}

// SystemContext returns ctx acting as Portier itself. Use it only for work
// that no request principal does: bootstrap, migrations, background delivery,
// and the evaluator's own reads of grants.
func SystemContext(ctx context.Context) context.Context { return NewContext(ctx, system) }

// ScopedGrant is what a SCOPED_LOGIN principal is bound to: its login, the
// one resource it sees, and that resource's customer account.
type ScopedGrant struct {
	LoginID    string
	ResourceID string
	AccountID  string
}

// ScopedAccess is implemented by the authorization evaluator for scoped
// logins: ScopedTo returns the grant, and live false when the login may
// see nothing now (it is no longer ACTIVE, or its customer account is not).
// The ent privacy rules ask it; an Access without it lets a scoped login
// see nothing (fail closed).
type ScopedAccess interface {
	ScopedTo(ctx context.Context) (g ScopedGrant, live bool, err error)
}
