package mail

import (
	"html"
	"strings"
	"testing"
)

// securityKinds are the kinds that must never carry List-Unsubscribe:
// codes, links, invitations and alerts about a login's security. Listed
// here by hand, not derived from the table, so that moving one out of
// ClassSecurity fails this test.
var securityKinds = []string{
	VerifyEmail, EmailChangeVerify, EmailChangedNotice, PasswordReset, PasswordChanged,
	LoginCode, SMSLoginCode, SMSPhoneVerify, PhoneChanged, SecondFactorChanged,
	SignUpUsernameTaken, StaffInvitation, ContactInvitation, ContactLoginActivation,
	UserAccountDeleted, UserAccountRestored, CustomerAdminAdded, CustomerAdminRemoved,
	APIKeyCreated, SecondFactorPolicyChanged, AccountAccessGranted, AccountAccessRemoved,
	SupportPinLimited, ScopedPasswordReset, ReferenceEmailVerify, ScopedPasswordChanged,
	UserReferenceEmailVerify, ReferenceEmailChanged,
}

func TestEveryKindIsClassified(t *testing.T) {
	if len(classes) != len(Kinds) {
		t.Errorf("classes has %d entries, there are %d kinds", len(classes), len(Kinds))
	}
	for _, k := range Kinds {
		switch c, ok := classes[k]; {
		case !ok:
			t.Errorf("kind %s has no class", k)
		case c != ClassSecurity && c != ClassService && c != ClassOptional:
			t.Errorf("kind %s has the unknown class %q", k, c)
		}
	}
}

func TestSecurityMailMayNotBeUnsubscribed(t *testing.T) {
	for _, k := range securityKinds {
		if ClassOf(k) != ClassSecurity || MayUnsubscribe(k) {
			t.Errorf("security kind %s: class %s, may unsubscribe %v", k, ClassOf(k), MayUnsubscribe(k))
		}
	}
	for _, k := range []string{"", "no_such_kind"} {
		if MayUnsubscribe(k) {
			t.Errorf("unknown kind %q may carry List-Unsubscribe", k)
		}
	}
	// No kind is optional today: none may carry the header.
	for _, k := range Kinds {
		if MayUnsubscribe(k) {
			t.Errorf("kind %s may carry List-Unsubscribe; decide consciously and update this test", k)
		}
	}
}

func TestOptionalClassMayUnsubscribe(t *testing.T) {
	classes["test_newsletter"] = ClassOptional
	defer delete(classes, "test_newsletter")
	if !MayUnsubscribe("test_newsletter") {
		t.Fatal("an optional kind may not carry List-Unsubscribe")
	}
}

func TestRenderEmailHTML(t *testing.T) {
	data := fullData()
	data["name"] = `Jörg <b>"Müller"</b> & Co`
	for _, loc := range []string{"de", "en"} {
		e, err := RenderEmail(PasswordReset, loc, data)
		if err != nil {
			t.Fatal(err)
		}
		if e.Locale != loc || e.Kind != PasswordReset || e.Subject == "" || e.Text == "" {
			t.Fatalf("%s: %+v", loc, e)
		}
		if !strings.Contains(e.HTML, `<html lang="`+loc+`">`) {
			t.Errorf("%s: no lang attribute:\n%s", loc, e.HTML)
		}
		if strings.Contains(e.HTML, "<b>") || !strings.Contains(e.HTML, "Jörg &lt;b&gt;&#34;Müller&#34;&lt;/b&gt; &amp; Co") {
			t.Errorf("%s: name not escaped:\n%s", loc, e.HTML)
		}
		if !strings.Contains(e.HTML, `<a href="`+data["link"]+`"`) {
			t.Errorf("%s: link not a link:\n%s", loc, e.HTML)
		}
		// The HTML says what the text says.
		greeting := map[string]string{"de": "Guten Tag ", "en": "Hello "}[loc]
		validity := map[string]string{"de": "30 Minuten", "en": "30 minutes"}[loc]
		plain := html.UnescapeString(e.HTML)
		for _, want := range []string{greeting + data["name"], validity, "Portier"} {
			if !strings.Contains(plain, want) {
				t.Errorf("%s: HTML lacks %q:\n%s", loc, want, e.HTML)
			}
		}
	}
	if _, err := RenderEmail(SMSLoginCode, "de", data); err == nil {
		t.Error("an SMS kind rendered as e-mail")
	}
}

func TestTextToHTML(t *testing.T) {
	body := "Hello Ann,\n\nthis is a long line of prose that the text version wraps at\nabout seventy characters.\n\nhttps://x.example/a?b=1&c=2\n\njavascript:alert(1)\n\nKind regards\nYour team\n\n-- \nSent automatically.\n"
	h, err := TextToHTML("en", "S & T", body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<title>S &amp; T</title>",
		"<p>this is a long line of prose that the text version wraps at about seventy characters.</p>",
		`<a href="https://x.example/a?b=1&amp;c=2"`,
		"<p>javascript:alert(1)</p>",
		"<p>Kind regards<br>Your team</p>",
		"Sent automatically.</p>",
		"<hr",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
}
