package caldate

import (
	"sync"
	"sync/atomic"
	"time"
)

// zones caches the locations Zone has loaded, by name. time.LoadLocation
// reads and parses the zone's file on every call (about 20 µs and 5 KB),
// and the permission evaluator needs a zone for every account of every
// principal on every request. A *time.Location is immutable and safe to
// share. A zone database updated on disk is read again when the process
// restarts.
//
// Only canonical names are kept ("Europe/Berlin", not "Europe/./Berlin" or
// "Europe//Berlin", which time.LoadLocation also opens), and at most
// maxZones of them, so a stored name cannot grow the cache beyond the zone
// database however it is spelled; any other name is loaded each time.
var (
	zones     sync.Map // string → *time.Location
	zoneCount atomic.Int32
)

// maxZones bounds the cache: the zone database has about 600 canonical
// names (1,800 with its posix/ and right/ copies).
const maxZones = 2048

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
	if canonicalZoneName(name) && zoneCount.Load() < maxZones {
		if _, loaded := zones.LoadOrStore(name, l); !loaded {
			zoneCount.Add(1)
		}
	}
	return l, nil
}

// canonicalZoneName reports whether name is spelled as the zone database
// names its zones: segments of letters, digits, '_', '+' and '-' joined by
// single slashes, at most 64 characters.
func canonicalZoneName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	seg := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '/':
			if seg == 0 {
				return false
			}
			seg = 0
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '+', c == '-':
			seg++
		default:
			return false
		}
	}
	return seg > 0
}
