package mail

// Message kinds added for issue 6 (pre-account hijacking, contact links).
const (
	// SignUpUsernameTaken tells the address given at a sign-up that the
	// chosen username is taken, so that signUp itself can answer the same
	// either way. Data: name, username.
	SignUpUsernameTaken = "sign_up_username_taken"
	// ContactAdded tells a user that a customer account added a contact
	// with the user's verified address; the user links it while logged in
	// (linkContacts). Data: name, username, account.
	ContactAdded = "contact_added"
	// StaffInvitation invites a person to become a staff user of the
	// provider: the link (valid 72 hours) lets the invitee set a password.
	// Data: name, username, role, link.
	StaffInvitation = "staff_invitation"
	// ContactInvitation invites a person to act for a customer account: the
	// link (valid 7 days) is accepted while logged in with a user whose
	// verified address is the invited one. Data: name, account, link.
	ContactInvitation = "contact_invitation"
	// ContactLoginActivation gives an existing contact of a customer account
	// a login ("Login aktivieren"): with the link (valid 7 days)
	// the person sets its own password, or accepts while logged in with a
	// user whose verified address is this one. Never a password by mail.
	// Data: name, account, link.
	ContactLoginActivation = "contact_login_activation"
	// UserAccountDeleted confirms that the user deleted its own account and
	// until when support can restore it. Data: name, username, until.
	UserAccountDeleted = "user_account_deleted"
	// UserAccountRestored tells the user that support restored its deleted
	// account. Data: name, username.
	UserAccountRestored = "user_account_restored"
)

