// Package resources holds the resources of customer accounts (issue 9:
// WEB_VHOST, MAIL_VHOST, MAILBOX, DNS_ZONE, DOMAIN, SERVER, VPN) and the
// scoped logins that see exactly one of them: creating them,
// setting a scoped login's password, disabling, enabling and deleting it.
// Who may do so is decided by the directives, which ask the evaluator
// (authz.ResourceCredentials); the ent policies check every write again.
// Logging in as a scoped login, its password reset and reference e-mail
// live in internal/identity (they share the login rate limits).
package resources

import (
	"regexp"
	"strings"

	"portier/ent/resource"
	"portier/ent/schema"
	"portier/internal/apperr"
)

var (
	hostLabel   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	mailboxPart = regexp.MustCompile(`^[a-z0-9!#$%&'*+/=?^_{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_{|}~-]+)*$`)
	plainName   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	// SFTPUser is the pattern of a web vhost's login (e.g. "beisp015").
	SFTPUser = regexp.MustCompile(`^[a-z][a-z0-9_-]{2,31}$`)
)

// ValidHostname reports whether s (lower-case) is a fully qualified host
// name: at least two dot-separated labels of letters, digits and inner
// dashes, at most 253 characters, a top-level label that is not numeric.
func ValidHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}

// ValidMailbox reports whether s (lower-case) is a mailbox address: a
// dot-atom local part of at most 64 characters at a valid host name.
func ValidMailbox(s string) bool {
	local, host, ok := strings.Cut(s, "@")
	return ok && len(local) <= 64 && mailboxPart.MatchString(local) && ValidHostname(host) && schema.ValidEmail(s)
}

// NormalizeName trims and lower-cases a resource or login name.
func NormalizeName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckName validates the (normalized) name of a resource of kind k.
func CheckName(k resource.Kind, name string) error {
	const field = "input.name"
	switch k {
	case resource.KindWEB_VHOST, resource.KindMAIL_VHOST, resource.KindDNS_ZONE, resource.KindDOMAIN:
		if !ValidHostname(name) {
			return apperr.BadInput(field, "a %s is named by a host name such as example.com", k)
		}
	case resource.KindMAILBOX:
		if !ValidMailbox(name) {
			return apperr.BadInput(field, "a MAILBOX is named by its address, such as info@example.com")
		}
	case resource.KindSERVER, resource.KindVPN:
		if !plainName.MatchString(name) {
			return apperr.BadInput(field, "a %s name is 1 to 63 letters, digits, dots, dashes or underscores", k)
		}
	default:
		return apperr.BadInput("input.kind", "unknown resource kind %q", k)
	}
	return nil
}

// CheckLoginName validates the (normalized) login name of a scoped login
// for resource r: it follows the resource.
func CheckLoginName(k resource.Kind, resourceName, login string) error {
	const field = "input.loginName"
	switch k {
	case resource.KindWEB_VHOST:
		if !SFTPUser.MatchString(login) {
			return apperr.BadInput(field, "the login of a web vhost is its SFTP user: 3 to 32 lower-case letters, digits, dashes or underscores, starting with a letter")
		}
	case resource.KindMAIL_VHOST:
		if login != "postmaster@"+resourceName {
			return apperr.BadInput(field, "the login of a mail vhost is postmaster@%s", resourceName)
		}
	case resource.KindMAILBOX, resource.KindDNS_ZONE, resource.KindDOMAIN:
		if login != resourceName {
			return apperr.BadInput(field, "the login of a %s is its name, %s", k, resourceName)
		}
	default:
		return apperr.BadInput("input.resourceID", "a %s has no scoped logins", k)
	}
	return nil
}
