package resources

import (
	"testing"

	"portier/ent/resource"
)

func TestCheckName(t *testing.T) {
	cases := []struct {
		kind resource.Kind
		name string
		ok   bool
	}{
		{resource.KindWEB_VHOST, "example.com", true},
		{resource.KindWEB_VHOST, "www.example-shop.de", true},
		{resource.KindWEB_VHOST, "localhost", false},
		{resource.KindWEB_VHOST, "-bad.example.com", false},
		{resource.KindWEB_VHOST, "bad-.example.com", false},
		{resource.KindWEB_VHOST, "exa mple.com", false},
		{resource.KindWEB_VHOST, "192.168.0.1", false},
		{resource.KindDNS_ZONE, "example..com", false},
		{resource.KindDOMAIN, "info@example.com", false},
		{resource.KindMAIL_VHOST, "mail.example.com", true},
		{resource.KindMAILBOX, "info@example.com", true},
		{resource.KindMAILBOX, "first.last+tag@example.com", true},
		{resource.KindMAILBOX, "example.com", false},
		{resource.KindMAILBOX, "a..b@example.com", false},
		{resource.KindMAILBOX, "info@localhost", false},
		{resource.KindSERVER, "srv-01.rack4", true},
		{resource.KindVPN, "home_office", true},
		{resource.KindVPN, "", false},
		{resource.KindSERVER, "with space", false},
	}
	for _, c := range cases {
		if err := CheckName(c.kind, c.name); (err == nil) != c.ok {
			t.Errorf("CheckName(%s, %q) = %v, want ok=%v", c.kind, c.name, err, c.ok)
		}
	}
}

func TestCheckLoginName(t *testing.T) {
	cases := []struct {
		kind       resource.Kind
		res, login string
		ok         bool
	}{
		{resource.KindWEB_VHOST, "example.com", "beisp015", true},
		{resource.KindWEB_VHOST, "example.com", "ab", false},
		{resource.KindWEB_VHOST, "example.com", "1user", false},
		{resource.KindWEB_VHOST, "example.com", "user@example.com", false},
		{resource.KindMAIL_VHOST, "example.com", "postmaster@example.com", true},
		{resource.KindMAIL_VHOST, "example.com", "admin@example.com", false},
		{resource.KindMAIL_VHOST, "example.com", "postmaster@other.com", false},
		{resource.KindMAILBOX, "info@example.com", "info@example.com", true},
		{resource.KindMAILBOX, "info@example.com", "sales@example.com", false},
		{resource.KindDNS_ZONE, "example.com", "example.com", true},
		{resource.KindDOMAIN, "example.com", "www.example.com", false},
		{resource.KindSERVER, "srv1", "srv1", false},
		{resource.KindVPN, "vpn1", "vpn1", false},
	}
	for _, c := range cases {
		if err := CheckLoginName(c.kind, c.res, c.login); (err == nil) != c.ok {
			t.Errorf("CheckLoginName(%s, %q, %q) = %v, want ok=%v", c.kind, c.res, c.login, err, c.ok)
		}
	}
}
