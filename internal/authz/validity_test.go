package authz

import (
	"testing"
	"time"

	"portier/internal/caldate"
	"portier/internal/domain"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func ptrDate(s string) *caldate.Date { d := caldate.Date(s); return &d }
func ptrTime(t time.Time) *time.Time { return &t }

func TestValidityActiveAt(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tokyo := mustLoc(t, "Asia/Tokyo")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		v    Validity
		t    time.Time
		loc  *time.Location
		want bool
	}{
		{"open-ended, after start", Validity{From: from}, at("2026-06-01T00:00:00Z"), berlin, true},
		{"before start", Validity{From: from}, at("2025-12-31T23:59:59Z"), berlin, false},
		{"exactly at start", Validity{From: from}, from, berlin, true},
		// 2026-11-30 ends at 2026-12-01T00:00+01:00 = 2026-11-30T23:00Z in Berlin (winter).
		{"last day, last second in Berlin", Validity{From: from, UntilDate: ptrDate("2026-11-30")}, at("2026-11-30T22:59:59Z"), berlin, true},
		{"last day over in Berlin", Validity{From: from, UntilDate: ptrDate("2026-11-30")}, at("2026-11-30T23:00:00Z"), berlin, false},
		{"same instant still the last day in UTC", Validity{From: from, UntilDate: ptrDate("2026-11-30")}, at("2026-11-30T23:00:00Z"), time.UTC, true},
		{"Tokyo day ends earlier", Validity{From: from, UntilDate: ptrDate("2026-11-30")}, at("2026-11-30T15:00:00Z"), tokyo, false},
		// Summer: 2026-07-15 ends at 2026-07-15T22:00Z in Berlin (UTC+2).
		{"summer end of day in Berlin", Validity{From: from, UntilDate: ptrDate("2026-07-15")}, at("2026-07-15T21:59:59Z"), berlin, true},
		{"summer day over in Berlin", Validity{From: from, UntilDate: ptrDate("2026-07-15")}, at("2026-07-15T22:00:00Z"), berlin, false},
		// DST change: 2026-03-29 has 23 hours in Berlin; it ends at 2026-03-29T22:00Z.
		{"23-hour day still active", Validity{From: from, UntilDate: ptrDate("2026-03-29")}, at("2026-03-29T21:59:59Z"), berlin, true},
		{"23-hour day over", Validity{From: from, UntilDate: ptrDate("2026-03-29")}, at("2026-03-29T22:00:00Z"), berlin, false},
		{"ended immediately, before", Validity{From: from, EndedAt: ptrTime(at("2026-05-01T10:00:00Z"))}, at("2026-05-01T09:59:59Z"), berlin, true},
		{"ended immediately, at the instant", Validity{From: from, EndedAt: ptrTime(at("2026-05-01T10:00:00Z"))}, at("2026-05-01T10:00:00Z"), berlin, false},
		{"end date later but ended now", Validity{From: from, UntilDate: ptrDate("2027-01-01"), EndedAt: ptrTime(at("2026-05-01T10:00:00Z"))}, at("2026-06-01T00:00:00Z"), berlin, false},
		{"malformed date is inactive", Validity{From: from, UntilDate: ptrDate("2026-02-30")}, at("2026-01-15T00:00:00Z"), berlin, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.ActiveAt(tt.t, tt.loc); got != tt.want {
				t.Fatalf("ActiveAt = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	tests := []struct {
		name   string
		roles  []domain.Role
		groups [][]string
		has    []domain.Permission
		hasNot []domain.Permission
	}{
		{"nothing", nil, nil, nil, []domain.Permission{domain.PermAccountRead}},
		{"admin without portal access gets nothing", []domain.Role{domain.RoleCustomerAdmin}, nil, nil,
			[]domain.Permission{domain.PermAccountRead, domain.PermContactsManage}},
		{"groups without portal access give nothing", nil, [][]string{{"contacts:read"}}, nil,
			[]domain.Permission{domain.PermContactsRead}},
		{"portal access alone", []domain.Role{domain.RolePortalAccess}, nil,
			[]domain.Permission{domain.PermAccountRead, domain.PermResourcesRead},
			[]domain.Permission{domain.PermContactsRead, domain.PermTicketsCreate}},
		{"portal access + technical contact", []domain.Role{domain.RolePortalAccess, domain.RoleTechnicalContact}, nil,
			[]domain.Permission{domain.PermTicketsCreate, domain.PermResourcesRead},
			[]domain.Permission{domain.PermContactsManage}},
		{"portal access + admin", []domain.Role{domain.RoleCustomerAdmin, domain.RolePortalAccess}, nil,
			[]domain.Permission{domain.PermContactsManage, domain.PermAuditRead, domain.PermInvitationsManage}, nil},
		{"union with groups, unknown permissions ignored", []domain.Role{domain.RolePortalAccess}, [][]string{{"contacts:read", "root:everything"}, {"invoices:read"}},
			[]domain.Permission{domain.PermContactsRead, domain.PermInvoicesRead, domain.PermAccountRead},
			[]domain.Permission{domain.PermContactsManage, domain.Permission("root:everything")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Effective(tt.roles, tt.groups)
			for _, p := range tt.has {
				if !got.Has(p) {
					t.Errorf("missing %s in %v", p, got.List())
				}
			}
			for _, p := range tt.hasNot {
				if got.Has(p) {
					t.Errorf("unexpected %s in %v", p, got.List())
				}
			}
		})
	}
}

func TestStaffPermissions(t *testing.T) {
	tests := []struct {
		role              domain.StaffRole
		consent, assigned bool
		p                 domain.Permission
		want              bool
	}{
		{domain.StaffAdmin, false, false, domain.PermContactsManage, true},
		{domain.StaffSupport, false, false, domain.PermContactsRead, true},
		{domain.StaffSupport, false, false, domain.PermResourcesRead, false},
		{domain.StaffSupport, true, false, domain.PermResourcesRead, true},
		{domain.StaffSupport, true, false, domain.PermContactsManage, false},
		{domain.StaffSales, false, false, domain.PermAccountRead, false},
		{domain.StaffSales, false, true, domain.PermAccountRead, true},
		{domain.StaffSales, false, true, domain.PermContactsManage, false},
		{domain.StaffSales, true, true, domain.PermContactsManage, true},
	}
	for _, tt := range tests {
		if got := staffPermissions(tt.role, tt.consent, tt.assigned).Has(tt.p); got != tt.want {
			t.Errorf("%s consent=%v assigned=%v %s: got %v, want %v", tt.role, tt.consent, tt.assigned, tt.p, got, tt.want)
		}
	}
}

func TestValidityOverAt(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	day := func(s string) *caldate.Date { d := caldate.Date(s); return &d }
	ended := now.Add(-time.Minute)
	for _, c := range []struct {
		name string
		v    Validity
		want bool
	}{
		{"open-ended, started", Validity{From: now.Add(-time.Hour)}, false},
		{"not yet started", Validity{From: now.Add(time.Hour)}, false},
		{"not yet started, last day passed", Validity{From: now.Add(time.Hour), UntilDate: day("2026-11-01")}, false},
		{"last day is today", Validity{From: now.Add(-time.Hour), UntilDate: day("2026-11-24")}, false},
		{"last day was yesterday", Validity{From: now.Add(-48 * time.Hour), UntilDate: day("2026-11-23")}, true},
		{"ended a minute ago", Validity{From: now.Add(-time.Hour), EndedAt: &ended}, true},
		{"starts exactly now", Validity{From: now}, false},
	} {
		if got := c.v.OverAt(now, berlin); got != c.want {
			t.Errorf("%s: OverAt = %v, want %v", c.name, got, c.want)
		}
	}
}
