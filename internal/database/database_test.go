package database

import (
	"context"
	"strings"
	"testing"
)

// A password never reaches an error, even when the URL cannot be parsed
// (an unencoded "%", "#" or "/" in it).
func TestOpenNeverShowsThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cr%zzet@127.0.0.1:1/db",
		"postgres://u:s3cr#et@127.0.0.1:1/db",
		"postgres://u:s3cr/et@127.0.0.1:1/db",
		"postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=1",
	} {
		_, err := Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("%s: opened", dsn)
		}
		if strings.Contains(err.Error(), "s3cr") {
			t.Errorf("the error shows the password: %v", err)
		}
		if r := Redact(dsn); strings.Contains(r, "s3cr") {
			t.Errorf("Redact(%q) = %q", dsn, r)
		}
	}
}
