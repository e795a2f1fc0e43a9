package authz

import (
	"slices"
	"testing"

	"portier/internal/domain"
)

func TestIntersect(t *testing.T) {
	set := func(ps ...domain.Permission) PermSet { s := PermSet{}; s.Add(ps...); return s }
	admin := set(domain.RolePermissions[domain.RoleCustomerAdmin]...)
	tech := set(domain.RolePermissions[domain.RoleTechnicalContact]...)
	cases := []struct {
		name      string
		own       PermSet
		delegated []string
		want      []domain.Permission
	}{
		{"admin gets the delegated set", admin, []string{"contacts:read", "account:read"}, []domain.Permission{domain.PermAccountRead, domain.PermContactsRead}},
		{"tech gets only what it holds", tech, []string{"account:read", "contacts:manage", "tickets:create"}, []domain.Permission{domain.PermAccountRead, domain.PermTicketsCreate}},
		{"nothing delegated", admin, nil, []domain.Permission{}},
		{"nothing held", PermSet{}, []string{"account:read"}, []domain.Permission{}},
		{"unknown strings ignored", admin, []string{"root:all", "audit:read"}, []domain.Permission{domain.PermAuditRead}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Intersect(c.own, c.delegated).List(); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