// Notifications of issue 8: told to the customer admins of an account, or to
// the person whose access changed. They name the account and the change,
// and carry no secret and no link. Data: name (the recipient), account
// ("Name (number)"), person (whom the change concerns), actor (who made
// it), until (a last day or an expiry, optional), key (an API key's name).
const (
	// CustomerAdminAdded: person became a customer admin of account.
	CustomerAdminAdded = "customer_admin_added"
	// CustomerAdminRemoved: person is no longer (or, with until, no longer
	// after that day) a customer admin of account.
	CustomerAdminRemoved = "customer_admin_removed"
	// APIKeyCreated: actor created the API key key for account, expiring
	// at until.
	APIKeyCreated = "api_key_created"
	// CustomerAccountDeactivated: the provider deactivated account.
	CustomerAccountDeactivated = "customer_account_deactivated"
	// SecondFactorPolicyChanged: actor turned the policy "second factor
	// required" of account on (required "true") or off.
	SecondFactorPolicyChanged = "second_factor_policy_changed"
	// AccountAccessGranted: the recipient can now log in for account
	// (until a last day, optional).
	AccountAccessGranted = "account_access_granted"
	// AccountAccessRemoved: the recipient's access to account ends now or
	// after until.
	AccountAccessRemoved = "account_access_removed"
	// SupportPinLimited: the support desk refused further support PIN
	// checks for account after repeated wrong PINs, until until. Never the
	// PIN.
	SupportPinLimited = "support_pin_limited"
)

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
		body: greetingDE + `vielen Dank für Ihre Registrierung bei Portier mit dem Benutzernamen
„{{.username}}“. Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie den
folgenden Link öffnen:

{{.link}}

Zur Bestätigung melden Sie sich als „{{.username}}“ an oder geben das Passwort
dieses Zugangs ein. Ist „{{.username}}“ nicht Ihr Benutzername, bestätigen Sie
bitte nicht: Registrieren Sie sich einfach selbst, Ihre Adresse bleibt für Sie
frei.

Erst nach der Bestätigung können Sie Ihren Zugang vollständig nutzen.

Falls Sie sich nicht bei Portier registriert haben, können Sie diese E-Mail
ignorieren. Ohne Bestätigung wird Ihre Adresse nicht weiter verwendet.
` + closingDE,
	},
	EmailChangeVerify: {
		subject: "Bitte bestätigen Sie Ihre neue E-Mail-Adresse",
		body: greetingDE + `Sie möchten die E-Mail-Adresse Ihres Portier-Zugangs „{{.username}}“{{if .new_email}} in {{.new_email}}{{end}}
ändern. Bitte bestätigen Sie die neue Adresse, indem Sie den folgenden Link
öffnen, angemeldet als „{{.username}}“ oder mit dem Passwort dieses Zugangs:

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
	SMSPhoneVerify: {
		body: `Ihr Portier-Code zur Bestätigung dieser Rufnummer: {{.code}} (10 Minuten gültig). Geben Sie ihn nicht weiter.`,
	},
	PhoneChanged: {
		subject: "Die Mobilnummer Ihres Portier-Zugangs wurde geändert",
		body: greetingDE + `{{if .phone}}die Mobilnummer Ihres Portier-Zugangs wurde soeben bestätigt. SMS-Codes
gehen ab jetzt an die Nummer, die auf {{.phone}} endet.{{else}}die Mobilnummer Ihres Portier-Zugangs wurde soeben entfernt. Es gehen
keine SMS-Codes mehr an sie.{{end}}

Wenn Sie das selbst waren, ist nichts weiter zu tun.

Falls nicht, ändern Sie bitte sofort Ihr Passwort und wenden Sie sich an
unseren Support: Möglicherweise hat eine unbefugte Person Zugriff auf Ihren
Zugang.
` + closingDE,
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
	SignUpUsernameTaken: {
		subject: "Ihre Registrierung bei Portier: Benutzername vergeben",
		body: greetingDE + `für diese E-Mail-Adresse wurde soeben eine Registrierung bei Portier mit
dem Benutzernamen „{{.username}}“ versucht. Dieser Benutzername ist leider
bereits vergeben; es wurde kein Zugang angelegt.

Bitte registrieren Sie sich erneut und wählen Sie einen anderen Benutzernamen.

Falls Sie sich nicht registrieren wollten, können Sie diese E-Mail ignorieren.
` + closingDE,
	},
	ContactAdded: {
		subject: "Sie wurden als Kontakt eines Kundenkontos eingetragen",
		body: greetingDE + `das Kundenkonto {{.account}} hat Sie mit dieser E-Mail-Adresse als Kontakt
eingetragen. Ihr Portier-Zugang „{{.username}}“ wird damit erst verknüpft, wenn
Sie es bestätigen: Melden Sie sich an und wählen Sie „Kontakte verknüpfen“.

Kennen Sie dieses Kundenkonto nicht, verknüpfen Sie bitte nicht.
` + closingDE,
	},
	StaffInvitation: {
		subject: "Einladung als Mitarbeiter im Portier-Kundenportal",
		body: greetingDE + `Sie wurden als Mitarbeiter des Anbieters (Rolle {{.role}}) in Portier
eingeladen. Ihr Benutzername lautet „{{.username}}“. Um den Zugang zu
aktivieren, öffnen Sie den folgenden Link und legen Sie Ihr Passwort fest:

{{.link}}

Der Link ist 72 Stunden gültig und kann nur einmal verwendet werden. Danach
melden Sie sich mit dieser E-Mail-Adresse oder dem Benutzernamen an.

Falls Sie keine Einladung erwartet haben, können Sie diese E-Mail ignorieren.
` + closingDE,
	},
	ContactInvitation: {
		subject: "Einladung zu einem Kundenkonto im Portier-Kundenportal",
		body: greetingDE + `Sie wurden eingeladen, im Portier-Kundenportal für das Kundenkonto
{{.account}} tätig zu werden. Um die Einladung anzunehmen, öffnen Sie den
folgenden Link und melden Sie sich mit Ihrem bestehenden oder einem neuen
Benutzerkonto an:

{{.link}}

Wichtig: Die E-Mail-Adresse Ihres Benutzerkontos muss genau diese Adresse sein,
an die diese Einladung ging, und bestätigt sein.

Der Link ist 7 Tage gültig und kann nur einmal verwendet werden.

Falls Sie keine Einladung erwartet haben, können Sie diese E-Mail ignorieren.
` + closingDE,
	},
	ContactLoginActivation: {
		subject: "Ihr Zugang zum Portier-Kundenportal",
		body: greetingDE + `für Sie wurde der Zugang zum Portier-Kundenportal für das Kundenkonto
{{.account}} aktiviert. Um ihn einzurichten, öffnen Sie den folgenden Link und
wählen Sie einen Benutzernamen und Ihr eigenes Passwort:

{{.link}}

Haben Sie bereits ein Benutzerkonto mit genau dieser bestätigten E-Mail-Adresse,
melden Sie sich damit an und öffnen Sie den Link danach; der Zugang wird dann
Ihrem bestehenden Konto hinzugefügt.

Der Link ist 7 Tage gültig und kann nur einmal verwendet werden. Wir senden
Ihnen niemals ein Passwort per E-Mail.

Falls Sie keinen Zugang erwartet haben, können Sie diese E-Mail ignorieren.
` + closingDE,
	},
	UserAccountDeleted: {
		subject: "Ihr Portier-Benutzerkonto wurde gelöscht",
		body: greetingDE + `Ihr Benutzerkonto „{{.username}}“ wurde soeben auf Ihren Wunsch gelöscht.
Alle Sitzungen und API-Schlüssel sind beendet, Ihre Verknüpfungen mit
Kundenkonten aufgehoben.

Bis zum {{.until}} kann unser Support das Konto auf Ihre Bitte hin
wiederherstellen. Danach werden Ihre persönlichen Daten endgültig entfernt.

Falls Sie das Konto nicht selbst gelöscht haben, wenden Sie sich bitte
umgehend an unseren Support.
` + closingDE,
	},
	UserAccountRestored: {
		subject: "Ihr Portier-Benutzerkonto wurde wiederhergestellt",
		body: greetingDE + `unser Support hat Ihr gelöschtes Benutzerkonto „{{.username}}“
wiederhergestellt. Sie können sich wieder anmelden; Ihre Verknüpfungen mit
Kundenkonten bestehen wieder. Frühere Sitzungen und API-Schlüssel bleiben
beendet.

Falls Sie die Wiederherstellung nicht veranlasst haben, wenden Sie sich bitte
umgehend an unseren Support.
` + closingDE,
	},
	CustomerAdminAdded: {
		subject: "Neuer Kundenadministrator für {{.account}}",
		body: greetingDE + `{{.person}} ist jetzt Kundenadministrator des Kundenkontos {{.account}}{{if .until}}
(bis einschließlich {{.until}}){{end}}.{{if .actor}} Die Änderung hat {{.actor}} vorgenommen.{{end}}

Sie erhalten diese Nachricht, weil Sie Kundenadministrator dieses Kontos sind.
Falls die Änderung nicht beabsichtigt war, prüfen Sie bitte die Rollen im
Portal oder wenden Sie sich an unseren Support.
` + closingDE,
	},
	CustomerAdminRemoved: {
		subject: "Kundenadministrator für {{.account}} entfernt",
		body: greetingDE + `{{.person}} ist {{if .until}}nach dem {{.until}}{{else}}ab sofort{{end}} nicht mehr Kundenadministrator
des Kundenkontos {{.account}}.{{if .actor}} Die Änderung hat {{.actor}} vorgenommen.{{end}}

Sie erhalten diese Nachricht als Kundenadministrator dieses Kontos oder als
betroffene Person. Falls die Änderung nicht beabsichtigt war, wenden Sie sich
bitte an einen Kundenadministrator oder an unseren Support.
` + closingDE,
	},
	APIKeyCreated: {
		subject: "Neuer API-Schlüssel für {{.account}}",
		body: greetingDE + `für das Kundenkonto {{.account}} wurde der API-Schlüssel „{{.key}}“ angelegt{{if .actor}}
– von {{.actor}}{{end}}. Er ist gültig bis {{.until}}.

Sie erhalten diese Nachricht, weil Sie Kundenadministrator dieses Kontos sind.
Falls der Schlüssel nicht beabsichtigt ist, widerrufen Sie ihn bitte im Portal.
` + closingDE,
	},
	CustomerAccountDeactivated: {
		subject: "Das Kundenkonto {{.account}} wurde deaktiviert",
		body: greetingDE + `das Kundenkonto {{.account}} wurde vom Anbieter deaktiviert. Bis zur
Reaktivierung kann niemand – weder Personen noch API-Schlüssel – für dieses
Konto handeln. Alle Daten bleiben erhalten.

Sie erhalten diese Nachricht, weil Sie Kundenadministrator dieses Kontos sind.
Bei Fragen wenden Sie sich bitte an unseren Support.
` + closingDE,
	},
	SecondFactorPolicyChanged: {
		subject: "Zweiter Faktor für das Kundenkonto {{.account}} {{if eq .required \"true\"}}vorgeschrieben{{else}}nicht mehr vorgeschrieben{{end}}",
		body: greetingDE + `{{if .actor}}{{.actor}} hat{{else}}Es wurde{{end}} für das Kundenkonto {{.account}} {{if eq .required "true"}}einen zweiten
Faktor bei der Anmeldung vorgeschrieben. Personen ohne zweiten Faktor (App oder
Code per E-Mail oder SMS) – und ihre API-Schlüssel – können für dieses Konto
nichts mehr tun, bis sie einen eingerichtet haben. Bei der nächsten Anmeldung
werden sie dazu aufgefordert.{{else}}die Pflicht zum zweiten Faktor
aufgehoben. Personen ohne zweiten Faktor können wieder für das Konto handeln.{{end}}

Sie erhalten diese Nachricht, weil Sie Kundenadministrator dieses Kontos sind.
` + closingDE,
	},
	AccountAccessGranted: {
		subject: "Sie haben jetzt Zugang zum Kundenkonto {{.account}}",
		body: greetingDE + `Sie haben jetzt Zugang zum Portal für das Kundenkonto {{.account}}{{if .until}}
(bis einschließlich {{.until}}){{end}}.{{if .actor}} Freigeschaltet hat ihn {{.actor}}.{{end}}

Falls Sie diesen Zugang nicht erwartet haben, wenden Sie sich bitte an
unseren Support.
` + closingDE,
	},
	AccountAccessRemoved: {
		subject: "Ihr Zugang zum Kundenkonto {{.account}} endet",
		body: greetingDE + `Ihr Zugang zum Portal für das Kundenkonto {{.account}} endet {{if .until}}nach dem {{.until}}{{else}}ab sofort{{end}}.{{if .actor}}
Die Änderung hat {{.actor}} vorgenommen.{{end}}

Falls das nicht beabsichtigt ist, wenden Sie sich bitte an einen
Kundenadministrator dieses Kontos.
` + closingDE,
	},
	SupportPinLimited: {
		subject: "Wiederholt falsche Support-PIN für {{.account}}",
		body: greetingDE + `bei unserem Support-Team wurde für das Kundenkonto {{.account}} mehrmals
hintereinander eine falsche Support-PIN genannt. Bis {{.until}} prüfen wir für
dieses Konto keine weiteren Support-PINs.

Sie erhalten diese Nachricht, weil Sie Kundenadministrator dieses Kontos sind.
Falls niemand aus Ihrem Haus bei uns angerufen hat, versucht möglicherweise ein
Unbekannter, sich als Ihr Mitarbeiter auszugeben. Geben Sie Ihre PIN nur
weiter, wenn wir Sie in einer laufenden Support-Anfrage darum bitten.
` + closingDE,
	},
}

var textsEN = map[string]text{
	VerifyEmail: {
		subject: "Please confirm your e-mail address",
		body: greetingEN + `Thank you for registering with Portier with the username "{{.username}}".
Please confirm your e-mail address by opening the following link:

{{.link}}

To confirm, log in as "{{.username}}" or enter the password of that account.
If "{{.username}}" is not your username, please do not confirm: simply sign up
yourself, your address stays free for you.

You can use your account fully once the address is confirmed.

If you did not register with Portier, you can ignore this e-mail. Without
confirmation, your address will not be used any further.
` + closingEN,
	},
	EmailChangeVerify: {
		subject: "Please confirm your new e-mail address",
		body: greetingEN + `You would like to change the e-mail address of your Portier account "{{.username}}"{{if .new_email}} to
{{.new_email}}{{end}}. Please confirm the new address by opening the following link,
logged in as "{{.username}}" or with the password of that account:

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
	SMSPhoneVerify: {
		body: `Your Portier code to confirm this phone number: {{.code}} (valid for 10 minutes). Do not share it.`,
	},
	PhoneChanged: {
		subject: "The mobile number of your Portier account has been changed",
		body: greetingEN + `{{if .phone}}The mobile number of your Portier account has just been verified. SMS
codes now go to the number ending in {{.phone}}.{{else}}The mobile number of your Portier account has just been removed. No SMS
codes go to it any more.{{end}}

If this was you, there is nothing else to do.

If it was not, please change your password immediately and contact our
support: someone else may have access to your account.
` + closingEN,
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
	SignUpUsernameTaken: {
		subject: "Your Portier sign-up: username taken",
		body: greetingEN + `Someone just tried to sign up for Portier with this e-mail address and the
username "{{.username}}". That username is already taken; no account was
created.

Please sign up again and choose another username.

If you did not mean to sign up, you can ignore this e-mail.
` + closingEN,
	},
	ContactAdded: {
		subject: "You were added as a contact of a customer account",
		body: greetingEN + `The customer account {{.account}} added you as a contact with this e-mail
address. Your Portier account "{{.username}}" is only linked to it once you
confirm: log in and choose "link contacts".

If you do not know this customer account, please do not link it.
` + closingEN,
	},
	StaffInvitation: {
		subject: "Invitation as provider staff in the Portier customer portal",
		body: greetingEN + `You have been invited to Portier as a member of the provider's staff
(role {{.role}}). Your username is "{{.username}}". To activate the account,
open the following link and choose your password:

{{.link}}

The link is valid for 72 hours and can be used once. Afterwards, log in with
this e-mail address or the username.

If you did not expect an invitation, you can ignore this e-mail.
` + closingEN,
	},
	ContactInvitation: {
		subject: "Invitation to a customer account in the Portier customer portal",
		body: greetingEN + `You have been invited to act for the customer account {{.account}} in the
Portier customer portal. To accept, open the following link and log in with
your existing or a new user account:

{{.link}}

Important: your user account's e-mail address must be exactly the address this
invitation was sent to, and it must be verified.

The link is valid for 7 days and can be used once.

If you did not expect an invitation, you can ignore this e-mail.
` + closingEN,
	},
	ContactLoginActivation: {
		subject: "Your access to the Portier customer portal",
		body: greetingEN + `access to the Portier customer portal has been activated for you for the
customer account {{.account}}. To set it up, open the following link and choose
a username and your own password:

{{.link}}

If you already have a user account with exactly this verified e-mail address,
log in with it and then open the link; the access is added to your existing
account.

The link is valid for 7 days and can be used once. We never send you a
password by e-mail.

If you did not expect this, you can ignore this e-mail.
` + closingEN,
	},
	UserAccountDeleted: {
		subject: "Your Portier user account has been deleted",
		body: greetingEN + `Your user account "{{.username}}" has just been deleted at your request.
All sessions and API keys have ended, and its links to customer accounts
have been removed.

Until {{.until}} our support can restore the account if you ask for it.
After that, your personal data is removed for good.

If you did not delete the account yourself, please contact our support
immediately.
` + closingEN,
	},
	UserAccountRestored: {
		subject: "Your Portier user account has been restored",
		body: greetingEN + `Our support has restored your deleted user account "{{.username}}".
You can log in again, and its links to customer accounts are back. Earlier
sessions and API keys stay ended.

If you did not ask for the restore, please contact our support immediately.
` + closingEN,
	},
	CustomerAdminAdded: {
		subject: "New customer admin for {{.account}}",
		body: greetingEN + `{{.person}} is now a customer admin of the customer account {{.account}}{{if .until}}
(until {{.until}} inclusive){{end}}.{{if .actor}} The change was made by {{.actor}}.{{end}}

You receive this message because you are a customer admin of this account.
If the change was not intended, please check the roles in the portal or
contact our support.
` + closingEN,
	},
	CustomerAdminRemoved: {
		subject: "Customer admin removed for {{.account}}",
		body: greetingEN + `{{.person}} is {{if .until}}after {{.until}}{{else}}as of now{{end}} no longer a customer admin of the
customer account {{.account}}.{{if .actor}} The change was made by {{.actor}}.{{end}}

You receive this message as a customer admin of this account or as the person
concerned. If the change was not intended, please contact a customer admin or
our support.
` + closingEN,
	},
	APIKeyCreated: {
		subject: "New API key for {{.account}}",
		body: greetingEN + `The API key "{{.key}}" was created for the customer account {{.account}}{{if .actor}}
by {{.actor}}{{end}}. It is valid until {{.until}}.

You receive this message because you are a customer admin of this account.
If the key is not intended, please revoke it in the portal.
` + closingEN,
	},
	CustomerAccountDeactivated: {
		subject: "The customer account {{.account}} has been deactivated",
		body: greetingEN + `The customer account {{.account}} has been deactivated by the provider.
Until it is reactivated, nobody – neither people nor API keys – can act for
this account. All data is kept.

You receive this message because you are a customer admin of this account.
If you have questions, please contact our support.
` + closingEN,
	},
	SecondFactorPolicyChanged: {
		subject: "Second factor {{if eq .required \"true\"}}required{{else}}no longer required{{end}} for the customer account {{.account}}",
		body: greetingEN + `{{if .actor}}{{.actor}} has{{else}}It has been{{end}} {{if eq .required "true"}}made a second factor at login mandatory for the
customer account {{.account}}. People without a second factor (an app, or codes
by e-mail or SMS) – and their API keys – can no longer act for this account
until they set one up. They are asked to at their next login.{{else}}lifted the second-factor requirement of the
customer account {{.account}}. People without a second factor can act for the
account again.{{end}}

You receive this message because you are a customer admin of this account.
` + closingEN,
	},
	AccountAccessGranted: {
		subject: "You now have access to the customer account {{.account}}",
		body: greetingEN + `You now have portal access to the customer account {{.account}}{{if .until}}
(until {{.until}} inclusive){{end}}.{{if .actor}} It was granted by {{.actor}}.{{end}}

If you did not expect this access, please contact our support.
` + closingEN,
	},
	AccountAccessRemoved: {
		subject: "Your access to the customer account {{.account}} ends",
		body: greetingEN + `Your portal access to the customer account {{.account}} ends {{if .until}}after {{.until}}{{else}}as of now{{end}}.{{if .actor}}
The change was made by {{.actor}}.{{end}}

If this is not intended, please contact a customer admin of this account.
` + closingEN,
	},
	SupportPinLimited: {
		subject: "Repeated wrong support PIN for {{.account}}",
		body: greetingEN + `Our support team was given a wrong support PIN for the customer account
{{.account}} several times in a row. Until {{.until}} we check no further
support PINs for this account.

You receive this message because you are a customer admin of this account.
If nobody from your organisation called us, someone may be trying to pass
as one of your people. Only give your PIN when we ask for it in an ongoing
support request.
` + closingEN,
	},
}
