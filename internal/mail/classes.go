package mail

import "fmt"

// Class says what a message kind is for, and with it whether the recipient
// may opt out of it. It decides the List-Unsubscribe header (RFC 2369,
// one-click per RFC 8058): only ClassOptional mail may carry it. Security
// mail never does — an unsubscribe link there would let a recipient (or a
// mail filter acting for it) switch off codes, reset links and warnings,
// and mailbox providers would offer it as a button.
type Class string

// Classes.
const (
	// ClassSecurity: credentials and proofs (codes, verification, reset and
	// invitation links) and alerts about a login's security (password,
	// second factor, phone, e-mail or reference address changed, access
	// granted or removed, API keys, support PIN limits).
	ClassSecurity Class = "security"
	// ClassService: notices about the recipient's account or customer
	// account that it needs and cannot opt out of (a contact was added,
	// an account was deactivated, a domain was confirmed). No
	// List-Unsubscribe: there is nothing to unsubscribe from.
	ClassService Class = "service"
	// ClassOptional: notifications or newsletters the recipient may opt
	// out of. Only these carry List-Unsubscribe and List-Unsubscribe-Post.
	// No kind is optional today; the class exists so that the first one
	// gets the headers (and its tests) without touching the transport.
	ClassOptional Class = "optional"
)

// classes is the one table that classifies every kind. init refuses a kind
// without a class, so a new kind cannot be sent before it is decided here.
var classes = map[string]Class{
	VerifyEmail:                 ClassSecurity,
	EmailChangeVerify:           ClassSecurity,
	EmailChangedNotice:          ClassSecurity,
	PasswordReset:               ClassSecurity,
	PasswordChanged:             ClassSecurity,
	LoginCode:                   ClassSecurity,
	SMSLoginCode:                ClassSecurity,
	SMSPhoneVerify:              ClassSecurity,
	PhoneChanged:                ClassSecurity,
	SecondFactorChanged:         ClassSecurity,
	SignUpUsernameTaken:         ClassSecurity,
	StaffInvitation:             ClassSecurity,
	ContactInvitation:           ClassSecurity,
	ContactLoginActivation:      ClassSecurity,
	UserAccountDeleted:          ClassSecurity,
	UserAccountRestored:         ClassSecurity,
	CustomerAdminAdded:          ClassSecurity,
	CustomerAdminRemoved:        ClassSecurity,
	APIKeyCreated:               ClassSecurity,
	SecondFactorPolicyChanged:   ClassSecurity,
	AccountAccessGranted:        ClassSecurity,
	AccountAccessRemoved:        ClassSecurity,
	SupportPinLimited:           ClassSecurity,
	ScopedPasswordReset:         ClassSecurity,
	ReferenceEmailVerify:        ClassSecurity,
	ScopedPasswordChanged:       ClassSecurity,
	UserReferenceEmailVerify:    ClassSecurity,
	ReferenceEmailChanged:       ClassSecurity,
	ContactAdded:                ClassService,
	CustomerAccountDeactivated:  ClassService,
	OrganisationDomainConfirmed: ClassService,
}

func init() {
	for _, k := range Kinds {
		switch classes[k] {
		case ClassSecurity, ClassService, ClassOptional:
		default:
			panic(fmt.Sprintf("mail: kind %s has no class (internal/mail/classes.go)", k))
		}
	}
}

// ClassOf returns the class of kind. An unknown kind (also "") counts as
// security mail: what is not classified gets no List-Unsubscribe.
func ClassOf(kind string) Class {
	if c, ok := classes[kind]; ok {
		return c
	}
	return ClassSecurity
}

// MayUnsubscribe reports whether mail of kind may carry List-Unsubscribe:
// only ClassOptional kinds.
func MayUnsubscribe(kind string) bool { return ClassOf(kind) == ClassOptional }
