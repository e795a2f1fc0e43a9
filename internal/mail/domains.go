package mail

// OrganisationDomainConfirmed (issue 8 item 1): the provider confirmed an
// organisation domain of account; contacts with addresses in it can be
// added now. Told to the account's customer admins. Data: name, account,
// domain, actor.
const OrganisationDomainConfirmed = "organisation_domain_confirmed"

// The texts are registered while the package's variables are initialised
// (this one depends on textsDE, textsEN and Kinds, so it runs after them
// and before init compiles the templates); the shared tables stay untouched.
var _ = func() bool {
	Kinds = append(Kinds, OrganisationDomainConfirmed)
	textsDE[OrganisationDomainConfirmed] = text{
		subject: "Organisations-Domain für {{.account}} bestätigt",
		body: greetingDE + `für das Kundenkonto {{.account}} ist die Organisations-Domain {{.domain}}
jetzt bestätigt{{if .actor}} – von {{.actor}}{{end}}. Kontakte und Einladungen mit
E-Mail-Adressen dieser Domain können ab sofort angelegt werden.

Sie erhalten diese Nachricht, weil Sie Kundenadministrator dieses Kontos sind.
` + closingDE,
	}
	textsEN[OrganisationDomainConfirmed] = text{
		subject: "Organisation domain of {{.account}} confirmed",
		body: greetingEN + `The organisation domain {{.domain}} of the customer account {{.account}}
is now confirmed{{if .actor}} by {{.actor}}{{end}}. Contacts and invitations with
e-mail addresses of this domain can be added from now on.

You receive this message because you are a customer admin of this account.
` + closingEN,
	}
	return true
}()
