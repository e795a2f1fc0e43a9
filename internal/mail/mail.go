// Package mail holds the texts of every e-mail and SMS Portier sends, in
// German and English. Render turns a kind, a locale and the kind's data into
// a subject and a plain-text body; RenderEmail adds the HTML alternative
// (html.go) for the outbox, which sends both as multipart/alternative.
// Every kind has a class (classes.go) that decides whether its mail may
// carry List-Unsubscribe.
//
// The texts are written as plain text. Data values are inserted verbatim
// into it, so they must not be trusted to be anything but text; the HTML
// is made from the rendered text with html/template, which escapes them.
// Subjects are one line, and the transport encodes them (RFC 2047), so a
// value can never inject a header.
package mail

import (
	"fmt"
	"strings"
	"text/template"
)

// Message kinds and the data keys each one uses.
const (
	// VerifyEmail asks a new user to confirm the address. Data: name, link.
	VerifyEmail = "verify_email"
	// EmailChangeVerify is sent to the NEW address to confirm a change.
	// Data: name, link, new_email.
	EmailChangeVerify = "email_change_verify"
	// EmailChangedNotice is sent to the OLD address: the address is being
	// (or was) changed. Data: name, new_email.
	EmailChangedNotice = "email_changed_notice"
	// PasswordReset carries a one-time link, valid 30 minutes. Data: name, link.
	PasswordReset = "password_reset"
	// PasswordChanged tells the user the password was changed or reset.
	// Data: name.
	PasswordChanged = "password_changed"
	// LoginCode carries a 5-digit login code by e-mail, valid 10 minutes.
	// Data: name, code.
	LoginCode = "login_code"
	// SMSLoginCode is the short SMS text with a login code. Data: code.
	SMSLoginCode = "sms_login_code"
	// SMSPhoneVerify is the short SMS text with the code that proves a new
	// phone number (setPhoneNumber), valid 10 minutes. Data: code.
	SMSPhoneVerify = "sms_phone_verify"
	// PhoneChanged tells the user by e-mail that the phone number for SMS
	// codes was verified (phone: the new number, masked) or removed
	// (phone empty). Data: name, phone.
	PhoneChanged = "phone_changed"
	// SecondFactorChanged tells the user the second-factor settings changed.
	// Data: name, change (a human-readable description of the change).
	SecondFactorChanged = "second_factor_changed"
)

// Kinds lists every message kind.
var Kinds = []string{
	VerifyEmail, EmailChangeVerify, EmailChangedNotice, PasswordReset,
	PasswordChanged, LoginCode, SMSLoginCode, SecondFactorChanged, SignUpUsernameTaken, ContactAdded,
	StaffInvitation, ContactInvitation, UserAccountDeleted, UserAccountRestored,
	CustomerAdminAdded, CustomerAdminRemoved, APIKeyCreated, CustomerAccountDeactivated,
	AccountAccessGranted, AccountAccessRemoved, SMSPhoneVerify, PhoneChanged, ContactLoginActivation, SecondFactorPolicyChanged, SupportPinLimited,
}

// IsSMS reports whether kind is a text message (sent by SMS, no subject)
// rather than an e-mail.
func IsSMS(kind string) bool { return kind == SMSLoginCode || kind == SMSPhoneVerify }

// Locales Render knows; the first one is the fallback.
const (
	LocaleDE = "de"
	LocaleEN = "en"
)

// text is one message in one language; an empty subject marks an SMS.
type text struct {
	subject string
	body    string
}

type compiled struct {
	subject *template.Template
	body    *template.Template
	sms     bool
}

var templates = map[string]map[string]compiled{}

func init() {
	for locale, kinds := range map[string]map[string]text{LocaleDE: textsDE, LocaleEN: textsEN} {
		templates[locale] = map[string]compiled{}
		for kind, t := range kinds {
			name := locale + "/" + kind
			templates[locale][kind] = compiled{
				subject: template.Must(template.New(name + "/subject").Option("missingkey=zero").Parse(t.subject)),
				body: template.Must(template.New(name + "/body").Option("missingkey=zero").
					Parse(strings.TrimLeft(t.body, "\n"))),
				sms: t.subject == "",
			}
		}
	}
	for _, k := range Kinds {
		if _, ok := templates[LocaleDE][k]; !ok {
			panic("mail: no German text for " + k)
		}
		if _, ok := templates[LocaleEN][k]; !ok {
			panic("mail: no English text for " + k)
		}
	}
}

// NormalizeLocale maps a locale to "de" or "en": "en", "EN", "en-GB",
// "en_US" are English; everything else (including "") is German.
func NormalizeLocale(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if l == LocaleEN || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return LocaleEN
	}
	return LocaleDE
}

// Render returns subject and plain-text body of kind in locale ("de" or
// "en"; anything else falls back to "de"). An unknown kind is an error.
// Missing data keys render as empty text. SMS kinds have an empty subject.
func Render(kind, locale string, data map[string]string) (subject, body string, err error) {
	t, ok := templates[NormalizeLocale(locale)][kind]
	if !ok {
		return "", "", fmt.Errorf("mail: unknown message kind %q", kind)
	}
	d := make(map[string]string, len(data))
	for k, v := range data {
		d[k] = v
	}
	var s, b strings.Builder
	if err := t.subject.Execute(&s, d); err != nil {
		return "", "", fmt.Errorf("mail: render subject of %s: %w", kind, err)
	}
	if err := t.body.Execute(&b, d); err != nil {
		return "", "", fmt.Errorf("mail: render body of %s: %w", kind, err)
	}
	// Subjects are one line, whatever a template or value contains.
	subject = strings.Join(strings.Fields(s.String()), " ")
	body = strings.TrimSpace(b.String())
	if !t.sms {
		body += "\n"
	}
	return subject, body, nil
}
