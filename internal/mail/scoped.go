package mail

// Message kinds of scoped logins (issue 9). Scoped logins have no
// language setting: their messages go out in the default locale (German).
const (
	// ScopedPasswordReset carries a one-time link (30 minutes) for a scoped
	// login, to its reference addresses (and its mailbox). Data: login, link.
	ScopedPasswordReset = "scoped_password_reset"
	// ReferenceEmailVerify asks the NEW reference address of a scoped login
	// to confirm it. Data: login, link, new_email.
	ReferenceEmailVerify = "reference_email_verify"
	// ScopedPasswordChanged tells a scoped login's reference addresses that
	// its password was changed or reset. Data: login.
	ScopedPasswordChanged = "scoped_password_changed"
)

var _ = registerScoped()

func registerScoped() bool {
	Kinds = append(Kinds, ScopedPasswordReset, ReferenceEmailVerify, ScopedPasswordChanged)
	textsDE[ScopedPasswordReset] = text{
		subject: "Link zum Zurücksetzen des Passworts für {{.login}}",
		body: greetingDE + `wir haben eine Anfrage erhalten, das Passwort des Zugangs „{{.login}}“
zurückzusetzen. Über den folgenden Link können Sie ein neues Passwort festlegen:

{{.link}}

Der Link ist 30 Minuten gültig und kann nur einmal verwendet werden. Sie
erhalten diese E-Mail, weil Ihre Adresse als Referenz-E-Mail (oder als Postfach)
dieses Zugangs hinterlegt ist.

Falls niemand ein neues Passwort angefordert hat, können Sie diese E-Mail
ignorieren. Das bisherige Passwort bleibt dann unverändert.
` + closingDE,
	}
	textsEN[ScopedPasswordReset] = text{
		subject: "Password reset link for {{.login}}",
		body: greetingEN + `we received a request to reset the password of the login "{{.login}}".
Open the following link to choose a new password:

{{.link}}

The link is valid for 30 minutes and can be used once. You receive this e-mail
because your address is a reference address (or the mailbox) of that login.

If nobody asked for a new password, ignore this e-mail; the password stays as
it is.
` + closingEN,
	}
	textsDE[ReferenceEmailVerify] = text{
		subject: "Bitte bestätigen Sie die neue Referenz-E-Mail-Adresse",
		body: greetingDE + `für den Zugang „{{.login}}“ soll {{.new_email}} als Referenz-E-Mail-Adresse
hinterlegt werden. An diese Adresse gehen künftig die Links zum Zurücksetzen
des Passworts. Bitte bestätigen Sie die Adresse mit dem folgenden Link:

{{.link}}

Der Link ist 24 Stunden gültig. Ohne Bestätigung bleibt die bisherige
Referenz-E-Mail-Adresse hinterlegt.
` + closingDE,
	}
	textsEN[ReferenceEmailVerify] = text{
		subject: "Please confirm the new reference e-mail address",
		body: greetingEN + `{{.new_email}} is to become the reference e-mail address of the login
"{{.login}}": password reset links will go to it. Please confirm the address
with the following link:

{{.link}}

The link is valid for 24 hours. Without confirmation the current reference
address stays.
` + closingEN,
	}
	textsDE[ScopedPasswordChanged] = text{
		subject: "Das Passwort von {{.login}} wurde geändert",
		body: greetingDE + `das Passwort des Zugangs „{{.login}}“ wurde soeben geändert. Alle
bestehenden Sitzungen dieses Zugangs wurden beendet.

Falls diese Änderung nicht von Ihnen oder Ihrem Team veranlasst wurde, wenden
Sie sich bitte umgehend an unseren Support.
` + closingDE,
	}
	textsEN[ScopedPasswordChanged] = text{
		subject: "The password of {{.login}} was changed",
		body: greetingEN + `the password of the login "{{.login}}" was just changed. Every session
of that login has been ended.

If neither you nor your team made this change, please contact our support
at once.
` + closingEN,
	}
	return true
}
