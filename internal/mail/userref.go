package mail

// Message kinds of a user's reference e-mail address (issue 9 item 3): password reset links go to it as well as to
// the user's e-mail address.
const (
	// UserReferenceEmailVerify asks the NEW reference address of a user to
	// confirm it (confirmReferenceEmail). Data: name, username, new_email,
	// link.
	UserReferenceEmailVerify = "user_reference_email_verify"
	// ReferenceEmailChanged tells the user's e-mail address that the
	// reference address was set or changed (new_email: the new one) or
	// removed (new_email empty). It never carries a link. Data: name,
	// new_email.
	ReferenceEmailChanged = "reference_email_changed"
)

var _ = registerUserRef()

func registerUserRef() bool {
	Kinds = append(Kinds, UserReferenceEmailVerify, ReferenceEmailChanged)
	textsDE[UserReferenceEmailVerify] = text{
		subject: "Bitte bestätigen Sie Ihre Referenz-E-Mail-Adresse",
		body: greetingDE + `für den Portier-Zugang „{{.username}}“ soll {{.new_email}} als
Referenz-E-Mail-Adresse hinterlegt werden. An diese Adresse gehen dann
zusätzlich die Links zum Zurücksetzen des Passworts. Bitte bestätigen Sie die
Adresse mit dem folgenden Link:

{{.link}}

Der Link ist 24 Stunden gültig und kann nur einmal verwendet werden. Ohne
Bestätigung wird die Adresse nicht hinterlegt. Falls Sie das nicht
angefordert haben, können Sie diese E-Mail ignorieren.
` + closingDE,
	}
	textsEN[UserReferenceEmailVerify] = text{
		subject: "Please confirm your reference e-mail address",
		body: greetingEN + `{{.new_email}} is to become the reference e-mail address of the Portier
login "{{.username}}": password reset links will then go to it as well.
Please confirm the address with the following link:

{{.link}}

The link is valid for 24 hours and can be used once. Without confirmation
the address is not stored. If you did not ask for this, ignore this e-mail.
` + closingEN,
	}
	textsDE[ReferenceEmailChanged] = text{
		subject: "Die Referenz-E-Mail-Adresse Ihres Portier-Zugangs wurde geändert",
		body: greetingDE + `{{if .new_email}}für Ihren Portier-Zugang ist ab jetzt {{.new_email}} als
Referenz-E-Mail-Adresse hinterlegt. Links zum Zurücksetzen des Passworts
gehen künftig auch an diese Adresse.{{else}}die Referenz-E-Mail-Adresse Ihres Portier-Zugangs wurde soeben entfernt.
Links zum Zurücksetzen des Passworts gehen nur noch an diese Adresse.{{end}}

Wenn Sie das selbst waren, ist nichts weiter zu tun.

Falls nicht, ändern Sie bitte sofort Ihr Passwort und wenden Sie sich an
unseren Support: Möglicherweise hat eine unbefugte Person Zugriff auf Ihren
Zugang.
` + closingDE,
	}
	textsEN[ReferenceEmailChanged] = text{
		subject: "The reference e-mail address of your Portier account has been changed",
		body: greetingEN + `{{if .new_email}}{{.new_email}} is now the reference e-mail address of your Portier
account. Password reset links will go to it as well.{{else}}The reference e-mail address of your Portier account has just been
removed. Password reset links go to this address only.{{end}}

If this was you, there is nothing else to do.

If it was not, please change your password immediately and contact our
support: someone else may have access to your account.
` + closingEN,
	}
	return true
}
