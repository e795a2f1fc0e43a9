package caldate

import (
	"sync"
	"time"
)

// zones caches the locations Zone has loaded, by name. time.LoadLocation
// reads and parses the zone's file on every call (about 20 µs and 5 KB),
// and the permission evaluator needs a zone for every account of every
// principal on every request. Only names that loaded are kept, and those
// are the files of the zone database, so the cache is bounded by it (a
// few hundred entries). A *time.Location is immutable and safe to share.
// A zone database updated on disk is read again when the process restarts.
var zones sync.Map // string → *time.Location

// Zone is time.LoadLocation for a customer account's time zone, cached for
// the life of the process.
func Zone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}
