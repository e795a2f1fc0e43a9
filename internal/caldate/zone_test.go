package caldate

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestZone(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"Europe/Berlin", "Europe/Berlin", true},
		{"America/New_York", "America/New_York", true},
		{"UTC", "UTC", true},
		{"", "UTC", true}, // as time.LoadLocation
		{"Mars/Olympus_Mons", "", false},
		{"../etc/passwd", "", false},
		{"/etc/localtime", "", false},
	} {
		for run := 0; run < 2; run++ { // the second run is served from the cache
			l, err := Zone(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("Zone(%q) run %d: error %v, want ok=%v", tc.name, run, err, tc.ok)
			}
			if err == nil && l.String() != tc.want {
				t.Fatalf("Zone(%q) run %d = %s, want %s", tc.name, run, l, tc.want)
			}
		}
	}
	if _, ok := zones.Load("Mars/Olympus_Mons"); ok {
		t.Fatal("a name that did not load was cached")
	}
	// Other spellings of a zone's file load, but are not kept: the cache
	// stays bounded by the zone database however a stored name is spelled.
	for _, name := range []string{"Europe/./Berlin", "Europe//Berlin", "./Europe/Berlin", "Europe/Berlin/"} {
		l, err := Zone(name)
		if err != nil {
			continue // not every spelling opens on every system
		}
		if l == nil {
			t.Fatalf("Zone(%q) = nil", name)
		}
		if _, ok := zones.Load(name); ok {
			t.Errorf("the spelling %q was cached", name)
		}
	}
	// The cached zone is the zone: the end of a date in Berlin is 23:00 UTC
	// in winter.
	l, _ := Zone("Europe/Berlin")
	end, err := Date("2026-12-31").EndIn(l)
	if err != nil || !end.Equal(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("end of 2026-12-31 in Berlin = %v, %v", end, err)
	}
}

func TestCanonicalZoneName(t *testing.T) {
	for name, want := range map[string]bool{
		"Europe/Berlin": true, "America/Argentina/Buenos_Aires": true, "Etc/GMT+1": true, "Etc/GMT-14": true, "UTC": true,
		"": false, "/Europe/Berlin": false, "Europe/Berlin/": false, "Europe//Berlin": false, "Europe/./Berlin": false,
		"../etc/passwd": false, "Europe/Berl in": false, "Europe/Berlin\x00": false, strings.Repeat("A", 65): false,
	} {
		if got := canonicalZoneName(name); got != want {
			t.Errorf("canonicalZoneName(%q) = %v, want %v", name, got, want)
		}
	}
}

func BenchmarkZone(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Zone("Europe/Berlin"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRequestPathsUseZone keeps time.LoadLocation off the request paths:
// outside this package only the validators of a name to be stored and the
// benchmark's seeding may call it.
func TestRequestPathsUseZone(t *testing.T) {
	allowed := map[string]bool{
		"internal/caldate/zone.go": true,
		// Validators of a name to be stored: never cached, so that what a
		// client sends cannot fill the cache.
		"ent/schema/customeraccount.go": true, "internal/customers/customers.go": true, "internal/customers/update.go": true,
		"cmd/portier-bench/seed.go": true,
	}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "time.LoadLocation(") && !allowed[filepath.ToSlash(rel)] {
			t.Errorf("%s calls time.LoadLocation: use caldate.Zone", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
