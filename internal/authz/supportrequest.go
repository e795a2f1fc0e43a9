package authz

import (
	"strings"
	"time"

	"portier/internal/domain"
)

// The support desk's question (docs/authorization.md, 'Support authorizations'):
// may this identified caller ask for this? DecideSupportRequest is the pure
// rule; SupportRequestTable is the fixed table of request kinds, documented
// in schema/supportdesk.graphqls (a test keeps both in step).

// SupportRequestKind is one kind of request a caller makes to the support
// desk by phone or e-mail.
type SupportRequestKind string

// The support request kinds.
const (
	ReqMailboxPasswordReset      SupportRequestKind = "MAILBOX_PASSWORD_RESET"
	ReqMailLoginChange           SupportRequestKind = "MAIL_LOGIN_CHANGE"
	ReqWebLoginPasswordReset     SupportRequestKind = "WEB_LOGIN_PASSWORD_RESET"
	ReqWebLoginChange            SupportRequestKind = "WEB_LOGIN_CHANGE"
	ReqITCredentialPasswordReset SupportRequestKind = "IT_CREDENTIAL_PASSWORD_RESET"
	ReqITCredentialChange        SupportRequestKind = "IT_CREDENTIAL_CHANGE"
	ReqVPNAccessNew              SupportRequestKind = "VPN_ACCESS_NEW"
	ReqOrderNew                  SupportRequestKind = "ORDER_NEW"
	ReqOrderWithinBudget         SupportRequestKind = "ORDER_WITHIN_BUDGET"
	ReqInvoiceCopy               SupportRequestKind = "INVOICE_COPY"
	ReqContractChange            SupportRequestKind = "CONTRACT_CHANGE"
	ReqSLAEmergencyInstruction   SupportRequestKind = "SLA_EMERGENCY_INSTRUCTION"
	ReqContactsChange            SupportRequestKind = "CONTACTS_CHANGE"
)

// SupportRequestTable maps each request kind to the authorization kinds
// that allow it, most specific first; GENERAL_AUTHORITY ("darf alles")
// allows every kind and comes last. ORDERING_LIMITED allows an order only
// within its business area and budget (ORDER_WITHIN_BUDGET, which carries
// the order's details). SLA_EMERGENCY_INSTRUCTION additionally needs an SLA
// valid that day, whoever asks.
var SupportRequestTable = map[SupportRequestKind][]domain.SupportAuthorizationKind{
	ReqMailboxPasswordReset:      {domain.AuthCredentialsMailserver, domain.AuthCredentialsITGeneral, domain.AuthGeneralAuthority},
	ReqMailLoginChange:           {domain.AuthCredentialsMailserver, domain.AuthCredentialsITGeneral, domain.AuthGeneralAuthority},
	ReqWebLoginPasswordReset:     {domain.AuthCredentialsWebserver, domain.AuthCredentialsITGeneral, domain.AuthGeneralAuthority},
	ReqWebLoginChange:            {domain.AuthCredentialsWebserver, domain.AuthCredentialsITGeneral, domain.AuthGeneralAuthority},
	ReqITCredentialPasswordReset: {domain.AuthCredentialsITGeneral, domain.AuthGeneralAuthority},
	ReqITCredentialChange:        {domain.AuthCredentialsITGeneral, domain.AuthGeneralAuthority},
	ReqVPNAccessNew:              {domain.AuthVPNRemoteMaintenance, domain.AuthGeneralAuthority},
	ReqOrderNew:                  {domain.AuthOrderingUnlimited, domain.AuthGeneralAuthority},
	ReqOrderWithinBudget:         {domain.AuthOrderingLimited, domain.AuthOrderingUnlimited, domain.AuthGeneralAuthority},
	ReqInvoiceCopy:               {domain.AuthFinance, domain.AuthGeneralAuthority},
	ReqContractChange:            {domain.AuthFinance, domain.AuthGeneralAuthority},
	ReqSLAEmergencyInstruction:   {domain.AuthEmergencySLA, domain.AuthGeneralAuthority},
	ReqContactsChange:            {domain.AuthGeneralAuthority},
}

// SupportRequestKinds lists every kind, in the schema's order.
var SupportRequestKinds = []SupportRequestKind{
	ReqMailboxPasswordReset, ReqMailLoginChange, ReqWebLoginPasswordReset, ReqWebLoginChange,
	ReqITCredentialPasswordReset, ReqITCredentialChange, ReqVPNAccessNew, ReqOrderNew, ReqOrderWithinBudget,
	ReqInvoiceCopy, ReqContractChange, ReqSLAEmergencyInstruction, ReqContactsChange,
}

