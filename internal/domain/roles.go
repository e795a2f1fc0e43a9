package domain

import "io"

// Role is one of the fixed contact roles on a customer account (docs/authorization.md, 'Roles and permissions').
type Role string

// The contact roles.
const (
	RolePortalAccess     Role = "PORTAL_ACCESS"
	RoleTechnicalContact Role = "TECHNICAL_CONTACT"
	RoleCustomerAdmin    Role = "CUSTOMER_ADMIN"
)

// Roles lists every role.
var Roles = []Role{RolePortalAccess, RoleTechnicalContact, RoleCustomerAdmin}

// Values implements ent's EnumValues.
func (Role) Values() []string { return enumStrings(Roles) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (r *Role) UnmarshalGQL(v any) (err error) { *r, err = enumUnmarshal(v, Roles, "Role"); return }

// MarshalGQL implements graphql.Marshaler.
func (r Role) MarshalGQL(w io.Writer) { enumMarshal(w, r) }

// StaffRole is the role of one of the provider's own staff users.
type StaffRole string

// The staff roles.
const (
	StaffSupport StaffRole = "SUPPORT"
	StaffSales   StaffRole = "SALES"
	StaffAdmin   StaffRole = "ADMIN"
)

// StaffRoles lists every staff role.
var StaffRoles = []StaffRole{StaffSupport, StaffSales, StaffAdmin}

// Values implements ent's EnumValues.
func (StaffRole) Values() []string { return enumStrings(StaffRoles) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (r *StaffRole) UnmarshalGQL(v any) (err error) {
	*r, err = enumUnmarshal(v, StaffRoles, "StaffRole")
	return
}

// MarshalGQL implements graphql.Marshaler.
func (r StaffRole) MarshalGQL(w io.Writer) { enumMarshal(w, r) }

// SupportAuthorizationKind is a Freigabe (docs/authorization.md, 'Support authorizations'): what a contact may
// instruct the provider's support desk to do.
type SupportAuthorizationKind string

// The support authorization kinds.
const (
	AuthGeneralAuthority      SupportAuthorizationKind = "GENERAL_AUTHORITY"
	AuthOrderingLimited       SupportAuthorizationKind = "ORDERING_LIMITED"
	AuthOrderingUnlimited     SupportAuthorizationKind = "ORDERING_UNLIMITED"
	AuthFinance               SupportAuthorizationKind = "FINANCE"
	AuthEmergencySLA          SupportAuthorizationKind = "EMERGENCY_SLA"
	AuthVPNRemoteMaintenance  SupportAuthorizationKind = "VPN_REMOTE_MAINTENANCE"
	AuthCredentialsITGeneral  SupportAuthorizationKind = "CREDENTIALS_IT_GENERAL"
	AuthCredentialsMailserver SupportAuthorizationKind = "CREDENTIALS_MAILSERVER"
	AuthCredentialsWebserver  SupportAuthorizationKind = "CREDENTIALS_WEBSERVER"
)

// SupportAuthorizationKinds lists every kind.
var SupportAuthorizationKinds = []SupportAuthorizationKind{
	AuthGeneralAuthority, AuthOrderingLimited, AuthOrderingUnlimited, AuthFinance, AuthEmergencySLA,
	AuthVPNRemoteMaintenance, AuthCredentialsITGeneral, AuthCredentialsMailserver, AuthCredentialsWebserver,
}

// Values implements ent's EnumValues.
func (SupportAuthorizationKind) Values() []string { return enumStrings(SupportAuthorizationKinds) }

// The API calls FINANCE (the stored value) FINANCE_INVOICES
// (issue 7: "finance and invoices"). This is the one mapping.
const apiFinance = "FINANCE_INVOICES"

// APIName is the GraphQL enum name of k.
func (k SupportAuthorizationKind) APIName() string {
	if k == AuthFinance {
		return apiFinance
	}
	return string(k)
}

// UnmarshalGQL implements graphql.Unmarshaler (accepts the API name).
func (k *SupportAuthorizationKind) UnmarshalGQL(v any) (err error) {
	if s, ok := v.(string); ok && s == apiFinance {
		*k = AuthFinance
		return nil
	} else if ok && s == string(AuthFinance) {
		return &InvalidEnumError{Type: "SupportAuthorizationKind", Value: s}
	}
	*k, err = enumUnmarshal(v, SupportAuthorizationKinds, "SupportAuthorizationKind")
	return
}

// MarshalGQL implements graphql.Marshaler (writes the API name).
func (k SupportAuthorizationKind) MarshalGQL(w io.Writer) { enumMarshal(w, k.APIName()) }

// SecondFactorMethod is a way to prove a login beyond the password.
type SecondFactorMethod string

// The second-factor methods.
const (
	MethodEmailCode    SecondFactorMethod = "EMAIL_CODE"
	MethodSMSCode      SecondFactorMethod = "SMS_CODE"
	MethodTOTP         SecondFactorMethod = "TOTP"
	MethodRecoveryCode SecondFactorMethod = "RECOVERY_CODE"
)

// SecondFactorMethods lists every method.
var SecondFactorMethods = []SecondFactorMethod{MethodEmailCode, MethodSMSCode, MethodTOTP, MethodRecoveryCode}

// IsCode reports whether the method sends a one-time code (e-mail or SMS).
func (m SecondFactorMethod) IsCode() bool { return m == MethodEmailCode || m == MethodSMSCode }

// UnmarshalGQL implements graphql.Unmarshaler.
func (m *SecondFactorMethod) UnmarshalGQL(v any) (err error) {
	*m, err = enumUnmarshal(v, SecondFactorMethods, "SecondFactorMethod")
	return
}

// MarshalGQL implements graphql.Marshaler.
func (m SecondFactorMethod) MarshalGQL(w io.Writer) { enumMarshal(w, m) }
