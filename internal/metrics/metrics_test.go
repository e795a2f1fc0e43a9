package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestOperationLabelsAreBounded(t *testing.T) {
	for name, want := range map[string]string{
		"":                      "anonymous",
		"GetAccounts":           "GetAccounts",
		"bad-name":              "other",
		`x"} 1`:                 "other",
		strings.Repeat("a", 65): "other",
	} {
		if got := Operation(name); got != want {
			t.Errorf("Operation(%q) = %q, want %q", name, got, want)
		}
	}
	for i := range maxOperations + 10 {
		Operation("Filler" + strings.Repeat("x", i%50) + string(rune('A'+i%26)) + strings.Repeat("y", i/26))
	}
	if got := Operation("BrandNewNameAfterTheCap"); got != "other" {
		t.Errorf("a new name after %d distinct names: %q, want other", maxOperations, got)
	}
	if got := Operation("GetAccounts"); got != "GetAccounts" {
		t.Errorf("a name seen before the cap: %q", got)
	}
}

func TestOutcomeLabels(t *testing.T) {
	for code, want := range map[string]string{"": "ok", "FORBIDDEN": "FORBIDDEN", "weird code": "OTHER", strings.Repeat("A", 49): "OTHER"} {
		if got := Outcome(code); got != want {
			t.Errorf("Outcome(%q) = %q, want %q", code, got, want)
		}
	}
}

// Scrapes in quick succession read the database once per gaugeTTL; a
// failing read is reported by the error gauge, not by a failed scrape.
func TestDatabaseGaugesAreReadAtMostOncePerTTL(t *testing.T) {
	calls := 0
	r := NewRegistry(nil, Gauges{
		OutboxBacklog: func(context.Context) (map[string]Backlog, error) {
			calls++
			return map[string]Backlog{"email": {Messages: 3}}, nil
		},
		ActiveSessions: func(context.Context) (int, error) { return 0, errors.New("down") },
	})
	for range 5 {
		if _, err := r.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Fatalf("5 scrapes read the backlog %d times, want once", calls)
	}
	n, err := testutil.GatherAndCount(r, "portier_outbox_backlog_messages", "portier_metrics_database_errors")
	if err != nil || n != 3 {
		t.Fatalf("%d series (%v), want 2 backlog + 1 error gauge", n, err)
	}
	if err := testutil.GatherAndCompare(r, strings.NewReader(`# HELP portier_metrics_database_errors 1 when this scrape could not read the database-backed gauges.
# TYPE portier_metrics_database_errors gauge
portier_metrics_database_errors 1
`), "portier_metrics_database_errors"); err != nil {
		t.Fatal(err)
	}
}
