// Package authorizations holds the support authorizations (Freigaben; see
// docs/authorization.md, 'Support authorizations') of contacts: granting, changing the validity, revoking, and the rules
// that go with them (what implies what, the ORDERING_LIMITED scope, the SLA
// required for EMERGENCY_SLA), and the SLA of an account.
package authorizations

import (
	"slices"
	"strings"

	"portier/internal/domain"
)

// Implies reports whether holding `held` covers a request that needs
// `wanted`: every kind covers itself, and GENERAL_AUTHORITY ("darf alles")
// covers every kind. This is the one place that says so.
func Implies(held, wanted domain.SupportAuthorizationKind) bool {
	return held == wanted || held == domain.AuthGeneralAuthority
}

// Covers lists, in catalogue order, the kinds that holding k covers.
func Covers(k domain.SupportAuthorizationKind) []domain.SupportAuthorizationKind {
	var out []domain.SupportAuthorizationKind
	for _, w := range domain.SupportAuthorizationKinds {
		if Implies(k, w) {
			out = append(out, w)
		}
	}
	return out
}

// iso4217 are the active ISO 4217 alphabetic currency codes (funds and
// precious-metal codes excluded).
var iso4217 = strings.Fields(`
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP
ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX
USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG`)

// ValidCurrency reports whether code is an active ISO 4217 code (upper case).
func ValidCurrency(code string) bool { return slices.Contains(iso4217, code) }
