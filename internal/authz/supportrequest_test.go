package authz

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"portier/internal/caldate"
	"portier/internal/domain"
)

// allowedBy is the seed-000 reading of which authorization kinds allow each
// request, written out independently of SupportRequestTable (short names:
// GA, OL, OU, FI, SLA, VPN, IT, MAIL, WEB). OL allows only a scoped order.
var allowedBy = map[SupportRequestKind]string{
	ReqMailboxPasswordReset:      "MAIL IT GA",
	ReqMailLoginChange:           "MAIL IT GA",
	ReqWebLoginPasswordReset:     "WEB IT GA",
	ReqWebLoginChange:            "WEB IT GA",
	ReqITCredentialPasswordReset: "IT GA",
	ReqITCredentialChange:        "IT GA",
	ReqVPNAccessNew:              "VPN GA",
	ReqOrderNew:                  "OU GA",
	ReqOrderWithinBudget:         "OL OU GA",
	ReqInvoiceCopy:               "FI GA",
	ReqContractChange:            "FI GA",
	ReqSLAEmergencyInstruction:   "SLA GA",
	ReqContactsChange:            "GA",
}

var shortKind = map[domain.SupportAuthorizationKind]string{
	domain.AuthGeneralAuthority: "GA", domain.AuthOrderingLimited: "OL", domain.AuthOrderingUnlimited: "OU",
	domain.AuthFinance: "FI", domain.AuthEmergencySLA: "SLA", domain.AuthVPNRemoteMaintenance: "VPN",
	domain.AuthCredentialsITGeneral: "IT", domain.AuthCredentialsMailserver: "MAIL", domain.AuthCredentialsWebserver: "WEB",
}

func TestSupportRequestTableIsComplete(t *testing.T) {
	if len(SupportRequestKinds) != len(SupportRequestTable) || len(allowedBy) != len(SupportRequestTable) {
		t.Fatalf("kinds %d, table %d, test %d", len(SupportRequestKinds), len(SupportRequestTable), len(allowedBy))
	}
	for _, k := range SupportRequestKinds {
		kinds := SupportRequestTable[k]
		if len(kinds) == 0 || kinds[len(kinds)-1] != domain.AuthGeneralAuthority {
			t.Errorf("%s: GENERAL_AUTHORITY must allow it, last: %v", k, kinds)
		}
	}
}

// TestDecideSupportRequest: every request kind × every authorization kind ×
// every validity edge, with the SLA on and off.
func TestDecideSupportRequest(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// 2026-11-24 10:00 UTC = 11:00 in Berlin.
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	day := func(s string) *caldate.Date { d := caldate.Date(s); return &d }
	endedAt := now.Add(-time.Second)
	edges := []struct {
		name   string
		v      Validity
		active bool
	}{
		{"open-ended", Validity{From: now.Add(-48 * time.Hour)}, true},
		{"starts exactly now", Validity{From: now}, true},
		{"last day today", Validity{From: now.Add(-48 * time.Hour), UntilDate: day("2026-11-24")}, true},
		{"last day yesterday", Validity{From: now.Add(-48 * time.Hour), UntilDate: day("2026-11-23")}, false},
		{"not yet started", Validity{From: now.Add(time.Hour)}, false},
		{"ended a second ago", Validity{From: now.Add(-48 * time.Hour), EndedAt: &endedAt}, false},
	}
	order := &OrderScope{BusinessArea: "Hosting", AmountCents: 50_000, Currency: "EUR"}
	scope := &OrderScope{BusinessArea: " hosting ", AmountCents: 100_000, Currency: "EUR"}
	for _, req := range SupportRequestKinds {
		for _, kind := range domain.SupportAuthorizationKinds {
			for _, edge := range edges {
				for _, sla := range []bool{true, false} {
					name := fmt.Sprintf("%s/%s/%s/sla=%v", req, kind, edge.name, sla)
					g := SupportGrant{ID: "sau_1", Kind: kind, Validity: edge.v}
					if kind == domain.AuthOrderingLimited {
						g.Scope = scope
					}
					c := SupportCase{Request: req, Grants: []SupportGrant{g}, AccountActive: true, SLAValid: sla, Now: now, Loc: berlin}
					if req == ReqOrderWithinBudget {
						c.Order = order
					}
					got := DecideSupportRequest(c)
					covers := strings.Contains(" "+allowedBy[req]+" ", " "+shortKind[kind]+" ")
					var want SupportDenial
					switch {
					case req == ReqSLAEmergencyInstruction && !sla:
						want = DenyNoValidSLA
					case !covers:
						want = DenyNoAuthorization
					case !edge.active:
						want = DenyNotInForce
					}
					if got.Reason != want || got.Allowed != (want == DenyNone) {
						t.Errorf("%s: got %+v, want reason %q", name, got, want)
					}
					if got.Allowed && got.DecidedBy != 0 || !got.Allowed && got.DecidedBy != -1 {
						t.Errorf("%s: decidedBy %d", name, got.DecidedBy)
					}
				}
			}
		}
	}
}

