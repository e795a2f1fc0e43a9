package mail

func init() { wants[OrganisationDomainConfirmed] = []string{"name", "account", "actor"} }
