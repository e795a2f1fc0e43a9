package config

import "testing"

func TestTrustedProxies(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.1", []string{"127.0.0.1/32"}, false},
		{" 10.0.0.0/8 , ::1 ", []string{"10.0.0.0/8", "::1/128"}, false},
		{"192.168.1.7/24", []string{"192.168.1.0/24"}, false},
		{"::ffff:10.1.2.3", []string{"10.1.2.3/32"}, false},
		{"proxy.example", nil, true},
		{"10.0.0.0/33", nil, true},
	} {
		t.Setenv("PORTIER_TRUSTED_PROXIES", c.in)
		cfg, err := FromEnv()
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var got []string
		for _, p := range cfg.TrustedProxies {
			got = append(got, p.String())
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			}
		}
	}
}