// SupportDenial is why a request is denied; "" when it is allowed.
type SupportDenial string

// The reasons a request is denied.
const (
	DenyNone SupportDenial = ""
	// DenyAccountNotActive: the customer account is deactivated.
	DenyAccountNotActive SupportDenial = "ACCOUNT_NOT_ACTIVE"
	// DenyNoValidSLA: an SLA emergency instruction on an account without an
	// SLA valid today.
	DenyNoValidSLA SupportDenial = "NO_VALID_SLA"
	// DenyNotInForce: the caller holds an authorization that would allow
	// the request, but it has ended or not yet begun.
	DenyNotInForce SupportDenial = "AUTHORIZATION_NOT_IN_FORCE"
	// DenyOutsideScope: only ORDERING_LIMITED would allow the order, and it
	// is outside its business area, its currency or above its budget.
	DenyOutsideScope SupportDenial = "OUTSIDE_ORDERING_SCOPE"
	// DenyNoAuthorization: the caller holds no authorization for it.
	DenyNoAuthorization SupportDenial = "NO_AUTHORIZATION"
	// DenyUnknownRequest: a request kind outside the table (never allowed).
	DenyUnknownRequest SupportDenial = "UNKNOWN_REQUEST"
)

// OrderScope is the scope of an ORDERING_LIMITED authorization, and the
// details of an order asked for.
type OrderScope struct {
	BusinessArea string
	AmountCents  int64 // the budget, or the order's amount
	Currency     string
}

// SupportGrant is one support authorization of the caller.
type SupportGrant struct {
	ID       string
	Kind     domain.SupportAuthorizationKind
	Validity Validity
	Scope    *OrderScope // ORDERING_LIMITED only
}

// SupportCase is everything DecideSupportRequest looks at.
type SupportCase struct {
	Request       SupportRequestKind
	Order         *OrderScope // ORDER_WITHIN_BUDGET: the order's area, amount and currency
	Grants        []SupportGrant
	AccountActive bool
	SLAValid      bool // the account has an SLA valid at Now
	Now           time.Time
	Loc           *time.Location // the account's time zone
}

// SupportDecision is the answer: Allowed, or the reason it is not; DecidedBy
// is the index in Grants of the authorization that allowed it (-1 when
// denied).
type SupportDecision struct {
	Allowed   bool
	Reason    SupportDenial
	DecidedBy int
}

// DecideSupportRequest applies the table. Only authorizations in force at
// Now decide ("valid until D" holds until the end of D in the account's
// zone; a future one not yet). Among those that allow the request, the
// most specific kind in the table's order decides, then the one granted
// first. Denials name the most useful reason, in this order: the account
// is not active; there is no SLA valid today (emergency instructions); an
// authorization that would allow it is not in force; the order is outside
// the limited scope; the caller holds nothing that allows it.
func DecideSupportRequest(c SupportCase) SupportDecision {
	deny := func(r SupportDenial) SupportDecision { return SupportDecision{Reason: r, DecidedBy: -1} }
	allowing, known := SupportRequestTable[c.Request]
	if !known {
		return deny(DenyUnknownRequest)
	}
	if !c.AccountActive {
		return deny(DenyAccountNotActive)
	}
	if c.Request == ReqSLAEmergencyInstruction && !c.SLAValid {
		return deny(DenyNoValidSLA)
	}
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	notInForce, outOfScope := false, false
	for _, kind := range allowing {
		best := -1
		for i, g := range c.Grants {
			if g.Kind != kind {
				continue
			}
			if !g.Validity.ActiveAt(c.Now, loc) {
				notInForce = true
				continue
			}
			if kind == domain.AuthOrderingLimited && !WithinScope(g.Scope, c.Order) {
				outOfScope = true
				continue
			}
			if best < 0 || g.Validity.From.Before(c.Grants[best].Validity.From) {
				best = i
			}
		}
		if best >= 0 {
			return SupportDecision{Allowed: true, DecidedBy: best}
		}
	}
	switch {
	case notInForce:
		return deny(DenyNotInForce)
	case outOfScope:
		return deny(DenyOutsideScope)
	}
	return deny(DenyNoAuthorization)
}

// WithinScope reports whether an order lies within an ORDERING_LIMITED
// scope: the same business area (ignoring case and surrounding spaces), the
// same currency, and an amount of at most the budget. The budget is per
// order: Portier does not track what was ordered before.
func WithinScope(scope, order *OrderScope) bool {
	if scope == nil || order == nil {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(scope.BusinessArea), strings.TrimSpace(order.BusinessArea)) &&
		strings.EqualFold(scope.Currency, order.Currency) &&
		order.AmountCents > 0 && order.AmountCents <= scope.AmountCents
}
