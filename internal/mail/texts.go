package mail

// The texts are text/template sources over map[string]string; a missing key
// renders as "". Bodies start with the greeting and end with the closing.

const (
	greetingDE = "{{if .name}}Guten Tag {{.name}},{{else}}Guten Tag,{{end}}\n\n"
	closingDE  = `
Mit freundlichen Grüßen
Ihr Portier-Team

-- 
Diese E-Mail wurde automatisch versandt. Antworten auf diese Nachricht
werden nicht gelesen.
`
	greetingEN = "{{if .name}}Hello {{.name}},{{else}}Hello,{{end}}\n\n"
	closingEN  = `
Kind regards
Your Portier team

-- 
This e-mail was sent automatically. Replies to this message are not read.
`
)

var textsDE = map[string]text{
	VerifyEmail: {
		subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse",
		body: greetingDE + `vielen Dank für Ihre Registrierung bei Portier. Bitte bestätigen Sie Ihre
E-Mail-Adresse, indem Sie den folgenden Link öffnen:

{{.link}}

Erst nach der Bestätigung können Sie Ihren Zugang vollständig nutzen.

Falls Sie sich nicht bei Portier registriert haben, können Sie diese E-Mail
ignorieren. Ohne Bestätigung wird Ihre Adresse nicht weiter verwendet.
` + closingDE,
	},
	EmailChangeVerify: {
		subject: "Bitte bestätigen Sie Ihre neue E-Mail-Adresse",
		body: greetingDE + `Sie möchten die E-Mail-Adresse Ihres Portier-Zugangs{{if .new_email}} in {{.new_email}}{{end}}
ändern. Bitte bestätigen Sie die neue Adresse, indem Sie den folgenden Link
öffnen:

{{.link}}

Erst nach der Bestätigung wird die neue Adresse verwendet; bis dahin bleibt
Ihre bisherige Adresse gültig.

Falls Sie diese Änderung nicht veranlasst haben, ignorieren Sie diese E-Mail
bitte. Die Adresse wird dann nicht geändert.
` + closingDE,
	},
	EmailChangedNotice: {
		subject: "Die E-Mail-Adresse Ihres Portier-Zugangs wird geändert",
		body: greetingDE + `für Ihren Portier-Zugang wurde soeben eine Änderung der E-Mail-Adresse
veranlasst{{if .new_email}} – neue Adresse: {{.new_email}}{{end}}. Sobald die neue Adresse
bestätigt ist, erhalten Sie alle Nachrichten zu Ihrem Zugang nur noch dort.

Wenn Sie die Änderung selbst veranlasst haben, ist nichts weiter zu tun.

Falls nicht, wenden Sie sich bitte umgehend an unseren Support: Möglicherweise
hat eine unbefugte Person Zugriff auf Ihren Zugang. Ändern Sie vorsorglich auch
Ihr Passwort.
` + closingDE,
	},
	PasswordReset: {
		subject: "Ihr Link zum Zurücksetzen des Passworts",
		body: greetingDE + `wir haben eine Anfrage erhalten, das Passwort für Ihren Portier-Zugang
zurückzusetzen. Über den folgenden Link können Sie ein neues Passwort festlegen:

{{.link}}

Der Link ist 30 Minuten gültig und kann nur einmal verwendet werden.

Falls Sie kein neues Passwort angefordert haben, können Sie diese E-Mail
ignorieren. Ihr bisheriges Passwort bleibt dann unverändert.
` + closingDE,
	},
	PasswordChanged: {
		subject: "Ihr Portier-Passwort wurde geändert",
		body: greetingDE + `das Passwort Ihres Portier-Zugangs wurde soeben geändert.

Wenn Sie das selbst waren, ist nichts weiter zu tun.

Falls nicht, setzen Sie Ihr Passwort bitte sofort über „Passwort vergessen“
zurück und wenden Sie sich an unseren Support: Möglicherweise hat eine
unbefugte Person Zugriff auf Ihren Zugang.
` + closingDE,
	},
	LoginCode: {
		subject: "Ihr Anmeldecode für Portier",
		body: greetingDE + `Ihr Anmeldecode lautet:

    {{.code}}

Der Code ist 10 Minuten gültig. Geben Sie ihn nur auf der Anmeldeseite von
Portier ein und teilen Sie ihn niemandem mit – auch nicht unserem Support.

Falls Sie sich gerade nicht anmelden wollten, kennt möglicherweise jemand Ihr
Passwort. Bitte ändern Sie es in diesem Fall umgehend.
` + closingDE,
	},
	SMSLoginCode: {
		body: `Ihr Portier-Anmeldecode: {{.code}} (10 Minuten gültig). Geben Sie diesen Code nicht weiter.`,
	},
	SecondFactorChanged: {
		subject: "Die Zwei-Faktor-Anmeldung Ihres Portier-Zugangs wurde geändert",
		body: greetingDE + `die Einstellungen der Zwei-Faktor-Anmeldung Ihres Portier-Zugangs wurden
soeben geändert{{if .change}}:

{{.change}}{{else}}.{{end}}

Wenn Sie das selbst waren, ist nichts weiter zu tun.

Falls nicht, ändern Sie bitte sofort Ihr Passwort und wenden Sie sich an
unseren Support: Möglicherweise hat eine unbefugte Person Zugriff auf Ihren
Zugang.
` + closingDE,
	},
}