func TestDecideSupportRequestEdges(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC) // 2026-11-25 01:00 in Tokyo
	day := func(s string) *caldate.Date { d := caldate.Date(s); return &d }
	from := now.Add(-72 * time.Hour)
	limited := func(area string, budget int64, cur string) SupportGrant {
		return SupportGrant{ID: "ol", Kind: domain.AuthOrderingLimited, Validity: Validity{From: from},
			Scope: &OrderScope{BusinessArea: area, AmountCents: budget, Currency: cur}}
	}
	order := func(area string, amount int64, cur string) *OrderScope {
		return &OrderScope{BusinessArea: area, AmountCents: amount, Currency: cur}
	}
	ga := SupportGrant{ID: "ga", Kind: domain.AuthGeneralAuthority, Validity: Validity{From: from}}
	vpn := SupportGrant{ID: "vpn", Kind: domain.AuthVPNRemoteMaintenance, Validity: Validity{From: from.Add(time.Hour)}}
	vpnOld := SupportGrant{ID: "vpnOld", Kind: domain.AuthVPNRemoteMaintenance, Validity: Validity{From: from}}
	for _, c := range []struct {
		name    string
		c       SupportCase
		allowed string // ID of the deciding grant, or ""
		reason  SupportDenial
	}{
		{"budget exactly", SupportCase{Request: ReqOrderWithinBudget, Order: order("Hosting", 1000, "EUR"), Grants: []SupportGrant{limited("Hosting", 1000, "EUR")}}, "ol", ""},
		{"one cent over budget", SupportCase{Request: ReqOrderWithinBudget, Order: order("Hosting", 1001, "EUR"), Grants: []SupportGrant{limited("Hosting", 1000, "EUR")}}, "", DenyOutsideScope},
		{"other business area", SupportCase{Request: ReqOrderWithinBudget, Order: order("Telefonie", 10, "EUR"), Grants: []SupportGrant{limited("Hosting", 1000, "EUR")}}, "", DenyOutsideScope},
		{"other currency", SupportCase{Request: ReqOrderWithinBudget, Order: order("Hosting", 10, "CHF"), Grants: []SupportGrant{limited("Hosting", 1000, "EUR")}}, "", DenyOutsideScope},
		{"no order details", SupportCase{Request: ReqOrderWithinBudget, Grants: []SupportGrant{limited("Hosting", 1000, "EUR")}}, "", DenyOutsideScope},
		{"limited never allows an unscoped order", SupportCase{Request: ReqOrderNew, Grants: []SupportGrant{limited("Hosting", 1000, "EUR")}}, "", DenyNoAuthorization},
		{"over budget but general authority", SupportCase{Request: ReqOrderWithinBudget, Order: order("Hosting", 5000, "EUR"), Grants: []SupportGrant{limited("Hosting", 1000, "EUR"), ga}}, "ga", ""},
		{"specific before general", SupportCase{Request: ReqVPNAccessNew, Grants: []SupportGrant{ga, vpn}}, "vpn", ""},
		{"earliest of one kind", SupportCase{Request: ReqVPNAccessNew, Grants: []SupportGrant{vpn, vpnOld}}, "vpnOld", ""},
		{"deactivated account allows nothing", SupportCase{Request: ReqInvoiceCopy, Grants: []SupportGrant{ga}, AccountActive: false}, "", DenyAccountNotActive},
		{"no grants", SupportCase{Request: ReqInvoiceCopy}, "", DenyNoAuthorization},
		{"unknown request", SupportCase{Request: "FLY_TO_MOON", Grants: []SupportGrant{ga}}, "", DenyUnknownRequest},
		// The last day ends at midnight in the account's zone: in Tokyo
		// 2026-11-24 is over at 15:00 UTC.
		{"last day over in Tokyo", SupportCase{Request: ReqInvoiceCopy, Loc: tokyo,
			Grants: []SupportGrant{{ID: "fi", Kind: domain.AuthFinance, Validity: Validity{From: from, UntilDate: day("2026-11-24")}}}}, "", DenyNotInForce},
		{"last day today in Tokyo", SupportCase{Request: ReqInvoiceCopy, Loc: tokyo,
			Grants: []SupportGrant{{ID: "fi", Kind: domain.AuthFinance, Validity: Validity{From: from, UntilDate: day("2026-11-25")}}}}, "fi", ""},
		{"an active one wins over an ended one", SupportCase{Request: ReqInvoiceCopy, Grants: []SupportGrant{
			{ID: "old", Kind: domain.AuthFinance, Validity: Validity{From: from, UntilDate: day("2026-11-01")}},
			{ID: "new", Kind: domain.AuthFinance, Validity: Validity{From: from}}}}, "new", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "deactivated account allows nothing" {
				c.c.AccountActive = true
			}
			c.c.Now = now
			got := DecideSupportRequest(c.c)
			id := ""
			if got.Allowed {
				id = c.c.Grants[got.DecidedBy].ID
			}
			if id != c.allowed || got.Reason != c.reason {
				t.Fatalf("got allowed by %q reason %q, want %q / %q", id, got.Reason, c.allowed, c.reason)
			}
		})
	}
}
