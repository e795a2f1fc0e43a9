package groups

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"portier/internal/caldate"
	"portier/internal/domain"
)

func TestBuiltInName(t *testing.T) {
	tests := []struct {
		number, name, want string
	}{
		{"12345", "Heidelberg", "X12345-Heidelberg"},
		{"K-1", "  Muster GmbH ", "XK-1-Muster GmbH"},
		{"1", strings.Repeat("ä", 200), "X1-" + strings.Repeat("ä", 97)},
	}
	for _, tt := range tests {
		got := BuiltInName(tt.number, tt.name)
		if got != tt.want || utf8.RuneCountInString(got) > maxName || !utf8.ValidString(got) {
			t.Errorf("BuiltInName(%q, %q) = %q, want %q", tt.number, tt.name, got, tt.want)
		}
	}
}

func TestExceeding(t *testing.T) {
	r, i, a := domain.PermContactsRead, domain.PermInvoicesRead, domain.PermAuditRead
	tests := []struct {
		name      string
		want, own []domain.Permission
		missing   []domain.Permission
	}{
		{"nothing asked", nil, nil, nil},
		{"subset", []domain.Permission{r}, []domain.Permission{r, i}, nil},
		{"equal", []domain.Permission{r, i}, []domain.Permission{i, r}, nil},
		{"one more", []domain.Permission{r, a}, []domain.Permission{r, i}, []domain.Permission{a}},
		{"owner holds nothing", []domain.Permission{r}, nil, []domain.Permission{r}},
	}
	for _, tt := range tests {
		if got := Exceeding(tt.want, tt.own); !slices.Equal(got, tt.missing) {
			t.Errorf("%s: Exceeding = %v, want %v", tt.name, got, tt.missing)
		}
	}
}

func TestNormalize(t *testing.T) {
	got := Normalize([]domain.Permission{domain.PermAuditRead, "root:all", domain.PermAccountRead, domain.PermAuditRead, ""})
	if want := []domain.Permission{domain.PermAccountRead, domain.PermAuditRead}; !slices.Equal(got, want) {
		t.Fatalf("Normalize = %v, want %v (catalogue order, no duplicates, only known)", got, want)
	}
	if got := Normalize(nil); got == nil || len(got) != 0 {
		t.Fatalf("Normalize(nil) = %#v, want an empty list", got)
	}
}

func TestExtends(t *testing.T) {
	d := func(s string) *caldate.Date { x := caldate.Date(s); return &x }
	tests := []struct {
		until *caldate.Date
		day   caldate.Date
		want  bool
	}{
		{nil, "2027-01-31", false}, // open-ended: a day shortens it
		{d("2026-12-10"), "2027-01-31", true},
		{d("2026-12-10"), "2026-12-10", false},
		{d("2026-12-10"), "2026-11-30", false},
	}
	for _, tt := range tests {
		if got := Extends(tt.until, tt.day); got != tt.want {
			t.Errorf("Extends(%v, %s) = %v, want %v", tt.until, tt.day, got, tt.want)
		}
	}
}
