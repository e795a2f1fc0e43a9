package domain

import (
	"io"
	"slices"
)

// Permission is an atomic right on one customer account.
type Permission string

// The permission catalogue. GraphQL exposes these as the Permission enum
// (ACCOUNT_READ, ...); the wire strings here are what API keys and rights
// groups store.
const (
	PermAccountRead          Permission = "account:read"
	PermAccountUpdate        Permission = "account:update"
	PermContactsRead         Permission = "contacts:read"
	PermContactsManage       Permission = "contacts:manage"
	PermInvitationsManage    Permission = "invitations:manage"
	PermGroupsManage         Permission = "groups:manage"
	PermAPIKeysManage        Permission = "apikeys:manage"
	PermAuthorizationsRead   Permission = "authorizations:read"
	PermAuthorizationsManage Permission = "authorizations:manage"
	PermDelegationsManage    Permission = "delegations:manage"
	PermResourcesRead        Permission = "resources:read"
	PermResourcesManage      Permission = "resources:manage"
	PermLoginsManage         Permission = "logins:manage"
	PermInvoicesRead         Permission = "invoices:read"
	PermOrdersCreate         Permission = "orders:create"
	PermTicketsCreate        Permission = "tickets:create"
	PermAuditRead            Permission = "audit:read"
)

// Permissions is the whole catalogue in a stable order.
var Permissions = []Permission{
	PermAccountRead, PermAccountUpdate, PermContactsRead, PermContactsManage,
	PermInvitationsManage, PermGroupsManage, PermAPIKeysManage, PermAuthorizationsRead,
	PermAuthorizationsManage, PermDelegationsManage, PermResourcesRead, PermResourcesManage,
	PermLoginsManage, PermInvoicesRead, PermOrdersCreate, PermTicketsCreate, PermAuditRead,
}

var permByEnum = func() map[string]Permission {
	m := make(map[string]Permission, len(Permissions))
	for _, p := range Permissions {
		m[p.EnumName()] = p
	}
	return m
}()

// EnumName is the GraphQL enum value name: "contacts:read" -> "CONTACTS_READ".
func (p Permission) EnumName() string {
	b := []byte(p)
	for i, c := range b {
		switch {
		case c == ':':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Valid reports whether p is in the catalogue.
func (p Permission) Valid() bool { return slices.Contains(Permissions, p) }

// ParsePermissionEnum maps a GraphQL enum name back to the permission.
func ParsePermissionEnum(name string) (Permission, bool) {
	p, ok := permByEnum[name]
	return p, ok
}

// UnmarshalGQL implements graphql.Unmarshaler (accepts the enum name).
func (p *Permission) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	q, ok := ParsePermissionEnum(s)
	if !ok {
		return &InvalidEnumError{Type: "Permission", Value: s}
	}
	*p = q
	return nil
}

// MarshalGQL implements graphql.Marshaler (writes the enum name).
func (p Permission) MarshalGQL(w io.Writer) { enumMarshal(w, p.EnumName()) }

// InvalidEnumError reports an unknown enum value.
type InvalidEnumError struct{ Type, Value string }

func (e *InvalidEnumError) Error() string { return e.Value + " is not a valid " + e.Type }

// RolePermissions is what each role grants. PORTAL_ACCESS is the gate: the
// evaluator grants nothing from the other roles (or rights groups) unless
// PORTAL_ACCESS is active too (docs/authorization.md, 'Roles and permissions').
var RolePermissions = map[Role][]Permission{
	RolePortalAccess: {PermAccountRead, PermResourcesRead},
	RoleTechnicalContact: {
		PermAccountRead, PermResourcesRead, PermTicketsCreate,
	},
	RoleCustomerAdmin: {
		PermAccountRead, PermAccountUpdate, PermContactsRead, PermContactsManage,
		PermInvitationsManage, PermGroupsManage, PermAPIKeysManage, PermAuthorizationsRead,
		PermAuthorizationsManage, PermDelegationsManage, PermResourcesRead, PermResourcesManage,
		PermLoginsManage, PermInvoicesRead, PermOrdersCreate, PermTicketsCreate, PermAuditRead,
	},
}

// StaffSupportPermissions are what SUPPORT (and SALES on assigned accounts)
// may do on any account without the customer's consent: read who the account
// is and who its contacts and their authorizations are, to verify callers.
var StaffSupportPermissions = []Permission{
	PermAccountRead, PermContactsRead, PermAuthorizationsRead, PermAuditRead,
}

// StaffSupportProvisioning are what SUPPORT (not SALES) may do on any
// account: the provider provisions the resources it hosts for a customer
// (issue 9). Reading them still needs consent (StaffConsentPermissions).
var StaffSupportProvisioning = []Permission{PermResourcesManage}

// StaffConsentPermissions are added for SUPPORT and SALES on accounts that
// have given supportAccessConsent (docs/authorization.md, 'Staff').
var StaffConsentPermissions = []Permission{
	PermResourcesRead, PermInvoicesRead,
}

// StaffSalesConsentPermissions are added for an assigned SALES user on an
// account with consent: sales staff act for the customer.
var StaffSalesConsentPermissions = []Permission{
	PermAccountUpdate, PermContactsManage, PermInvitationsManage, PermOrdersCreate,
}