var textsEN = map[string]text{
	VerifyEmail: {
		subject: "Please confirm your e-mail address",
		body: greetingEN + `Thank you for registering with Portier. Please confirm your e-mail address
by opening the following link:

{{.link}}

You can use your account fully once the address is confirmed.

If you did not register with Portier, you can ignore this e-mail. Without
confirmation, your address will not be used any further.
` + closingEN,
	},
	EmailChangeVerify: {
		subject: "Please confirm your new e-mail address",
		body: greetingEN + `You would like to change the e-mail address of your Portier account{{if .new_email}} to
{{.new_email}}{{end}}. Please confirm the new address by opening the following link:

{{.link}}

The new address is only used once it is confirmed; until then, your current
address remains in effect.

If you did not request this change, please ignore this e-mail. The address
will then not be changed.
` + closingEN,
	},
	EmailChangedNotice: {
		subject: "The e-mail address of your Portier account is being changed",
		body: greetingEN + `A change of the e-mail address of your Portier account has just been
requested{{if .new_email}} – new address: {{.new_email}}{{end}}. As soon as the new address is
confirmed, all messages about your account will be sent there only.

If you made this change yourself, there is nothing else to do.

If you did not, please contact our support immediately: someone else may have
access to your account. As a precaution, please also change your password.
` + closingEN,
	},
	PasswordReset: {
		subject: "Your link to reset your password",
		body: greetingEN + `We have received a request to reset the password of your Portier account.
You can set a new password using the following link:

{{.link}}

The link is valid for 30 minutes and can only be used once.

If you did not request a new password, you can ignore this e-mail. Your
current password then remains unchanged.
` + closingEN,
	},
	PasswordChanged: {
		subject: "Your Portier password has been changed",
		body: greetingEN + `The password of your Portier account has just been changed.

If this was you, there is nothing else to do.

If it was not, please reset your password immediately using "Forgot password"
and contact our support: someone else may have access to your account.
` + closingEN,
	},
	LoginCode: {
		subject: "Your Portier login code",
		body: greetingEN + `Your login code is:

    {{.code}}

The code is valid for 10 minutes. Only enter it on the Portier login page and
never share it with anyone – not even our support.

If you are not trying to log in right now, someone may know your password.
In that case, please change it immediately.
` + closingEN,
	},
	SMSLoginCode: {
		body: `Your Portier login code: {{.code}} (valid for 10 minutes). Do not share this code.`,
	},
	SecondFactorChanged: {
		subject: "The two-factor authentication of your Portier account has been changed",
		body: greetingEN + `The two-factor authentication settings of your Portier account have just
been changed{{if .change}}:

{{.change}}{{else}}.{{end}}

If this was you, there is nothing else to do.

If it was not, please change your password immediately and contact our
support: someone else may have access to your account.
` + closingEN,
	},
}
