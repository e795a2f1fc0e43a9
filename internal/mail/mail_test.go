package mail

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func fullData() map[string]string {
	return map[string]string{
		"name":      "Jörg Müller",
		"link":      "https://portal.example/verify?token=tok-4711",
		"new_email": "neu@example.de",
		"code":      "48213",
		"change":    "SMS-Code als zweiter Faktor aktiviert",
		"username":  "joerg.mueller",
		"account":   "10001 Muster GmbH",
		"role":      "SUPPORT",
		"until":     "2027-02-24",
		"person":    "Erika Beispiel",
		"actor":     "Max Mustermann",
		"required":  "true",
		"key":       "Monitoring",
		"phone":     "…678",
		"login":     "postmaster@muster.example",
	}
}

// wants lists, per kind, the data keys whose values must appear in the body.
var wants = map[string][]string{
	VerifyEmail:                {"name", "link"},
	EmailChangeVerify:          {"name", "link", "new_email"},
	EmailChangedNotice:         {"name", "new_email"},
	PasswordReset:              {"name", "link"},
	PasswordChanged:            {"name"},
	LoginCode:                  {"name", "code"},
	SMSLoginCode:               {"code"},
	SMSPhoneVerify:             {"code"},
	PhoneChanged:               {"name", "phone"},
	SecondFactorChanged:        {"name", "change"},
	SignUpUsernameTaken:        {"name", "username"},
	ContactAdded:               {"name", "account", "username"},
	StaffInvitation:            {"name", "username", "role", "link"},
	ContactInvitation:          {"name", "account", "link"},
	ContactLoginActivation:     {"name", "account", "link"},
	UserAccountDeleted:         {"name", "username", "until"},
	UserAccountRestored:        {"name", "username"},
	CustomerAdminAdded:         {"name", "account", "person", "actor"},
	CustomerAdminRemoved:       {"name", "account", "person", "actor", "until"},
	APIKeyCreated:              {"name", "account", "key", "actor", "until"},
	CustomerAccountDeactivated: {"name", "account"},
	AccountAccessGranted:       {"name", "account", "actor", "until"},
	AccountAccessRemoved:       {"name", "account", "actor", "until"},
	SecondFactorPolicyChanged:  {"name", "account", "actor"},
	SupportPinLimited:          {"name", "account", "until"},
}

func TestEveryKindRendersInBothLocales(t *testing.T) {
	if len(wants) != len(Kinds) {
		t.Fatalf("test covers %d kinds, package has %d", len(wants), len(Kinds))
	}
	data := fullData()
	for _, kind := range Kinds {
		var bodies [2]string
		var subjects [2]string
		for i, loc := range []string{"de", "en"} {
			subject, body, err := Render(kind, loc, data)
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, loc, err)
			}
			if !utf8.ValidString(subject) || !utf8.ValidString(body) {
				t.Errorf("%s/%s: invalid UTF-8", kind, loc)
			}
			if strings.Contains(body, "<no value>") || strings.Contains(subject, "<no value>") {
				t.Errorf("%s/%s: rendered <no value>", kind, loc)
			}
			if strings.ContainsAny(subject, "\r\n") {
				t.Errorf("%s/%s: subject has a line break: %q", kind, loc, subject)
			}
			for _, key := range wants[kind] {
				if !strings.Contains(body, data[key]) {
					t.Errorf("%s/%s: body lacks %s %q:\n%s", kind, loc, key, data[key], body)
				}
			}
			if IsSMS(kind) {
				if subject != "" {
					t.Errorf("%s/%s: SMS has a subject %q", kind, loc, subject)
				}
				if n := utf8.RuneCountInString(body); n > 160 {
					t.Errorf("%s/%s: SMS is %d characters, more than one SMS", kind, loc, n)
				}
			} else {
				if subject == "" {
					t.Errorf("%s/%s: empty subject", kind, loc)
				}
				if !strings.Contains(body, "Portier") {
					t.Errorf("%s/%s: body does not name Portier", kind, loc)
				}
			}
			subjects[i], bodies[i] = subject, body
		}
		if bodies[0] == bodies[1] || (!IsSMS(kind) && subjects[0] == subjects[1]) {
			t.Errorf("%s: German and English texts are the same", kind)
		}
		if !strings.Contains(bodies[0], "Sie") {
			t.Errorf("%s: German text does not address the reader with Sie:\n%s", kind, bodies[0])
		}
	}
}

func TestGreetingAndValidity(t *testing.T) {
	_, body, _ := Render(PasswordReset, "de", map[string]string{"name": "Frau Schulz", "link": "L"})
	if !strings.HasPrefix(body, "Guten Tag Frau Schulz,\n") || !strings.Contains(body, "30 Minuten") {
		t.Errorf("German reset text:\n%s", body)
	}
	_, body, _ = Render(PasswordReset, "en", map[string]string{"name": "Ms Shaw", "link": "L"})
	if !strings.HasPrefix(body, "Hello Ms Shaw,\n") || !strings.Contains(body, "30 minutes") {
		t.Errorf("English reset text:\n%s", body)
	}
	_, body, _ = Render(LoginCode, "de", map[string]string{"code": "12345"})
	if !strings.Contains(body, "10 Minuten") {
		t.Errorf("German login code text lacks validity:\n%s", body)
	}
}

func TestFallbackToGerman(t *testing.T) {
	data := fullData()
	deSubject, deBody, err := Render(PasswordChanged, "de", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"", "fr", "xx", "de-AT", "DE"} {
		s, b, err := Render(PasswordChanged, loc, data)
		if err != nil {
			t.Fatalf("%q: %v", loc, err)
		}
		if s != deSubject || b != deBody {
			t.Errorf("locale %q did not fall back to German: %q", loc, s)
		}
	}
	enSubject, _, _ := Render(PasswordChanged, "en", data)
	for _, loc := range []string{"EN", "en-GB", "en_US"} {
		if s, _, _ := Render(PasswordChanged, loc, data); s != enSubject {
			t.Errorf("locale %q is not English: %q", loc, s)
		}
	}
}

func TestMissingDataRendersEmpty(t *testing.T) {
	for _, kind := range Kinds {
		for _, loc := range []string{"de", "en"} {
			for _, data := range []map[string]string{nil, {}} {
				subject, body, err := Render(kind, loc, data)
				if err != nil {
					t.Fatalf("%s/%s: %v", kind, loc, err)
				}
				if strings.Contains(body, "<no value>") || strings.Contains(subject, "<no value>") {
					t.Errorf("%s/%s: rendered <no value>", kind, loc)
				}
				if strings.Contains(body, "Tag ,") || strings.Contains(body, "Hello ,") {
					t.Errorf("%s/%s: greeting with empty name:\n%s", kind, loc, body)
				}
			}
		}
	}
}

func TestUnknownKind(t *testing.T) {
	if _, _, err := Render("no_such_kind", "de", nil); err == nil {
		t.Fatal("unknown kind rendered without error")
	}
}

func TestDataIsNotInterpretedAsTemplate(t *testing.T) {
	_, body, err := Render(VerifyEmail, "en", map[string]string{"name": "{{.link}}", "link": "L"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Hello {{.link}},") {
		t.Errorf("data was interpreted:\n%s", body)
	}
}
