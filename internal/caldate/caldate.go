// Package caldate is a calendar date without a time or zone ("2026-12-31").
// Validity dates in Portier are inclusive: valid until D means valid until
// the end of D in the customer account's time zone.
package caldate

import (
	"database/sql/driver"
	"fmt"
	"io"
	"time"

	"portier/internal/jsonstr"
)

// Date is a calendar date in ISO 8601 form, YYYY-MM-DD.
type Date string

const layout = "2006-01-02"

// Parse validates s and returns it as a Date.
func Parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil || t.Format(layout) != s {
		return "", fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return Date(s), nil
}

// Of returns the date of t in loc.
func Of(t time.Time, loc *time.Location) Date { return Date(t.In(loc).Format(layout)) }

// EndIn returns the first instant after the end of d in loc, in UTC: the
// moment something "valid until d" stops being valid. Days of 23 or 25 hours
// (DST changes) are handled by asking for midnight of the next day.
func (d Date) EndIn(loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(layout, string(d), loc)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc).UTC(), nil
}

// StartIn returns the first instant of d in loc, in UTC.
func (d Date) StartIn(loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(layout, string(d), loc)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a Date must be a string of the form YYYY-MM-DD")
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (d Date) MarshalGQL(w io.Writer) { jsonstr.Write(w, string(d)) }

// Scan implements sql.Scanner.
func (d *Date) Scan(src any) error {
	switch s := src.(type) {
	case string:
		*d = Date(s)
	case []byte:
		*d = Date(string(s))
	case time.Time:
		*d = Date(s.Format(layout))
	default:
		return fmt.Errorf("caldate: unexpected type %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (d Date) Value() (driver.Value, error) { return string(d), nil }
